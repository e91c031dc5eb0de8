"""Sorting and order statistics: parity with PyTorch (values, indices, gradients), NaN order, errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, both, run_case


def ints(shape, hi=4):
    return Const(lambda r: r.integers(0, hi, shape))


def nan_at(shape, share=0.3):
    return Const(lambda r: np.where(r.random(shape) < share, np.nan, 0.0))


CASES = [
    both("sort", lambda lib, a: lib.sort(a), [(3, 5)], domain="distinct"),
    both("sort_dim0_descending", lambda lib, a: lib.sort(a, 0, descending=True), [(4, 3)], domain="distinct"),
    Case("sort_method_keywords", lambda a: tuple(a.sort(dim=1, descending=True, stable=True)), [(2, 3, 4)],
         domain="distinct"),
    both("sort_stable_ties", lambda lib, c, a: lib.sort(c + a * 0, stable=True), [ints((3, 8), hi=3), (3, 8)]),
    both("sort_descending_stable_ties", lambda lib, c: lib.sort(c, descending=True, stable=True),
         [ints((2, 9), hi=3)], gradcheck=False),
    both("sort_nan_last_first", lambda lib, a, c: (*lib.sort(a + c, 1), *lib.sort(a + c, 1, descending=True)),
         [(3, 5), nan_at((3, 5))], domain="distinct", gradcheck=False),
    both("argsort", lambda lib, a: (lib.argsort(a), lib.argsort(a, 0, descending=True)), [(3, 4)],
         domain="distinct", gradcheck=False),
    both("msort", lambda lib, a: lib.msort(a), [(4, 3)], domain="distinct"),
    both("sort_0d", lambda lib, a: lib.sort(a), [()]),
    both("topk", lambda lib, a: lib.topk(a, 2), [(3, 5)], domain="distinct"),
    both("topk_smallest_dim0", lambda lib, a: lib.topk(a, 3, dim=0, largest=False), [(4, 2)], domain="distinct"),
    Case("topk_method", lambda a: tuple(a.topk(1, 1)), [(3, 4)], domain="distinct"),
    both("kthvalue", lambda lib, a: lib.kthvalue(a, 2, 1), [(3, 5)], domain="distinct"),
    both("kthvalue_keepdim", lambda lib, a: lib.kthvalue(a, 3, 0, keepdim=True), [(4, 2)], domain="distinct"),
    both("median_all", lambda lib, a: lib.median(a), [(3, 5)], domain="distinct"),
    both("median_all_ties", lambda lib, c, a: lib.median(c + a * 0), [ints((3, 4), hi=3), (3, 4)]),
    both("median_dim", lambda lib, a: lib.median(a, 1), [(3, 4)], domain="distinct"),
    both("median_dim_keepdim_odd", lambda lib, a: lib.median(a, 0, keepdim=True), [(5, 2)], domain="distinct"),
    both("median_nan", lambda lib, a, c: (*lib.median(a + c, 1), lib.median(a + c)), [(4, 5), nan_at((4, 5))],
         domain="distinct", gradcheck=False),
    both("nanmedian", lambda lib, a, c: (*lib.nanmedian(a + c, 1), lib.nanmedian(a + c)), [(4, 5), nan_at((4, 5))],
         domain="distinct"),
    both("quantile_scalar", lambda lib, a: lib.quantile(a, 0.3), [(3, 5)]),
    both("quantile_dim", lambda lib, a: lib.quantile(a, 0.75, dim=1), [(3, 5)]),
    both("quantile_levels_keepdim", lambda lib, a, q: lib.quantile(a, q, dim=0, keepdim=True), [
        (5, 3), Const(lambda r: np.array([0.1, 0.5, 1.0]))]),
    *(both(f"quantile_{mode}", lambda lib, a, m=mode: lib.quantile(a, 0.4, 1, interpolation=m), [(3, 6)])
      for mode in ("lower", "higher", "midpoint", "nearest")),
    both("quantile_nan", lambda lib, a, c: lib.quantile(a + c, 0.5, 1), [(4, 5), nan_at((4, 5))], gradcheck=False),
    both("quantile_nan_levels", lambda lib, a, c, q: lib.quantile(a + c, q, 0), [(6, 3), nan_at((6, 3), 0.15),
         Const(lambda r: np.array([0.2, 0.9]))], gradcheck=False),
    both("nanquantile", lambda lib, a, c: lib.nanquantile(a + c, 0.3, 1), [(4, 5), nan_at((4, 5))]),
    both("unique", lambda lib, c: lib.unique(c, return_inverse=True, return_counts=True), [ints((3, 5))],
         gradcheck=False),
    both("unique_plain_float", lambda lib, c: lib.unique(c * 0.5), [Const(lambda r: r.integers(0, 4, (6,))
                                                                          .astype(np.float32))], gradcheck=False),
    both("unique_dim", lambda lib, c: lib.unique(c, dim=0, return_inverse=True, return_counts=True),
         [ints((6, 2), hi=2)], gradcheck=False),
    both("unique_consecutive", lambda lib, c: lib.unique_consecutive(c, return_inverse=True, return_counts=True),
         [ints((10,), hi=2)], gradcheck=False),
    both("unique_consecutive_dim", lambda lib, c: lib.unique_consecutive(c, return_counts=True, dim=1),
         [ints((2, 8), hi=2)], gradcheck=False),
    both("searchsorted", lambda lib, s, v: (lib.searchsorted(s, v), lib.searchsorted(s, v, right=True),
                                            lib.searchsorted(s, v, side="right")), [
        Const(lambda r: np.array([0.0, 1.0, 1.0, 2.5])), Const(lambda r: np.array([[1.0, -1.0, 3.0], [2.0, 1.5, 0]]))],
        gradcheck=False),
    both("searchsorted_batched", lambda lib, s, v: lib.searchsorted(s, v), [
        Const(lambda r: np.sort(r.integers(0, 5, (2, 4)), 1)), ints((2, 3), hi=6)], gradcheck=False),
    both("bucketize", lambda lib, v, b: (lib.bucketize(v, b), lib.bucketize(v, b, right=True)), [
        ints((3, 4), hi=6), Const(lambda r: np.array([1, 3, 3, 5]))], gradcheck=False),
    both("axis_alias", lambda lib, a: (*lib.sort(a, axis=0), *lib.median(a, axis=1), *lib.topk(a, 2, axis=0)),
         [(3, 4)], domain="distinct"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_sort_backward_is_differentiable_again():
    x = gn.tensor([3.0, 1.0, 2.0], dtype=gn.float64, requires_grad=True)
    (g,) = gn.autograd.grad((x.sort().values ** 3 * gn.tensor([1.0, 2.0, 3.0], dtype=gn.float64)).sum(), [x],
                            create_graph=True)
    (h,) = gn.autograd.grad(g.sum(), [x])
    t = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad((t.sort().values ** 3 * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum(),
                                [t], create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), [t])
    np.testing.assert_allclose(h.array, th.numpy())


def test_median_jvp_matches_torch_func():
    from glassnet.autograd.forward_ad import jvp

    x, v = np.array([3.0, 1.0, 2.0, 2.0]), np.array([0.5, -1.0, 2.0, 4.0])
    _, ours = jvp(gn.median, (gn.tensor(x),), (gn.tensor(v),))
    _, theirs = torch.func.jvp(torch.median, (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy())


def test_sorting_errors():
    x = gn.ones(2, 3)
    with pytest.raises(IndexError, match="topk: selected index k=4 is out of range for a dimension of size 3"):
        gn.topk(x, 4)
    with pytest.raises(IndexError, match="kthvalue: selected index k=0"):
        gn.kthvalue(x, 0)
    with pytest.raises(TypeError, match="topk: k must be an int"):
        gn.topk(x, 1.5)
    with pytest.raises(IndexError, match="sort: dimension 2 is out of range"):
        gn.sort(x, 2)
    with pytest.raises(ValueError, match=r"quantile: q must be in the range \[0, 1\], got 1.5"):
        gn.quantile(x, 1.5)
    with pytest.raises(ValueError, match="quantile: interpolation must be one of"):
        gn.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(TypeError, match="quantile: expected a floating point input"):
        gn.quantile(gn.tensor([1, 2]), 0.5)
    with pytest.raises(IndexError, match="median: cannot compute the median of an empty tensor"):
        gn.median(gn.zeros(0))
    with pytest.raises(ValueError, match="searchsorted: side must be 'left' or 'right'"):
        gn.searchsorted(gn.tensor([1.0]), gn.tensor([1.0]), side="middle")
    with pytest.raises(ValueError, match="bucketize: boundaries must be 1-D"):
        gn.bucketize(gn.tensor([1.0]), gn.ones(2, 2))
