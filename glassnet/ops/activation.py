"""Activation functions (also in glassnet.nn.functional, as in PyTorch).

Backwards are written with Tensor operations (so second derivatives work) wherever the derivative
is a simple expression of the input or the output; masks such as [x > 0] are constants. GELU's
backward is raw NumPy from values saved in the forward.

`inplace=True` is accepted where PyTorch has it, for compatibility; the result is always a new
tensor and the input is left unchanged (use the returned value).
"""
import functools
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

# The float32 normal CDF table: Phi at x = k / _CDF_STEPS for k / _CDF_STEPS in [_CDF_LO, _CDF_HI].
# Below -16, Phi < 1e-57 (0 in float32); above 8, 1 - Phi < 1e-15 (1 in float32).
_CDF_STEPS, _CDF_LO, _CDF_HI = 2048, -16, 8


@functools.cache
def _cdf_table():
    """(cdf, rise), float32 (49153,): cdf[k] = Phi(x_k) at x_k = _CDF_LO + k / _CDF_STEPS, from math.erfc
    (float64-exact), and rise[k] = Phi(x_{k+1}) - Phi(x_k) (0 for the last point: flat beyond it)."""
    grid = np.arange(_CDF_LO * _CDF_STEPS, _CDF_HI * _CDF_STEPS + 1) / _CDF_STEPS
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in grid])
    rise = np.append(np.diff(cdf), 0.0)
    return cdf.astype(np.float32), rise.astype(np.float32)


# Elements per block in the blockwise float32 GELU: a block's arrays and temporaries (about 1 MiB)
# stay in the core's L2 cache, where each NumPy pass runs about twice as fast as over a whole
# activation that has to come from memory.
_BLOCK = 32768


def _blocks(n):
    """Consecutive slices of at most _BLOCK elements covering range(n)."""
    return (slice(i, min(i + _BLOCK, n)) for i in range(0, n, _BLOCK))


def _normal_cdf32(x, out, s, k, index):
    """out = Phi(x) for a 1-D float32 block x, by linear interpolation in the table of _cdf_table
    (step h = 1/2048); s, k (float32) and index (intp) are scratch arrays of x's size.

    With s = x / h (exact: h is a power of 2), k = floor(s) and the fraction f = s - k in [0, 1):
        Phi(x) ~ cdf[k] + f * rise[k]
    Linear interpolation is off by at most h^2/8 max|Phi''| = 7e-9 (absolute); in the left tail, where
    Phi ~ phi(x)/|x|, by about (h x)^2 / 8 relative (4e-6 at x = -12). Ten NumPy passes, two of them
    table look-ups (a float32-accurate rational erf takes some 25, and runs about 1.6 times longer).
    """
    cdf, rise = _cdf_table()
    with np.errstate(over="ignore"):  # |x| > 1.6e35 gives +-inf, clipped next
        np.multiply(x, np.float32(_CDF_STEPS), out=s)
    np.clip(s, _CDF_LO * _CDF_STEPS, _CDF_HI * _CDF_STEPS, out=s)  # +-inf too; NaN stays NaN
    np.floor(s, out=k)
    s -= k  # the fraction f
    k -= np.float32(_CDF_LO * _CDF_STEPS)  # grid index, exact (integers below 2^24)
    with np.errstate(invalid="ignore"):  # NaN -> some index (mode="clip" keeps it in range); y stays NaN
        np.copyto(index, k, casting="unsafe")
    np.take(cdf, index, mode="clip", out=out)
    np.take(rise, index, mode="clip", out=k)
    k *= s
    out += k


def _gelu_exact32(x):
    """(y, cdf) = (x Phi(x), Phi(x)) for a float32 array x, block by block (see _BLOCK)."""
    flat = x.reshape(-1)
    y, cdf = np.empty_like(flat), np.empty_like(flat)
    m = min(flat.size, _BLOCK)
    s, k, index = np.empty(m, np.float32), np.empty(m, np.float32), np.empty(m, np.intp)
    for b in _blocks(flat.size):
        n = b.stop - b.start
        _normal_cdf32(flat[b], cdf[b], s[:n], k[:n], index[:n])
        np.multiply(flat[b], cdf[b], out=y[b])
    return y.reshape(x.shape), cdf.reshape(x.shape)


