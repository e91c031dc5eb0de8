"""Linear (functional and module), activation modules and dropout, against torch and the formulas."""
import warnings

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F
from helpers_nn import compare_module
from parity import Case, run_case

# ---- linear ------------------------------------------------------------------------------------------

LINEAR_CASES = [
    Case("linear_2d", lambda x, w, b: F.linear(x, w, b), [(5, 4), (3, 4), (3,)],
         torch_fn=lambda x, w, b: torch.nn.functional.linear(x, w, b)),
    Case("linear_no_bias_3d", lambda x, w: F.linear(x, w), [(2, 3, 4), (6, 4)],
         torch_fn=lambda x, w: torch.nn.functional.linear(x, w)),
    Case("linear_1d_input", lambda x, w, b: F.linear(x, w, b), [(4,), (2, 4), (2,)],
         torch_fn=lambda x, w, b: torch.nn.functional.linear(x, w, b)),
    Case("linear_4d", lambda x, w, b: F.linear(x, w, b), [(2, 1, 3, 4), (5, 4), (5,)],
         torch_fn=lambda x, w, b: torch.nn.functional.linear(x, w, b)),
]


@pytest.mark.parametrize("case", LINEAR_CASES, ids=str)
def test_linear_functional_parity(case):
    run_case(case)


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4), (2, 1, 3, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_parity(shape, bias):
    compare_module(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), [shape])


def test_linear_module_float64():
    g = nn.Linear(6, 2, dtype=gn.float64)
    assert g.weight.dtype == np.float64
    compare_module(g, torch.nn.Linear(6, 2), [(3, 6)], dtype=np.float64, rtol=1e-12, atol=1e-12,
                   grad_rtol=1e-12, grad_atol=1e-12)


def test_linear_second_order_matches_torch():
    rng = np.random.default_rng(0)
    xs, ws, bs = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    grads = []
    for lib, lin in [(gn, F.linear), (torch, torch.nn.functional.linear)]:
        x, w, b = (lib.tensor(v, requires_grad=True) for v in (xs, ws, bs))
        loss = (lin(x, w, b) ** 3).sum()
        gw, = (gn.autograd.grad if lib is gn else torch.autograd.grad)(loss, [w], create_graph=True)
        (gw ** 2).sum().backward()
        grads.append([np.asarray(t.grad.array if lib is gn else t.grad.numpy()) for t in (x, w, b)])
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=1e-10)


def test_linear_errors_name_linear_and_shapes():
    w, b = gn.randn(3, 4), gn.randn(3)
    with pytest.raises(ValueError, match=r"Linear.*\(2, 5\).*\(3, 4\)"):
        F.linear(gn.randn(2, 5), w, b)
    with pytest.raises(ValueError, match=r"Linear.*\(2, 5\)"):
        nn.Linear(4, 3)(gn.randn(2, 5))
    with pytest.raises(ValueError, match="Linear"):
        F.linear(gn.tensor(1.0), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.linear(gn.randn(2, 4), w, gn.randn(4))
    with pytest.raises(ValueError, match="2-D"):
        F.linear(gn.randn(2, 4), gn.randn(4))
    with pytest.raises(TypeError, match="same floating dtype"):
        F.linear(gn.randn(2, 4, dtype=gn.float64), w, b)
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)


def test_linear_repr_and_state_dict():
    assert repr(nn.Linear(4, 3, bias=False)) == repr(torch.nn.Linear(4, 3, bias=False))
    assert list(nn.Linear(4, 3).state_dict()) == ["weight", "bias"]
    assert list(nn.Linear(4, 3, bias=False).state_dict()) == ["weight"]


