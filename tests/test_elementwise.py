import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, both, run_case

CASES = [
    Case("exp", lambda x: x.exp(), [(3, 4)]),
    Case("log", lambda x: x.log(), [(3, 4)], domain="positive"),
    Case("log1p", lambda x: x.log1p(), [(5,)], domain="positive"),
    Case("sqrt", lambda x: x.sqrt(), [(2, 3)], domain="positive"),
    Case("rsqrt", lambda x: x.rsqrt(), [(2, 3)], domain="positive"),
    Case("abs", lambda x: x.abs(), [(4, 3)], domain="nonzero"),
    Case("sign", lambda x: x.sign() * x, [(4,)], domain="nonzero"),
    Case("sin", lambda x: x.sin(), [(3, 2)]),
    Case("cos", lambda x: x.cos(), [(3, 2)]),
    Case("clamp_both", lambda x: x.clamp(-0.5, 0.5), [(4, 5)], domain="distinct"),
    Case("clamp_min", lambda x: x.clamp(min=0.2), [(4, 5)], domain="distinct"),
    Case("clamp_max_functional", lambda x: gn.clamp(x, max=0.1), [(6,)], torch_fn=lambda x: torch.clamp(x, max=0.1),
         domain="distinct"),
    Case("maximum", lambda a, b: a.maximum(b), [(3, 4), (4,)], domain="distinct"),
    Case("minimum", lambda a, b: a.minimum(b), [(3, 1), (1, 4)], domain="distinct"),
    Case("maximum_ties", lambda a, b: a.maximum(b), [Const(lambda r: np.array([1.0, 2.0, 3.0])), (3,)],
         torch_fn=lambda a, b: torch.maximum(a.float(), b)),
    Case("where", lambda c, a, b: gn.where(c, a, b), [Const(lambda r: r.random((3, 4)) > 0.5), (3, 4), (4,)],
         torch_fn=lambda c, a, b: torch.where(c, a, b)),
    Case("where_method", lambda c, a, b: a.where(c, b), [Const(lambda r: r.random((2, 1)) > 0.5), (2, 3), (1, 3)]),
    Case("empty", lambda x: x.exp() + x.sin(), [(0, 3)]),
]


def unary(fname, domain="real", shape=(3, 4), **kw):
    return both(fname, lambda lib, x: getattr(lib, fname)(x), [shape], domain=domain, **kw)


def _acosh_arg(lib, x):
    return lib.acosh(x + 1)  # x + 1 >= 1.5


