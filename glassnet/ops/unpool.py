"""Max unpooling (also in glassnet.nn.functional): the partial inverse of max pooling with return_indices=True.

    y = zeros(N, C, *output_size);  y[n, c, indices[n, c, l]] = x[n, c, l]   (flat positions in each plane)

Forward and backward side by side: dx[n, c, l] = dy[n, c, indices[n, c, l]] (a gather, itself differentiable);
forward mode: the same scatter of the tangent. The default output size undoes a max pool of that kernel, stride
and padding: (L_in - 1) * stride - 2 * padding + kernel_size along each dimension.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .conv import _ntuple
from .indexing import gather
from .pooling import _check_input
from .shape import reshape

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _scatter(x, index, out_shape):
    """(B, P) values into (B, prod(out)) zero planes at flat positions `index` (B, P)."""
    planes = np.zeros((x.shape[0], int(np.prod(out_shape))), x.dtype)
    np.put_along_axis(planes, index, x, axis=1)
    return planes


class MaxUnpool(Function):
    """y[b, index[b, l]] = x[b, l] on flat planes.   dx = gather(dy, index).   Shapes: x, index (B, P) ->
    y (B, prod(out)) (the caller reshapes)."""

    saves_inputs = False

    def forward(self, x, index, out_shape):
        self.index, self.out_shape = index, out_shape
        return _scatter(x, index, out_shape)

    def backward(self, dy):
        return gather(dy, 1, Tensor._make(self.index))

    def jvp(self, dx):
        return None if dx is None else _scatter(dx, self.index, self.out_shape)


def _output_size(op, d, input, kernel, stride, padding, output_size):
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(input.shape[-d:], kernel, stride, padding))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)
    if len(size) == d + 2 or len(size) == d + 1:
        size = size[-d:]
    if len(size) != d:
        raise ValueError(f"{op}: output_size must have {d} elements (or {d + 2} with batch and channels), got "
                         f"{tuple(output_size)}")
    for n, lo, s in zip(size, default, stride):
        if not lo - s < n < lo + s:
            raise ValueError(f"{op}: invalid output_size {size}: each size must be within a stride of the default "
                             f"{default} (stride {stride})")
    return size


def _max_unpool(op, d, input, indices, kernel_size, stride, padding, output_size):
    _check_input(op, d, input)
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer Tensor (from max_pool with return_indices=True)")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    kernel = _ntuple(kernel_size, d, "kernel_size", op)
    stride = kernel if stride is None else _ntuple(stride, d, "stride", op)
    padding = _ntuple(padding, d, "padding", op)
    size = _output_size(op, d, input, kernel, stride, padding, output_size)
    lead = tuple(input.shape[:-d])
    index = indices.array.reshape(-1, int(np.prod(input.shape[-d:]))).astype(np.intp)
    plane = int(np.prod(size))
    if index.size and (index.min() < 0 or index.max() >= plane):
        bad = index[(index < 0) | (index >= plane)][0]
        raise IndexError(f"{op}: found an invalid max index {int(bad)} (output planes are of size "
                         f"{'x'.join(map(str, size))})")
    x = reshape(input, (index.shape[0], index.shape[1]))
    return reshape(MaxUnpool.apply(x, index=index, out_shape=size), lead + size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of (N, C, L) or (C, L) back at its max_pool1d index, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of (N, C, H, W) or (C, H, W) back at its max_pool2d index, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of (N, C, D, H, W) or (C, D, H, W) back at its max_pool3d index, zeros elsewhere."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