def test_every_mlp_parameter_gets_a_gradient():
    gn.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
    loss = (mlp(gn.randn(8, 5)) ** 2).mean()
    loss.backward()
    names = [n for n, _ in mlp.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for name, p in mlp.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape and np.any(p.grad.array != 0), name


# ---- activation modules ---------------------------------------------------------------------------------

ACTIVATIONS = [
    (lambda m: m.ReLU(), "relu"),
    (lambda m: m.ReLU(inplace=True), "relu_inplace"),
    (lambda m: m.LeakyReLU(0.2), "leaky_relu"),
    (lambda m: m.ELU(alpha=0.7), "elu"),
    (lambda m: m.GELU(), "gelu"),
    (lambda m: m.GELU(approximate="tanh"), "gelu_tanh"),
    (lambda m: m.SiLU(), "silu"),
    (lambda m: m.Sigmoid(), "sigmoid"),
    (lambda m: m.Tanh(), "tanh"),
    (lambda m: m.Softplus(beta=2.0, threshold=1.0), "softplus"),
    (lambda m: m.Softmax(dim=1), "softmax"),
    (lambda m: m.LogSoftmax(dim=-1), "log_softmax"),
]


@pytest.mark.parametrize("make,name", ACTIVATIONS, ids=[n for _, n in ACTIVATIONS])
def test_activation_modules(make, name):
    g, t = make(nn), make(torch.nn)
    assert repr(g) == repr(t)
    if name.endswith("inplace"):  # torch refuses in-place on a leaf that requires grad; glassnet ignores inplace
        t = torch.nn.ReLU()
    compare_module(g, t, [(3, 4, 5)])


def test_softmax_implicit_dim_warns_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(gn.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.Softmax()(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y.array, expected, rtol=1e-6)


def test_gelu_rejects_bad_approximate():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ---- dropout --------------------------------------------------------------------------------------------

def test_dropout_scale_fraction_and_gradient():
    gn.manual_seed(0)
    p = 0.3
    x = gn.tensor(np.random.default_rng(1).uniform(1, 2, (400, 250)).astype(np.float32), requires_grad=True)
    y = F.dropout(x, p)
    kept = y.array != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(y.array[kept], x.array[kept] / (1 - p), rtol=1e-6)
    assert y.dtype == np.float32
    up = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    y.backward(gn.tensor(up))
    np.testing.assert_allclose(x.grad.array, up * kept / (1 - p), rtol=1e-6)


def test_dropout_identity_cases_and_p_one():
    x = gn.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert np.all(y.array == 0)
    y.sum().backward()
    assert np.all(x.grad.array == 0)
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)


def test_dropout_seed_reproducible_and_float64():
    x = gn.ones(50, 50, dtype=gn.float64)
    gn.manual_seed(42)
    a = F.dropout(x, 0.5).array
    gn.manual_seed(42)
    b = F.dropout(x, 0.5).array
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64 and set(np.unique(a)) <= {0.0, 2.0}
    assert not np.array_equal(F.dropout(x, 0.5).array, a)


def test_dropout_module_train_eval():
    m = nn.Dropout(0.25)
    assert repr(m) == repr(torch.nn.Dropout(0.25))
    x = gn.ones(1000)
    y = m(x)
    assert set(np.unique(y.array)) <= {0.0, np.float32(1 / 0.75)} and np.any(y.array == 0)
    m.eval()
    assert m(x) is x


@pytest.mark.parametrize("shape", [(8, 30, 5, 4), (30, 5, 4)])
def test_dropout2d_drops_whole_channels(shape):
    gn.manual_seed(3)
    x = gn.tensor(np.random.default_rng(0).uniform(1, 2, shape).astype(np.float32), requires_grad=True)
    m = nn.Dropout2d(0.4)
    y = m(x)
    chan = y.array.reshape(-1, shape[-2] * shape[-1])
    zero = np.all(chan == 0, axis=1)
    nonzero = np.all(chan != 0, axis=1)
    assert np.all(zero | nonzero)  # each (H, W) map is kept or dropped as a whole
    assert 0.2 < zero.mean() < 0.6
    keep = ~zero.reshape(shape[:-2] + (1, 1))
    np.testing.assert_allclose(y.array, x.array * keep / 0.6, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, np.broadcast_to(keep / 0.6, shape), rtol=1e-6)
    m.eval()
    assert m(x) is x
    assert repr(m) == repr(torch.nn.Dropout2d(0.4))


def test_dropout1d_and_channel_shape_errors():
    gn.manual_seed(4)
    y = F.dropout1d(gn.ones(4, 20, 6), 0.5)
    rows = y.array.reshape(-1, 6)
    assert np.all(np.all(rows == 0, 1) | np.all(rows == 2, 1))
    assert nn.Dropout1d(0.5)(gn.ones(20, 6)).shape == (20, 6)
    with pytest.raises(ValueError, match=r"dropout2d.*\(3, 4\)"):
        F.dropout2d(gn.ones(3, 4))
    with pytest.raises(ValueError, match=r"dropout1d"):
        F.dropout1d(gn.ones(2, 3, 4, 5))
