"""Writing into a copy of a tensor at given positions: scatter, scatter_reduce, index_add, index_copy,
index_fill (scatter_add and gather are in indexing.py).

The adjoint of writing src at positions P is reading at P: each backward gathers dy at P for the
written values, and passes dy through (or masks it where the input was overwritten) for the input.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tensor, normalize_dim
from .indexing import _check_index_tensor, _check_range, _gather_checks, _grid, _take, gather_back, scatter_add
from .shape import cast

__all__ = ["scatter", "scatter_reduce", "index_add", "index_copy", "index_fill"]


def _written(shape, positions):
    """A bool mask of `shape`, True at the given NumPy index `positions`."""
    mask = np.zeros(shape, bool)
    mask[positions] = True
    return mask


def _src_part(src, index):
    return src[tuple(slice(0, m) for m in index.shape)]


# ---- scatter ---------------------------------------------------------------------------------------
class Scatter(Function):
    """y = x copy; y[i_0.., index[i_0..i_k] (at dim), ..i_k] = src[i_0..i_k] for each position of index.

    Shapes: y like x; index no larger than src (and than x outside dim). Where an index repeats, one of
    the writes wins (which one is unspecified, as in PyTorch).
    dx = dy where nothing was written, else 0;   dsrc = gather(dy, dim, index) (zero-padded to src).
    """

    saves_inputs = False

    def forward(self, x, src, dim, index):
        self.dim, self.index = dim, index
        positions = _grid(index, dim)
        self.kept = ~_written(x.shape, positions)
        out = x.copy()
        out[positions] = _src_part(src, index)
        return out

    def backward(self, dy):
        x, src = self.inputs
        dx = dy * Tensor._make(self.kept.astype(dy.dtype)) if self.needs_input_grad[0] else None
        dsrc = gather_back(dy, self.dim, self.index, src.shape) if self.needs_input_grad[1] else None
        return dx, dsrc

    def jvp(self, dx, dsrc):
        out = np.zeros(self._outputs[0].shape, self._outputs[0].dtype) if dx is None else dx * self.kept
        if dsrc is not None:
            out[_grid(self.index, self.dim)] = _src_part(dsrc, self.index)
        return out


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of `input` with src[i][j][k] written at [index[i][j][k]][j][k] (for dim=0), etc.

    `src` may be a tensor or a number (PyTorch's `value` form). The legacy reduce="add" is scatter_add,
    reduce="multiply" scatter_reduce(..., "prod") (whose gradient is not implemented).
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor or a number) or value")
    if not isinstance(src, Tensor):
        src = Tensor._make(np.full(index.shape, src, input.dtype))
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if reduce == "add":
            return scatter_add(input, dim, index, src)
        return scatter_reduce(input, dim, index, src, "prod")
    d, idx = _gather_checks("scatter", input, dim, index, src)
    return Scatter.apply(input, src, dim=d, index=idx)


# ---- scatter_reduce --------------------------------------------------------------------------------
_REDUCERS = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum, "amin": np.minimum}


class ScatterReduce(Function):
    """y = x with src[p] combined into position index[p] (along dim) by `reduce`:
    sum, mean (the average of what lands there), amax or amin; with include_self=False the values of x
    at the written positions are left out of the reduction.

    Gradients (c = the number of values reduced into a position, x's own included if include_self):
      sum:   dx = dy (0 at written positions without include_self);  dsrc = gather(dy)
      mean:  dx = dy / c (same masking);                            dsrc = gather(dy / c)
      amax/amin: every value equal to the result shares dy evenly (as PyTorch):
             dx = dy [x == y] / ties;  dsrc = gather(dy / ties) [src == gather(y)]
    Shapes: y like x. Written with Tensor operations (masks and counts are constants).
    """

    def forward(self, x, src, dim, index, reduce, include_self):
        self.dim, self.index, self.reduce = dim, index, reduce
        positions = _grid(index, dim)
        part = _src_part(src, index)
        written = _written(x.shape, positions)
        self.self_in = np.ones(x.shape, bool) if include_self else ~written
        count = self.self_in.astype(np.int64)
        np.add.at(count, positions, 1)
        self.count = count
        ufunc = _REDUCERS[reduce]
        out = x.copy()
        if not include_self:  # start the written positions from the identity of the reduction
            out[written] = _identity(reduce, x.dtype)
        ufunc.at(out, positions, part)
        if reduce == "mean":
            out = np.where(count > 0, out / np.maximum(count, 1), out).astype(x.dtype)
        return out

    def backward(self, dy):
        x, src = self.inputs
        if self.reduce in ("sum", "mean"):
            g = dy / Tensor._make(np.maximum(self.count, 1).astype(dy.dtype)) if self.reduce == "mean" else dy
            dx = g * Tensor._make(self.self_in.astype(dy.dtype))
            dsrc = gather_back(g, self.dim, self.index, src.shape)
            return dx, dsrc
        y = self._outputs[0]
        self_hit = (x.array == y) & self.self_in
        src_hit = _src_part(src.array, self.index) == np.take_along_axis(
            y[tuple(slice(None) if d == self.dim else slice(0, m) for d, m in enumerate(self.index.shape))],
            self.index, axis=self.dim)
        ties = self_hit.astype(np.int64)
        np.add.at(ties, _grid(self.index, self.dim), src_hit)
        g = dy / Tensor._make(np.maximum(ties, 1).astype(dy.dtype))
        dx = g * Tensor._make(self_hit.astype(dy.dtype))
        hit = np.zeros(src.shape, dy.dtype)
        hit[tuple(slice(0, m) for m in self.index.shape)] = src_hit
        dsrc = gather_back(g, self.dim, self.index, src.shape) * Tensor._make(hit)
        return dx, dsrc

    def jvp(self, dx, dsrc):
        # the same combination, applied to the tangents: sums (and means) of the tangents that were reduced;
        # for amax / amin, the mean of the tangents of the elements that tie for the result
        x, src = self.inputs[0].array, self.inputs[1].array
        y, positions = self._outputs[0], _grid(self.index, self.dim)
        dx = np.zeros_like(y) if dx is None else dx
        dsrc = np.zeros(src.shape, y.dtype) if dsrc is None else dsrc
        self_w = self.self_in.astype(y.dtype)
        src_w = np.ones(self.index.shape, y.dtype)
        if self.reduce in ("amax", "amin"):
            self_w = self_w * (x == y)
            src_w = (_src_part(src, self.index) == y[positions]).astype(y.dtype)
        total, weight = dx * self_w, self_w.copy()
        np.add.at(total, positions, _src_part(dsrc, self.index) * src_w)
        np.add.at(weight, positions, src_w)
        if self.reduce == "sum":
            return total
        return total / np.maximum(weight, 1)


def _identity(reduce, dtype):
    """The value that does not change the reduction: 0, 1, or the lowest / highest value of the dtype."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    low, high = (-np.inf, np.inf) if dtype.kind == "f" else (np.iinfo(dtype).min, np.iinfo(dtype).max)
    return low if reduce == "amax" else high


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce src into a copy of input at positions index (along dim): reduce is "sum", "mean", "amax",
    "amin" (with gradients) or "prod" (forward only: its gradient is not implemented)."""
    if reduce not in _REDUCERS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCERS)}; got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    d, idx = _gather_checks("scatter_reduce", input, dim, index, src)
    if reduce == "prod" and (input.requires_grad or src.requires_grad):
        raise NotImplementedError("scatter_reduce: the gradient of reduce='prod' is not implemented; detach the "
                                  "inputs or use another reduction")
    return ScatterReduce.apply(input, src, dim=d, index=idx, reduce=reduce, include_self=bool(include_self))


# ---- index_add, index_copy, index_fill --------------------------------------------------------------
class IndexAdd(Function):
    """y = x copy; y[.., index[i], ..] += alpha * source[.., i, ..] (index along dim; repeats accumulate).

    dx = dy;  dsource = alpha * index_select(dy, dim, index).   Shapes: y like x; source like x with
    len(index) along dim.
    """

    saves_inputs = False

    def forward(self, x, source, dim, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha
        out = x.copy()
        np.add.at(out, (slice(None),) * dim + (index,), source * alpha if alpha != 1 else source)
        return out

    def backward(self, dy):
        dsource = _take(dy, self.dim, self.index) if self.needs_input_grad[1] else None
        if dsource is not None and self.alpha != 1:
            dsource = dsource * self.alpha
        return dy, dsource

    def jvp(self, dx, dsource):
        out = np.zeros(self._outputs[0].shape, self._outputs[0].dtype) if dx is None else dx.copy()
        if dsource is not None:
            np.add.at(out, (slice(None),) * self.dim + (self.index,), dsource * self.alpha)
        return out


def _index_args(op, input, dim, index, source=None):
    idx = _check_index_tensor(index, op).reshape(-1)
    d = normalize_dim(dim, input.ndim, op)
    _check_range(idx, input.shape[d] if input.ndim else 1, dim, op, input.shape)
    if source is not None:
        if source.dtype != input.dtype:
            raise TypeError(f"{op}: source dtype {source.dtype} must equal the input dtype {input.dtype}")
        expected = input.shape[:d] + (idx.size,) + input.shape[d + 1:]
        if source.shape != expected:
            raise ValueError(f"{op}: source must have shape {expected} (the input's with len(index) = {idx.size} "
                             f"along dim {dim}), got {source.shape}")
    return d, idx


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha * source[.., i, ..] added at row index[i] along dim (repeats add up)."""
    d, idx = _index_args("index_add", input, dim, index, source)
    return IndexAdd.apply(input, source, dim=d, index=idx, alpha=alpha)


def _rows_mask(input, d, idx):
    mask = np.zeros(input.shape[d], bool)
    mask[idx] = True
    return Tensor._make(mask.reshape((-1,) + (1,) * (input.ndim - d - 1)))


def index_copy(input, dim, index, source):
    """A copy of input whose rows index[i] along dim are replaced by source[.., i, ..] (index without
    repeats). It is where(row was written, index_add(zeros, source), input), so dinput is dy on the
    rows kept and dsource = index_select(dy, dim, index)."""
    from .elementwise import where

    d, idx = _index_args("index_copy", input, dim, index, source)
    placed = IndexAdd.apply(Tensor._make(np.zeros(input.shape, input.dtype)), source, dim=d, index=idx, alpha=1)
    return where(_rows_mask(input, d, idx), placed, input)


def index_fill(input, dim, index, value):
    """A copy of input whose rows index[i] along dim are filled with `value` (a number or a 0-d tensor)."""
    from .elementwise import where

    d, idx = _index_args("index_fill", input, dim, index)
    value = as_tensor(value, input.dtype)
    return where(_rows_mask(input, d, idx), cast(value, input.dtype), input)

