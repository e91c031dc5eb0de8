"""Activation functions (also in glassnet.nn.functional, as in PyTorch).

Most are elementwise, y = f(x): each class writes f in `forward` and its slope f'(x) once, in
`slope(m, x, y)`, where `m` holds the few functions a slope needs either on NumPy arrays (for the
forward-mode rule, dy = f'(x) dx, and the first-order backward) or on Tensors (for the backward under
create_graph=True, dx = dy f'(x) recorded, so second derivatives work). Masks such as [x > 0] are constants.
GELU's first-order backward is raw NumPy for speed; under create_graph it is the same slope in Tensor
operations. PReLU, GLU and the softmax family have two-input or reduction rules of their own.

`inplace=True` is accepted where PyTorch has it, for compatibility; the result is always a new
tensor and the input is left unchanged (use the returned value).
"""
import functools
import math
import numbers
from types import SimpleNamespace

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..random import rng
from ..tensor import Tensor
from . import elementwise
from ._util import accepts_axis, normalize_dim
from .indexing import cat, chunk, one_hot
from .reduction import argmax, sum as _sum
from .shape import cast, movedim, reshape, sum_to


__all__ = ["relu", "relu6", "leaky_relu", "rrelu", "prelu", "threshold", "hardtanh", "softshrink", "hardshrink",
           "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "logsigmoid", "hardsigmoid", "hardswish",
           "tanh", "tanhshrink", "softsign", "softplus", "glu", "softmax", "log_softmax", "softmin",
           "gumbel_softmax", "relu_", "leaky_relu_", "rrelu_", "threshold_", "hardtanh_", "elu_", "selu_", "celu_"]


def _check_float(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {input.dtype}")


def _check_number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


class Pointwise(Function):
    """y = f(x) elementwise.   dx = dy * f'(x);  forward mode: dy = f'(x) dx.   Shapes: all like x.

    A subclass writes `forward` and `slope(m, x, y)` = f'(x), with `m` one of _ON_ARRAYS / _ON_TENSORS
    (see the module docstring). Slopes that read only masks or y set `saves_inputs = False`; those that read
    y set `reads_output = True` (y is None otherwise, so changing the output in place later is allowed).
    """

    reads_output = False

    def backward(self, dy):
        y = self.output() if self.reads_output else None
        # a slope that reads no x (saves_inputs = False: x is not kept) gets dy, which has x's shape and dtype
        x = self.inputs[0] if self.saves_inputs is not False else dy
        if grad_mode.is_grad_enabled():  # create_graph: the slope as recorded Tensor operations
            return dy * self.slope(_ON_TENSORS, x, y)
        slope = self.slope(_ON_ARRAYS, x.array, None if y is None else y.array)  # plain NumPy
        return Tensor._make(np.multiply(dy.array, slope, dtype=dy.dtype))

    def jvp(self, dx):
        return None if dx is None else dx * self.slope(_ON_ARRAYS, self.inputs[0].array, self._outputs[0])

    def slope(self, m, x, y):
        raise NotImplementedError


# ---- piecewise linear ----------------------------------------------------------------------------
class ReLU(Pointwise):
    """y = max(x, 0).   f'(x) = [x > 0]."""

    saves_inputs = False

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, np.zeros((), x.dtype))

    def slope(self, m, x, y):
        return m.const(self.mask, x)


def relu(input, inplace=False):
    return ReLU.apply(input)


class LeakyReLU(Pointwise):
    """y = x if x > 0 else slope * x.   f'(x) = 1 if x > 0 else slope.

    `slope` is a number, or an array broadcasting to x (RReLU's random slopes in training).
    """

    saves_inputs = False

    def forward(self, x, slope):
        self.mask = x > 0
        self.factor = np.where(self.mask, 1, slope).astype(x.dtype, copy=False)
        return np.where(self.mask, x, x * self.factor)

    def slope(self, m, x, y):
        return m.const(self.factor, x)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_float(input, "leaky_relu")
    return LeakyReLU.apply(input, slope=_check_number("leaky_relu", "negative_slope", negative_slope))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al. 2015): in training each element x <= 0 is multiplied by its own
    slope a ~ U(lower, upper); otherwise by the mean slope (lower + upper) / 2. Gradient: dy * slope."""
    op = "rrelu"
    _check_float(input, op)
    lower, upper = _check_number(op, "lower", lower), _check_number(op, "upper", upper)
    if lower > upper:
        raise ValueError(f"{op}: lower bound {lower} should be less than or equal to the upper bound {upper}")
    if not training:
        return LeakyReLU.apply(input, slope=(lower + upper) / 2)
    slopes = rng().uniform(lower, upper, input.shape).astype(input.dtype)
    return LeakyReLU.apply(input, slope=slopes)


class Threshold(Pointwise):
    """y = x if x > threshold else value.   f'(x) = [x > threshold]."""

    saves_inputs = False

    def forward(self, x, threshold, value):
        self.mask = x > threshold
        return np.where(self.mask, x, np.asarray(value, x.dtype))

    def slope(self, m, x, y):
        return m.const(self.mask, x)


