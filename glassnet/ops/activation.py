"""Activation functions (also in glassnet.nn.functional, as in PyTorch).

Backwards are written with Tensor operations (so second derivatives work) wherever the derivative
is a simple expression of the input or the output; masks such as [x > 0] are constants. GELU's
backward is raw NumPy from values saved in the forward.

`inplace=True` is accepted where PyTorch has it, for compatibility; the result is always a new
tensor and the input is left unchanged (use the returned value).
"""
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .shape import cast


__all__ = ["relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax"]


def _const(mask, dtype):
    """A boolean mask as a constant tensor of `dtype` (1 where true, 0 elsewhere)."""
    return Tensor._make(mask.astype(dtype))


def _check_float(input, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {input.dtype}")


# ---- piecewise linear ----------------------------------------------------------------------------
class ReLU(Function):
    """y = max(x, 0).   dx = dy * [x > 0]."""

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, np.zeros((), x.dtype))

    def backward(self, dy):
        return dy * _const(self.mask, dy.dtype)


def relu(input, inplace=False):
    return ReLU.apply(input)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   dx = dy * (1 if x > 0 else slope)."""

    def forward(self, x, slope):
        self.mask = x > 0
        self.slope = slope
        return np.where(self.mask, x, x * x.dtype.type(slope))

    def backward(self, dy):
        factor = np.where(self.mask, 1, self.slope).astype(dy.dtype)
        return dy * Tensor._make(factor)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_float(input, "leaky_relu")
    return LeakyReLU.apply(input, slope=float(negative_slope))


# ---- exponential family --------------------------------------------------------------------------
class ELU(Function):
    """y = x if x > 0 else alpha * (e^x - 1).   dx = dy if x > 0 else dy * (y + alpha)  (= alpha e^x)."""

    def forward(self, x, alpha):
        self.mask = x > 0
        self.alpha = alpha
        negative = x.dtype.type(alpha) * np.expm1(np.minimum(x, np.zeros((), x.dtype)))
        return np.where(self.mask, x, negative)

    def backward(self, dy):
        from .elementwise import where

        return dy * where(Tensor._make(self.mask), 1.0, self.output() + self.alpha)


def elu(input, alpha=1.0, inplace=False):
    _check_float(input, "elu")
    return ELU.apply(input, alpha=float(alpha))


def _stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1, so neither branch overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x) (stable for large |x|).   dx = dy * y * (1 - y)."""

    def forward(self, x):
        return _stable_sigmoid(x)

    def backward(self, dy):
        y = self.output()
        return dy * y * (1 - y)


def sigmoid(input):
    _check_float(input, "sigmoid")
    return Sigmoid.apply(input)


