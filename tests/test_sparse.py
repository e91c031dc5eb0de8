"""Sparse COO matrices: sparse.mm and to_dense against PyTorch (values and gradients, to the dense operand
and to the values), the multi-head product and the segment softmax by float64 gradcheck and a dense
reference, duplicates, empty rows, errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.ops.sparse import Pattern, segment_softmax, sparse_dense_matmul
from parity import Case, Const, run_case


def _unique_indices(n, m, nnz):
    """(2, nnz) distinct positions of an (n, m) matrix (torch's mm gradient is coalesced)."""
    def make(rng):
        flat = rng.choice(n * m, size=nnz, replace=False)
        return np.stack([flat // m, flat % m])

    return Const(make)


def _with_duplicates(n, m, nnz):
    def make(rng):
        idx = np.stack([rng.integers(0, n, nnz), rng.integers(0, m, nnz)])
        idx[:, 1] = idx[:, 0]  # at least one repeated position
        return idx

    return Const(make)


def _mm(lib, size):
    return lambda idx, v, x: lib.sparse.mm(lib.sparse_coo_tensor(idx, v, size, check_invariants=True), x)


def _dense(lib, size):
    return lambda idx, v: lib.sparse_coo_tensor(idx, v, size, check_invariants=True).to_dense()


CASES = [
    Case("sparse_mm", _mm(gn, (5, 4)), [_unique_indices(5, 4, 9), (9,), (4, 3)], torch_fn=_mm(torch, (5, 4))),
    Case("sparse_mm_empty_rows", _mm(gn, (6, 3)), [Const(lambda rng: np.array([[0, 0, 5], [2, 1, 0]])), (3,), (3, 2)],
         torch_fn=_mm(torch, (6, 3))),
    Case("sparse_mm_wide", _mm(gn, (3, 7)), [_unique_indices(3, 7, 12), (12,), (7, 5)], torch_fn=_mm(torch, (3, 7))),
    Case("sparse_to_dense_duplicates", _dense(gn, (4, 4)), [_with_duplicates(4, 4, 10), (10,)],
         torch_fn=_dense(torch, (4, 4))),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_duplicates_add_up_in_the_product_and_its_gradients():
    idx = np.array([[0, 0, 1], [1, 1, 0]])
    v = gn.tensor([2.0, 3.0, 1.0], dtype=gn.float64, requires_grad=True)
    x = gn.tensor([[1.0, 2.0], [10.0, 20.0]], dtype=gn.float64, requires_grad=True)
    y = gn.sparse.mm(gn.sparse_coo_tensor(idx, v, (2, 2)), x)
    np.testing.assert_allclose(y.array, [[50.0, 100.0], [1.0, 2.0]])
    y.sum().backward()
    np.testing.assert_allclose(v.grad.array, [30.0, 30.0, 3.0])
    np.testing.assert_allclose(x.grad.array, [[1.0, 1.0], [5.0, 5.0]])


def _random_pattern(rng, n, m, nnz):
    return Pattern(rng.integers(0, n, nnz), rng.integers(0, m, nnz), (n, m))


def test_multi_head_product_gradcheck_and_reference():
    rng = np.random.default_rng(0)
    p = _random_pattern(rng, 5, 6, 14)
    v = gn.tensor(rng.standard_normal((14, 3)), requires_grad=True)
    x = gn.tensor(rng.standard_normal((6, 3, 2)), requires_grad=True)
    gn.autograd.gradcheck(lambda v, x: sparse_dense_matmul(p, v, x), [v, x])
    expected = np.zeros((5, 3, 2))
    for k in range(14):
        expected[p.rows[k]] += v.array[k][:, None] * x.array[p.cols[k]]
    np.testing.assert_allclose(sparse_dense_matmul(p, v, x).array, expected, atol=1e-12)


def test_product_second_order_gradient_matches_torch():
    rng = np.random.default_rng(1)
    flat = rng.choice(16, 7, replace=False)
    idx, v0, x0 = np.stack([flat // 4, flat % 4]), rng.standard_normal(7), rng.standard_normal((4, 2))
    v, x = gn.tensor(v0, requires_grad=True), gn.tensor(x0, requires_grad=True)
    (gx,) = gn.autograd.grad((gn.sparse.mm(gn.sparse_coo_tensor(idx, v, (4, 4)), x) ** 2).sum(), [x],
                             create_graph=True)
    (gx ** 2).sum().backward()
    vt, xt = torch.tensor(v0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    sparse = torch.sparse_coo_tensor(idx, vt, (4, 4), check_invariants=True)
    (gxt,) = torch.autograd.grad((torch.sparse.mm(sparse, xt) ** 2).sum(), [xt],
                                 create_graph=True)
    (gxt ** 2).sum().backward()
    np.testing.assert_allclose(v.grad.array, vt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-10)


def test_segment_softmax_matches_a_dense_masked_softmax():
    rng = np.random.default_rng(2)
    n, m, heads = 5, 6, 2
    flat = rng.choice(n * m, 16, replace=False)
    p = Pattern(flat // m, flat % m, (n, m))
    s = rng.standard_normal((16, heads)) * 3
    got = segment_softmax(gn.tensor(s, requires_grad=True), p).array
    dense = torch.full((heads, n, m), float("-inf"), dtype=torch.float64)
    dense[:, p.rows, p.cols] = torch.tensor(s.T)
    ref = torch.softmax(dense, dim=-1).nan_to_num()[:, p.rows, p.cols].T
    np.testing.assert_allclose(got, ref.numpy(), atol=1e-12)
    sums = np.zeros((n, heads))
    np.add.at(sums, p.rows, got)
    np.testing.assert_allclose(sums[np.unique(p.rows)], 1.0)


def test_segment_softmax_gradcheck_and_large_scores():
    rng = np.random.default_rng(3)
    p = _random_pattern(rng, 4, 5, 12)
    s = gn.tensor(rng.standard_normal((12, 3)), requires_grad=True)
    gn.autograd.gradcheck(lambda s: segment_softmax(s, p), [s])
    big = segment_softmax(gn.tensor(np.full((12, 1), 1e4, np.float32)), p).array
    assert np.isfinite(big).all()


def test_sparse_tensor_api():
    a = gn.sparse_coo_tensor([[0, 2], [1, 0]], [1.5, -2.0])
    assert a.shape == (3, 2) and a.size(0) == 3 and a._nnz() == 2 and a.is_sparse and a.dtype == np.float32
    np.testing.assert_array_equal(a.indices().array, [[0, 2], [1, 0]])
    np.testing.assert_allclose(a.t().to_dense().array, a.to_dense().array.T)
    x = gn.randn(2, 4)
    np.testing.assert_allclose((a @ x).array, a.to_dense().array @ x.array, rtol=1e-6)
    leaf = gn.sparse_coo_tensor([[0], [0]], [1.0], (1, 1), requires_grad=True)
    (leaf @ gn.ones(1, 1)).sum().backward()
    np.testing.assert_allclose(leaf.values().grad.array, [1.0])


@pytest.mark.parametrize("make, match", [
    (lambda: gn.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2, 2)), r"shape \(2, nnz\)"),
    (lambda: gn.sparse_coo_tensor([[0, 3], [0, 0]], [1.0, 2.0], (2, 2)), "index 3 .* out of range"),
    (lambda: gn.sparse_coo_tensor([[0, -1], [0, 0]], [1.0, 2.0], (2, 2)), "index -1"),
    (lambda: gn.sparse_coo_tensor([[0, 1], [0, 0]], [1.0], (2, 2)), r"values must have shape \(nnz,\)"),
    (lambda: gn.sparse_coo_tensor([[0.5], [0.0]], [1.0], (2, 2)), "indices must be integers"),
    (lambda: gn.sparse_coo_tensor([[0], [0]], [1], (2, 2)), "floating point"),
    (lambda: gn.sparse_coo_tensor([[0], [0]], [1.0], (2, 2, 2)), "2-D sparse"),
    (lambda: gn.sparse.mm(gn.sparse_coo_tensor([[0], [0]], [1.0], (2, 3)), gn.ones(2, 2)), r"\(2, 3\) and \(2, 2\)"),
    (lambda: gn.sparse.mm(gn.ones(2, 2), gn.ones(2, 2)), "must be a sparse tensor"),
    (lambda: gn.sparse.mm(gn.sparse_coo_tensor([[0], [0]], [1.0], (2, 2)), gn.ones(2)), "2-D Tensor"),
    (lambda: gn.sparse.mm(gn.sparse_coo_tensor([[0], [0]], [1.0], (2, 2)), gn.ones(2, 2, dtype=gn.float64)),
     "same floating dtype"),
])
def test_bad_input(make, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        make()