def threshold(input, threshold, value, inplace=False):
    _check_float(input, "threshold")
    return Threshold.apply(input, threshold=_check_number("threshold", "threshold", threshold),
                           value=_check_number("threshold", "value", value))


class Hardtanh(Pointwise):
    """y = min(max(x, lo), hi).   f'(x) = [lo < x < hi] (0 on the edges, as PyTorch)."""

    saves_inputs = False

    def forward(self, x, lo, hi):
        self.mask = (x > lo) & (x < hi)
        return np.clip(x, x.dtype.type(lo), x.dtype.type(hi))

    def slope(self, m, x, y):
        return m.const(self.mask, x)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    op = "hardtanh"
    _check_float(input, op)
    lo, hi = _check_number(op, "min_val", min_val), _check_number(op, "max_val", max_val)
    if lo > hi:
        raise ValueError(f"{op}: min_val {lo} cannot be greater than max_val {hi}")
    return Hardtanh.apply(input, lo=lo, hi=hi)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh between 0 and 6 (gradient 0 at both edges, as PyTorch)."""
    _check_float(input, "relu6")
    return Hardtanh.apply(input, lo=0.0, hi=6.0)


class Softshrink(Pointwise):
    """y = x - l if x > l, x + l if x < -l, else 0.   f'(x) = [|x| > l]."""

    saves_inputs = False

    def forward(self, x, lambd):
        self.mask = np.abs(x) > lambd
        return np.where(self.mask, x - np.sign(x) * x.dtype.type(lambd), np.zeros((), x.dtype))

    def slope(self, m, x, y):
        return m.const(self.mask, x)


def softshrink(input, lambd=0.5):
    op = "softshrink"
    _check_float(input, op)
    lambd = _check_number(op, "lambd", lambd)
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be >= 0, got {lambd}")
    return Softshrink.apply(input, lambd=lambd)


class Hardshrink(Pointwise):
    """y = x if |x| > l else 0.   f'(x) = [|x| > l]."""

    saves_inputs = False

    def forward(self, x, lambd):
        self.mask = np.abs(x) > lambd
        return np.where(self.mask, x, np.zeros((), x.dtype))

    def slope(self, m, x, y):
        return m.const(self.mask, x)


def hardshrink(input, lambd=0.5):
    _check_float(input, "hardshrink")
    return Hardshrink.apply(input, lambd=_check_number("hardshrink", "lambd", lambd))


class PReLU(Function):
    """Parametric ReLU (He et al. 2015): y = x if x > 0 else w_c x, one slope per channel.

    Shapes: x (N, C, *) with w (C,) or (1,) (channel axis 1; inputs of fewer than 2 dims have one
    channel); w is used as w_b, reshaped to broadcast: (C, 1, ..., 1).
    Backward: dx = dy * (1 if x > 0 else w_b);  dw = sum over all but the channel axis of dy * x * [x <= 0].
    Forward mode: dy = where(x > 0, dx, w_b dx + x dw_b).
    """

    def forward(self, x, w, shape):
        self.mask, self.shape = x > 0, shape
        return np.where(self.mask, x, x * w.reshape(shape))

    def backward(self, dy):
        x, w = self.inputs
        mask = Tensor._make(self.mask)
        dx = dy * elementwise.where(mask, 1.0, reshape(w, self.shape)) if self.needs_input_grad[0] else None
        dw = None
        if self.needs_input_grad[1]:
            dw = reshape(sum_to(elementwise.where(mask, 0.0, dy * x), self.shape), w.shape)
        return dx, dw

    def jvp(self, tx, tw):
        x, w = self.inputs[0].array, self.inputs[1].array.reshape(self.shape)
        out = np.zeros(x.shape, x.dtype)
        if tx is not None:
            out = out + np.where(self.mask, tx, w * tx)
        if tw is not None:
            out = out + np.where(self.mask, 0, x * tw.reshape(self.shape))
        return out


