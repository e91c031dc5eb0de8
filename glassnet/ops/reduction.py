"""Reductions over one, several or all dimensions (`dim`, `keepdim` as in PyTorch).

The backward of a reduction spreads each output gradient back over the elements it summarised:
for a sum, to every element equally; for a max, to the element that won.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dims
from .shape import broadcast_to, reshape


__all__ = ["sum", "mean"]


def _kept_shape(shape, dims):
    """`shape` with the reduced `dims` set to 1 (the keepdim shape), for broadcasting gradients back."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over `dims`.   dx = dy broadcast back over the reduced dims."""

    def forward(self, x, dims, keepdim):
        self.dims = dims
        return x.sum(axis=dims, keepdims=keepdim)

    def backward(self, dy):
        x = self.inputs[0]
        return broadcast_to(reshape(dy, _kept_shape(x.shape, self.dims)), x.shape)


def sum(input, dim=None, keepdim=False):
    dims = normalize_dims(dim, input.ndim, "sum")
    if input.dtype.kind in "bi" and input.dtype.itemsize < 8:
        input = Tensor._make(input.data.astype(np.int64))
    return Sum.apply(input, dims=dims, keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    """sum / count; the backward is Sum's divided by the count."""
    if input.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating point tensor, got {input.dtype}")
    dims = normalize_dims(dim, input.ndim, "mean")
    count = int(np.prod([input.shape[d] for d in dims]))
    return sum(input, dims, keepdim) / count
