"""Indexing, joining and slicing: getitem, cat, stack, split, chunk, flip, repeat, pad, masked_fill, gather,
scatter_add, index_select, one_hot, tril, triu.

Every op here only moves values around, so every backward moves the gradient back: what was read from a
position of the input is added back to that position. Where one input element can be read several times
(repeated integer indices, gather, repeat, reflect padding) the gradients of the copies are summed
(`np.add.at`, never a plain assignment, which would keep only the last one). Backwards are themselves
written with the ops of this file (getitem <-> index-add, gather <-> scatter_add, cat <-> split, pad <->
negative pad), so second-order gradients work through all of them.
"""
import builtins
import operator

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import accepts_axis, check_broadcast, normalize_dim
from .shape import cast, reshape, sum_to

__all__ = ["to_index", "getitem", "cat", "concat", "concatenate", "stack", "split", "chunk", "flip", "repeat",
           "tile", "pad", "masked_fill", "gather", "scatter_add", "index_select", "one_hot", "tril", "triu", "nonzero",
           "argwhere", "masked_select"]


# ================================================================================================
# getitem
# ================================================================================================

def _index_array(value, op="getitem"):
    """A Tensor / list / ndarray used as an index -> an int64 or bool ndarray."""
    if isinstance(value, Tensor):
        arr = value.array
    else:
        try:
            arr = np.asarray([v.array if isinstance(v, Tensor) else v for v in value]
                             if isinstance(value, list) else value)
        except ValueError:
            raise IndexError(f"{op}: the list index {value!r} is ragged; expected a rectangular list of ints "
                             "or bools") from None
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.size == 0 and not isinstance(value, (Tensor, np.ndarray)):  # [] indexes nothing: an empty int index
        return arr.astype(np.int64)
    raise IndexError(f"{op}: tensors used as indices must be integer or bool, got dtype {arr.dtype}")


def _index_item(item):
    if isinstance(item, Tensor):
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item.array)  # a 0-d integer tensor indexes like a Python int (as in PyTorch)
        return _index_array(item)
    if isinstance(item, (list, tuple, np.ndarray)):  # a tuple inside the index is a sequence, as a list
        return _index_array(list(item) if isinstance(item, tuple) else item)
    if isinstance(item, slice):
        conv = [None if v is None else operator.index(v) for v in (item.start, item.stop, item.step)]
        return slice(*conv)
    return item


def _list_is_tuple(index):
    """A list holding slices, None or Ellipsis can only mean a tuple of indices."""
    return any(i is None or i is Ellipsis or isinstance(i, slice) for i in index)


def to_index(index):
    """`index` with every Tensor (and list) turned into a NumPy array, ready for `ndarray[...]`.

    0-d integer tensors become Python ints. Used by Tensor.__setitem__ and by getitem.
    """
    if isinstance(index, tuple) or (isinstance(index, list) and _list_is_tuple(index)):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _check_int_index(i, n, dim, shape):
    if not -n <= i < n:
        raise IndexError(f"getitem: index {i} is out of range for dimension {dim} of size {n} "
                         f"(tensor of shape {tuple(shape)})")