def _gelu_exact_slope(x, cdf, dy):
    """dy * (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi), block by block, in cdf's dtype."""
    flat, cdf, dy = x.reshape(-1), cdf.reshape(-1), dy.reshape(-1)
    dx = np.empty(flat.shape, cdf.dtype)
    for b in _blocks(flat.size):
        d = dx[b]
        with np.errstate(over="ignore"):  # x^2 = inf gives phi = 0, as it should
            np.square(flat[b], out=d, dtype=d.dtype)
        d *= -0.5
        np.exp(d, out=d)
        d *= flat[b]
        d *= 1 / math.sqrt(2 * math.pi)
        d += cdf[b]
        d *= dy[b]
    return dx.reshape(x.shape)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_TANH_C = 0.044715


def _gelu_tanh(x):
    """(y, s) = (x s, s) with s = sigmoid(2u) = (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3),
    block by block (see _BLOCK). s = 1 / (1 + e^(-2u)): an e^(-2u) that overflows to inf (u << 0) gives
    exactly 0, and no 1 + tanh u cancels to 0 for x << 0."""
    flat = x.reshape(-1)
    y, s = np.empty_like(flat), np.empty_like(flat)
    for b in _blocks(flat.size):
        e = s[b]
        np.square(flat[b], out=e)
        e *= _GELU_TANH_C
        e += 1
        e *= flat[b]  # x + 0.044715 x^3
        e *= -2 * _SQRT_2_OVER_PI  # -2u
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
        e += 1
        np.reciprocal(e, out=e)  # sigmoid(2u)
        np.multiply(flat[b], e, out=y[b])
    return y.reshape(x.shape), s.reshape(x.shape)


def _gelu_tanh_slope(x, s, dy):
    """dy * (s + 2 x s (1 - s) u'),  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2), block by block in s's dtype.

    (1 - tanh^2 u) / 4 = s (1 - s); 1 - s loses at most s's rounding error (6e-8 in float32), which
    changes the slope by less than 2e-6 relative: where 1 - s is below that, it is 0 in float32 too.
    """
    flat, s, dy = x.reshape(-1), s.reshape(-1), dy.reshape(-1)
    dx = np.empty(flat.shape, s.dtype)
    scratch = np.empty(min(flat.size, _BLOCK), s.dtype)
    for b in _blocks(flat.size):
        d, t = dx[b], scratch[: b.stop - b.start]
        np.subtract(1, s[b], out=t)
        t *= s[b]
        t *= flat[b]  # x s (1 - s) first: 0 for large |x|, before 2u' (~x^2) could overflow
        np.square(flat[b], out=d, dtype=d.dtype)
        d *= 2 * _SQRT_2_OVER_PI * 3 * _GELU_TANH_C
        d += 2 * _SQRT_2_OVER_PI  # 2 u'
        d *= t
        d += s[b]
        d *= dy[b]
    return dx.reshape(x.shape)


class GELU(Function):
    """Gaussian error linear unit.

    approximate="none":  y = x Phi(x),  Phi(x) = erfc(-x / sqrt 2) / 2 (the normal CDF);
                         dx = dy * (Phi(x) + x phi(x)),  phi(x) = e^(-x^2/2) / sqrt(2 pi).
                         Phi comes from a float64 erfc for float64 x, else from a float32 table
                         (see _normal_cdf32), in cache-sized blocks; float16 computes in float32.
    approximate="tanh":  y = x (1 + t) / 2,  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3);
                         dx = dy * ((1 + t) / 2 + x (1 - t^2) u' / 2),  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
                         Evaluated as (1 + t) / 2 = s = sigmoid(2u) = 1 / (1 + e^(-2u)) and (1 - t^2) / 4 =
                         s (1 - s), which do not cancel when t is near -1 (float32 1 + t would, for x << 0);
                         in cache-sized blocks, float16 in float32 (see _gelu_tanh, _gelu_tanh_slope).
    Shapes: all like x. The backward is raw NumPy from values saved in the forward.
    """

    differentiable_backward = False

    def forward(self, x, approximate):
        self.approximate = approximate
        compute = x.astype(np.float32, copy=False) if x.dtype == np.float16 else x  # float16 in float32
        if approximate == "tanh":
            y, self.s = _gelu_tanh(compute)
            return y.astype(x.dtype, copy=False)
        if x.dtype == np.float64:
            self.cdf = _erfc(x * -math.sqrt(0.5))
            self.cdf *= 0.5
            return x * self.cdf
        y, self.cdf = _gelu_exact32(compute)
        return y.astype(x.dtype, copy=False)

    def backward(self, dy):
        x = self.inputs[0].array
        if self.approximate == "tanh":
            dx = _gelu_tanh_slope(x, self.s, dy.array)
        else:
            dx = _gelu_exact_slope(x, self.cdf, dy.array)
        return Tensor._make(dx.astype(x.dtype, copy=False))


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
