"""Activations: parity with PyTorch, extreme inputs, the erf helper, second order, errors."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd.forward_ad import jvp
from glassnet.ops.activation import _BLOCK
from parity import Case, run_case
from test_reduction import check_fixed, check_second_order


def fcase(name, fname, shapes, *args, domain="real", **kwargs):
    """A case calling nn.functional.<fname>(x, *args, **kwargs) in both libraries."""
    return Case(name, lambda x: getattr(F, fname)(x, *args, **kwargs), shapes,
                torch_fn=lambda x: getattr(TF, fname)(x, *args, **kwargs), domain=domain)


CASES = [
    fcase("relu", "relu", [(3, 4)], domain="nonzero"),
    fcase("leaky_relu", "leaky_relu", [(3, 4)], domain="nonzero"),
    fcase("leaky_relu_slope", "leaky_relu", [(3, 4)], 0.2, domain="nonzero"),
    fcase("elu", "elu", [(3, 4)], domain="nonzero"),
    fcase("elu_alpha", "elu", [(3, 4)], alpha=0.5, domain="nonzero"),
    fcase("gelu", "gelu", [(3, 4)]),
    fcase("gelu_tanh", "gelu", [(3, 4)], approximate="tanh"),
    fcase("silu", "silu", [(3, 4)]),
    fcase("sigmoid", "sigmoid", [(3, 4)]),
    fcase("tanh", "tanh", [(3, 4)]),
    fcase("softplus", "softplus", [(3, 4)]),
    fcase("softplus_beta_threshold", "softplus", [(4, 5)], beta=2.0, threshold=1.0, domain="distinct"),
    fcase("softmax_dim1", "softmax", [(3, 4)], dim=1),
    fcase("softmax_dim0_3d", "softmax", [(2, 3, 4)], dim=0),
    fcase("softmax_negdim", "softmax", [(2, 3, 4)], dim=-1),
    fcase("softmax_size1", "softmax", [(3, 1)], dim=1),
    fcase("softmax_empty_dim", "softmax", [(2, 0)], dim=1),
    fcase("softmax_empty_other", "softmax", [(0, 3)], dim=1),
    fcase("softmax_scalar", "softmax", [()], dim=0),
    Case("softmax_dtype64", lambda x: F.softmax(x, 1, dtype=gn.float64), [(3, 4)],
         torch_fn=lambda x: TF.softmax(x, 1, dtype=torch.float64)),
    Case("log_softmax_dtype64", lambda x: F.log_softmax(x, 0, dtype=gn.float64), [(3, 4)],
         torch_fn=lambda x: TF.log_softmax(x, 0, dtype=torch.float64)),
    fcase("log_softmax_dim1", "log_softmax", [(3, 4)], dim=1),
    fcase("log_softmax_dim1_3d", "log_softmax", [(2, 3, 4)], dim=1),
    fcase("log_softmax_negdim", "log_softmax", [(2, 3, 4)], dim=-1),
    fcase("log_softmax_empty_other", "log_softmax", [(0, 3)], dim=-1),
    Case("methods", lambda x: x.relu() + x.sigmoid() + x.tanh() + x.softmax(1) + x.log_softmax(0), [(3, 4)],
         domain="nonzero"),
    Case("top_level", lambda x: gn.sigmoid(x) * gn.tanh(x) + gn.softmax(x, 0), [(3, 4)],
         torch_fn=lambda x: torch.sigmoid(x) * torch.tanh(x) + torch.softmax(x, 0)),
    fcase("empty", "gelu", [(0, 3)]),
    fcase("relu6", "relu6", [(3, 4)], domain="nonzero"),
    Case("relu6_wide", lambda x: F.relu6(x * 4), [(3, 4)], torch_fn=lambda x: TF.relu6(x * 4), domain="nonzero"),
    fcase("hardtanh", "hardtanh", [(3, 4)], domain="nonzero"),
    fcase("hardtanh_bounds", "hardtanh", [(3, 4)], -0.5, 0.25, domain="distinct"),
    fcase("threshold", "threshold", [(3, 4)], 0.1, 20.0, domain="distinct"),
    fcase("softshrink", "softshrink", [(3, 4)], domain="distinct"),
    fcase("hardshrink", "hardshrink", [(3, 4)], 0.3, domain="distinct"),
    fcase("selu", "selu", [(3, 4)], domain="nonzero"),
    fcase("celu", "celu", [(3, 4)], domain="nonzero"),
    fcase("celu_alpha", "celu", [(3, 4)], alpha=2.5, domain="nonzero"),
    fcase("mish", "mish", [(3, 4)]),
    fcase("logsigmoid", "logsigmoid", [(3, 4)]),
    Case("hardsigmoid", lambda x: F.hardsigmoid(x * 4), [(3, 4)], torch_fn=lambda x: TF.hardsigmoid(x * 4),
         domain="distinct"),
    Case("hardswish", lambda x: F.hardswish(x * 4), [(3, 4)], torch_fn=lambda x: TF.hardswish(x * 4),
         domain="distinct"),
    fcase("tanhshrink", "tanhshrink", [(3, 4)]),
    fcase("softsign", "softsign", [(3, 4)], domain="nonzero"),
    fcase("glu_last", "glu", [(3, 4)]),
    fcase("glu_dim0", "glu", [(4, 3, 2)], dim=0),
    fcase("rrelu_eval", "rrelu", [(3, 4)], 0.1, 0.3, domain="nonzero"),
    fcase("softmin", "softmin", [(3, 4)], dim=1),
    Case("softmin_dtype", lambda x: F.softmin(x, 0, dtype=gn.float64), [(3, 4)],
         torch_fn=lambda x: TF.softmin(x, 0, dtype=torch.float64)),
    Case("softmax_axis", lambda x: F.softmax(x, axis=0), [(3, 4)], torch_fn=lambda x: TF.softmax(x, dim=0)),
    Case("log_softmax_axis", lambda x: F.log_softmax(x, axis=-1), [(3, 4)],
         torch_fn=lambda x: TF.log_softmax(x, dim=-1)),
    Case("prelu_channels", F.prelu, [(2, 3, 4), (3,)], torch_fn=TF.prelu, domain="nonzero"),
    Case("prelu_shared", F.prelu, [(2, 3), (1,)], torch_fn=TF.prelu, domain="nonzero"),
    Case("prelu_1d", F.prelu, [(5,), (1,)], torch_fn=TF.prelu, domain="nonzero"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_softmax_dtype_argument():
    x = gn.randn(2, 3)
    assert F.softmax(x, 1, dtype=gn.float64).dtype == gn.float64
    assert F.log_softmax(x, dim=0, dtype=gn.float64).dtype == gn.float64


# ---- extreme and special inputs --------------------------------------------------------------------
LARGE = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4 + 1, -1e4], [1e4, 1e4, 1e4 - 2, -5.0]])


@pytest.mark.parametrize("fname, kwargs", [
    ("softmax", {"dim": 1}), ("softmax", {"dim": 0}), ("log_softmax", {"dim": 1}), ("log_softmax", {"dim": 0}),
    ("sigmoid", {}), ("softplus", {}), ("softplus", {"beta": 0.5}), ("silu", {}), ("elu", {}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("tanh", {}),
])
def test_large_inputs_finite_and_equal_to_torch(fname, kwargs):
    fn = lambda x: getattr(F, fname)(x, **kwargs)  # noqa: E731
    out = fn(gn.tensor(LARGE.astype(np.float32)))
    assert np.isfinite(out.array).all()
    check_fixed(fn, [LARGE], torch_fn=lambda x: getattr(TF, fname)(x, **kwargs), rtol=1e-6)


@pytest.mark.parametrize("fname, kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.1}),
                                           ("elu", {"alpha": 2.0}), ("silu", {}), ("gelu", {})])
def test_gradient_at_zero_like_torch(fname, kwargs):
    check_fixed(lambda x: getattr(F, fname)(x, **kwargs), [np.array([-1.0, 0.0, 0.0, 2.0])],
                torch_fn=lambda x: getattr(TF, fname)(x, **kwargs))


def test_softplus_around_threshold():
    x = np.array([9.9, 10.0, 10.1, -30.0, 19.99, 20.01])
    for beta, threshold in [(1.0, 20.0), (2.0, 20.0), (1.0, 10.0)]:
        check_fixed(lambda a: F.softplus(a, beta, threshold), [x],
                    torch_fn=lambda a: TF.softplus(a, beta, threshold))


def _gelu_reference(x, approximate):
    """GELU and its derivative in float64 (math.erfc / np.tanh), as the accuracy reference."""
    if approximate == "none":
        cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
        return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    k, c = math.sqrt(2 / math.pi), 0.044715
    e = np.exp(-2 * k * (x + c * x ** 3))  # 1 + tanh u = 2 / (1 + e), 1 - tanh^2 u = 4 e / (1 + e)^2, no cancellation
    one_plus_t, one_minus_t2 = 2 / (1 + e), 4 * e / (1 + e) ** 2
    return 0.5 * x * one_plus_t, 0.5 * one_plus_t + 0.5 * x * one_minus_t2 * k * (1 + 3 * c * x * x)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_wide_range(approximate):
    x = np.linspace(-12, 12, 481).astype(np.float32)
    # For x << 0 torch's float32 GELU cancels (1 + erf or 1 + tanh near 0), off by up to a few 1e-6
    # absolute; ours avoids the cancellation, so it is compared with torch loosely and with float64 tightly.
    check_fixed(lambda a: F.gelu(a, approximate=approximate), [x],
                torch_fn=lambda a: TF.gelu(a, approximate=approximate), rtol=1e-5, atol=4e-6)
    value, slope = _gelu_reference(x.astype(np.float64), approximate)
    g = gn.tensor(x, requires_grad=True)
    y = F.gelu(g, approximate=approximate)
    y.sum().backward()
    np.testing.assert_allclose(y.array, value, rtol=1e-5, atol=1e-37)  # exp(-2u) in float32: ~|2u| ulp
    np.testing.assert_allclose(g.grad.array, slope, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_across_blocks(approximate):
    # more elements than a few blocks, not a multiple of the block size, and a non-contiguous input:
    # every block boundary must give the same values as one long computation in float64
    n = 3 * _BLOCK + 17
    base = (np.random.default_rng(0).standard_normal((2, n)) * 3).astype(np.float32)
    x = base[:, ::2]  # a strided view
    g = gn.tensor(x, requires_grad=True)
    y = F.gelu(g, approximate=approximate)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    y.backward(gn.tensor(dy))
    value, slope = _gelu_reference(x.astype(np.float64).ravel(), approximate)
    np.testing.assert_allclose(y.array.ravel(), value, rtol=1e-6, atol=2e-8)
    np.testing.assert_allclose(g.grad.array.ravel(), slope * dy.ravel(), rtol=1e-5, atol=1e-7)


def test_gelu_table_interpolation_error_is_below_float32_resolution():
    # points between the table's grid points (where linear interpolation is worst) and on them
    x = np.concatenate([np.arange(-8, 8, 1 / 2048) + 0.5 / 2048, np.arange(-8, 8, 1 / 2048)]).astype(np.float32)
    y = F.gelu(gn.tensor(x)).array
    value, _ = _gelu_reference(x.astype(np.float64), "none")
    assert np.max(np.abs(y - value) / np.maximum(np.abs(x), 1)) < 1.5e-7


def test_gelu_special_values():
    x = np.array([np.inf, np.nan, 3e38, -3e38, 0.0, 40.0, -40.0], np.float32)
    g = gn.tensor(x, requires_grad=True)
    with np.errstate(all="raise"):  # nothing warns: the table clips overflowing and infinite inputs
        y = F.gelu(g)
    np.testing.assert_array_equal(y.array, np.array([np.inf, np.nan, 3e38, 0.0, 0.0, 40.0, 0.0], np.float32))
    with np.errstate(invalid="ignore"):  # the slope at inf is inf * phi(inf) = inf * 0: NaN, as torch's
        F.gelu(g).sum().backward()
    assert np.isnan(g.grad.array[:2]).all()
    np.testing.assert_array_equal(g.grad.array[2:], [1.0, 0.0, 0.5, 1.0, 0.0])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_slope_of_large_inputs_is_finite(approximate):
    # for |x| ~ 1e13 the tanh form's u' ~ x^2 is near float32's limit: its product with s (1 - s) = 0
    # must come out 0, not inf * 0 (a diverging run would otherwise turn its gradients into NaN)
    x = np.array([1e13, 2e13, -2e13, 1e15, -1e15], np.float32)
    g = gn.tensor(x, requires_grad=True)
    F.gelu(g, approximate=approximate).sum().backward()
    np.testing.assert_array_equal(g.grad.array, np.array([1, 1, 0, 1, 0], np.float32))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float16_matches_torch(approximate):
    x = (np.random.default_rng(2).standard_normal(4000) * 4).astype(np.float16)
    g, t = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.gelu(g, approximate=approximate), TF.gelu(t, approximate=approximate)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.array.astype(np.float32), ty.detach().numpy().astype(np.float32),
                               rtol=2e-3, atol=1e-4)
    dy = np.random.default_rng(3).standard_normal(4000).astype(np.float16)
    y.backward(gn.tensor(dy))
    ty.backward(torch.tensor(dy))
    assert g.grad.dtype == np.float16
    np.testing.assert_allclose(g.grad.array.astype(np.float32), t.grad.numpy().astype(np.float32),
                               rtol=4e-3, atol=4e-3)


def test_softmax_rows_sum_to_one_and_neg_inf_masking():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]], np.float32)
    ours, theirs = F.softmax(gn.tensor(x), 1), TF.softmax(torch.tensor(x), 1)
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.array.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(gn.tensor(x), 1).array, TF.log_softmax(torch.tensor(x), 1).numpy())


# ---- second order --------------------------------------------------------------------------------
SECOND_ORDER = {  # name: (glassnet function, torch function)
    "tanh": (F.tanh, torch.tanh),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
    "softmax_dim0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "log_softmax": (lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    "silu": (F.silu, TF.silu),
    "softplus": (lambda x: F.softplus(x, 1.5), lambda x: TF.softplus(x, 1.5)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1) * x, lambda x: TF.leaky_relu(x, 0.1) * x),
    "relu": (lambda x: F.relu(x) ** 2, lambda x: TF.relu(x) ** 2),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)),  # 1/alpha exact (torch rounds it to float32)
    "mish": (F.mish, TF.mish),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "hardswish": (lambda x: F.hardswish(x * 3), lambda x: TF.hardswish(x * 3)),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "softsign": (F.softsign, TF.softsign),
    "relu6_hardtanh": (lambda x: F.relu6(x * 4) * F.hardtanh(x) * x, lambda x: TF.relu6(x * 4) * TF.hardtanh(x) * x),
    "shrink_threshold": (lambda x: F.softshrink(x) * F.hardshrink(x, 0.2) + F.threshold(x, 0.1, 2.0) * x,
                         lambda x: TF.softshrink(x) * TF.hardshrink(x, 0.2) + TF.threshold(x, 0.1, 2.0) * x),
    "glu": (F.glu, TF.glu),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "prelu": (lambda x: F.prelu(x, x[0, :1].abs()) * x, lambda x: TF.prelu(x, x[0, :1].abs()) * x),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, torch_fn = SECOND_ORDER[name]
    check_second_order(fn, [(3, 4)], torch_fn=torch_fn)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_order_matches_torch(approximate):
    x = np.linspace(-3, 3, 7)
    g, t = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gd, td = F.gelu(g, approximate=approximate), TF.gelu(t, approximate=approximate)
    for _ in range(3):
        (gd,) = gn.autograd.grad(gd.sum(), g, create_graph=True)
        (td,) = torch.autograd.grad(td.sum(), t, create_graph=True)
        np.testing.assert_allclose(gd.array, td.detach().numpy(), rtol=1e-7, atol=1e-7)


# ---- errors --------------------------------------------------------------------------------------
def test_softmax_requires_dim():
    x = gn.ones(2, 3)
    for fn in (F.softmax, F.log_softmax):
        with pytest.raises(TypeError, match=f"{fn.__name__}: dim is required"):
            fn(x)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_bad_dim(fn):
    with pytest.raises(IndexError, match=f"{fn.__name__}: dimension 2 is out of range for a tensor of 2 dimensions"):
        fn(gn.ones(2, 3), 2)


def test_other_errors():
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        F.gelu(gn.ones(2), approximate="fast")
    with pytest.raises(TypeError, match="sigmoid: expected a floating point tensor"):
        F.sigmoid(gn.tensor([1, 2]))
    with pytest.raises(TypeError, match="softmax: expected a floating point tensor"):
        F.softmax(gn.tensor([1, 2]), 0)


# ---- forward mode ----------------------------------------------------------------------------------
JVP = {
    "relu": lambda F, x: F.relu(x), "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2), "elu": lambda F, x: F.elu(x),
    "selu": lambda F, x: F.selu(x), "celu": lambda F, x: F.celu(x, 0.5), "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"), "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x), "sigmoid": lambda F, x: F.sigmoid(x), "logsigmoid": lambda F, x: F.logsigmoid(x),
    "tanh": lambda F, x: F.tanh(x), "tanhshrink": lambda F, x: F.tanhshrink(x),
    "softsign": lambda F, x: F.softsign(x), "softplus": lambda F, x: F.softplus(x, 2.0, 1.0),
    "hardswish": lambda F, x: F.hardswish(x * 4), "hardsigmoid": lambda F, x: F.hardsigmoid(x * 4),
    "relu6": lambda F, x: F.relu6(x * 4), "hardtanh": lambda F, x: F.hardtanh(x),
    "threshold": lambda F, x: F.threshold(x, 0.1, 3.0), "softshrink": lambda F, x: F.softshrink(x),
    "hardshrink": lambda F, x: F.hardshrink(x), "glu": lambda F, x: F.glu(x, 1),
    "prelu": lambda F, x: F.prelu(x, x[0] * 0.5), "softmax": lambda F, x: F.softmax(x, 1),
    "log_softmax": lambda F, x: F.log_softmax(x, 0), "softmin": lambda F, x: F.softmin(x, 1),
    "rrelu_eval": lambda F, x: F.rrelu(x),
}


@pytest.mark.parametrize("name", list(JVP))
def test_jvp_matches_torch_func(name):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x[np.abs(x) < 0.05] = 0.3  # away from the kinks
    f = JVP[name]
    _, ours = jvp(lambda t: f(F, t), (gn.tensor(x),), (gn.tensor(v),))
    _, theirs = torch.func.jvp(lambda t: f(TF, t), (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-7, atol=1e-9)


# ---- modules -------------------------------------------------------------------------------------
MODULES = [
    ("ReLU6", ()), ("SELU", ()), ("CELU", (0.7,)), ("Mish", ()), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("LogSigmoid", ()), ("Tanhshrink", ()), ("Softsign", ()), ("Threshold", (0.2, -1.0)), ("Hardtanh", (-0.5, 2.0)),
    ("Softshrink", (0.3,)), ("Hardshrink", ()), ("GLU", (1,)), ("Softmin", (1,)), ("Softmax2d", ()),
    ("PReLU", (4,)), ("RReLU", (0.1, 0.2)),
]


@pytest.mark.parametrize("name, args", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name, args):
    x = np.random.default_rng(3).standard_normal((2, 4, 3, 2)).astype(np.float32) * 3
    ours, theirs = getattr(gn.nn, name)(*args).eval(), getattr(torch.nn, name)(*args).eval()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours(gn.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_rrelu_training_draws_slopes_in_range():
    gn.manual_seed(0)
    x = gn.full((2000,), -1.0, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.array
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.04  # not one slope for all
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, slopes, rtol=1e-6)  # the gradient is each element's slope
    assert np.array_equal(F.rrelu(gn.ones(3), training=True).array, np.ones(3, np.float32))  # x > 0 unchanged


def test_gumbel_softmax():
    gn.manual_seed(0)
    logits = gn.tensor(np.log(np.array([[0.7, 0.2, 0.1]] * 4000)), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.array.sum(1), 1.0, rtol=1e-6)
    hard = F.gumbel_softmax(logits, tau=1.0, hard=True, dim=1)
    assert set(np.unique(hard.array)) == {0.0, 1.0} and np.all(hard.array.sum(1) == 1)
    np.testing.assert_allclose(hard.array.mean(0), [0.7, 0.2, 0.1], atol=0.03)  # samples follow softmax(logits)
    (hard * gn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.abs(logits.grad.array).sum() > 0  # straight-through: the soft sample's gradient


def test_new_activation_errors():
    x = gn.ones(2, 3)
    with pytest.raises(ValueError, match="softshrink: lambd must be >= 0"):
        F.softshrink(x, -0.5)
    with pytest.raises(ValueError, match="rrelu: lower bound 0.5 should be less"):
        F.rrelu(x, 0.5, 0.2)
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="glu: halving dimension must be even, but dimension -1 is size 3"):
        F.glu(x)
    with pytest.raises(ValueError, match="prelu: weight of shape \\(2,\\) must have 1 or 3 entries"):
        F.prelu(x, gn.ones(2))
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        gn.nn.Softmax2d()(x)
    with pytest.raises(TypeError, match="hardswish: expected a floating point tensor"):
        F.hardswish(gn.tensor([1, 2]))
    with pytest.raises(TypeError, match="softmax: got both dim and its alias axis"):
        F.softmax(x, dim=0, axis=1)
    with pytest.raises(ValueError, match="gumbel_softmax: tau must be positive"):
        F.gumbel_softmax(x, tau=0)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("leaky_relu_", (0.2,)), ("threshold_", (0.5, -2.0)),
                                        ("hardtanh_", (-0.5, 0.5)), ("elu_", (0.7,)), ("selu_", ()), ("celu_", (1.5,))])
def test_in_place_forms_match_torch(name, args):
    x = np.random.default_rng(0).standard_normal((3, 4))
    g_leaf, t_leaf = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g, t = g_leaf * 1.5, t_leaf * 1.5
    assert getattr(F, name)(g, *args) is g
    getattr(TF, name)(t, *args)
    np.testing.assert_allclose(g.array, t.detach().numpy(), rtol=1e-12)
    (g * g).sum().backward()
    (t * t).sum().backward()
    np.testing.assert_allclose(g_leaf.grad.array, t_leaf.grad.numpy(), rtol=1e-12)


def test_changing_the_output_in_place_is_refused_only_where_the_backward_reads_it():
    x = np.array([-1.0, 0.5, 2.0])
    g, t = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for lib_x, fn in ((g, F.leaky_relu), (t, TF.leaky_relu)):  # its slope reads a mask of x: fine in both
        y = fn(lib_x * 1.0, 0.1)
        y.add_(1)
        y.sum().backward()
    np.testing.assert_allclose(g.grad.array, t.grad.numpy())
    y = F.sigmoid(g * 1.0)  # its slope reads y: PyTorch's error
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