def _parse_index(index, shape):
    """Split a PyTorch index into (basic, advanced, accumulate).

    PyTorch applies integers first (like `select`) and the advanced (array / mask) indices after, on
    what remains; so does this: `x[basic]` is a view (ints, slices, None), then `[advanced]` applies the
    arrays, with `slice(None)` standing for each dimension the basic step left. advanced is None when
    there are no arrays. accumulate is True when integer arrays may repeat positions.
    """
    items = to_index(index)
    if not isinstance(items, tuple):
        items = (items,)
    if builtins.sum(1 for it in items if it is Ellipsis) > 1:
        raise IndexError(f"getitem: an index can only have a single ellipsis ('...'), got {index!r}")
    consumed = 0
    for it in items:
        if isinstance(it, np.ndarray):
            consumed += it.ndim if it.dtype.kind == "b" else 1
        elif isinstance(it, slice) or (isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_))):
            consumed += 1
        elif not (it is None or it is Ellipsis or isinstance(it, (bool, np.bool_))):
            raise IndexError(f"getitem: only integers, slices, None, Ellipsis, lists and integer or bool tensors "
                             f"are valid indices, got {type(it).__name__} {it!r}")
    if consumed > len(shape):
        raise IndexError(f"getitem: too many indices for a tensor of dimension {len(shape)} "
                         f"(shape {tuple(shape)}), index {index!r}")
    basic, adv = [], []
    has_adv = accumulate = False
    d = 0
    for it in items:
        if it is Ellipsis:
            k = len(shape) - consumed
            basic += [slice(None)] * k
            adv += [slice(None)] * k
            d += k
        elif it is None:
            basic.append(None)
            adv.append(slice(None))
        elif isinstance(it, slice):
            if it.step is not None and it.step <= 0:
                raise ValueError(f"getitem: slice step must be greater than zero, got {it.step} "
                                 "(negative steps are not supported, as in PyTorch; use flip)")
            basic.append(it)
            adv.append(slice(None))
            d += 1
        elif isinstance(it, (bool, np.bool_)):  # x[True] adds a dim of size 1, x[False] one of size 0
            adv.append(np.asarray(it))
            has_adv = True
        elif isinstance(it, (int, np.integer)):
            _check_int_index(int(it), shape[d], d, shape)
            basic.append(int(it))
            d += 1
        elif it.dtype.kind == "b":
            k = it.ndim
            if it.shape != tuple(shape[d:d + k]):
                raise IndexError(f"getitem: the shape of the mask {it.shape} at index dimension {d} does not "
                                 f"match the shape of the indexed tensor {tuple(shape)}")
            basic += [slice(None)] * k
            adv.append(it)
            has_adv = True
            d += k
        else:
            if it.size:
                lo, hi = int(it.min()), int(it.max())
                _check_int_index(lo if lo < -shape[d] else hi, shape[d], d, shape)
            basic.append(slice(None))
            adv.append(it)
            has_adv = accumulate = True
            d += 1
    basic = tuple(basic) + (Ellipsis,)  # the trailing ... keeps a 0-d result an array, not a NumPy scalar
    return basic, (tuple(adv) if has_adv else None), accumulate


class GetItem(Function):
    """y = x[basic][advanced]   (see _parse_index).   Shapes: as NumPy basic then advanced indexing.

    dx = zeros(x.shape) with dy added at the positions read: dx[basic][advanced] += dy, with np.add.at
    when integer arrays may repeat a position (repeated reads accumulate), plain assignment otherwise.
    """

    saves_inputs = False
    is_view = True

    def forward(self, x, basic, adv, accumulate):
        self.index = (basic, adv, accumulate)
        y = x[basic]
        return y if adv is None else y[adv]

    def backward(self, dy):
        return IndexAddZeros.apply(dy, shape=self.inputs[0].shape, index=self.index)

    def jvp(self, dx):  # linear: dy = dx[index]
        if dx is None:
            return None
        basic, adv, _ = self.index
        dx = dx[basic]
        return dx if adv is None else dx[adv]


class IndexAddZeros(Function):
    """y = zeros(shape); y[basic][advanced] += g  (the backward of GetItem).   dg = dy[basic][advanced]."""

    saves_inputs = False

    def forward(self, g, shape, index):
        basic, adv, accumulate = self.index = index
        out = np.zeros(shape, g.dtype)
        view = out[basic]
        if adv is None:
            view[...] = g
        elif not accumulate:
            view[adv] = g
        elif not _add_rows(view, adv, g):
            np.add.at(view, adv, g)
        return out

    def backward(self, dy):
        basic, adv, accumulate = self.index
        return GetItem.apply(dy, basic=basic, adv=adv, accumulate=accumulate)

    def jvp(self, dg):
        return None if dg is None else self.forward(dg, self._outputs[0].shape, self.index)


