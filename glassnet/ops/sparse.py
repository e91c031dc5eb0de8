"""Sparse matrices in coordinate (COO) form, the sparse-times-dense product and the segment softmax.

A sparse matrix A (n, m) is a list of nnz entries (r_k, c_k, a_k): row, column, value. Duplicate
(r, c) pairs are allowed and add up, as in PyTorch's uncoalesced COO tensors. Graph networks use
one: with an edge j -> i stored as the entry (i, j), the product A X sums each node's neighbours'
features, which is one message-passing step.

    A = gn.sparse_coo_tensor(indices, values, (n, m))   # indices (2, nnz) int, values (nnz,)
    Y = gn.sparse.mm(A, X)                              # (n, m) @ (m, f) -> (n, f); also A @ X
    A.to_dense()                                        # (n, m)

The index structure lives in a `Pattern`, which sorts the entries by row once and keeps the order,
so a product is one gather, one multiply and one `np.add.reduceat` over runs of equal rows.
Gradients flow to the dense operand and to the values (never to the indices).
"""
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor, to_array
from .indexing import index_select

__all__ = ["SparseTensor", "sparse_coo_tensor", "sparse_mm", "sparse_dense_matmul", "segment_softmax", "Pattern"]


class Pattern:
    """The positions of a sparse matrix's entries: rows (nnz,), cols (nnz,) int64 and its shape (n, m).

    `order` sorts the entries by row (stable), `starts` are where each run of equal rows begins in
    that order and `segment_ids` the row of each run: the layout `np.add.reduceat` wants. `T` is the
    transposed pattern (rows and columns swapped, the same entry numbering), built once.
    """

    def __init__(self, rows, cols, shape):
        self.rows = np.ascontiguousarray(rows, dtype=np.int64)
        self.cols = np.ascontiguousarray(cols, dtype=np.int64)
        self.shape = (int(shape[0]), int(shape[1]))
        self.nnz = self.rows.size
        self.order = np.argsort(self.rows, kind="stable")
        sorted_rows = self.rows[self.order]
        first = np.ones(self.nnz, bool)
        first[1:] = sorted_rows[1:] != sorted_rows[:-1]
        self.starts = np.flatnonzero(first)
        self.segment_ids = sorted_rows[self.starts]
        self._transpose = None

    @property
    def T(self):
        if self._transpose is None:
            self._transpose = Pattern(self.cols, self.rows, self.shape[::-1])
            self._transpose._transpose = self
        return self._transpose

    def segment_sum(self, per_entry):
        """out[i] = sum of per_entry[k] over the entries k of row i: (nnz, *rest) -> (n, *rest)."""
        out = np.zeros((self.shape[0],) + per_entry.shape[1:], per_entry.dtype)
        if self.nnz:
            out[self.segment_ids] = np.add.reduceat(per_entry[self.order], self.starts, axis=0)
        return out

    def segment_max(self, per_entry):
        """out[i] = max of per_entry[k] over the entries of row i (rows without entries: 0)."""
        out = np.zeros((self.shape[0],) + per_entry.shape[1:], per_entry.dtype)
        if self.nnz:
            out[self.segment_ids] = np.maximum.reduceat(per_entry[self.order], self.starts, axis=0)
        return out

    def matmul(self, values, dense):
        """Y[i] = sum_{k: r_k = i} a_k X[c_k], for values (nnz, *B) and dense (m, *B, f) -> (n, *B, f)."""
        messages = dense[self.cols]  # (nnz, *B, f)
        messages *= values[..., None]
        return self.segment_sum(messages)


class SparseDenseMatmul(Function):
    """Y = A X  for A (n, m) sparse with entries (r_k, c_k, a_k), X (m, *B, f) -> Y (n, *B, f).

    The values a have shape (nnz, *B): one number per entry, or one per entry and head (*B = (H,),
    as a multi-head graph attention layer uses: each head has its own matrix on the same pattern).

    Forward:   Y[i] = sum_{k: r_k = i} a_k X[c_k]
    Backward:  dX[j] = sum_{k: c_k = j} a_k dY[r_k]        i.e. dX = A^T dY, the same product on the
                                                           transposed pattern      (m, *B, f)
               da_k = sum_f dY[r_k, ..., f] X[c_k, ..., f]  one dot product per entry  (nnz, *B)
    Both are written with glassnet ops (this product and index_select), so higher-order gradients
    work. The indices get no gradient.
    """

    saves_inputs = "cross"

    def forward(self, values, dense, pattern):
        self.pattern = pattern
        return pattern.matmul(values, dense)

    def backward(self, dy):
        values, dense = self.inputs
        p = self.pattern
        d_dense = SparseDenseMatmul.apply(values, dy, pattern=p.T) if self.needs_input_grad[1] else None
        d_values = None
        if self.needs_input_grad[0]:
            rows, cols = Tensor._make(p.rows), Tensor._make(p.cols)
            d_values = (index_select(dy, 0, rows) * index_select(dense, 0, cols)).sum(-1)
        return d_values, d_dense

    def jvp(self, dvalues, ddense):
        """Forward mode (bilinear): dY = dA X + A dX, the same product with the tangent in either place."""
        values, dense = (t.array for t in self.inputs)
        p = self.pattern
        return ((0 if dvalues is None else p.matmul(dvalues, dense))
                + (0 if ddense is None else p.matmul(values, ddense)))