CASES += [
    unary("erf"), unary("erfc"), unary("erfinv", "unit"),
    both("erf_gelu", lambda lib, x: 0.5 * x * (1.0 + lib.erf(x / 2 ** 0.5)), [(3, 4)]),
    both("clamp_min_max", lambda lib, x: lib.clamp_min(x, -0.3) + x.clamp_max(0.4), [(4, 5)], domain="distinct"),
    both("tile", lambda lib, x: (lib.tile(x, (2,)), x.tile(1, 2, 1)), [(2, 3)]),
    unary("tan", "unit"), unary("asin", "unit"), unary("acos", "unit"), unary("atan"), unary("sinh"),
    unary("cosh"), unary("asinh"), unary("atanh", "unit"), unary("exp2"), unary("expm1"),
    unary("log2", "positive"), unary("log10", "positive"), unary("reciprocal", "nonzero"), unary("square"),
    both("acosh", _acosh_arg, [(5,)], domain="positive"),
    both("arcsin_alias", lambda lib, x: lib.arcsin(x) + lib.arctan(x), [(4,)], domain="unit"),
    # piecewise constant: zero gradient, but part of the graph (so x * floor(x) differentiates as floor(x))
    both("floor", lambda lib, x: x * lib.floor(x * 3), [(3, 4)]),
    both("ceil", lambda lib, x: x * lib.ceil(x * 3), [(3, 4)]),
    both("trunc", lambda lib, x: x * lib.trunc(x * 3), [(3, 4)]),
    both("round", lambda lib, x: x * lib.round(x * 3), [(3, 4)]),
    both("round_decimals", lambda lib, x: x * lib.round(x, decimals=1), [(3, 4)]),
    both("round_negative_decimals", lambda lib, x: lib.round(x * 300, decimals=-2) + x, [(6,)]),
    both("frac", lambda lib, x: lib.frac(x * 3), [(3, 4)]),
    both("sign_backward", lambda lib, x: lib.sign(x) * x * x, [(5,)], domain="nonzero"),
    both("copysign", lambda lib, a, b: lib.copysign(a, b), [(3, 4), (4,)], domain="nonzero"),
    both("copysign_scalar", lambda lib, a: lib.copysign(a, -1.0), [(5,)], domain="nonzero"),
    both("atan2", lambda lib, a, b: lib.atan2(a, b), [(3, 4), (3, 1)], domain="nonzero"),
    both("hypot", lambda lib, a, b: lib.hypot(a, b), [(3, 4), (4,)], domain="nonzero"),
    both("logaddexp", lambda lib, a, b: lib.logaddexp(a, b * 50), [(3, 4), (3, 4)]),
    both("lerp_scalar", lambda lib, a, b: lib.lerp(a, b, 0.3), [(3, 4), (3, 4)]),
    both("lerp_tensor", lambda lib, a, b, w: lib.lerp(a, b, w), [(3, 4), (4,), (3, 1)]),
    both("nan_to_num", lambda lib, x, c: lib.nan_to_num(x + c, posinf=2.0, neginf=-3.0), [
        (2, 4), Const(lambda r: np.array([[0, np.nan, np.inf, 0], [-np.inf, 0, 0, np.nan]]))]),
    both("clamp_tensor_bounds", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [(3, 4), (4,), (3, 1)],
         domain="distinct"),
    both("clamp_tensor_min", lambda lib, x, lo: lib.clamp(x, min=lo), [(3, 4), (3, 4)], domain="distinct"),
    both("clamp_tensor_max", lambda lib, x, hi: lib.clamp(x, max=hi), [(6,), (6,)], domain="distinct"),
    both("fmax", lambda lib, a, b, c: lib.fmax(a + c, b), [(2, 3), (2, 3), Const(lambda r: np.array(
        [[0, np.nan, 0], [np.nan, 0, 0]]))], domain="distinct"),
    both("fmin", lambda lib, a, b: lib.fmin(a, b), [(3, 4), (4,)], domain="distinct"),
    both("where_scalar_other", lambda lib, c, x: lib.where(c, x, 0.0), [Const(lambda r: r.random((3, 4)) > 0.5),
         (3, 4)]),
    both("exp_of_int", lambda lib, n: lib.exp(n) + lib.sin(n) + lib.log2(n + 1),
         [Const(lambda r: r.integers(0, 5, (4,)))],
         gradcheck=False),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_maximum_splits_gradient_at_ties_like_torch():
    for lib in (gn, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([1.0, 3.0], requires_grad=True)
        a.maximum(b).sum().backward()
        assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_match_torch(op):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, (2, 5)).astype(np.float32), rng.integers(0, 3, (5,)).astype(np.float32)
    ours = getattr(gn.tensor(a), op)(gn.tensor(b))
    theirs = getattr(torch.tensor(a), op)(torch.tensor(b))
    assert ours.dtype == gn.bool and not ours.requires_grad
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    np.testing.assert_array_equal(getattr(gn.tensor(a), op)(1.0).array, getattr(torch.tensor(a), op)(1.0).numpy())


def test_where_requires_bool_condition():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        gn.where(gn.ones(2), gn.ones(2), gn.zeros(2))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        gn.zeros(2).clamp()


# ---- pow, sign, rounding, where with numbers, bool maximum ------------------------------------------------
@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0, 0.5, -1.0, 3])
def test_pow_gradient_at_zero_matches_torch(exponent):
    values = [0.0, 1.5, 2.0]
    grads = []
    for lib in (gn, torch):
        x = lib.tensor(values, requires_grad=True)
        (x ** exponent).sum().backward()
        grads.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(grads[0], grads[1])
    if exponent in (0.0, 1.0, 2.0):
        assert np.isfinite(grads[0]).all()


def test_pow_exponent_gradient_at_zero_base_matches_torch():
    grads = []
    for lib in (gn, torch):
        a = lib.tensor([0.0, 0.0, 2.0, 0.0], requires_grad=True)
        b = lib.tensor([2.0, 0.0, 0.5, -1.0], requires_grad=True)
        (a ** b).sum().backward()
        grads.append((np.asarray(a.grad.tolist()), np.asarray(b.grad.tolist())))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("base_dtype, exponent_dtype", [("int64", "int64"), ("int8", "int8"), ("uint8", "int64"),
                                                        ("int32", "int16")])
def test_integer_to_negative_integer_powers_match_torch(base_dtype, exponent_dtype):
    base = np.array([-3, -2, -1, 0, 1, 2, 3, -1, 1, 5]).astype(base_dtype)
    exponent = np.array([-1, -2, -3, -1, -2, -1, 2, -4, 0, 3]).astype(exponent_dtype)
    results = [lib.tensor(base) ** lib.tensor(exponent) for lib in (gn, torch)]
    assert results[0].numpy().dtype == results[1].numpy().dtype
    np.testing.assert_array_equal(results[0].numpy(), results[1].numpy())
    np.testing.assert_array_equal((2 ** gn.tensor([-1, 0, 3])).numpy(), (2 ** torch.tensor([-1, 0, 3])).numpy())
    for base, exponent in ((2, -1), (-1, -3), (-1, -2)):  # 0-d tensors
        assert (gn.tensor(base) ** gn.tensor(exponent)).item() == (torch.tensor(base) ** torch.tensor(exponent)).item()