def _add_rows(view, adv, g):
    """view[..., idx, ...] += g for ONE integer array idx on one axis (the embedding / index_select case).

    `view` is all zeros. Same result as np.add.at, several times faster: sort the indices; if most
    are distinct, assign the first occurrence of each and np.add.at only the repeats; otherwise sum
    each run of equal indices with np.add.reduceat and assign once per distinct index.
    Returns False (doing nothing) if `adv` has another form.
    """
    arrays = [k for k, a in enumerate(adv) if not isinstance(a, slice)]
    if len(arrays) != 1 or any(a != slice(None) for a in adv if isinstance(a, slice)):
        return False
    k = arrays[0]
    idx = adv[k]
    if idx.dtype.kind == "b" or idx.ndim == 0:
        return False
    if idx.size == 0:
        return True
    flat = idx.reshape(-1)
    flat = np.where(flat < 0, flat + view.shape[k], flat)  # -1 and n-1 are the same row
    g = g.reshape(g.shape[:k] + (flat.size,) + g.shape[k + idx.ndim:])
    order = np.argsort(flat, kind="stable")
    rows = flat[order]
    first = np.concatenate(([True], rows[1:] != rows[:-1]))
    lead = (slice(None),) * k
    if 2 * np.count_nonzero(first) >= rows.size:
        view[lead + (rows[first],)] = np.take(g, order[first], axis=k)
        repeats = ~first
        np.add.at(view, lead + (rows[repeats],), np.take(g, order[repeats], axis=k))
    else:
        starts = np.flatnonzero(first)
        view[lead + (rows[starts],)] = np.add.reduceat(np.take(g, order, axis=k), starts, axis=k)
    return True


def getitem(input, index):
    """`input[index]` with PyTorch's rules: ints, slices (step > 0), None, Ellipsis, lists, integer and bool tensors.

    Integers are applied first, then the advanced (list / tensor) indices on what remains, so
    `x[0, :, [0, 1]]` has shape (x.shape[1], 2) as in PyTorch (NumPy would give (2, x.shape[1])).
    Basic indexing returns a view of the input's data, as PyTorch does.
    """
    basic, adv, accumulate = _parse_index(index, input.shape)
    return GetItem.apply(input, basic=basic, adv=adv, accumulate=accumulate)


def _take(input, dim, idx):
    """input.index_select(dim, idx) without argument checks (idx: int64 ndarray, may repeat)."""
    adv = (slice(None),) * dim + (idx,)
    return GetItem.apply(input, basic=(Ellipsis,), adv=adv, accumulate=True)


# ================================================================================================
# joining and splitting
# ================================================================================================

def _check_tensors(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a sequence of tensors, got a single Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, expected a Tensor")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote(dtype, t.dtype)
    return [cast(t, dtype) for t in tensors]


def _shapes(tensors):
    return ", ".join(str(tuple(t.shape)) for t in tensors)


def _tangents_or_zeros(inputs, tangents):
    """The tangent arrays of several inputs, zeros for those without one (for cat and stack's jvp)."""
    return [np.zeros(x.array.shape, x.array.dtype) if t is None else t for x, t in zip(inputs, tangents)]


class Cat(Function):
    """y = the inputs joined along `dim`.   Shapes: sizes along dim add up, other dims equal.

    dx_i = the slice of dy that came from x_i (split of dy by the inputs' sizes along dim).
    """

    saves_inputs = False

    def forward(self, *xs, dim):
        self.dim = dim
        self.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    def backward(self, dy):
        return split(dy, self.sizes, self.dim)

    def jvp(self, *dxs):  # the input tangents joined (zeros for inputs without one)
        return np.concatenate(_tangents_or_zeros(self.inputs, dxs), axis=self.dim)


@accepts_axis
def cat(tensors, dim=0):
    """Join tensors along an existing dimension `dim`.

    Dtypes are promoted; 1-D empty tensors (shape (0,)) are skipped, as in PyTorch.
    """
    tensors = _check_tensors(tensors, "cat")
    kept = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    ref = kept[0]
    if ref.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_dim(dim, ref.ndim, "cat")
    for t in kept:
        if t.ndim != ref.ndim or t.shape[:d] != ref.shape[:d] or t.shape[d + 1:] != ref.shape[d + 1:]:
            raise ValueError(f"cat: tensors must have the same shape except in dimension {dim}, got shapes "
                             f"{_shapes(kept)}")
    return Cat.apply(*kept, dim=d)


concat = concatenate = cat


class Stack(Function):
    """y = the inputs stacked along a new dimension `dim`.   Shapes: n inputs of shape S -> S with n inserted at dim.

    dx_i = dy selected at position i of dim.
    """

    saves_inputs = False

    def forward(self, *xs, dim):
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, dy):
        shape = self.inputs[0].shape
        return tuple(reshape(g, shape) for g in split(dy, 1, self.dim))

    def jvp(self, *dxs):
        return np.stack(_tangents_or_zeros(self.inputs, dxs), axis=self.dim)


