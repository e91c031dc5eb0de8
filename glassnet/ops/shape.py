"""Shape operations: the data is only rearranged, so each backward rearranges the gradient back.

Broadcasting and summing are adjoint to each other: `broadcast_to` copies along new or size-1
dimensions and its backward sums them (`sum_to`); `sum_to`'s backward broadcasts again.
"""
import operator

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import check_broadcast, normalize_dim


__all__ = ["cast", "sum_to", "broadcast_to", "expand", "reshape", "view", "flatten", "squeeze", "unsqueeze",
    "permute", "transpose", "clone"]


class Cast(Function):
    """y = x converted to another float dtype.   dx = dy converted back to x's dtype."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, dy):
        return cast(dy, self.inputs[0].dtype)


def cast(input, dtype):
    """Convert to `dtype`; differentiable between float dtypes, a plain conversion otherwise."""
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    if dtype.kind == "f" and input.dtype.kind == "f":
        return Cast.apply(input, dtype=dtype)
    return Tensor._make(input.array.astype(dtype))


def _reduced_axes(shape, target):
    """The axes of `shape` that broadcasting from `target` created or stretched."""
    lead = len(shape) - len(target)
    axes = tuple(range(lead))
    return axes + tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)


class SumTo(Function):
    """y = x summed over the dims that broadcasting `shape` to x.shape created.   dx = broadcast_to(dy, x.shape)."""

    def forward(self, x, shape):
        lead = x.ndim - len(shape)
        y = x.sum(axis=_reduced_axes(x.shape, shape), keepdims=True)
        return y.reshape(shape) if lead else y

    def backward(self, dy):
        return broadcast_to(dy, self.inputs[0].shape)


class BroadcastTo(Function):
    """y = x repeated along new leading dims and size-1 dims.   dx = sum_to(dy, x.shape)."""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, dy):
        return sum_to(dy, self.inputs[0].shape)


def sum_to(input, shape):
    """Sum `input` down to `shape` (the reverse of broadcasting `shape` up to input.shape)."""
    shape = tuple(shape)
    if input.shape == shape:
        return input
    return SumTo.apply(input, shape=shape)


def broadcast_to(input, shape):
    shape = tuple(shape)
    if input.shape == shape:
        return input
    if check_broadcast("broadcast_to", input.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {input.shape} to {shape}")
    return BroadcastTo.apply(input, shape=shape)


def expand(input, *sizes):
    """Like broadcast_to, where -1 keeps the size of that dimension."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} given for a tensor of shape {input.shape}; "
                         f"need at least {input.ndim}")
    if any(s == -1 for s in sizes[:lead]) or any(s < -1 for s in sizes):
        raise ValueError(f"expand: sizes {sizes} for a tensor of shape {input.shape}: -1 is only allowed for "
                         "existing dimensions and other sizes must be non-negative")
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(input, shape)


class Reshape(Function):
    """y = x with a new shape of the same number of elements.   dx = dy reshaped to x.shape."""

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, dy):
        return reshape(dy, self.inputs[0].shape)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape: sizes must be ints, got {shape!r}") from None


def reshape(input, *shape):
    shape = _shape_arg(shape)
    if any(s < -1 for s in shape):
        raise ValueError(f"reshape: invalid size in shape {shape} (sizes must be non-negative, or -1 to infer one)")
    known = [s for s in shape if s != -1]
    n = int(np.prod(known)) if known else 1
    if shape.count(-1) > 1 or (-1 in shape and (n == 0 or input.array.size % n)) or (
        -1 not in shape and n != input.array.size
    ):
        raise ValueError(f"reshape: shape {shape} is invalid for a tensor of shape {input.shape} "
                         f"({input.array.size} elements)")
    if input.shape == shape:
        return input
    return Reshape.apply(input, shape=shape)


view = reshape


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape[:s] + (int(np.prod(input.shape[s:e + 1])),) + input.shape[e + 1:]
    return reshape(input, shape)


def squeeze(input, dim=None):
    """Remove size-1 dimensions (all of them, or those in `dim` that have size 1, as PyTorch)."""
    if dim is None:
        dims = [i for i, n in enumerate(input.shape) if n == 1]
    else:
        dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
        dims = [normalize_dim(d, input.ndim, "squeeze") for d in dims]
        if len(set(dims)) != len(dims):
            raise ValueError(f"squeeze: dim {dim} names a dimension more than once")
        dims = [d for d in dims if input.ndim and input.shape[d] == 1]
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if i not in dims))


def unsqueeze(input, dim):
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


class Permute(Function):
    """y = x with its axes reordered by `dims`.   dx = dy permuted by the inverse order."""

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, dy):
        return permute(dy, *np.argsort(self.dims))


def permute(input, *dims):
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise ValueError(f"permute: {len(dims)} dims given for a tensor of shape {input.shape}")
    dims = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{input.ndim - 1}")
    if dims == tuple(range(input.ndim)):
        return input
    return Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    n = input.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    d0, d1 = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = d1, d0
    return permute(input, *dims)


class Clone(Function):
    """y = a copy of x.   dx = dy."""

    def forward(self, x):
        return x.copy()

    def backward(self, dy):
        return dy


def clone(input):
    return Clone.apply(input)

