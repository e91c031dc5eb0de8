"""Activation functions (also in glassnet.nn.functional, as in PyTorch)."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


__all__ = ["relu"]


class ReLU(Function):
    """y = max(x, 0).   dx = dy * [x > 0]."""

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0).astype(x.dtype, copy=False)

    def backward(self, dy):
        return dy * Tensor._make(self.mask.astype(dy.dtype))


def relu(input):
    return ReLU.apply(input)