class Tanh(Function):
    """y = tanh x.   dx = dy * (1 - y^2)."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dy):
        y = self.output()
        return dy * (1 - y * y)


def tanh(input):
    _check_float(input, "tanh")
    return Tanh.apply(input)


class SiLU(Function):
    """y = x * sigmoid(x).   dx = dy * s * (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        return x * _stable_sigmoid(x)

    def backward(self, dy):
        x = self.inputs[0]
        s = sigmoid(x)
        return dy * s * (1 + x * (1 - s))


def silu(input, inplace=False):
    _check_float(input, "silu")
    return SiLU.apply(input)


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (linear, as PyTorch).

    dx = dy * sigmoid(beta x), and dx = dy where beta x > threshold.
    """

    def forward(self, x, beta, threshold):
        self.beta = beta
        bx = x * x.dtype.type(beta)
        self.linear = bx > threshold
        soft = np.log1p(np.exp(np.minimum(bx, x.dtype.type(threshold)))) / x.dtype.type(beta)
        return np.where(self.linear, x, soft)

    def backward(self, dy):
        from .elementwise import where

        s = sigmoid(self.inputs[0] * self.beta)
        return dy * where(Tensor._make(self.linear), 1.0, s)


def softplus(input, beta=1.0, threshold=20.0):
    _check_float(input, "softplus")
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


# ---- GELU ----------------------------------------------------------------------------------------
def _erfc(x):
    """Complementary error function, elementwise, computed in float64.

    Chebyshev-fitted approximation from Numerical Recipes in C (2nd ed., section 6.2, "erfcc"),
    fractional error below 1.2e-7 everywhere:
        erfc(z) ~ t exp(-z^2 + P(t)),  t = 1 / (1 + z/2),  z = |x| >= 0;   erfc(-z) = 2 - erfc(z).
    P is evaluated by Horner's rule, in place to spare temporaries.
    """
    x = np.asarray(x, np.float64)
    z = np.abs(x)
    t = 0.5 * z
    t += 1.0
    np.reciprocal(t, out=t)
    ans = np.full_like(t, _ERFC_COEFFS[-1])
    for c in _ERFC_COEFFS[-2::-1]:
        ans *= t
        ans += c
    z *= z
    ans -= z
    np.exp(ans, out=ans)
    ans *= t
    return np.where(x >= 0, ans, 2.0 - ans)


# P(t) = c0 + c1 t + ... + c9 t^9 (Numerical Recipes' erfcc coefficients)
_ERFC_COEFFS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
                1.48851587, -0.82215223, 0.17087277)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_TANH_C = 0.044715


class GELU(Function):
    """Gaussian error linear unit.

    approximate="none":  y = x Phi(x),  Phi(x) = erfc(-x / sqrt 2) / 2 (the normal CDF);
                         dx = dy * (Phi(x) + x phi(x)),  phi(x) = e^(-x^2/2) / sqrt(2 pi).
    approximate="tanh":  y = x (1 + t) / 2,  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3);
                         dx = dy * ((1 + t) / 2 + x (1 - t^2) u' / 2),  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
                         Evaluated as (1 + t) / 2 = sigmoid(2u) and (1 - t^2) / 4 = sigmoid(2u) sigmoid(-2u),
                         which do not cancel when t is near -1 or 1 (float32 1 + t would, for x << 0).
    Shapes: all like x. The backward is raw NumPy from values saved in the forward.
    """

    differentiable_backward = False

    def forward(self, x, approximate):
        self.approximate = approximate
        if approximate == "tanh":
            u = x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(_GELU_TANH_C) * x * x * x)
            # sigmoid(+-2u) = 1 / (1 + exp(-+2u)); an exp that overflows to inf gives exactly 0
            # (np.where on the sign of u would be several times slower than both exponentials)
            with np.errstate(over="ignore"):
                self.s_pos = 1 / (1 + np.exp(-2 * u))  # sigmoid(2u) = (1 + tanh u) / 2
                self.s_neg = 1 / (1 + np.exp(2 * u))  # sigmoid(-2u) = (1 - tanh u) / 2
            return x * self.s_pos
        cdf = _erfc(x.astype(np.float64) * -math.sqrt(0.5))
        cdf *= 0.5
        self.cdf = cdf.astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, dy):
        x = self.inputs[0].array
        if self.approximate == "tanh":
            du = x.dtype.type(_SQRT_2_OVER_PI) * (1 + x.dtype.type(3 * _GELU_TANH_C) * x * x)
            slope = self.s_pos + 2 * x * self.s_pos * self.s_neg * du
        else:
            pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            slope = self.cdf + x * pdf
        return Tensor._make((dy.array * slope).astype(x.dtype, copy=False))


def gelu(input, approximate="none"):
    """GELU, exact (erf) form or approximate="tanh"."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    _check_float(input, "gelu")
    return GELU.apply(input, approximate=approximate)


# ---- softmax family ------------------------------------------------------------------------------
def _softmax_args(input, dim, dtype, op):
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dimension to normalise over), got None")
    if dtype is not None:
        input = cast(input, dtype)
    _check_float(input, op)
    d = normalize_dim(dim, input.ndim, op)
    return input, (d if input.ndim else None)


def _shifted(x, axis):
    """x minus its max along axis, so exp() cannot overflow (the max is -inf only for all -inf)."""
    return x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)


class Softmax(Function):
    """y = e^(x - max) / sum(e^(x - max)) along dim.   dx = y * (dy - sum(dy * y, dim)).  Shapes like x."""

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(_shifted(x, axis))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, dy):
        from .reduction import sum

        y = self.output()
        return y * (dy - sum(dy * y, self.axis, keepdim=True))


class LogSoftmax(Function):
    """y = (x - max) - log(sum(e^(x - max))) along dim.   dx = dy - e^y * sum(dy, dim).  Shapes like x."""

    def forward(self, x, axis):
        self.axis = axis
        s = _shifted(x, axis)
        return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))

    def backward(self, dy):
        from .elementwise import exp
        from .reduction import sum

        return dy - exp(self.output()) * sum(dy, self.axis, keepdim=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along `dim` (required), computed stably; `dtype` casts the input first."""
    input, axis = _softmax_args(input, dim, dtype, "softmax")
    return Softmax.apply(input, axis=axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax) along `dim` (required), computed stably; `dtype` casts the input first."""
    input, axis = _softmax_args(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, axis=axis)
