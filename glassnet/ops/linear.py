"""The affine layer's operation: linear(x, W, b) = x W^T + b, fused into one node."""
import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function, autocast_active
from ..tensor import Tensor
from ._util import matmul

__all__ = ["linear"]


class Linear(Function):
    """y = x W^T + b  for x (*, in), W (out, in), b (out,) -> y (*, out).

    Backward, with the leading dims * flattened into one of size M (x2 (M, in), dy2 (M, out)):
      dx = dy2 W               (M, in) -> (*, in)
      dW = dy2^T x2            (out, in)   (summed over all leading dims)
      db = sum_rows(dy2)       (out,)
    Computed as 2-D GEMMs on raw arrays (no per-op graph overhead, no copy of a contiguous x; float16
    multiplied in float32, see ops._util.matmul); the
    row sum db is a product with a vector of ones, which BLAS does several times faster than
    dy2.sum(0), and accumulates more accurately. Under create_graph the same formulas run as glassnet
    ops instead, so higher-order gradients work.
    """

    saves_inputs = "cross"

    def forward(self, x, weight, bias=None):
        self.x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # a view, or the one copy of a strided x
        y = matmul(self.x2, weight.T)  # one 2-D GEMM over all leading dims
        if bias is not None:
            y += bias
        return y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, dy):
        if grad_mode.is_grad_enabled():  # create_graph=True: record the backward itself
            return self._backward_graph(dy)
        x, weight = self.inputs[0].array, self.inputs[1].array
        need = self.needs_input_grad
        m = self.x2.shape[0]
        dy2 = dy.array.reshape(m, weight.shape[0])
        dx = Tensor._make(matmul(dy2, weight).reshape(x.shape)) if need[0] else None
        dw = Tensor._make(matmul(dy2.T, self.x2)) if need[1] else None
        if len(need) == 2:
            return dx, dw
        db = Tensor._make(matmul(_ones(m, dy2.dtype), dy2)) if need[2] else None
        return dx, dw, db

    def _backward_graph(self, dy):
        x, weight = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        out_f, in_f = weight.shape
        m = math.prod(dy.shape[:-1])
        dy2 = dy.reshape(m, out_f)
        dx = dy2.matmul(weight).reshape(x.shape) if need[0] else None
        dw = dy2.mT.matmul(x.reshape(m, in_f)) if need[1] else None
        if len(need) == 2:
            return dx, dw
        return dx, dw, (dy2.sum(0) if need[2] else None)

    def jvp(self, dx, dw, db=None):
        """Forward mode: dy = dx W^T + x dW^T + db."""
        x, w = self.inputs[0].array, self.inputs[1].array
        return add_tangents(self._outputs[0].shape, None if dx is None else np.matmul(dx, w.T),
                            None if dw is None else np.matmul(x, dw.T), db)


_ONES = {}


def _ones(n, dtype):
    """A vector of n ones (a slice of one kept per dtype, grown as needed)."""
    ones = _ONES.get(dtype)
    if ones is None or ones.size < n:
        ones = _ONES[dtype] = np.ones(max(n, 1024), dtype)
    return ones[:n]


def linear(input, weight, bias=None):
    """Applies y = input @ weight.T + bias. input (*, in_features), weight (out_features, in_features),
    bias (out_features,) or None; returns (*, out_features)."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"Linear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"Linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    out_f, in_f = weight.shape
    if input.ndim == 0 or input.shape[-1] != in_f:
        raise ValueError(
            f"Linear: input of shape {input.shape} does not match weight of shape {weight.shape}: "
            f"expected an input of shape (*, {in_f}) (last dimension = in_features = {in_f})"
        )
    if bias is not None and bias.shape != (out_f,):
        raise ValueError(f"Linear: bias must have shape ({out_f},) to match weight {weight.shape}, got {bias.shape}")
    dts = {t.dtype for t in (input, weight, bias) if t is not None}
    if (len(dts) != 1 and not autocast_active()) or input.dtype.kind != "f":
        raise TypeError(
            "Linear: input, weight and bias must have the same floating dtype, got "
            f"input {input.dtype}, weight {weight.dtype}" + (f", bias {bias.dtype}" if bias is not None else "")
        )
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
