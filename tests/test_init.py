"""glassnet.nn.init: gains, fans, and the statistics of every initialiser against its formula."""
import math

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn import init


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(1.4142135623730951)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / 1.0001))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    for name, param in [("linear", None), ("tanh", None), ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape,expected", [((3, 4), (4, 3)), ((8, 3, 5, 5), (75, 200)), ((6, 2, 7), (14, 42)),
                                            ((1, 0), (0, 1))])
def test_fans(shape, expected):
    assert init._calculate_fan_in_and_fan_out(gn.zeros(*shape)) == expected
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape)) == expected
    assert init._calculate_correct_fan(gn.zeros(*shape), "fan_out") == expected[1]


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gn.zeros(5))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(gn.zeros(3, 3), mode="fan_avg")


def _check_uniform(t, bound):
    v = t.array
    assert np.abs(v).max() <= bound * (1 + 1e-6)
    assert np.abs(v).max() > 0.99 * bound
    assert abs(v.mean()) < 4 * bound / math.sqrt(3 * v.size)
    np.testing.assert_allclose(v.std(), bound / math.sqrt(3), rtol=0.02)


def _check_normal(t, std, mean=0.0):
    v = t.array
    assert abs(v.mean() - mean) < 4 * std / math.sqrt(v.size)
    np.testing.assert_allclose(v.std(), std, rtol=0.02)


def test_uniform_normal_constant():
    gn.manual_seed(0)
    t = init.uniform_(gn.empty(200, 300), -2.0, 4.0)
    assert t.array.min() >= -2 and t.array.max() < 4
    assert abs(t.array.mean() - 1.0) < 0.03 and abs(t.array.std() - 6 / math.sqrt(12)) < 0.02
    _check_normal(init.normal_(gn.empty(200, 300), 1.5, 0.5), 0.5, 1.5)
    c = gn.empty(3, 2, dtype=gn.float64)
    assert init.constant_(c, 0.25) is c and c.dtype == np.float64 and np.all(c.array == 0.25)
    assert np.all(init.ones_(gn.empty(4)).array == 1) and np.all(init.zeros_(gn.ones(4)).array == 0)
    np.testing.assert_array_equal(init.eye_(gn.empty(2, 3)).array, np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(gn.empty(2, 2, 2))


def test_xavier():
    gn.manual_seed(1)
    w = init.xavier_uniform_(gn.empty(300, 200), gain=2.0)
    _check_uniform(w, 2.0 * math.sqrt(6 / 500))
    conv = init.xavier_normal_(gn.empty(64, 32, 3, 3), gain=0.5)  # fans 288, 576
    _check_normal(conv, 0.5 * math.sqrt(2 / (288 + 576)))


def test_kaiming():
    gn.manual_seed(2)
    w = init.kaiming_uniform_(gn.empty(256, 512), nonlinearity="relu")
    _check_uniform(w, math.sqrt(2) * math.sqrt(3 / 512))
    w = init.kaiming_uniform_(gn.empty(256, 512), a=0.1, mode="fan_out")
    _check_uniform(w, math.sqrt(2 / 1.01) * math.sqrt(3 / 256))
    w = init.kaiming_normal_(gn.empty(128, 16, 3, 3), mode="fan_out", nonlinearity="relu")  # fan_out 1152
    _check_normal(w, math.sqrt(2 / 1152))
    empty = gn.empty(0, 4)
    assert init.kaiming_uniform_(empty) is empty


def test_orthogonal():
    gn.manual_seed(3)
    for shape in [(5, 8), (8, 5), (6, 6), (4, 2, 3, 3)]:
        w = init.orthogonal_(gn.empty(*shape, dtype=gn.float64), gain=1.5).array.reshape(shape[0], -1)
        small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 2.25 * np.eye(small.shape[0]), atol=1e-10)
    w = init.orthogonal_(gn.empty(10, 10)).array
    np.testing.assert_allclose(w @ w.T, np.eye(10), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(gn.empty(3))


def _truncnorm_moments(mean, std, a, b):
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    al, be = (a - mean) / std, (b - mean) / std
    z = cdf(be) - cdf(al)
    m = mean + std * (pdf(al) - pdf(be)) / z
    var = std**2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
                                          (0.0, 1.0, 5.0, 6.0)])
def test_trunc_normal(mean, std, a, b):
    gn.manual_seed(4)
    v = init.trunc_normal_(gn.empty(300, 300, dtype=gn.float64), mean, std, a, b).array
    assert v.min() >= a and v.max() <= b
    m, s = _truncnorm_moments(mean, std, a, b)
    assert abs(v.mean() - m) < 5 * s / math.sqrt(v.size)
    np.testing.assert_allclose(v.std(), s, rtol=0.02)


def test_reproducible_and_generator():
    gn.manual_seed(7)
    a = init.kaiming_normal_(gn.empty(4, 5)).array.copy()
    gn.manual_seed(7)
    b = init.kaiming_normal_(gn.empty(4, 5)).array.copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = gn.Generator(11), gn.Generator(11)
    x = init.xavier_uniform_(gn.empty(3, 3), generator=g1).array.copy()
    init.normal_(gn.empty(100))  # draws from the default generator do not disturb g2
    np.testing.assert_array_equal(init.xavier_uniform_(gn.empty(3, 3), generator=g2).array, x)


def test_in_place_on_parameter_keeps_object_and_dtype():
    p = nn.Parameter(gn.zeros(3, 4, dtype=gn.float64))
    data = p.array
    assert init.kaiming_uniform_(p) is p and p.array is data and p.dtype == np.float64
    assert p.requires_grad and p.grad_fn is None


def test_linear_default_init_matches_torch_distribution():
    gn.manual_seed(5)
    torch.manual_seed(5)
    g, t = nn.Linear(400, 300), torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for gp, tp in [(g.weight, t.weight), (g.bias, t.bias)]:
        gv, tv = gp.array, tp.detach().numpy()
        assert gv.dtype == tv.dtype == np.float32 and gv.shape == tv.shape
        assert np.abs(gv).max() <= bound and np.abs(tv).max() <= bound
        assert np.abs(gv).max() > 0.95 * bound
        np.testing.assert_allclose(gv.std(), tv.std(), rtol=0.1)
    _check_uniform(g.weight, bound)
    assert nn.Linear(3, 2, dtype=gn.float64).weight.dtype == np.float64
    assert nn.Linear(3, 2, bias=False).bias is None
    z = nn.Linear(0, 2)  # no input features: weight is empty, bias zero (bound 0)
    assert z.weight.shape == (2, 0) and np.all(z.bias.array == 0)