@accepts_axis
def stack(tensors, dim=0):
    """Join same-shape tensors along a new dimension `dim` (in [-ndim-1, ndim])."""
    tensors = _check_tensors(tensors, "stack")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expects tensors of equal shape, got shapes {_shapes(tensors)}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(*tensors, dim=d)


class Split(Function):
    """ys = consecutive slices of x along `dim` of lengths `sizes`.   dx = cat(dys, dim)."""

    saves_inputs = False
    is_view = True

    def forward(self, x, sizes, dim):
        self.dim = dim
        ends = np.cumsum(sizes)
        lead = (slice(None),) * dim
        return tuple(x[lead + (slice(int(e - s), int(e)),)] for s, e in zip(sizes, ends))

    def backward(self, *dys):
        return cat(dys, self.dim)

    def jvp(self, dx):  # each piece's tangent is the same slice of dx
        return None if dx is None else self.forward(dx, [o.shape[self.dim] for o in self._outputs], self.dim)


def split(input, split_size_or_sections, dim=0):
    """Split into pieces of `split_size` (the last may be smaller) or of the given list of sizes; a tuple of views."""
    if input.ndim == 0:
        raise ValueError("split: expects a tensor of at least 1 dimension, got a 0-d tensor")
    d = normalize_dim(dim, input.ndim, "split")
    n = input.shape[d]
    arg = split_size_or_sections
    if isinstance(arg, (builtins.int, np.integer)) and not isinstance(arg, builtins.bool):
        size = int(arg)
        if size < 0 or (size == 0 and n != 0):
            raise ValueError(f"split: split_size must be positive (or 0 for a dimension of size 0), got {size} "
                             f"for dimension {dim} of size {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(s) for s in arg]
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the size of "
                             f"dimension {dim} of shape {tuple(input.shape)}")
    return Split.apply(input, sizes=tuple(sizes), dim=d)


