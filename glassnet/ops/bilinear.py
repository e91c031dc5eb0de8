"""The bilinear layer (also in glassnet.nn.functional): y_o = x1^T W_o x2 + b_o, one matrix W_o per output.

Shapes: x1 (*, I1), x2 (*, I2), W (O, I1, I2), b (O,) -> y (*, O). Composed as one einsum (whose backward
is einsums again: dx1 = einsum(dy, W, x2), dW = einsum(dy, x1, x2), dx2 = einsum(dy, x1, W)) plus the bias.
"""
from .matrix import einsum
from .shape import reshape

__all__ = ["bilinear"]


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    op = "bilinear"
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    o, i1, i2 = weight.shape
    if input1.shape[:-1] != input2.shape[:-1] or input1.ndim == 0:
        raise ValueError(f"{op}: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must share all but "
                         "their last dimension")
    if input1.shape[-1] != i1 or input2.shape[-1] != i2:
        raise ValueError(f"{op}: inputs of sizes {input1.shape[-1]} and {input2.shape[-1]} do not match weight "
                         f"{tuple(weight.shape)}, expected {i1} and {i2}")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} must be ({o},)")
    lead = tuple(input1.shape[:-1])
    y = einsum("bi,oij,bj->bo", reshape(input1, (-1, i1)), weight, reshape(input2, (-1, i2)))
    if bias is not None:
        y = y + bias
    return reshape(y, lead + (o,))
