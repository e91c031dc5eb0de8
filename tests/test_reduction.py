"""Reductions: parity with PyTorch (values, dtypes, gradients), ties, zeros, second order, errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, both, run_case


def ints(shape, hi=4, dtype=np.int64):
    return Const(lambda r: r.integers(0, hi, shape).astype(dtype))


CASES = [
    # sum / mean
    Case("sum_all", lambda a: a.sum(), [(3, 4)]),
    Case("sum_dim", lambda a: a.sum(1), [(3, 4)]),
    Case("sum_negdim_keepdim", lambda a: a.sum(-1, keepdim=True), [(2, 3, 4)]),
    Case("sum_tuple", lambda a: a.sum((0, 2)), [(2, 3, 4)]),
    Case("sum_size1", lambda a: a.sum(1), [(3, 1)]),
    Case("sum_empty_dim", lambda a: a.sum(0), [(0, 3)]),
    Case("sum_scalar_dim0", lambda a: a.sum(0), [()]),
    Case("sum_int32_gives_int64", lambda c: c.sum(0), [ints((3, 4), dtype=np.int32)], gradcheck=False),
    Case("sum_bool", lambda c: c.sum(), [Const(lambda r: r.random((3, 4)) > 0.5)], gradcheck=False),
    Case("mean_all", lambda a: a.mean(), [(3, 4)]),
    Case("mean_tuple_keepdim", lambda a: a.mean((-1, 0), keepdim=True), [(2, 3, 4)]),
    Case("mean_empty_dim", lambda a: a.mean(1), [(3, 0)]),
    # prod
    Case("prod_all", lambda a: a.prod(), [(2, 3)], domain="nonzero"),
    Case("prod_dim", lambda a: a.prod(1), [(3, 4)]),
    Case("prod_negdim_keepdim", lambda a: a.prod(-2, keepdim=True), [(2, 3, 4)]),
    Case("prod_empty_dim", lambda a: a.prod(0), [(0, 3)]),
    Case("prod_int32", lambda c: c.prod(1), [ints((2, 3), dtype=np.int32)], gradcheck=False),
    # max / min
    Case("max_all", lambda a: a.max(), [(3, 4)], domain="distinct"),
    Case("min_all", lambda a: a.min(), [(3, 4)], domain="distinct"),
    Case("max_dim", lambda a: a.max(1), [(3, 4)], domain="distinct"),
    Case("max_negdim_keepdim", lambda a: a.max(-1, keepdim=True), [(2, 3, 4)], domain="distinct"),
    Case("min_dim0", lambda a: a.min(0), [(3, 4)], domain="distinct"),
    Case("max_size1_dim", lambda a: a.max(1), [(3, 1)]),
    Case("max_nonreduced_empty", lambda a: a.max(1), [(0, 3)]),
    Case("max_scalar", lambda a: a.max(0), [()]),
    Case("max_other", lambda a, b: gn.max(a, b), [(3, 4), (4,)], torch_fn=lambda a, b: torch.max(a, b),
         domain="distinct"),
    Case("min_other", lambda a, b: gn.min(a, b), [(3, 1), (3, 4)], torch_fn=lambda a, b: torch.min(a, b),
         domain="distinct"),
    Case("max_int", lambda c: c.max(1), [ints((3, 5))], gradcheck=False),
    # amax / amin
    Case("amax_all", lambda a: a.amax(), [(3, 4)], domain="distinct"),
    Case("amax_tuple", lambda a: a.amax((0, 2)), [(2, 3, 4)], domain="distinct"),
    Case("amin_dim_keepdim", lambda a: a.amin(-1, keepdim=True), [(2, 3, 4)], domain="distinct"),
    Case("amax_functional_empty_nonreduced", lambda a: gn.amax(a, 1), [(0, 3)],
         torch_fn=lambda a: torch.amax(a, 1)),
    # argmax / argmin
    Case("argmax_flat", lambda a: a.argmax(), [(3, 4)], gradcheck=False),
    Case("argmax_flat_keepdim", lambda a: a.argmax(keepdim=True), [(3, 4)], gradcheck=False),
    Case("argmin_dim", lambda a: a.argmin(1), [(3, 4)], gradcheck=False),
    Case("argmax_negdim_keepdim", lambda a: a.argmax(-1, keepdim=True), [(2, 3, 4)], gradcheck=False),
    Case("argmax_ties_first", lambda c: c.argmax(1), [ints((4, 6), hi=2)], gradcheck=False),
    Case("argmin_ties_first", lambda c: c.argmin(0), [ints((4, 6), hi=2)], gradcheck=False),
    # var / std
    Case("var_all", lambda a: a.var(), [(3, 4)]),
    Case("var_dim", lambda a: a.var(1), [(3, 4)]),
    Case("var_tuple_keepdim", lambda a: a.var((0, -1), keepdim=True), [(2, 3, 4)]),
    Case("var_unbiased_false", lambda a: a.var(0, unbiased=False), [(3, 4)]),
    Case("var_legacy_bool", lambda a: a.var(False), [(3, 4)]),
    Case("var_correction2", lambda a: a.var(1, correction=2), [(3, 5)]),
    Case("var_size1_nan", lambda a: a.var(1), [(3, 1)], gradcheck=False),
    Case("std_all", lambda a: a.std(), [(3, 4)]),
    Case("std_dim_keepdim", lambda a: a.std(-1, keepdim=True), [(2, 3, 4)]),
    Case("std_correction0", lambda a: a.std((0, 1), correction=0), [(2, 3, 2)]),
    Case("std_functional", lambda a: gn.std(a, 0, unbiased=True), [(4, 3)],
         torch_fn=lambda a: torch.std(a, 0, unbiased=True)),
    # logsumexp
    Case("logsumexp_dim", lambda a: a.logsumexp(1), [(3, 4)]),
    Case("logsumexp_tuple_keepdim", lambda a: a.logsumexp((0, 2), keepdim=True), [(2, 3, 4)]),
    Case("logsumexp_negdim", lambda a: a.logsumexp(-1), [(2, 3, 4)]),
    Case("logsumexp_empty_dim", lambda a: a.logsumexp(1), [(2, 0)]),
    Case("logsumexp_int", lambda c: gn.logsumexp(c, 0), [ints((4,))], torch_fn=lambda c: torch.logsumexp(c, 0),
         gradcheck=False),
    # norm
    Case("norm_fro", lambda a: a.norm(), [(3, 4)]),
    Case("norm_fro_dims", lambda a: a.norm("fro", (0, 1)), [(3, 4, 2)]),
    Case("norm_p2_dim", lambda a: a.norm(2, 1), [(3, 4)]),
    Case("norm_p1", lambda a: a.norm(1), [(3, 4)], domain="nonzero"),
    Case("norm_p1_dim_keepdim", lambda a: a.norm(1, -1, keepdim=True), [(2, 3, 4)], domain="nonzero"),
    Case("norm_p3_tuple", lambda a: a.norm(3, (0, 2)), [(2, 3, 4)]),
    Case("norm_p05", lambda a: a.norm(0.5, 1), [(3, 4)], domain="nonzero"),
    Case("norm_inf", lambda a: a.norm(float("inf"), 1), [(3, 4)], domain="distinct"),
    Case("norm_p0", lambda a: a.norm(0), [(3, 4)]),
    Case("norm_empty", lambda a: a.norm(dim=1), [(3, 0)]),
    # cumsum
    Case("cumsum_dim0", lambda a: a.cumsum(0), [(3, 4)]),
    Case("cumsum_negdim", lambda a: a.cumsum(-1), [(2, 3, 4)]),
    Case("cumsum_empty", lambda a: a.cumsum(0), [(0, 3)]),
    Case("cumsum_int32", lambda c: c.cumsum(1), [ints((3, 4), dtype=np.int32)], gradcheck=False),
    both("cumsum_bool", lambda lib, c: lib.cumsum(c, 0), [Const(lambda r: r.random((5,)) > 0.5)], gradcheck=False),
    # cumprod (with zeros), cummax / cummin, logcumsumexp
    both("cumprod", lambda lib, a: lib.cumprod(a, 1), [(3, 4)]),
    both("cumprod_negdim", lambda lib, a: lib.cumprod(a, -1), [(2, 3, 4)]),
    both("cumprod_zeros", lambda lib, a, m: lib.cumprod(a * m, 1), [(4, 5), Const(lambda r: np.array(
        [[1, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 1, 0, 1, 1], [1, 1, 1, 1, 1]], np.float64))]),
    both("cumprod_int", lambda lib, c: lib.cumprod(c, 0), [ints((4, 2))], gradcheck=False),
    both("cumprod_empty", lambda lib, a: lib.cumprod(a, 1), [(2, 0, 3)]),
    both("cummax", lambda lib, a: lib.cummax(a, 1), [(3, 5)], domain="distinct"),
    both("cummin_dim0", lambda lib, a: lib.cummin(a, 0), [(4, 3)], domain="distinct"),
    both("cummax_ties", lambda lib, c, a: lib.cummax(c + a * 0, 1), [ints((3, 6), hi=3, dtype=np.float32), (3, 6)]),
    both("logcumsumexp", lambda lib, a: lib.logcumsumexp(a * 10, 1), [(3, 5)]),
    both("logcumsumexp_dim0", lambda lib, a: lib.logcumsumexp(a, 0), [(4, 2, 3)]),
    # any / all / count_nonzero / nansum / nanmean / var_mean / std_mean / aminmax
    both("any_all", lambda lib, c: (lib.any(c), lib.all(c), lib.any(c, 1), lib.all(c, dim=0, keepdim=True)),
         [Const(lambda r: r.random((3, 4)) > 0.3)], gradcheck=False),
    both("any_all_floats", lambda lib, c: (c.any(), c.all(1), lib.any(c, (0, 1))), [ints((3, 4), hi=2)],
         gradcheck=False),
    both("count_nonzero", lambda lib, c: (lib.count_nonzero(c), lib.count_nonzero(c, 1)), [ints((3, 4), hi=2)],
         gradcheck=False),
    both("nansum_nanmean", lambda lib, a, c: (lib.nansum(a + c), lib.nanmean(a + c, 1)), [(3, 4), Const(
        lambda r: np.where(r.random((3, 4)) > 0.7, np.nan, 0.0))]),
    both("var_mean", lambda lib, a: lib.var_mean(a, 1), [(3, 4)]),
    both("std_mean_correction", lambda lib, a: lib.std_mean(a, (0, 1), correction=0, keepdim=True), [(2, 3, 2)]),
    both("aminmax", lambda lib, a: tuple(lib.aminmax(a, dim=1)), [(3, 4)], domain="distinct"),
    # axis= as another name for dim=
    both("axis_alias", lambda lib, a: (lib.sum(a, axis=1), lib.mean(a, axis=0), lib.amax(a, axis=1),
         lib.max(a, axis=1).values, lib.var(a, axis=1), lib.logsumexp(a, axis=0), lib.cumsum(a, axis=1),
         lib.argmax(a, axis=1)), [(3, 4)], domain="distinct"),
    # float16: sums accumulate in float32
    both("float16_mean_var_norm", lambda lib, c: (c.mean(), c.var(), lib.std(c), c.norm(), lib.cumsum(c, 0)[-3:]),
         [Const(lambda r: np.full(70000, 0.01, np.float16))], gradcheck=False, rtol=1e-3),
]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is", "ignore:invalid value encountered")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


# ---- fixed inputs (ties, zeros, extreme values) compared with torch -----------------------------
def check_fixed(fn, values, torch_fn=None, rtol=1e-5, atol=1e-6):
    """Run `fn` on the given float arrays in both libraries; compare outputs, dtypes and gradients."""
    torch_fn = torch_fn or fn
    values = [np.asarray(v, np.float32) for v in values]
    g_in = [gn.tensor(v, requires_grad=True) for v in values]
    t_in = [torch.tensor(v, requires_grad=True) for v in values]
    g_out, t_out = fn(*g_in), torch_fn(*t_in)
    g_out = list(g_out) if isinstance(g_out, tuple) else [g_out]
    t_out = list(t_out) if isinstance(t_out, tuple) else [t_out]
    rng = np.random.default_rng(0)
    g_loss, t_loss = 0, 0
    for g, t in zip(g_out, t_out, strict=True):
        expected = t.detach().numpy()
        assert g.dtype == expected.dtype and g.shape == expected.shape
        np.testing.assert_allclose(g.array, expected, rtol=rtol, atol=atol)
        if t.requires_grad:
            w = rng.standard_normal(expected.shape).astype(np.float32)
            g_loss = g_loss + (g * gn.tensor(w)).sum()
            t_loss = t_loss + (t * torch.tensor(w)).sum()
    if isinstance(t_loss, int):  # no differentiable output (argmax)
        return
    t_grads = torch.autograd.grad(t_loss, t_in, allow_unused=True)
    g_grads = gn.autograd.grad(g_loss, g_in, allow_unused=True)
    for g, t in zip(g_grads, t_grads):
        expected = np.zeros_like(values[0]) if t is None else t.numpy()
        got = np.zeros_like(expected) if g is None else g.array
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def check_second_order(fn, shapes, torch_fn=None, seed=0, domain="real"):
    """d/dx of sum(w2 * dL/dx) with L = sum(w1 * fn(x)): glassnet create_graph against torch, float64."""
    torch_fn = torch_fn or fn
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes]
    if domain == "distinct":
        xs = [(rng.permutation(x.size).reshape(x.shape) - x.size / 2) * 0.37 for x in xs]
    g_in = [gn.tensor(x, requires_grad=True) for x in xs]
    t_in = [torch.tensor(x, requires_grad=True) for x in xs]
    g_out, t_out = fn(*g_in), torch_fn(*t_in)
    w1 = rng.standard_normal(tuple(t_out.shape))
    w2 = [rng.standard_normal(s) for s in shapes]
    g_first = gn.autograd.grad((g_out * gn.tensor(w1)).sum(), g_in, create_graph=True)
    t_first = torch.autograd.grad((t_out * torch.tensor(w1)).sum(), t_in, create_graph=True)
    for g, t in zip(g_first, t_first):
        np.testing.assert_allclose(g.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_second = gn.autograd.grad(sum(g * gn.tensor(w) for g, w in zip(g_first, w2)).sum(), g_in, allow_unused=True)
    t_second = torch.autograd.grad(sum((t * torch.tensor(w)).sum() for t, w in zip(t_first, w2)), t_in,
                                   allow_unused=True)
    for g, t in zip(g_second, t_second):
        expected = np.zeros(g_in[0].shape) if t is None else t.numpy()
        got = np.zeros(g_in[0].shape) if g is None else g.array
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, -1.0, 4.0]])


@pytest.mark.parametrize("fn", [
    lambda a: a.max(), lambda a: a.min(), lambda a: a.max(1), lambda a: a.min(1), lambda a: a.max(0, keepdim=True),
    lambda a: a.amax(1), lambda a: a.amin(0), lambda a: a.amax((0, 1)), lambda a: a.amin(), lambda a: a.argmax(1),
    lambda a: a.norm(float("inf"), 1), lambda a: (-a).norm(float("inf")),
], ids=["max", "min", "max_dim", "min_dim", "max_dim0_keepdim", "amax_dim", "amin_dim0", "amax_tuple", "amin_all",
        "argmax", "norm_inf_dim", "norm_inf_all"])
def test_ties_match_torch(fn):
    check_fixed(lambda a: (fn(a),) if not isinstance(fn(a), tuple) else fn(a), [TIES])


def test_max_ties_share_gradient_evenly():
    x = gn.tensor(TIES, requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.array, [[0, 0.5, 0.5, 0], [0.25] * 4, [0, 1, 0, 0]])


def test_max_other_with_ties():
    check_fixed(lambda a, b: gn.max(a, b), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]], torch_fn=lambda a, b: torch.max(a, b))


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_with_zeros(dim):
    x = np.array([[1.0, 0.0, 3.0, 2.0], [0.0, 0.0, 2.0, 1.0], [1.5, 2.0, 3.0, -1.0], [0.0, 4.0, 0.5, 2.0]])
    fn = (lambda a: a.prod()) if dim is None else (lambda a: a.prod(dim))
    check_fixed(fn, [x])
    check_fixed(fn, [np.where(x == 0, 0.0, x + 0.0)[:, ::-1]])


def test_prod_single_zero_exact_gradient():
    x = gn.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, 0, float("inf")])
def test_norm_of_zero_vector(p):
    check_fixed(lambda a: a.norm(p), [np.zeros(4)])
    check_fixed(lambda a: a.norm(p, 1), [np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])])


def test_std_of_constant_has_zero_gradient():
    check_fixed(lambda a: a.std(1), [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])])


@pytest.mark.parametrize("fn", [lambda a: a.logsumexp(0), lambda a: a.logsumexp(1, keepdim=True),
                                lambda a: a.logsumexp((0, 1))], ids=["dim0", "dim1", "all"])
def test_logsumexp_large_values(fn):
    x = np.array([[1e4, -1e4, 0.0], [1e4, 1e4 - 1, 3.0], [-1e4, -1e4, -1e4 + 2]])
    check_fixed(fn, [x], rtol=1e-6)
    g = gn.tensor(x.astype(np.float32), requires_grad=True)
    assert np.isfinite(fn(g).array).all()


def test_logsumexp_infinities_match_torch():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 0.0]], np.float32)
    np.testing.assert_array_equal(gn.tensor(x).logsumexp(1).array, torch.tensor(x).logsumexp(1).numpy())


def test_max_dim_returns_named_values_indices():
    x = gn.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    out = x.max(1)
    assert out.values.tolist() == [5.0, 7.0] and out.indices.tolist() == [1, 0]
    assert out.indices.dtype == gn.int64 and not out.indices.requires_grad
    values, indices = x.min(dim=0, keepdim=True)
    assert values.shape == (1, 3) and indices.tolist() == [[0, 1, 0]]


def test_var_and_std_defaults_and_arguments():
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    g, t = gn.tensor(x), torch.tensor(x)
    np.testing.assert_allclose(gn.var(g, 1, correction=0).array, torch.var(t, 1, correction=0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(g.std(True).array, t.std(True).numpy(), rtol=1e-5)
    np.testing.assert_allclose(g.var(dim=0, unbiased=False).array, t.var(dim=0, unbiased=False).numpy(), rtol=1e-5)


# ---- second order --------------------------------------------------------------------------------
SECOND_ORDER = {
    "sum": (lambda a: (a * a).sum(1), [(3, 4)]),
    "sum_all": (lambda a: (a * a * a).sum(), [(3, 4)]),
    "mean": (lambda a: (a * a).mean((0, 2), keepdim=True), [(2, 3, 4)]),
    "var": (lambda a: a.var(1), [(3, 5)]),
    "var_all_correction0": (lambda a: a.var(correction=0), [(3, 4)]),
    "std": (lambda a: a.std(0), [(4, 3)]),
    "logsumexp": (lambda a: a.logsumexp(1), [(3, 4)]),
    "logsumexp_tuple": (lambda a: a.logsumexp((0, 2)), [(2, 3, 4)]),
    "norm2": (lambda a: a.norm(2, 1), [(3, 4)]),
    "norm3": (lambda a: a.norm(3), [(3, 4)]),
    "cumsum": (lambda a: (a.cumsum(1) ** 2), [(3, 4)]),
    "cumprod": (lambda a: a.cumprod(1), [(3, 4)]),
    "amax": (lambda a: a.amax(1) * a.sum(1), [(3, 4)]),
    "max_dim": (lambda a: a.max(0).values ** 2, [(3, 4)]),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, shapes = SECOND_ORDER[name]
    check_second_order(fn, shapes, domain="distinct" if "max" in name else "real")


@pytest.mark.parametrize("values", [[1.5, 2.0, 3.0, -0.5], [1.5, 0.0, 3.0, 2.0], [0.0, 2.0, 0.0, 1.0]],
                         ids=["no_zero", "one_zero", "two_zeros"])
def test_prod_second_order_matches_torch_also_with_zeros(values):
    results = []
    for lib in (gn, torch):
        x = lib.tensor(np.array(values).reshape(2, 2), requires_grad=True)
        grad = gn.autograd.grad if lib is gn else torch.autograd.grad
        (g,) = grad((x.prod(1) ** 2).sum() + x.prod(), [x], create_graph=True)
        (h,) = grad((g * g).sum(), [x])
        results.append((np.asarray(g.tolist()), np.asarray(h.tolist())))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, op", [
    (lambda x: x.sum(2), "sum"), (lambda x: x.mean(-3), "mean"), (lambda x: x.prod(5), "prod"),
    (lambda x: x.max(2), "max"), (lambda x: x.amin((0, 3)), "amin"), (lambda x: x.var(2), "var"),
    (lambda x: x.std(-3), "std"), (lambda x: x.logsumexp(2), "logsumexp"), (lambda x: x.norm(2, 4), "norm"),
    (lambda x: x.argmax(2), "argmax"), (lambda x: x.cumsum(-3), "cumsum"), (lambda x: gn.cumprod(x, 2), "cumprod"),
    (lambda x: gn.cummax(x, 2), "cummax"), (lambda x: gn.logcumsumexp(x, -3), "logcumsumexp"),
    (lambda x: gn.any(x, 2), "any"), (lambda x: gn.nansum(x, 3), "sum"),
])
def test_bad_dim_names_op_and_ndim(call, op):
    with pytest.raises(IndexError, match=rf"{op}: dimension .* out of range for a tensor of 2 dimensions"):
        call(gn.ones(2, 3))


def test_other_errors():
    x = gn.ones(2, 3)
    with pytest.raises(ValueError, match="sum: dim .* twice"):
        x.sum((1, -1))
    with pytest.raises(TypeError, match="prod: dim must be an int"):
        x.prod((0, 1))
    with pytest.raises(TypeError, match="max: dim must be an int"):
        x.max((0, 1))
    with pytest.raises(RuntimeError, match="max: .*empty"):
        gn.zeros(0, 3).max()
    with pytest.raises(IndexError, match="amax: expected reduction dim 0 to have non-zero size"):
        gn.zeros(0, 3).amax(0)
    with pytest.raises(IndexError, match="argmin: .*non-zero size"):
        gn.zeros(2, 0).argmin(1)
    with pytest.raises(ValueError, match="var: give either unbiased or correction"):
        x.var(0, unbiased=True, correction=0)
    with pytest.raises(TypeError, match="mean: expected a floating point tensor"):
        gn.tensor([1, 2]).mean()
    with pytest.raises(TypeError, match="logsumexp: dim is required"):
        gn.logsumexp(x, None)
    with pytest.raises(ValueError, match="norm: p='fro' takes at most 2 dims"):
        gn.ones(2, 2, 2).norm("fro", (0, 1, 2))
    with pytest.raises(ValueError, match="norm: p must be"):
        x.norm(-1)
    with pytest.raises(TypeError, match="norm: expected a floating point tensor"):
        gn.tensor([1, 2]).norm()


def test_cumprod_second_order_with_a_zero_matches_torch():
    check_second_order(lambda a: (a * torch_or_gn_mask(a)).cumprod(1), [(2, 4)])


def torch_or_gn_mask(a):
    lib = gn if isinstance(a, gn.Tensor) else torch
    return lib.tensor([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]], dtype=a.dtype)


def test_float16_mean_of_many_elements_is_not_zero():
    ones = gn.ones(70000, dtype=gn.float16)
    assert ones.mean().item() == 1.0 and ones.mean().dtype == gn.float16
    assert ones.var().item() == 0.0
    assert ones.sum().item() == float("inf")  # the float16 result itself overflows, as in PyTorch


def test_axis_and_dim_together_is_an_error():
    with pytest.raises(TypeError, match="sum: got both dim and its alias axis"):
        gn.sum(gn.ones(2, 3), dim=0, axis=1)


def test_cumulative_and_logical_jvp_match_torch_func():
    from glassnet.autograd.forward_ad import jvp

    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    x[1, 2] = 0.0
    for fname in ("cumsum", "cumprod", "logcumsumexp"):
        _, ours = jvp(lambda t: getattr(gn, fname)(t, 1), (gn.tensor(x),), (gn.tensor(v),))
        _, theirs = torch.func.jvp(lambda t: getattr(torch, fname)(t, 1), (torch.tensor(x),), (torch.tensor(v),))
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-10, atol=1e-12, err_msg=fname)
