"""Shape operations: the data is only rearranged, so each backward rearranges the gradient back.

Broadcasting and summing are adjoint to each other: `broadcast_to` copies along new or size-1
dimensions and its backward sums them (`sum_to`); `sum_to`'s backward broadcasts again.
"""
import operator

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import accepts_axis, check_broadcast, normalize_dim


__all__ = ["cast", "sum_to", "broadcast_to", "expand", "reshape", "view", "flatten", "unflatten", "ravel", "squeeze",
    "unsqueeze", "permute", "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "clone", "roll",
    "atleast_1d", "atleast_2d", "atleast_3d"]


class Cast(Function):
    """y = x converted to another float or complex dtype.   dx = dy converted back to x's dtype.

    complex -> real keeps the real part (so the gradient that reaches a real input of a complex
    computation is the real part of its complex gradient, PyTorch's convention).
    """

    saves_inputs = False

    def forward(self, x, dtype):
        return (x.real if x.dtype.kind == "c" and dtype.kind != "c" else x).astype(dtype)

    def backward(self, dy):
        return cast(dy, self.inputs[0].dtype)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, self._outputs[0].dtype)


def cast(input, dtype):
    """Convert to `dtype`; differentiable between float and complex dtypes, a plain conversion otherwise."""
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    if dtype.kind in "fc" and input.dtype.kind in "fc":
        return Cast.apply(input, dtype=dtype)
    return Tensor._make(input.array.astype(dtype))


def _reduced_axes(shape, target):
    """The axes of `shape` that broadcasting from `target` created or stretched."""
    lead = len(shape) - len(target)
    axes = tuple(range(lead))
    return axes + tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)


class SumTo(Function):
    """y = x summed over the dims that broadcasting `shape` to x.shape created.   dx = broadcast_to(dy, x.shape)."""

    saves_inputs = False

    def forward(self, x, shape):
        lead = x.ndim - len(shape)
        y = x.sum(axis=_reduced_axes(x.shape, shape), keepdims=True)
        return y.reshape(shape) if lead else y

    def backward(self, dy):
        return broadcast_to(dy, self.inputs[0].shape)

    def jvp(self, dx):  # linear: the tangent summed the same way
        return None if dx is None else self.forward(dx, self._outputs[0].shape)


class BroadcastTo(Function):
    """y = x repeated along new leading dims and size-1 dims.   dx = sum_to(dy, x.shape)."""

    saves_inputs = False
    is_view = True

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, dy):
        return sum_to(dy, self.inputs[0].shape)

    def jvp(self, dx):
        return None if dx is None else np.broadcast_to(dx, self._outputs[0].shape)


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

    saves_inputs = False
    is_view = True

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, dy):
        return reshape(dy, self.inputs[0].shape)

    def jvp(self, dx):
        return None if dx is None else dx.reshape(self._outputs[0].shape)


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


@accepts_axis
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


@accepts_axis
def unsqueeze(input, dim):
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


class Permute(Function):
    """y = x with its axes reordered by `dims`.   dx = dy permuted by the inverse order."""

    saves_inputs = False
    is_view = True

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, dy):
        return permute(dy, *np.argsort(self.dims))

    def jvp(self, dx):
        return None if dx is None else dx.transpose(self.dims)


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

    saves_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, dy):
        return dy

    def jvp(self, dx):
        return None if dx is None else dx.copy()


def clone(input):
    return Clone.apply(input)



def swapaxes(input, axis0, axis1):
    """transpose under NumPy's name."""
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def t(input):
    """The transpose of a matrix (a 0-d or 1-D tensor is returned as is)."""
    if input.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {input.shape}; use transpose")
    return transpose(input, 0, -1) if input.ndim == 2 else input


def movedim(input, source, destination):
    """Move the dims in `source` (an int or a sequence) to the positions in `destination`; the other dims
    keep their order. A permute."""
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
    src = [normalize_dim(d, input.ndim, "movedim") for d in src]
    dst = [normalize_dim(d, input.ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in source {source} or destination {destination}")
    order = [None] * input.ndim
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(input.ndim) if d not in src)
    return permute(input, *[next(rest) if o is None else o for o in order])


moveaxis = movedim


def unflatten(input, dim, sizes):
    """Split dimension `dim` into several of the given `sizes` (one may be -1): a reshape."""
    d = normalize_dim(dim, input.ndim, "unflatten")
    sizes = _shape_arg(tuple(sizes))
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[d]) or (
            -1 in sizes and (known == 0 or input.shape[d] % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to the size {input.shape[d]} of dimension "
                         f"{dim} (input shape {input.shape})")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def ravel(input):
    return reshape(input, -1)


def _atleast(input, n):
    if input.ndim >= n:
        return input
    if input.ndim == 0:
        return reshape(input, (1,) * n)
    if input.ndim == 1:  # a row: (1, k), and (1, k, 1) for 3-D
        return reshape(input, (1,) + input.shape + (1,) * (n - 2))
    return reshape(input, input.shape + (1,))


def atleast_1d(input):
    return _atleast(input, 1)


def atleast_2d(input):
    return _atleast(input, 2)


def atleast_3d(input):
    return _atleast(input, 3)


class Roll(Function):
    """y = x shifted cyclically by `shifts[i]` along `dims[i]` (elements leaving one end enter at the other).

    dx = dy rolled back by -shifts.   Shapes: like x.
    """

    saves_inputs = False

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return np.roll(x, shifts, dims)

    def backward(self, dy):
        return Roll.apply(dy, shifts=tuple(-s for s in self.shifts), dims=self.dims)

    def jvp(self, dx):
        return None if dx is None else np.roll(dx, self.shifts, self.dims)


def roll(input, shifts, dims=None):
    """Cyclic shift along `dims` (ints or sequences, as many as shifts); with dims=None the flattened
    tensor is rolled and the shape restored."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: with dims=None give one shift, got {shifts}")
        return reshape(Roll.apply(reshape(input, -1), shifts=shifts, dims=(0,)), input.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    dims = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)
