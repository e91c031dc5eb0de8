"""Activations: parity with PyTorch, extreme inputs, the erf helper, second order, errors."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.ops.activation import _BLOCK, _erfc
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


def test_erfc_accuracy():
    z = np.linspace(-9, 9, 20001)
    exact = np.array([math.erfc(v) for v in z])
    assert np.max(np.abs(_erfc(z) - exact) / exact) < 1.2e-7


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
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, torch_fn = SECOND_ORDER[name]
    check_second_order(fn, [(3, 4)], torch_fn=torch_fn)


def test_gelu_has_no_double_backward():
    x = gn.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="GELU"):
        gn.autograd.grad(F.gelu(x).sum(), x, create_graph=True)


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