def prelu(input, weight):
    """y = x if x > 0 else weight[c] * x, with `weight` of one entry or one per channel (axis 1)."""
    op = "prelu"
    _check_float(input, op)
    _check_float(weight, op)
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or weight.array.size not in (1, channels):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have 1 or {channels} entries (the "
                         f"number of channels, dim 1 of the input of shape {tuple(input.shape)})")
    if weight.dtype != input.dtype:
        raise TypeError(f"{op}: weight dtype {weight.dtype} differs from input dtype {input.dtype}")
    shape = (1,) * input.ndim
    if input.ndim >= 2:
        shape = (1, weight.array.size) + (1,) * (input.ndim - 2)
    return PReLU.apply(input, weight, shape=shape)


# ---- exponential family --------------------------------------------------------------------------
class ELU(Pointwise):
    """y = scale x if x > 0 else scale alpha (e^(input_scale x) - 1)   (ELU, and SELU and CELU as cases).

    f'(x) = scale if x > 0 else input_scale (y + scale alpha)   (= scale alpha input_scale e^(input_scale x)).
    """

    saves_inputs = False
    reads_output = True

    def forward(self, x, alpha, scale, input_scale):
        self.mask = x > 0
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale
        t = x.dtype.type
        negative = t(scale * alpha) * np.expm1(np.minimum(x, np.zeros((), x.dtype)) * t(input_scale))
        return np.where(self.mask, x * t(scale), negative)

    def slope(self, m, x, y):
        return m.where(self.mask, self.scale, (y + self.scale * self.alpha) * self.input_scale)


def elu(input, alpha=1.0, inplace=False):
    _check_float(input, "elu")
    return ELU.apply(input, alpha=_check_number("elu", "alpha", alpha), scale=1.0, input_scale=1.0)


# SELU's constants (Klambauer et al. 2017), as PyTorch's
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """Scaled ELU: scale * (x if x > 0 else alpha (e^x - 1)) with the self-normalising constants."""
    _check_float(input, "selu")
    return ELU.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1))."""
    _check_float(input, "celu")
    alpha = _check_number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return ELU.apply(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def _stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1, so neither branch overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Pointwise):
    """y = 1 / (1 + e^-x) (stable for large |x|).   f'(x) = y (1 - y)."""

    saves_inputs = False
    reads_output = True

    def forward(self, x):
        return _stable_sigmoid(x)

    def slope(self, m, x, y):
        return y * (1 - y)


def sigmoid(input):
    _check_float(input, "sigmoid")
    return Sigmoid.apply(input)


class LogSigmoid(Pointwise):
    """y = log sigmoid(x) = min(x, 0) - log(1 + e^-|x|).   f'(x) = sigmoid(-x) = 1 - sigmoid(x)."""

    def forward(self, x):
        return np.minimum(x, np.zeros((), x.dtype)) - np.log1p(np.exp(-np.abs(x)))

    def slope(self, m, x, y):
        return m.sigmoid(-x)


def logsigmoid(input):
    _check_float(input, "logsigmoid")
    return LogSigmoid.apply(input)


class Hardsigmoid(Pointwise):
    """y = min(max(x / 6 + 1/2, 0), 1).   f'(x) = 1/6 where -3 < x < 3, else 0."""

    saves_inputs = False

    def forward(self, x):
        self.mask = (x > -3) & (x < 3)
        return np.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1).astype(x.dtype, copy=False)

    def slope(self, m, x, y):
        return m.const(self.mask, x) / 6


def hardsigmoid(input, inplace=False):
    _check_float(input, "hardsigmoid")
    return Hardsigmoid.apply(input)


class Hardswish(Pointwise):
    """y = x min(max(x + 3, 0), 6) / 6 (Howard et al. 2019).

    f'(x) = 0 for x <= -3,  x / 3 + 1/2 for -3 < x < 3,  1 for x >= 3 (PyTorch's edges).
    """

    def forward(self, x):
        return x * np.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)

    def slope(self, m, x, y):
        xa = x.array if isinstance(x, Tensor) else x
        return m.where(xa <= -3, 0.0, m.where(xa < 3, x / 3 + 0.5, 1.0))


def hardswish(input, inplace=False):
    _check_float(input, "hardswish")
    return Hardswish.apply(input)


