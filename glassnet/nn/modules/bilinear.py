"""Bilinear: y = x1^T W x2 + b with a learned (out, in1, in2) weight."""
import math

import numpy as np

from ... import dtypes
from ...ops.bilinear import bilinear
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Bilinear"]


class Bilinear(Module):
    """y[..., o] = x1 W_o x2 + b_o for x1 (*, in1_features), x2 (*, in2_features) -> (*, out_features).

    weight (out_features, in1_features, in2_features) and bias (out_features,) ~ U(-1/sqrt(in1), 1/sqrt(in1)),
    as PyTorch.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