class SegmentSoftmax(Function):
    """Softmax of per-entry scores within each row of a pattern (a graph: over each node's incoming edges).

    scores s (nnz, *H) -> y (nnz, *H), with g(k) = r_k the row (segment) of entry k:
      Forward:   y_k = exp(s_k - M_g) / sum_{k': g(k') = g(k)} exp(s_k' - M_g),   M_g = max of s over segment g
                 (subtracting the segment's maximum changes nothing mathematically and keeps exp finite)
      Backward:  ds_k = y_k (dy_k - sum_{k': g(k') = g(k)} y_k' dy_k')
    the softmax's own Jacobian, applied segment by segment: raw NumPy, or under create_graph the same
    formula as Tensor operations on the recorded output y (index_add for the segment sums).
      Forward mode: dy_k = y_k (ds_k - sum_{k': g(k') = g(k)} y_k' ds_k')    (the same Jacobian, symmetric)
    """

    saves_inputs = False

    def forward(self, scores, pattern):
        self.pattern = pattern
        shifted = scores - pattern.segment_max(scores)[pattern.rows]
        e = np.exp(shifted)
        return e / pattern.segment_sum(e)[pattern.rows]

    def backward(self, dy):
        if grad_mode.is_grad_enabled():
            return (self._graph_backward(dy),)
        return (Tensor._make(self._jacobian_times(self.output(0).array, dy.array)),)

    def _jacobian_times(self, y, v):
        """y * (v - segment_sum(y * v) per entry): the softmax Jacobian (symmetric) applied to v."""
        p = self.pattern
        weighted = y * v
        return weighted - y * p.segment_sum(weighted)[p.rows]

    def _graph_backward(self, dy):
        y = self.output(0)
        p = self.pattern
        rows = Tensor._make(p.rows)
        weighted = y * dy
        sums = Tensor._make(np.zeros((p.shape[0],) + tuple(y.shape[1:]), y.dtype)).index_add(0, rows, weighted)
        return weighted - y * index_select(sums, 0, rows)

    def jvp(self, ds):
        """Forward mode: dy = y * (ds - segment_sum(y * ds) per entry)."""
        return self._jacobian_times(self._outputs[0], ds)


def segment_softmax(scores, pattern):
    """Softmax of `scores` (nnz, *H) over the entries of each row of `pattern` (a `Pattern`)."""
    if not isinstance(scores, Tensor) or scores.dtype.kind != "f":
        raise TypeError(f"segment_softmax: scores must be a floating point Tensor, got "
                        f"{getattr(scores, 'dtype', type(scores).__name__)}")
    if scores.ndim == 0 or scores.shape[0] != pattern.nnz:
        raise ValueError(f"segment_softmax: scores of shape {tuple(scores.shape)} must have one row per entry "
                         f"of the pattern ({pattern.nnz} entries)")
    return SegmentSoftmax.apply(scores, pattern=pattern)