class Tanh(Pointwise):
    """y = tanh x.   f'(x) = 1 - y^2."""

    saves_inputs = False
    reads_output = True

    def forward(self, x):
        return np.tanh(x)

    def slope(self, m, x, y):
        return 1 - y * y


def tanh(input):
    _check_float(input, "tanh")
    return Tanh.apply(input)


class Tanhshrink(Pointwise):
    """y = x - tanh x.   f'(x) = tanh^2 x."""

    def forward(self, x):
        return x - np.tanh(x)

    def slope(self, m, x, y):
        t = m.tanh(x)
        return t * t


def tanhshrink(input):
    _check_float(input, "tanhshrink")
    return Tanhshrink.apply(input)


class Softsign(Pointwise):
    """y = x / (1 + |x|).   f'(x) = 1 / (1 + |x|)^2."""

    def forward(self, x):
        return x / (1 + np.abs(x))

    def slope(self, m, x, y):
        d = m.abs(x) + 1
        return 1 / (d * d)


def softsign(input):
    _check_float(input, "softsign")
    return Softsign.apply(input)


class SiLU(Pointwise):
    """y = x * sigmoid(x).   f'(x) = s (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        return x * _stable_sigmoid(x)

    def slope(self, m, x, y):
        s = m.sigmoid(x)
        return s * (x * (1 - s) + 1)


def silu(input, inplace=False):
    _check_float(input, "silu")
    return SiLU.apply(input)


class Mish(Pointwise):
    """y = x tanh(softplus(x)) (Misra 2019).   f'(x) = t + x (1 - t^2) sigmoid(x),  t = tanh(softplus(x))."""

    def forward(self, x):
        return x * np.tanh(_softplus_array(x))

    def slope(self, m, x, y):
        t = m.tanh(m.softplus(x))
        return t + x * (1 - t * t) * m.sigmoid(x)


def mish(input, inplace=False):
    _check_float(input, "mish")
    return Mish.apply(input)


class Softplus(Pointwise):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (linear, as PyTorch).

    f'(x) = sigmoid(beta x), and 1 where beta x > threshold.
    """

    def forward(self, x, beta, threshold):
        self.beta = beta
        bx = x * x.dtype.type(beta)
        self.linear = bx > threshold
        soft = np.log1p(np.exp(np.minimum(bx, x.dtype.type(threshold)))) / x.dtype.type(beta)
        return np.where(self.linear, x, soft)

    def slope(self, m, x, y):
        return m.where(self.linear, 1.0, m.sigmoid(x * self.beta))


def softplus(input, beta=1.0, threshold=20.0):
    _check_float(input, "softplus")
    return Softplus.apply(input, beta=_check_number("softplus", "beta", beta),
                          threshold=_check_number("softplus", "threshold", threshold))


# ---- GELU ----------------------------------------------------------------------------------------
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
                         f'(x) = Phi(x) + x phi(x),  phi(x) = e^(-x^2/2) / sqrt(2 pi).
                         Phi comes from SciPy's ndtr for float64 x, else from a float32 table
                         (see _normal_cdf32), in cache-sized blocks; float16 computes in float32.
    approximate="tanh":  y = x (1 + t) / 2,  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3);
                         f'(x) = (1 + t) / 2 + x (1 - t^2) u' / 2,  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
                         Evaluated as (1 + t) / 2 = s = sigmoid(2u) = 1 / (1 + e^(-2u)) and (1 - t^2) / 4 =
                         s (1 - s), which do not cancel when t is near -1 (float32 1 + t would, for x << 0);
                         in cache-sized blocks, float16 in float32 (see _gelu_tanh, _gelu_tanh_slope).
    Backward dx = dy f'(x), forward mode dy = f'(x) dx. Shapes: all like x. The first-order backward and
    the jvp are raw NumPy from values saved in the forward; under create_graph the slope is built from
    Tensor operations (NormalCDF for Phi), so the backward is differentiable again.
    """

    def forward(self, x, approximate):
        self.approximate = approximate
        compute = x.astype(np.float32, copy=False) if x.dtype == np.float16 else x  # float16 in float32
        if approximate == "tanh":
            y, self.s = _gelu_tanh(compute)
            return y.astype(x.dtype, copy=False)
        if x.dtype == np.float64:
            self.cdf = _normal_cdf64(x)
            return x * self.cdf
        y, self.cdf = _gelu_exact32(compute)
        return y.astype(x.dtype, copy=False)

    def _slope_times(self, d):
        """d * f'(x) on arrays."""
        x = self.inputs[0].array
        if self.approximate == "tanh":
            out = _gelu_tanh_slope(x, self.s, d)
        else:
            out = _gelu_exact_slope(x, self.cdf, d)
        return out.astype(x.dtype, copy=False)

    def backward(self, dy):
        if grad_mode.is_grad_enabled():  # create_graph: the slope as recorded Tensor operations
            return dy * _gelu_slope_tensor(self.inputs[0], self.approximate)
        return Tensor._make(self._slope_times(dy.array))

    def jvp(self, dx):
        return None if dx is None else self._slope_times(np.broadcast_to(dx, self._outputs[0].shape))