def test_integer_tensor_to_a_negative_python_int_is_refused_as_in_torch():
    with pytest.raises(RuntimeError):
        torch.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match="integer tensor \\(int64\\) to the negative integer power -1"):
        gn.tensor([2, 3]) ** -1
    assert (gn.tensor([2.0]) ** -1).item() == 0.5


def test_zero_gradient_functions_are_in_the_graph():
    x = gn.tensor([0.5, -1.5], requires_grad=True)
    for fn in (gn.floor, gn.ceil, gn.round, gn.trunc, gn.sign):
        y = fn(x)
        assert y.grad_fn is not None
        (g,) = gn.autograd.grad(y.sum(), [x])
        assert g.tolist() == [0.0, 0.0]


def test_rounding_integers_and_bools_keeps_dtype_like_torch():
    for fn in ("floor", "ceil", "round", "trunc", "sign", "abs"):
        for values, dtype in (([-2, 0, 3], gn.int64), ([True, False], gn.bool)):
            if fn != "sign" and dtype == gn.bool:  # PyTorch has these for integers only
                continue
            ours = getattr(gn, fn)(gn.tensor(values, dtype=dtype))
            theirs = getattr(torch, fn)(torch.tensor(values))
            assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype).split(".")[1], fn


def test_round_half_to_even_like_torch():
    values = [0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 1.35]
    np.testing.assert_array_equal(gn.round(gn.tensor(values)).array, torch.round(torch.tensor(values)).numpy())
    np.testing.assert_allclose(gn.round(gn.tensor(values), decimals=1).array,
                               torch.round(torch.tensor(values), decimals=1).numpy())


@pytest.mark.parametrize("a, b", [(1, 0), (1.0, 0), (True, False), (2, 3.5)])
def test_where_with_two_numbers_follows_torch_dtypes(a, b):
    cond = [True, False, True]
    ours = gn.where(gn.tensor(cond), a, b)
    theirs = torch.where(torch.tensor(cond), a, b)
    assert ours.tolist() == theirs.tolist()
    assert str(ours.dtype) == str(theirs.dtype).split(".")[1]


def test_where_with_only_a_condition_is_nonzero_as_tuple():
    ours = gn.where(gn.tensor([[True, False], [False, True]]))
    theirs = torch.where(torch.tensor([[True, False], [False, True]]))
    assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum_keep_bool_and_int_dtypes(fn):
    for a, b in (([True, False], [False, False]), ([1, 5], [3, 2])):
        ours = getattr(gn, fn)(gn.tensor(a), gn.tensor(b))
        theirs = getattr(torch, fn)(torch.tensor(a), torch.tensor(b))
        assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype).split(".")[1]


def test_clamp_tensor_bounds_route_gradient_like_torch():
    values = ([0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0],
              [0.0, 0.0, 0.5, 2.5, 1.0, 1.0, 1.0])
    grads = []
    for lib in (gn, torch):
        x, lo, hi = (lib.tensor(v, requires_grad=True) for v in values)
        lib.clamp(x, lo, hi).sum().backward()
        grads.append([np.asarray(t.grad.tolist()) for t in (x, lo, hi)])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


def test_elementwise_errors():
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        gn.round(gn.ones(2), decimals=1.5)
    with pytest.raises(TypeError, match="frac: expected a floating point tensor"):
        gn.frac(gn.tensor([1, 2]))
    with pytest.raises(ValueError, match="copysign: shapes"):
        gn.copysign(gn.ones(2), gn.ones(3))
    with pytest.raises(ValueError, match="clamp: shapes"):
        gn.clamp(gn.ones(2), gn.zeros(3))
    with pytest.raises(TypeError, match="where: give both input and other"):
        gn.where(gn.tensor([True]), 1.0)


def test_elementwise_jvp_matches_torch_func():
    from glassnet.autograd.forward_ad import jvp

    x = np.random.default_rng(0).uniform(-0.9, 0.9, 5)
    v = np.random.default_rng(1).standard_normal(5)
    for fname in ("tan", "asin", "atanh", "sinh", "expm1", "log1p", "floor", "reciprocal"):
        _, ours = jvp(getattr(gn, fname), (gn.tensor(x),), (gn.tensor(v),))
        _, theirs = torch.func.jvp(getattr(torch, fname), (torch.tensor(x),), (torch.tensor(v),))
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-10, err_msg=fname)
