"""Slicing and gathering built from the indexing primitives: unbind, select, narrow, tensor_split,
repeat_interleave, take, take_along_dim, unfold, diff, meshgrid.

Each is a composition of getitem, index_select, gather, split, reshape and expand, whose backwards
(index-add, scatter-add, cat, sum) give these their gradients, second derivatives included.
"""
import builtins

import numpy as np

from ..tensor import Tensor
from ._util import accepts_axis, check_broadcast, normalize_dim
from .indexing import _check_index_tensor, _check_range, _take, cat, gather, getitem, split
from .shape import broadcast_to, expand, movedim, reshape, squeeze

__all__ = ["unbind", "select", "narrow", "tensor_split", "repeat_interleave", "take", "take_along_dim", "unfold",
           "diff", "meshgrid"]


def _int(value, name, op):
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value.array)
    if not isinstance(value, (builtins.int, np.integer)) or isinstance(value, builtins.bool):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


@accepts_axis
def unbind(input, dim=0):
    """The slices along `dim` as a tuple of tensors without that dim (a split into size-1 pieces)."""
    d = normalize_dim(dim, input.ndim, "unbind")
    if input.ndim == 0:
        raise ValueError("unbind: expects a tensor of at least 1 dimension, got a 0-d tensor")
    if input.shape[d] == 0:
        return ()
    return tuple(squeeze(piece, d) for piece in split(input, 1, d))


@accepts_axis
def select(input, dim, index):
    """input[..., index, ...] with `index` at dimension `dim` (a view; negative index counts from the end)."""
    d = normalize_dim(dim, input.ndim, "select")
    i = _int(index, "index", "select")
    n = input.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select: index {i} is out of range for dimension {dim} of size {n}")
    return getitem(input, (slice(None),) * d + (i,))


@accepts_axis
def narrow(input, dim, start, length):
    """The `length` entries from `start` along `dim` (a view)."""
    d = normalize_dim(dim, input.ndim, "narrow")
    start, length = _int(start, "start", "narrow"), _int(length, "length", "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise IndexError(f"narrow: start {start} and length {length} do not fit in dimension {dim} of size {n}")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


@accepts_axis
def tensor_split(input, indices_or_sections, dim=0):
    """Split into `n` nearly equal pieces (the first n % size get one more), or at the given indices."""
    d = normalize_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        arg = arg.array.tolist()
    if isinstance(arg, (builtins.int, np.integer)):
        if arg <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {arg}")
        base, extra = divmod(n, int(arg))
        sizes = [base + 1] * extra + [base] * (int(arg) - extra)
    else:
        bounds = [builtins.min(builtins.max(int(i) + (n if int(i) < 0 else 0), 0), n) for i in arg]
        edges = [0] + bounds + [n]
        sizes = [builtins.max(b - a, 0) for a, b in zip(edges, edges[1:])]
        starts = edges[:-1]
        return tuple(getitem(input, (slice(None),) * d + (slice(s, s + k),)) for s, k in zip(starts, sizes))
    return split(input, sizes, d)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along `dim`) `repeats` times in place: [a, b] -> [a, a, b, b].

    repeats is an int or a 1-D int tensor (one count per element); dim=None flattens the input first.
    It is index_select with the index [0]*r0 + [1]*r1 + ..., so the gradient sums the copies back.
    repeat_interleave(counts) alone (one tensor) gives that index: repeat_interleave(arange(n), counts).
    """
    if repeats is None:
        counts = _check_index_tensor(input, "repeat_interleave")
        return Tensor._make(np.repeat(np.arange(counts.size), counts.reshape(-1)).astype(np.int64))
    x = reshape(input, -1) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, input.ndim, "repeat_interleave")
    n = x.shape[d]
    counts = _check_index_tensor(repeats, "repeat_interleave").reshape(-1) if isinstance(repeats, Tensor) else \
        np.asarray(_int(repeats, "repeats", "repeat_interleave"))
    if counts.ndim and counts.size not in (1, n):
        raise ValueError(f"repeat_interleave: repeats must have one entry per element along the dimension ({n}), "
                         f"got {counts.size}")
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {counts.tolist()}")
    index = np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else int(counts))
    if output_size is not None and output_size != index.size:
        raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats give {index.size}")
    return _take(x, d, index.astype(np.int64))


def take(input, index):
    """input viewed as 1-D, read at `index` (any shape; negative indices count from the end)."""
    idx = _check_index_tensor(index, "take")
    flat = reshape(input, -1)
    _check_range(np.where(idx < 0, idx + flat.shape[0], idx), flat.shape[0], 0, "take", input.shape)
    return getitem(flat, Tensor._make(idx))


@accepts_axis
def take_along_dim(input, indices, dim=None):
    """gather with broadcasting: input and indices broadcast in every dim but `dim`; dim=None: 1-D take."""
    if dim is None:
        return take(input, reshape(indices, -1))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise ValueError(f"take_along_dim: indices must have as many dimensions as input ({input.ndim}), got "
                         f"shape {indices.shape}")
    others = check_broadcast("take_along_dim", _without(input.shape, d), _without(indices.shape, d))
    shape_in, shape_idx = _with(others, d, input.shape[d]), _with(others, d, indices.shape[d])
    return gather(broadcast_to(input, shape_in), d, Tensor._make(np.broadcast_to(indices.array, shape_idx).copy()))


def _without(shape, d):
    return shape[:d] + (1,) + shape[d + 1:]


def _with(shape, d, n):
    return tuple(shape[:d]) + (n,) + tuple(shape[d + 1:])


def unfold(input, dimension, size, step):
    """Tensor.unfold: the windows of `size` entries every `step` along `dimension`, as a new last dim.

    Shapes: n along dimension -> (n - size) // step + 1 windows, and a trailing dim of `size`.
    Overlapping windows read an element several times; its gradient is the sum over them.
    """
    d = normalize_dim(dimension, input.ndim, "unfold")
    n = input.shape[d] if input.ndim else 1
    size, step = _int(size, "size", "unfold"), _int(step, "step", "unfold")
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    if not 0 <= size <= n:
        raise ValueError(f"unfold: size {size} does not fit in dimension {dimension} of size {n}")
    x = reshape(input, 1) if input.ndim == 0 else input
    starts = np.arange(0, n - size + 1, step)
    windows = _take(x, d, (starts[:, None] + np.arange(size)).astype(np.int64))  # (..., count, size, ...)
    out = movedim(windows, d + 1, -1)
    return reshape(out, (size,)) if input.ndim == 0 else out


@accepts_axis
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`: out[i] = x[i + 1] - x[i], applied n times, after joining
    `prepend` and `append` to the input along dim."""
    d = normalize_dim(dim, input.ndim, "diff")
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], d)
    lead = (slice(None),) * d
    for _ in range(_int(n, "n", "diff")):
        input = getitem(input, lead + (slice(1, None),)) - getitem(input, lead + (slice(None, -1),))
    return input


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with indexing "ij" output k varies along dim k; with "xy"
    the first two dims are swapped (NumPy's and matplotlib's convention). Each is an expanded view."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-D tensors, got shape {t.shape}")
    sizes = [t.array.size for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for k, t in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(k, k) if indexing == "xy" and len(tensors) >= 2 else k
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(expand(reshape(t, shape), sizes))
    return tuple(grids)