def _normal_cdf64(x):
    """Phi(x) for a float64 array, to float64 precision (SciPy's ndtr)."""
    from scipy.special import ndtr

    return ndtr(x)


class NormalCDF(Function):
    """y = Phi(x), the standard normal CDF (SciPy's ndtr in float64, or the float32 table of _normal_cdf32).

    f'(x) = phi(x) = e^(-x^2/2) / sqrt(2 pi): dx = dy phi(x) (Tensor operations), forward mode dy = phi(x) dx.
    Shapes: all like x. Used by GELU's differentiable backward.
    """

    def forward(self, x):
        if x.dtype == np.float64:
            return _normal_cdf64(x)
        return _gelu_exact32(x.astype(np.float32, copy=False))[1].astype(x.dtype, copy=False)

    def backward(self, dy):
        return dy * _normal_pdf(self.inputs[0])

    def jvp(self, dx):
        x = self.inputs[0].array
        return None if dx is None else dx * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _normal_pdf(x):
    return elementwise.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


def _gelu_slope_tensor(x, approximate):
    """GELU's f'(x) (see GELU) as Tensor operations, for a backward that is differentiable again."""
    if approximate == "tanh":
        s = sigmoid((x + x * x * x * _GELU_TANH_C) * (2 * _SQRT_2_OVER_PI))
        du2 = (x * x * (3 * _GELU_TANH_C) + 1) * (2 * _SQRT_2_OVER_PI)  # d(2u)/dx
        return s + x * s * (1 - s) * du2
    return NormalCDF.apply(x) + x * _normal_pdf(x)


def gelu(input, approximate="none"):
    """GELU, exact (erf) form or approximate="tanh"."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    _check_float(input, "gelu")
    return GELU.apply(input, approximate=approximate)


# ---- gated linear unit ---------------------------------------------------------------------------
class GLU(Function):
    """Gated linear unit (Dauphin et al. 2017): x = [a, b] split in halves along `dim`, y = a sigmoid(b).

    Shapes: x (..., 2n, ...) -> y (..., n, ...).
    Backward: da = dy s,  db = dy a s (1 - s) with s = sigmoid(b), joined along dim.
    Forward mode: dy = da s + a s (1 - s) db.
    """

    def forward(self, x, dim):
        self.dim = dim
        a, b = np.split(x, 2, axis=dim)
        self.s = _stable_sigmoid(b)
        return a * self.s

    def _halves(self, x):
        return chunk(x, 2, self.dim)

    def backward(self, dy):
        a, b = self._halves(self.inputs[0])
        s = sigmoid(b) if grad_mode.is_grad_enabled() else Tensor._make(self.s)
        return cat([dy * s, dy * a * s * (1 - s)], self.dim)

    def jvp(self, dx):
        if dx is None:
            return None
        a = np.split(self.inputs[0].array, 2, axis=self.dim)[0]
        da, db = np.split(dx, 2, axis=self.dim)
        return da * self.s + a * self.s * (1 - self.s) * db


def glu(input, dim=-1):
    op = "glu"
    _check_float(input, op)
    if input.ndim == 0:
        raise ValueError(f"{op}: glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, input.ndim, op)
    if input.shape[d] % 2:
        raise ValueError(f"{op}: halving dimension must be even, but dimension {dim} is size {input.shape[d]} "
                         f"(input shape {tuple(input.shape)})")
    return GLU.apply(input, dim=d)


# ---- softmax family ------------------------------------------------------------------------------
def _softmax_args(input, dim, dtype, op):
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dimension to normalise over), got None")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = cast(input, dtype)
    _check_float(input, op)
    d = normalize_dim(dim, input.ndim, op)
    return input, (d if input.ndim else None)


def _shifted(x, axis):
    """x minus its max along axis, so exp() cannot overflow (the max is -inf only for all -inf)."""
    return x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)


class Softmax(Function):
    """y = e^(x - max) / sum(e^(x - max)) along dim.   dx = y * (dy - sum(dy * y, dim)).
    Forward mode: dy = y (dx - sum(y dx, dim)).  Shapes like x."""

    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(_shifted(x, axis))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, dy):
        y = self.output()
        return y * (dy - _sum(dy * y, self.axis, keepdim=True))

    def jvp(self, dx):
        if dx is None:
            return None
        y = self._outputs[0]
        return y * (dx - (y * dx).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = (x - max) - log(sum(e^(x - max))) along dim.   dx = dy - e^y * sum(dy, dim).
    Forward mode: dy = dx - sum(e^y dx, dim).  Shapes like x."""

    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        s = _shifted(x, axis)
        return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))

    def backward(self, dy):
        return dy - elementwise.exp(self.output()) * _sum(dy, self.axis, keepdim=True)

    def jvp(self, dx):
        if dx is None:
            return None
        return dx - (np.exp(self._outputs[0]) * dx).sum(axis=self.axis, keepdims=True)


