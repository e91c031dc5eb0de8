"""Dropout (also in glassnet.nn.functional): inverted dropout on single elements or whole channels."""
import numbers

import numpy as np

from ..autograd.function import Function
from ..random import rng
from ..tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


class Dropout(Function):
    """y = x * s, where s = mask / (1 - p) and mask ~ Bernoulli(1 - p) (drawn by the caller, with a
    shape that broadcasts to x: x's shape for element dropout, (N, C, 1, ...) for channel dropout).

    dx = dy * s  (same shape as x); forward mode: dy = dx * s. Both are again products with the same
    constant s, so any order of derivative works.
    """

    def forward(self, x, scale):
        self.scale = scale
        return x * scale

    def backward(self, dy):
        return dy * Tensor._make(self.scale)

    def jvp(self, dx):  # linear in x for the drawn mask: dy = dx * s
        return None if dx is None else dx * self.scale


def _check_p(p, op):
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")


def _apply(input, p, mask_shape, generator=None):
    """Drop with probability p using a Bernoulli mask of `mask_shape` (broadcast over the rest)."""
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got {input.dtype}")
    if p == 1:
        scale = np.zeros(mask_shape, input.dtype)
    else:
        keep = rng(generator).random(mask_shape, dtype=np.float32) >= np.float32(p)
        scale = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return Dropout.apply(input, scale=scale)


def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zero each element with probability p and scale the others by 1/(1-p), so the
    expected value is unchanged; the identity when not training or when p == 0. `inplace` is ignored."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _apply(input, p, input.shape)


def _channel_dropout(input, p, training, op, dims):
    _check_p(p, op)
    if input.ndim not in (dims + 1, dims + 2):
        names = "(N, C, " + ", ".join({1: "L", 2: "HW", 3: "DHW"}[dims]) + ")"
        raise ValueError(
            f"{op}: expected a {dims + 2}-D input {names} or a {dims + 1}-D unbatched input, "
            f"got shape {input.shape}"
        )
    if not training or p == 0:
        return input
    lead = input.ndim - dims  # (N, C) or (C,)
    return _apply(input, p, input.shape[:lead] + (1,) * dims)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) input: each channel is zeroed entirely with probability p,
    the others scaled by 1/(1-p)."""
    return _channel_dropout(input, p, training, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) or (C, H, W) input: each channel (an H x W map) is zeroed
    entirely with probability p, the others scaled by 1/(1-p)."""
    return _channel_dropout(input, p, training, "dropout2d", 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) input: each channel (a D x H x W volume) is zeroed
    entirely with probability p, the others scaled by 1/(1-p)."""
    return _channel_dropout(input, p, training, "dropout3d", 3)


# SELU's negative saturation value, -scale * alpha (Klambauer et al. 2017)
_ALPHA_PRIME = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _alpha_apply(input, p, mask_shape, op):
    """y = a (x keep + alpha' (1 - keep)) + b: dropped units take SELU's saturation value alpha', and
    a = ((1 - p)(1 + p alpha'^2))^(-1/2), b = -a alpha' p keep the mean and variance of a unit-normal input.
    Written as Dropout (x times the constant a keep) plus a constant: dx = dy a keep."""
    from .arithmetic import add

    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    if p == 1:  # every unit dropped: PyTorch returns zeros
        return Dropout.apply(input, scale=np.zeros(mask_shape, input.dtype))
    keep = (rng().random(mask_shape, dtype=np.float32) >= np.float32(p)).astype(input.dtype)
    a = ((1 - p) * (1 + p * _ALPHA_PRIME ** 2)) ** -0.5
    b = -a * _ALPHA_PRIME * p
    shift = (a * _ALPHA_PRIME * (1 - keep) + b).astype(input.dtype)
    return add(Dropout.apply(input, scale=keep * input.dtype.type(a)), Tensor._make(shift))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (for SELU networks): in training, each element is set to SELU's saturation value with
    probability p, then all are scaled and shifted so that a standard-normal input keeps mean 0 and variance 1;
    the identity otherwise. Note PyTorch's default training=False."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    return _alpha_apply(input, p, input.shape, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (input (N, C, *) or (C, *)): see alpha_dropout."""
    _check_p(p, "feature_alpha_dropout")
    if not training or p == 0:
        return input
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input with a channel dimension (N, C, ...), got shape "
                         f"{input.shape}")
    return _alpha_apply(input, p, input.shape[:2] + (1,) * (input.ndim - 2), "feature_alpha_dropout")
