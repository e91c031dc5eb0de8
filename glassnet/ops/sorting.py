"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, quantile,
nanquantile, unique, unique_consecutive, searchsorted, bucketize; counting into bins: bincount, histc.

Each of these first decides, without gradients, WHICH elements to take (a permutation or a set of
positions along `dim`), then takes them with `gather`. So the values' backward is gather's: every output
gradient is added back at the position its value came from (scatter-add), and second derivatives work.
NaN sorts as larger than every number (last ascending, first descending), as in PyTorch.
"""
import builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import accepts_axis, as_tensor, normalize_dim
from .indexing import gather
from .shape import clone, movedim, reshape, squeeze

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "quantile", "nanquantile",
           "unique", "unique_consecutive", "searchsorted", "bucketize", "bincount", "histc"]

_Sort = namedtuple("sort", ("values", "indices"))
_Topk = namedtuple("topk", ("values", "indices"))
_Kth = namedtuple("kthvalue", ("values", "indices"))
_Median = namedtuple("median", ("values", "indices"))
_NanMedian = namedtuple("nanmedian", ("values", "indices"))


def _order(x, dim, descending):
    """Stable sorting permutation of `x` along `dim` (int64). Descending keeps equal elements in their
    original order too: reverse the array, sort ascending, reverse the result and map the positions back."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable").astype(np.int64)
    n = x.shape[dim]
    backwards = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return (n - 1 - np.flip(backwards, dim)).astype(np.int64)


def _zero_dim(input, result):
    return result(clone(input), Tensor._make(np.zeros((), np.int64)))


# ---- sort, argsort, msort, topk, kthvalue -----------------------------------------------------------
@accepts_axis
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices): `input` sorted along `dim`; values = gather(input, dim, indices).

    The sort is always stable (equal elements keep their order), which `stable=True` asks for.
    """
    d = normalize_dim(dim, input.ndim, "sort")
    if input.ndim == 0:
        return _zero_dim(input, _Sort)
    index = Tensor._make(_order(input.array, d, descending))
    return _Sort(gather(input, d, index), index)


@accepts_axis
def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort `input` along `dim` (int64); stable."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """`input` sorted along its first dimension."""
    return sort(input, 0).values


def _check_k(k, n, op, low=0):
    if not isinstance(k, (builtins.int, np.integer)) or isinstance(k, builtins.bool):
        raise TypeError(f"{op}: k must be an int, got {k!r}")
    if not low <= k <= n:
        raise IndexError(f"{op}: selected index k={k} is out of range for a dimension of size {n} "
                         f"(expected {low} <= k <= {n})")


def _take_positions(input, dim, order, positions):
    """(values, indices) at the given `positions` of the sorting permutation `order` along `dim`."""
    index = Tensor._make(np.take(order, positions, axis=dim))
    return gather(input, dim, index), index


@accepts_axis
def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim`, largest first."""
    d = normalize_dim(dim, input.ndim, "topk")
    _check_k(k, input.shape[d] if input.ndim else 1, "topk")
    if input.ndim == 0:
        return _zero_dim(input, _Topk) if k else _Topk(reshape(input, 0)[:0], Tensor._make(np.zeros(0, np.int64)))
    order = _order(input.array, d, descending=largest)
    return _Topk(*_take_positions(input, d, order, np.arange(k)))