@accepts_axis
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along `dim` (required; `axis=` also accepted), computed stably; `dtype` casts the input first."""
    input, axis = _softmax_args(input, dim, dtype, "softmax")
    return Softmax.apply(input, axis=axis)


@accepts_axis
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax) along `dim` (required; `axis=` also accepted), computed stably; `dtype` casts the input first."""
    input, axis = _softmax_args(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, axis=axis)


@accepts_axis
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along `dim` (required): large inputs get small weights."""
    input, axis = _softmax_args(input, dim, dtype, "softmin")
    return Softmax.apply(-input, axis=axis)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax (concrete) distribution (Jang et al. 2016; Maddison et al. 2016):

        y = softmax((logits + g) / tau, dim),  g = -log(E), E ~ Exponential(1) elementwise.
    With hard=True the value is the one-hot vector of argmax(y) and the gradient that of y
    (y_hard - y.detach() + y, the straight-through estimator). `eps` is unused, as in PyTorch.
    """
    op = "gumbel_softmax"
    _check_float(logits, op)
    tau = _check_number(op, "tau", tau)
    if not tau > 0:
        raise ValueError(f"{op}: tau must be positive, got {tau}")
    gumbels = Tensor._make(-np.log(rng().exponential(1.0, logits.shape)).astype(logits.dtype))
    y = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    d = normalize_dim(dim, y.ndim, op)
    index = argmax(y, d)
    y_hard = cast(one_hot(index, y.shape[d]), y.dtype)
    y_hard = movedim(y_hard, -1, d)
    return y_hard - y.detach() + y


# ---- in-place forms (F.relu_, ...): the result written into the input, recorded as PyTorch records it -------
def _in_place(fn):
    def apply_(input, *args, **kwargs):
        return input._inplace(fn.__name__ + "_", lambda t: fn(t, *args, **kwargs))

    apply_.__name__ = apply_.__qualname__ = fn.__name__ + "_"
    apply_.__doc__ = f"{fn.__name__} written into `input` (see ops/inplace.py for the rules of in-place operations)."
    return apply_


relu_, leaky_relu_, rrelu_, threshold_, hardtanh_, elu_, selu_, celu_ = (
    _in_place(fn) for fn in (relu, leaky_relu, rrelu, threshold, hardtanh, elu, selu, celu))


# ---- the functions a slope formula uses, on arrays (jvp) and on Tensors (backward) ----------------
def _tensor_where(cond, a, b):
    return elementwise.where(Tensor._make(np.asarray(cond)), a, b)


def _const(values, like):
    """A constant of like's dtype (bool masks become 1 and 0): an array for arrays, a Tensor for Tensors."""
    array = np.asarray(values).astype(like.dtype, copy=False)
    return Tensor._make(array) if isinstance(like, Tensor) else array


def _softplus_array(x):
    """log(1 + e^x), and x itself above 20 (Softplus's default threshold), on an array."""
    t = x.dtype.type(20)
    return np.where(x > t, x, np.log1p(np.exp(np.minimum(x, t))))


_ON_ARRAYS = SimpleNamespace(tanh=np.tanh, abs=np.abs, sigmoid=_stable_sigmoid, where=np.where, const=_const,
                             softplus=_softplus_array)
_ON_TENSORS = SimpleNamespace(tanh=tanh, abs=elementwise.abs, sigmoid=sigmoid, where=_tensor_where, const=_const,
                              softplus=softplus)