@accepts_axis
def chunk(input, chunks, dim=0):
    """Split into `chunks` pieces of size ceil(n / chunks) (the last smaller; fewer pieces if they run out)."""
    if not isinstance(chunks, (builtins.int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: expects chunks to be a positive int, got {chunks!r}")
    if input.ndim == 0:
        raise ValueError("chunk: expects a tensor of at least 1 dimension, got a 0-d tensor")
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    if n == 0:
        return split(input, [0] * int(chunks), dim)
    return split(input, -(-n // int(chunks)), dim)


# ================================================================================================
# flip, repeat, pad
# ================================================================================================

class Flip(Function):
    """y = x reversed along `dims` (a copy).   dx = dy reversed along the same dims."""

    saves_inputs = False

    def forward(self, x, dims):
        self.dims = dims
        return np.flip(x, dims).copy() if dims else x.copy()

    def backward(self, dy):
        return Flip.apply(dy, dims=self.dims)

    def jvp(self, dx):
        return None if dx is None else (np.flip(dx, self.dims).copy() if self.dims else dx.copy())


def flip(input, dims):
    """Reverse the order of elements along each dimension in `dims` (an int or a sequence)."""
    if isinstance(dims, (builtins.int, np.integer)):
        dims = (dims,)
    norm = tuple(normalize_dim(d, input.ndim, "flip") for d in dims)
    if len(set(norm)) != len(norm):
        raise ValueError(f"flip: dims {tuple(dims)} name a dimension more than once")
    return Flip.apply(input, dims=norm if input.ndim else ())


class Repeat(Function):
    """y = x tiled `sizes[i]` times along dim i (x first viewed with leading 1s to len(sizes) dims).

    Shapes: x (n_0..n_k) -> (s_0 n_0, ..., s_k n_k). dx = dy viewed as (s_0, n_0, s_1, n_1, ...) summed
    over the s axes (each element was copied prod(sizes) times).
    """

    saves_inputs = False

    def forward(self, x, sizes):
        self.sizes = sizes
        return np.tile(x.reshape((1,) * (len(sizes) - x.ndim) + x.shape), sizes)

    def backward(self, dy):
        from .reduction import sum as _sum

        x = self.inputs[0]
        full = (1,) * (len(self.sizes) - x.ndim) + x.shape
        split_shape = tuple(v for pair in zip(self.sizes, full) for v in pair)
        summed = _sum(reshape(dy, split_shape), tuple(range(0, 2 * len(full), 2)))
        return reshape(summed, x.shape)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, self.sizes)


def repeat(input, *sizes):
    """Tensor.repeat: tile `input` sizes[i] times along each dim; len(sizes) >= input.ndim."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: got {len(sizes)} repeat sizes {sizes} for a tensor of {input.ndim} dimensions "
                         f"(shape {tuple(input.shape)}); need at least {input.ndim}")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeat sizes must be non-negative, got {sizes}")
    return Repeat.apply(input, sizes=sizes)


def tile(input, dims):
    """torch.tile: `repeat`, except that fewer repeat counts than dimensions are allowed (the leading
    dimensions are then repeated once)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


class ConstantPad(Function):
    """y = x placed inside a block filled with `value`, (l_d, r_d) extra entries before/after along each dim.

    Negative l_d / r_d crop instead. Shapes: n_d -> n_d + l_d + r_d.
    dx = dy with the padding negated: the part of dy where x was copied, zero where x was cropped.
    """

    saves_inputs = False

    def forward(self, x, pairs, value):
        self.pairs = pairs
        out = np.full(tuple(n + l + r for n, (l, r) in zip(x.shape, pairs)), value, dtype=x.dtype)
        src, dst = [], []
        for n, (l, r) in zip(x.shape, pairs):
            start, stop = builtins.max(-l, 0), n - builtins.max(-r, 0)
            length = builtins.max(stop - start, 0)
            first = builtins.max(l, 0) if length else 0
            src.append(slice(start, start + length))
            dst.append(slice(first, first + length))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def backward(self, dy):
        return ConstantPad.apply(dy, pairs=tuple((-l, -r) for l, r in self.pairs), value=0)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, self.pairs, 0)


def _pad_source_index(n, l, r, mode):
    """Which input position (along one dim of size n) each output position of the padded dim reads."""
    p = np.arange(-l, n + r)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    if mode == "circular":  # a negative side crops first; the wrap-around then reads the cropped part (PyTorch)
        start, kept = builtins.max(-l, 0), n - builtins.max(-l, 0) - builtins.max(-r, 0)
        positions = np.arange(-builtins.max(l, 0), kept + builtins.max(r, 0))
        return start + positions % kept if kept else positions
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 .. n-1 | n-2 n-3 ...
    q = p % period if period else np.zeros_like(p)
    return np.where(q < n, q, period - q)


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` = (left, right) pairs starting from the LAST dimension; negative values crop.

    mode "constant" fills with `value` (default 0); "reflect" mirrors without repeating the edge,
    "replicate" repeats the edge, "circular" wraps around (these three pad the last 1-3 dims of a
    2-5-D input, as in PyTorch).
    """
    widths = tuple(int(p) for p in pad)
    if len(widths) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(widths)} values {widths}")
    k = len(widths) // 2
    if k > input.ndim:
        raise ValueError(f"pad: padding {widths} covers {k} dimensions but the input has shape {tuple(input.shape)}")
    pairs = [(0, 0)] * input.ndim
    for i in range(k):
        pairs[input.ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    for d, (n, (l, r)) in enumerate(zip(input.shape, pairs)):
        if n + builtins.min(l, 0) + builtins.min(r, 0) < 0:
            raise ValueError(f"pad: padding ({l}, {r}) crops more than the size {n} of dimension {d} "
                             f"(input shape {tuple(input.shape)})")
    if mode == "constant":
        value = 0 if value is None else value
        return ConstantPad.apply(input, pairs=tuple(pairs), value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown padding mode {mode!r}; expected 'constant', 'reflect', 'replicate' or "
                         "'circular'")
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} does not take a value argument, got value={value}")
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise ValueError(f"pad: mode {mode!r} with padding of length {len(widths)} needs a {k + 1}-D or "
                         f"{k + 2}-D input, got shape {tuple(input.shape)}")
    out = input
    for d in range(input.ndim - k, input.ndim):
        n, (l, r) = input.shape[d], pairs[d]
        if (l, r) == (0, 0):
            continue
        limit = {"reflect": n - 1, "circular": n, "replicate": None}[mode]
        if n == 0 or (limit is not None and builtins.max(l, r) > limit):
            raise ValueError(f"pad: padding ({l}, {r}) is too large for mode {mode!r} at dimension {d} of size {n} "
                             f"(input shape {tuple(input.shape)}; reflect needs padding < size, circular <= size)")
        out = _take(out, d, _pad_source_index(n, l, r, mode))
    return out


# ================================================================================================
# masked_fill, gather, scatter_add, index_select
# ================================================================================================

class MaskedFill(Function):
    """y = where(mask, value, x), mask broadcast with x; value a 0-d tensor.

    dx = sum_to(where(mask, 0, dy), x.shape);  dvalue = sum of dy where mask (a 0-d gradient).
    """

    saves_inputs = False

    def forward(self, x, value, mask):
        self.mask = mask
        return np.where(mask, value.astype(x.dtype), x)

    def backward(self, dy):
        from .elementwise import where
        from .reduction import sum as _sum

        x, value = self.inputs
        mask = Tensor._make(self.mask)
        dx = sum_to(where(mask, 0.0, dy), x.shape) if self.needs_input_grad[0] else None
        dvalue = cast(_sum(where(mask, dy, 0.0)), value.dtype) if self.needs_input_grad[1] else None
        return dx, dvalue

    def jvp(self, dx, dvalue):
        y = self._outputs[0]
        return np.where(self.mask, 0 if dvalue is None else dvalue, 0 if dx is None else dx).astype(y.dtype)


def masked_fill(input, mask, value):
    """`input` with the elements where the bool `mask` is True replaced by `value` (a number or a 0-d tensor).

    mask and input broadcast together (as PyTorch's out-of-place masked_fill); dtype is input's.
    """
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {got}")
    check_broadcast("masked_fill", input.shape, mask.shape)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a Python number or a 0-d tensor, got a tensor of shape "
                             f"{tuple(value.shape)}")
    elif isinstance(value, (builtins.bool, builtins.int, builtins.float, np.generic)):
        value = Tensor._make(np.asarray(value, dtype=input.dtype))
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    return MaskedFill.apply(input, value, mask=mask.array)


def _check_index_tensor(index, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a Tensor, got {type(index).__name__}")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError(f"{op}: index must be an int64 (or int32) tensor, got dtype {index.dtype}")
    return index.array.astype(np.int64, copy=False)


def _check_range(idx, n, dim, op, shape):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"{op}: index {bad} is out of range for dimension {dim} of size {n} "
                         f"(input shape {tuple(shape)}; valid indices are 0..{n - 1})")


def _grid(idx, dim):
    """The full NumPy index addressing element (i_0, .., idx[i], .., i_k) for every position i of `idx`."""
    k = idx.ndim
    return tuple(idx if d == dim else np.arange(idx.shape[d]).reshape((-1,) + (1,) * (k - 1 - d))
                 for d in range(k))


class Gather(Function):
    """y[i_0..i_k] = x[i_0.., index[i_0..i_k] (at dim) ..i_k].   Shapes: y has index's shape.

    dx = scatter_add(zeros(x.shape), dim, index, dy): each dy entry goes back to the position it was
    read from, repeated reads accumulate.
    """

    def forward(self, x, dim, index):
        self.dim, self.index = dim, index
        part = x[tuple(slice(None) if d == dim else slice(0, m) for d, m in enumerate(index.shape))]
        return np.take_along_axis(part, index, axis=dim)

    def backward(self, dy):
        zeros = Tensor._make(np.zeros(self.inputs[0].shape, dy.dtype))
        return None if not self.needs_input_grad[0] else ScatterAdd.apply(zeros, dy, dim=self.dim, index=self.index)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, self.dim, self.index)


class ScatterAdd(Function):
    """y = x copy; y[i_0.., index[i_0..i_k] (at dim), ..i_k] += src[i_0..i_k] for each position of index.

    Shapes: y like x; src at least index's size in every dim (its extra entries are unused).
    dx = dy;  dsrc = gather(dy, dim, index), zero-padded to src's shape.
    """

    def forward(self, x, src, dim, index):
        self.dim, self.index = dim, index
        out = x.copy()
        np.add.at(out, _grid(index, dim), src[tuple(slice(0, m) for m in index.shape)])
        return out

    def backward(self, dy):
        x, src = self.inputs
        dsrc = gather_back(dy, self.dim, self.index, src.shape) if self.needs_input_grad[1] else None
        return (dy if self.needs_input_grad[0] else None), dsrc

    def jvp(self, dx, dsrc):
        y = self._outputs[0]
        out = np.zeros_like(y) if dx is None else dx.copy()
        if dsrc is not None:
            np.add.at(out, _grid(self.index, self.dim), dsrc[tuple(slice(0, m) for m in self.index.shape)])
        return out


def gather_back(dy, dim, index, src_shape):
    """The gradient of a scattered `src`: gather(dy, dim, index), zero-padded up to src's shape (the
    entries of src beyond index's shape were never read)."""
    dsrc = Gather.apply(dy, dim=dim, index=index)
    if dsrc.shape != tuple(src_shape):
        widths = [w for m, n in zip(reversed(index.shape), reversed(src_shape)) for w in (0, n - m)]
        dsrc = pad(dsrc, widths)
    return dsrc


def _gather_checks(op, input, dim, index, src=None):
    idx = _check_index_tensor(index, op)
    d = normalize_dim(dim, input.ndim, op)
    if idx.ndim != input.ndim:
        raise ValueError(f"{op}: index must have as many dimensions as the input, got index shape "
                         f"{tuple(idx.shape)} for input shape {tuple(input.shape)}")
    if any(m > n for e, (m, n) in enumerate(zip(idx.shape, input.shape)) if e != d):
        raise ValueError(f"{op}: index shape {tuple(idx.shape)} must be no larger than input shape "
                         f"{tuple(input.shape)} in every dimension but {dim}")
    if src is not None:
        if src.dtype != input.dtype:  # nothing is converted silently, as in PyTorch
            raise TypeError(f"{op}: src dtype {src.dtype} must equal the input dtype {input.dtype}")
        if src.ndim != idx.ndim or any(m > n for m, n in zip(idx.shape, src.shape)):
            raise ValueError(f"{op}: index shape {tuple(idx.shape)} must be no larger than src shape "
                             f"{tuple(src.shape)} in every dimension")
    _check_range(idx, input.shape[d] if input.ndim else 1, dim, op, input.shape)
    return d, idx


@accepts_axis
def gather(input, dim, index):
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim=0), etc.; index has input's number of dims."""
    if input.ndim == 0:
        return reshape(gather(reshape(input, 1), dim, reshape(index, 1)), ())
    d, idx = _gather_checks("gather", input, dim, index)
    return Gather.apply(input, dim=d, index=idx)


def scatter_add(input, dim, index, src):
    """A copy of input with src[i][j][k] added at [index[i][j][k]][j][k] (for dim=0), etc.; repeats accumulate."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    if input.ndim == 0:
        return reshape(scatter_add(reshape(input, 1), dim, reshape(index, 1), reshape(src, 1)), ())
    d, idx = _gather_checks("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, src, dim=d, index=idx)


@accepts_axis
def index_select(input, dim, index):
    """The entries of `input` at positions `index` (1-D or 0-d int tensor) along `dim`; repeats allowed."""
    idx = _check_index_tensor(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D (or 0-d), got shape {tuple(idx.shape)}")
    if input.ndim == 0:
        return reshape(index_select(reshape(input, 1), dim, index), ())
    d = normalize_dim(dim, input.ndim, "index_select")
    _check_range(idx, input.shape[d], dim, "index_select", input.shape)
    return _take(input, d, idx.reshape(-1))


# ================================================================================================
# one_hot, tril, triu
# ================================================================================================

def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape tensor.shape + (num_classes,), 1 at each class index (num_classes=-1: max + 1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype != dtypes.int64:
        got = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expects an int64 tensor of class indices, got {got}")
    x = tensor.array
    if num_classes == -1:
        if x.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(x.max()) + 1
    elif num_classes < 1 and x.size:
        raise ValueError(f"one_hot: num_classes must be positive (or -1), got {num_classes}")
    if x.size and x.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(x.min())}")
    if x.size and x.max() >= num_classes:
        raise ValueError(f"one_hot: class value {int(x.max())} is too large for num_classes={num_classes} "
                         f"(values must be < num_classes)")
    return Tensor._make((x[..., None] == np.arange(num_classes)).astype(np.int64))


class Tril(Function):
    """y = x with entries above diagonal k (j - i > k) of the last two dims set to 0.   dx = tril(dy, k)."""

    saves_inputs = False

    def forward(self, x, k):
        self.k = k
        return np.tril(x, k)

    def backward(self, dy):
        return Tril.apply(dy, k=self.k)

    def jvp(self, dx):
        return None if dx is None else np.tril(dx, self.k)


class Triu(Function):
    """y = x with entries below diagonal k (j - i < k) of the last two dims set to 0.   dx = triu(dy, k)."""

    saves_inputs = False

    def forward(self, x, k):
        self.k = k
        return np.triu(x, k)

    def backward(self, dy):
        return Triu.apply(dy, k=self.k)

    def jvp(self, dx):
        return None if dx is None else np.triu(dx, self.k)


def _tri_check(input, diagonal, op):
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    if not isinstance(diagonal, (builtins.int, np.integer)) or isinstance(diagonal, builtins.bool):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    return int(diagonal)


def tril(input, diagonal=0):
    """Lower triangle of the last two dims: keep entries with col - row <= diagonal, zero the rest."""
    return Tril.apply(input, k=_tri_check(input, diagonal, "tril"))


def triu(input, diagonal=0):
    """Upper triangle of the last two dims: keep entries with col - row >= diagonal, zero the rest."""
    return Triu.apply(input, k=_tri_check(input, diagonal, "triu"))


# ================================================================================================
# nonzero, masked_select
# ================================================================================================

def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements, in row-major order (no gradient).

    as_tuple=False: an int64 tensor of shape (count, ndim), one row per element; as_tuple=True: a tuple
    of ndim 1-D index tensors (for `x[nonzero(x, as_tuple=True)]`). A 0-d input counts as 1-D.
    """
    arr = input.array if input.ndim else input.array.reshape(1)
    found = np.nonzero(arr)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in found)
    rows = np.stack(found, axis=1).astype(np.int64) if input.ndim else np.zeros((int(arr[0] != 0), 0), np.int64)
    return Tensor._make(rows)


def argwhere(input):
    """nonzero(input) as a (count, ndim) int64 tensor."""
    return nonzero(input)


def masked_select(input, mask):
    """The elements of `input` where the bool `mask` is True, as a 1-D tensor (input and mask broadcast).

    It is input broadcast to the common shape, then indexed by the mask, so the gradient flows back
    through GetItem (to the selected elements) and the broadcast (summed).
    """
    from .shape import broadcast_to

    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(f"masked_select: mask must be a bool tensor, got {got}")
    shape = check_broadcast("masked_select", input.shape, mask.shape)
    full = broadcast_to(input, shape)
    return getitem(full, broadcast_to(mask, shape).array if mask.shape != shape else mask)