@accepts_axis
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element (k counts from 1) along `dim`."""
    d = normalize_dim(dim, input.ndim, "kthvalue")
    _check_k(k, input.shape[d] if input.ndim else 1, "kthvalue", low=1)
    if input.ndim == 0:
        return _zero_dim(input, _Kth)
    values, index = _take_positions(input, d, _order(input.array, d, False), [k - 1])
    return _Kth(*_drop_dim(values, index, d, keepdim))


def _drop_dim(values, index, dim, keepdim):
    if keepdim:
        return values, index
    return squeeze(values, dim), Tensor._make(index.array.squeeze(dim))


# ---- median, nanmedian ------------------------------------------------------------------------------
class MedianAll(Function):
    """y = the lower median of all elements (the ((n-1)//2)-th smallest; NaN if any element is NaN).

    dx = dy * [x == y] / count: the gradient is shared evenly among the elements equal to the median,
    as PyTorch does for median() without a dim. Shapes: y is 0-d, dx like x.
    """

    def forward(self, x, ignore_nan):
        flat = np.sort(x.reshape(-1))
        valid = int((~np.isnan(flat)).sum()) if ignore_nan else flat.size
        if not ignore_nan and valid and np.isnan(flat[-1]):
            return np.asarray(np.nan, x.dtype)
        return np.asarray(flat[builtins.max(valid - 1, 0) // 2] if flat.size else np.nan, x.dtype)

    def backward(self, dy):
        x, y = self.inputs[0].array, self._outputs[0]
        hit = (x == y) | (np.isnan(x) & np.isnan(y))
        return dy * Tensor._make((hit / builtins.max(int(hit.sum()), 1)).astype(dy.dtype))

    def jvp(self, dx):
        x, y = self.inputs[0].array, self._outputs[0]
        hit = (x == y) | (np.isnan(x) & np.isnan(y))
        return None if dx is None else np.asarray((dx * hit).sum() / builtins.max(int(hit.sum()), 1), y.dtype)


def _median(input, dim, keepdim, ignore_nan, op, result):
    if dim is None:
        if input.array.size == 0:
            raise IndexError(f"{op}: cannot compute the median of an empty tensor (shape {input.shape})")
        return MedianAll.apply(input, ignore_nan=ignore_nan)
    d = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return _zero_dim(input, result)
    if input.shape[d] == 0:
        raise IndexError(f"{op}: dimension {dim} of the input (shape {input.shape}) is empty")
    x = input.array
    order = _order(x, d, False)
    nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
    count = (~nan).sum(axis=d, keepdims=True)
    if ignore_nan:  # the lower median of the numbers (position 0, a NaN, when there are none)
        position = np.maximum(count - 1, 0) // 2
    else:  # the lower median, or the first NaN (sorted right after the numbers) when there is one
        position = np.where(count < x.shape[d], count, (x.shape[d] - 1) // 2)
    index = Tensor._make(np.take_along_axis(order, position, axis=d))
    return result(*_drop_dim(gather(input, d, index), index, d, keepdim))


@accepts_axis
def median(input, dim=None, keepdim=False):
    """The lower median (the ((n-1)//2)-th smallest, not the mean of the two middle values), as PyTorch.

    median(input): a 0-d tensor (NaN if any element is NaN); the gradient is shared among equal elements.
    median(input, dim): (values, indices) along `dim`; each value's gradient goes to its index.
    """
    return _median(input, dim, keepdim, False, "median", _Median)


@accepts_axis
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN (NaN only where a slice has no number)."""
    return _median(input, dim, keepdim, True, "nanmedian", _NanMedian)


# ---- quantile, nanquantile --------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_levels(q, op):
    """q as a float64 array of levels (0-d or 1-D), checked to lie in [0, 1]."""
    levels = np.asarray(q.array if isinstance(q, Tensor) else q, np.float64)
    if levels.ndim > 1:
        raise ValueError(f"{op}: q must be a number or a 0-d or 1-D tensor, got shape {levels.shape}")
    if levels.size and not ((levels >= 0) & (levels <= 1)).all():
        raise ValueError(f"{op}: q must be in the range [0, 1], got {levels.tolist()!r}")
    return levels


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {', '.join(_INTERPOLATIONS)}; got {interpolation!r}")
    levels = _quantile_levels(q, op)
    x = reshape(input, -1) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, input.ndim, op)
    if x.ndim == 0:
        x = reshape(x, 1)
    if x.shape[d] == 0:
        raise IndexError(f"{op}: cannot take a quantile over an empty dimension (input shape {input.shape})")
    ordered = sort(x, d).values  # NaN last
    nan = np.isnan(x.array)
    count = (~nan).sum(axis=d, keepdims=True) if ignore_nan else np.full(_kept(x.shape, d), x.shape[d])
    # a slice holding a NaN has a NaN quantile: take its last sorted element (a NaN), as PyTorch
    to_last = None if ignore_nan else nan.any(axis=d, keepdims=True)
    value = _interpolate(ordered, d, levels.reshape(-1), count, interpolation, to_last)  # q along dim d
    value = movedim(value, d, 0)  # (nq, ...) with the reduced dim gone from its place
    if keepdim:
        shape = (levels.size,) + ((1,) * input.ndim if dim is None else _kept(input.shape, d))
        value = reshape(value, shape)
    return squeeze(value, 0) if levels.ndim == 0 else value


def _kept(shape, dim):
    return tuple(1 if i == dim else n for i, n in enumerate(shape))


def _interpolate(ordered, dim, levels, count, interpolation, to_last=None):
    """The quantiles at `levels` of each slice of `ordered` whose first `count` values are the numbers.

    position = q (count - 1) (the last position in the slices marked by `to_last`); the result mixes the
    values at floor and ceil of it: linear takes v_lo + (position - lo)(v_hi - v_lo); lower/higher/
    midpoint/nearest take v_lo, v_hi, their mean, or the value at position rounded half to even.
    Returned with the levels along `dim`.
    """
    shape = [1] * ordered.ndim
    shape[dim] = levels.size
    dtype = ordered.dtype  # positions in the input's precision, as PyTorch (0.2 * 5 is exactly 1 in float32)
    position = levels.astype(dtype).reshape(shape) * np.maximum(count - 1, 0).astype(dtype)
    if to_last is not None:
        position = np.where(to_last, dtype.type(ordered.shape[dim] - 1), position)
    if interpolation == "nearest":
        position = np.round(position)
    lo, hi = np.floor(position), np.ceil(position)
    v_lo = gather(ordered, dim, Tensor._make(lo.astype(np.int64)))
    v_hi = gather(ordered, dim, Tensor._make(hi.astype(np.int64)))
    if interpolation in ("lower", "nearest"):
        return v_lo
    if interpolation == "higher":
        return v_hi
    weight = 0.5 if interpolation == "midpoint" else Tensor._make((position - lo).astype(ordered.dtype))
    return v_lo + (v_hi - v_lo) * weight


@accepts_axis
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of `input` (over all elements, or along `dim`), q a number or a 1-D tensor.

    With a tensor q the levels come first in the result: shape (len(q),) + the reduced shape.
    Linear interpolation between the two nearest order statistics by default (as PyTorch and NumPy);
    the gradient goes to those two elements with weights (1 - w, w). NaN in a slice gives NaN.
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@accepts_axis
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN (NaN only where a slice has no number)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ---- unique, unique_consecutive ---------------------------------------------------------------------
def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or, with `dim`, the distinct slices along dim), always sorted.

    return_inverse: for each element (slice) of input, the position of its value in the result;
    return_counts: how often each value occurs. No gradient (as in PyTorch). Every NaN is distinct.
    """
    x = input.array
    if dim is None:
        values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                            equal_nan=False)
        inverse = inverse.reshape(x.shape)
    else:
        d = normalize_dim(dim, input.ndim, "unique")
        values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along `dim`) to one; no gradient."""
    x = input.array
    d = 0 if dim is None else normalize_dim(dim, input.ndim, "unique_consecutive")
    seq = np.moveaxis(x.reshape(-1) if dim is None else x, d, 0)
    if seq.shape[0] == 0:
        starts = np.zeros(0, bool)
    else:
        changed = (seq[1:] != seq[:-1]).reshape(seq.shape[0] - 1, -1).any(axis=1)
        starts = np.concatenate(([True], changed))
    run = np.cumsum(starts) - 1
    values = np.moveaxis(seq[starts], 0, d)
    counts = np.diff(np.append(np.flatnonzero(starts), seq.shape[0]))
    inverse = run.reshape(x.shape) if dim is None else run
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


# ---- searchsorted, bucketize ------------------------------------------------------------------------
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index where it would be inserted into `sorted_sequence` to keep it sorted.

    side="left" (right=False): the first such index; "right": the last. sorted_sequence is 1-D, or has
    input's leading dimensions (one sorted row per row of input). No gradient.
    """
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: right=True contradicts side='left'")
        right = side == "right"
    seq = as_tensor(sorted_sequence).array
    values = as_tensor(input).array
    if sorter is not None:
        seq = np.take_along_axis(seq, as_tensor(sorter).array, axis=-1)
    which = "right" if right else "left"
    if seq.ndim == 1:
        found = np.searchsorted(seq, values, side=which)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise ValueError(f"searchsorted: the leading dimensions of sorted_sequence {seq.shape[:-1]} and of "
                             f"input {values.shape[:-1]} must match")
        rows = [np.searchsorted(s, v, side=which) for s, v in zip(seq.reshape(-1, seq.shape[-1]),
                                                                   values.reshape(-1, values.shape[-1]))]
        found = np.array(rows).reshape(values.shape)
    return Tensor._make(np.asarray(found, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value given 1-D sorted `boundaries`: i with boundaries[i-1] < x <= boundaries[i]
    (right=False), or boundaries[i-1] <= x < boundaries[i] (right=True). No gradient."""
    if as_tensor(boundaries).ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {as_tensor(boundaries).shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in the 1-D non-negative integer `input` (at least
    `minlength` counts); with `weights`, the sum of the weights of each value's positions (in the weights'
    dtype) instead of the count. No gradient."""
    x = as_tensor(input)
    if x.ndim != 1 or x.dtype.kind not in "iu" or (x.array < 0).any():
        raise ValueError(f"bincount: expected a 1-D tensor of non-negative integers, got shape {x.shape} of "
                         f"{x.dtype} (smallest value {x.array.min() if x.numel() else None})")
    if weights is None:
        return Tensor._make(np.bincount(x.array, minlength=minlength).astype(np.int64))
    w = as_tensor(weights)
    if w.shape != x.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} do not match the input's shape {x.shape}")
    return Tensor._make(np.bincount(x.array, w.array, minlength=minlength).astype(w.dtype))


def histc(input, bins=100, min=0, max=0):
    """A histogram of the floating `input` in `bins` equal bins over [min, max] (the last bin includes max;
    values outside are left out). min == max == 0 takes the data's own range, widened by 1 on each side
    when all values are equal. The counts have the input's dtype. No gradient."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating-point tensor, got {x.dtype}")
    if bins <= 0 or min > max:
        raise ValueError(f"histc: need bins > 0 and min <= max, got bins={bins}, min={min}, max={max}")
    lo, hi = float(min), float(max)
    if lo == hi == 0 and x.numel():
        lo, hi = float(x.array.min()), float(x.array.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(x.array, bins=int(bins), range=(lo, hi))
    return Tensor._make(counts.astype(x.dtype))