def sparse_dense_matmul(pattern, values, dense):
    """Y = A X for the sparse A given by `pattern` and `values` (nnz, *B), and `dense` (m, *B, f)."""
    op = "sparse_dense_matmul"
    for name, t in (("values", values), ("dense", dense)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if values.dtype != dense.dtype or values.dtype.kind != "f":
        raise TypeError(f"{op}: values and dense must have the same floating dtype, got {values.dtype} and "
                        f"{dense.dtype}")
    n, m = pattern.shape
    if values.ndim == 0 or values.shape[0] != pattern.nnz:
        raise ValueError(f"{op}: values of shape {tuple(values.shape)} must have {pattern.nnz} rows, one per entry")
    if dense.ndim != values.ndim + 1 or dense.shape[0] != m or dense.shape[1:-1] != values.shape[1:]:
        expected = (m,) + tuple(values.shape[1:]) + ("f",)
        raise ValueError(f"{op}: a sparse ({n}, {m}) matrix with values of shape {tuple(values.shape)} needs a "
                         f"dense operand of shape {expected}, got {tuple(dense.shape)}")
    return SparseDenseMatmul.apply(values, dense, pattern=pattern)


class ToDense(Function):
    """D = dense (n, m) matrix of the entries: D[r, c] = sum_{k: (r_k, c_k) = (r, c)} a_k.

    Backward: da_k = dD[r_k, c_k] (every duplicate of a position receives that position's gradient).
    """

    saves_inputs = False

    def forward(self, values, pattern):
        self.pattern = pattern
        out = np.zeros(pattern.shape, values.dtype)
        np.add.at(out, (pattern.rows, pattern.cols), values)
        return out

    def backward(self, dd):
        from .indexing import getitem

        return (getitem(dd, (Tensor._make(self.pattern.rows), Tensor._make(self.pattern.cols))),)

    def jvp(self, dvalues):
        """Forward mode (linear): dD = the dense matrix of the values' tangents on the same pattern."""
        return self.forward(dvalues, self.pattern)


class SparseTensor:
    """A 2-D sparse matrix in COO form, PyTorch's `sparse_coo_tensor` layout: `indices()` (2, nnz) int64,
    `values()` (nnz,) and `shape` (n, m). Supports `to_dense()`, `mm`/`@` with a dense matrix, `t()`.

    Gradients reach `values()` (when it requires grad) through `to_dense` and the products; a
    SparseTensor is not itself a node of the graph and has no `.grad` (look at `values().grad`).
    """

    is_sparse = True
    layout = "sparse_coo"

    def __init__(self, pattern, values):
        self._pattern = pattern
        self._values = values

    def indices(self):
        return Tensor._make(np.stack([self._pattern.rows, self._pattern.cols]))

    def values(self):
        return self._values

    @property
    def shape(self):
        return self._pattern.shape

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return 2

    @property
    def ndim(self):
        return 2

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def requires_grad(self):
        return self._values.requires_grad

    def _nnz(self):
        return self._pattern.nnz

    def to_dense(self):
        return ToDense.apply(self._values, pattern=self._pattern)

    def t(self):
        return SparseTensor(self._pattern.T, self._values)

    def mm(self, dense):
        return sparse_mm(self, dense)

    def __matmul__(self, dense):
        return sparse_mm(self, dense)

    def __repr__(self):
        return f"SparseTensor(shape={self.shape}, nnz={self._nnz()}, dtype={self.dtype}, layout=sparse_coo)"


def _as_index_array(indices):
    arr = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise TypeError(f"sparse_coo_tensor: indices must be integers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ValueError(f"sparse_coo_tensor: indices must have shape (2, nnz) for a 2-D sparse matrix, "
                         f"got {tuple(arr.shape)}")
    return arr.astype(np.int64)


def _checked_size(size, idx):
    if size is None:
        if idx.shape[1] == 0:
            raise ValueError("sparse_coo_tensor: size must be given when there are no entries")
        return tuple(int(v) + 1 for v in idx.max(axis=1))
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, numbers.Integral) and s >= 0 for s in size):
        raise ValueError(f"sparse_coo_tensor: size must be two non-negative ints (glassnet supports 2-D sparse "
                         f"matrices only), got {size}")
    if idx.size:
        low, high = idx.min(axis=1), idx.max(axis=1)
        for axis in range(2):
            if low[axis] < 0 or high[axis] >= size[axis]:
                bad = int(low[axis] if low[axis] < 0 else high[axis])
                raise IndexError(f"sparse_coo_tensor: index {bad} in row {axis} of indices is out of range for "
                                 f"size {size} (expected 0 <= index < {size[axis]})")
    return size


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, requires_grad=False, check_invariants=None):
    """A 2-D sparse matrix with entries values[k] at (indices[0, k], indices[1, k]), as torch.sparse_coo_tensor.

    indices: (2, nnz) integers; values: (nnz,) floats (a Tensor keeps its graph, so gradients reach it);
    size: (n, m), inferred from the largest indices when None. Duplicate positions add up.
    requires_grad=True makes the values a new leaf that requires grad. The indices are always checked
    against the size (check_invariants is accepted for PyTorch's signature).
    """
    idx = _as_index_array(indices)
    if isinstance(values, Tensor):
        vals = values if dtype is None else values.to(dtype)
    else:
        vals = Tensor._make(to_array(values, dtype))
    if vals.ndim != 1 or vals.shape[0] != idx.shape[1]:
        raise ValueError(f"sparse_coo_tensor: values must have shape (nnz,) = ({idx.shape[1]},) to match indices "
                         f"of shape {tuple(idx.shape)}, got {tuple(vals.shape)}")
    if vals.dtype.kind != "f":
        raise TypeError(f"sparse_coo_tensor: values must be floating point, got dtype {vals.dtype}")
    if requires_grad:
        vals = vals.detach().requires_grad_()
    return SparseTensor(Pattern(idx[0], idx[1], _checked_size(size, idx)), vals)


def sparse_mm(sparse, dense):
    """sparse (n, m) @ dense (m, f) -> dense (n, f), as torch.sparse.mm; gradients reach the dense
    matrix and the sparse matrix's values."""
    if not isinstance(sparse, SparseTensor):
        raise TypeError(f"sparse.mm: the first operand must be a sparse tensor (sparse_coo_tensor), got "
                        f"{type(sparse).__name__}")
    if not isinstance(dense, Tensor) or dense.ndim != 2:
        raise ValueError(f"sparse.mm: the second operand must be a 2-D Tensor, got "
                         f"{tuple(dense.shape) if isinstance(dense, Tensor) else type(dense).__name__}")
    if dense.shape[0] != sparse.shape[1]:
        raise ValueError(f"sparse.mm: shapes {sparse.shape} and {tuple(dense.shape)} cannot be multiplied "
                         f"({sparse.shape[1]} != {dense.shape[0]})")
    return sparse_dense_matmul(sparse._pattern, sparse.values(), dense)
