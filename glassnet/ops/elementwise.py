"""Elementwise functions of one or two tensors: exp, log, trigonometry, rounding, clamp, where, maximum.

For y = f(x) applied elementwise, the backward is dx = dy * f'(x) and the forward-mode (jvp) rule is
dy = f'(x) dx; each class states f'. Integer and bool inputs of a float function (exp, sin, ...) are
first converted to the default float dtype, as in PyTorch. Comparisons and logical/bitwise operations,
which have no gradient, are in comparison.py.
"""
import builtins
import math
import sys

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, operands
from .shape import cast, sum_to


__all__ = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "erf",
    "erfc", "erfinv",
    "abs", "absolute", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "hypot", "logaddexp", "lerp",
    "sign", "sgn", "copysign", "floor", "ceil", "round", "trunc", "fix", "frac", "nan_to_num", "clamp", "clip",
    "clamp_min", "clamp_max",
    "where", "maximum", "minimum", "fmax", "fmin"]


def _float(input):
    """`input` as a float tensor: integer and bool tensors become the default float dtype (as in PyTorch)."""
    input = as_tensor(input)
    return input if input.dtype.kind == "f" else cast(input, dtypes.get_default_dtype())


# ================================================================================================
# smooth functions of one input
# ================================================================================================

class Elementwise(Function):
    """y = f(x) elementwise.   dx = dy * f'(x);  forward mode: dy = f'(x) dx.   Shapes: all like x.

    A subclass sets `f` (a NumPy function) and writes f' once, as `derivative(m, x, y)` where `m` is a
    module of functions (f' reads x, or, when the class says saves_inputs = False, y alone): NumPy on arrays for the jvp, this module on Tensors for the backward, so that
    the backward is itself differentiable (second derivatives work).
    """

    f = None

    def forward(self, x):
        return self.f(x)

    def backward(self, dy):
        # a subclass whose f' reads y alone declares saves_inputs = False; the others read x alone, so an
        # in-place change of their output afterwards (y.erf_().clamp_(...)) does not stop their backward
        y = self.output() if self.saves_inputs is False else None
        return dy * self.derivative(_ops, self.inputs[0], y)

    def jvp(self, dx):
        return None if dx is None else dx * self.derivative(np, self.inputs[0].array, self._outputs[0])

    def derivative(self, m, x, y):
        raise NotImplementedError


class Exp(Elementwise):
    """y = e^x.   f'(x) = y."""

    saves_inputs = False  # the derivative reads y alone

    f = staticmethod(np.exp)

    def derivative(self, m, x, y):
        return y


class Exp2(Elementwise):
    """y = 2^x.   f'(x) = y ln 2."""

    saves_inputs = False  # the derivative reads y alone

    f = staticmethod(np.exp2)

    def derivative(self, m, x, y):
        return y * math.log(2)


class Expm1(Elementwise):
    """y = e^x - 1, accurate for small x.   f'(x) = y + 1."""

    saves_inputs = False  # the derivative reads y alone

    f = staticmethod(np.expm1)

    def derivative(self, m, x, y):
        return y + 1


class Log(Elementwise):
    """y = ln x.   f'(x) = 1 / x."""

    f = staticmethod(np.log)

    def derivative(self, m, x, y):
        return 1 / x


class Log2(Elementwise):
    """y = log2 x.   f'(x) = 1 / (x ln 2)."""

    f = staticmethod(np.log2)

    def derivative(self, m, x, y):
        return 1 / (x * math.log(2))


class Log10(Elementwise):
    """y = log10 x.   f'(x) = 1 / (x ln 10)."""

    f = staticmethod(np.log10)

    def derivative(self, m, x, y):
        return 1 / (x * math.log(10))


class Log1p(Elementwise):
    """y = ln(1 + x), accurate for small x.   f'(x) = 1 / (1 + x)."""

    f = staticmethod(np.log1p)

    def derivative(self, m, x, y):
        return 1 / (x + 1)


class Sqrt(Elementwise):
    """y = sqrt(x).   f'(x) = 1 / (2 y)."""

    saves_inputs = False  # the derivative reads y alone

    f = staticmethod(np.sqrt)

    def derivative(self, m, x, y):
        return 0.5 / y


class Rsqrt(Elementwise):
    """y = 1 / sqrt(x).   f'(x) = -y^3 / 2."""

    saves_inputs = False  # the derivative reads y alone

    @staticmethod
    def f(x):
        return 1 / np.sqrt(x)

    def derivative(self, m, x, y):
        return y * y * y * -0.5


class Reciprocal(Elementwise):
    """y = 1 / x.   f'(x) = -y^2."""

    saves_inputs = False  # the derivative reads y alone

    @staticmethod
    def f(x):
        return 1 / x

    def derivative(self, m, x, y):
        return -(y * y)


class Abs(Elementwise):
    """y = |x|.   f'(x) = sign(x)  (0 at x = 0, as PyTorch).   Complex z: dz = dy z / |z|, and forward
    mode d|z| = Re(conj(z) dz) / |z| (see fourier.py for the convention)."""

    f = staticmethod(np.abs)

    def derivative(self, m, x, y):
        return m.sign(x)

    def jvp(self, dx):
        x, y = self.inputs[0].array, self._outputs[0]
        if dx is None or x.dtype.kind != "c":
            return super().jvp(dx)
        return np.where(y == 0, 0, (np.conj(x) * dx).real / np.where(y == 0, 1, y)).astype(y.dtype)


class Sin(Elementwise):
    """y = sin x.   f'(x) = cos x."""

    f = staticmethod(np.sin)

    def derivative(self, m, x, y):
        return m.cos(x)


class Cos(Elementwise):
    """y = cos x.   f'(x) = -sin x."""

    f = staticmethod(np.cos)

    def derivative(self, m, x, y):
        return -m.sin(x)


class Tan(Elementwise):
    """y = tan x.   f'(x) = 1 + y^2."""

    saves_inputs = False  # the derivative reads y alone

    f = staticmethod(np.tan)

    def derivative(self, m, x, y):
        return y * y + 1


class Asin(Elementwise):
    """y = arcsin x (|x| <= 1).   f'(x) = 1 / sqrt(1 - x^2)."""

    f = staticmethod(np.arcsin)

    def derivative(self, m, x, y):
        return (1 - x * x) ** -0.5


class Acos(Elementwise):
    """y = arccos x (|x| <= 1).   f'(x) = -1 / sqrt(1 - x^2)."""

    f = staticmethod(np.arccos)

    def derivative(self, m, x, y):
        return -((1 - x * x) ** -0.5)


class Atan(Elementwise):
    """y = arctan x.   f'(x) = 1 / (1 + x^2)."""

    f = staticmethod(np.arctan)

    def derivative(self, m, x, y):
        return 1 / (x * x + 1)


class Sinh(Elementwise):
    """y = sinh x.   f'(x) = cosh x."""

    f = staticmethod(np.sinh)

    def derivative(self, m, x, y):
        return m.cosh(x)


class Cosh(Elementwise):
    """y = cosh x.   f'(x) = sinh x."""

    f = staticmethod(np.cosh)

    def derivative(self, m, x, y):
        return m.sinh(x)


class Asinh(Elementwise):
    """y = arsinh x.   f'(x) = 1 / sqrt(x^2 + 1)."""

    f = staticmethod(np.arcsinh)

    def derivative(self, m, x, y):
        return (x * x + 1) ** -0.5


class Acosh(Elementwise):
    """y = arcosh x (x >= 1).   f'(x) = 1 / sqrt(x^2 - 1)."""

    f = staticmethod(np.arccosh)

    def derivative(self, m, x, y):
        return (x * x - 1) ** -0.5


class Atanh(Elementwise):
    """y = artanh x (|x| < 1).   f'(x) = 1 / (1 - x^2)."""

    f = staticmethod(np.arctanh)

    def derivative(self, m, x, y):
        return 1 / (1 - x * x)


class Erf(Elementwise):
    """y = erf x = (2 / sqrt(pi)) * integral from 0 to x of e^(-t^2) dt.   f'(x) = (2 / sqrt(pi)) e^(-x^2)."""

    @staticmethod
    def f(x):
        from scipy.special import erf

        return erf(x)

    def derivative(self, m, x, y):
        return m.exp(-x * x) * (2 / math.sqrt(math.pi))


class Erfc(Elementwise):
    """y = erfc x = 1 - erf x, accurate where erf x is near 1.   f'(x) = -(2 / sqrt(pi)) e^(-x^2)."""

    @staticmethod
    def f(x):
        from scipy.special import erfc

        return erfc(x)

    def derivative(self, m, x, y):
        return m.exp(-x * x) * (-2 / math.sqrt(math.pi))


class Erfinv(Elementwise):
    """y = erf^-1(x) for -1 < x < 1 (+-inf at +-1).   f'(x) = 1 / erf'(y) = (sqrt(pi) / 2) e^(y^2).
    (Truncated-normal initialisers draw through it.)"""

    saves_inputs = False  # the derivative reads y alone

    @staticmethod
    def f(x):
        from scipy.special import erfinv

        return erfinv(x)

    def derivative(self, m, x, y):
        return m.exp(y * y) * (math.sqrt(math.pi) / 2)


def _unary(cls, name):
    def op(input):
        if isinstance(input, Tensor) and input.dtype.kind == "c":
            raise TypeError(f"{name}: complex tensors are not supported (glassnet's complex tensors hold FFT results: "
                            "real, imag, abs, angle, conj, +, -, *, / and the transforms accept them)")
        return cls.apply(_float(input))

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; see {cls.__name__} for the derivative. Integers become floats."
    return op


exp, exp2, expm1 = _unary(Exp, "exp"), _unary(Exp2, "exp2"), _unary(Expm1, "expm1")
log, log2, log10, log1p = _unary(Log, "log"), _unary(Log2, "log2"), _unary(Log10, "log10"), _unary(Log1p, "log1p")
sqrt, rsqrt, reciprocal = _unary(Sqrt, "sqrt"), _unary(Rsqrt, "rsqrt"), _unary(Reciprocal, "reciprocal")
sin, cos, tan = _unary(Sin, "sin"), _unary(Cos, "cos"), _unary(Tan, "tan")
asin, acos, atan = arcsin, arccos, arctan = _unary(Asin, "asin"), _unary(Acos, "acos"), _unary(Atan, "atan")
sinh, cosh = _unary(Sinh, "sinh"), _unary(Cosh, "cosh")
erf, erfc, erfinv = _unary(Erf, "erf"), _unary(Erfc, "erfc"), _unary(Erfinv, "erfinv")
asinh, acosh, atanh = arcsinh, arccosh, arctanh = (_unary(Asinh, "asinh"), _unary(Acosh, "acosh"),
                                                   _unary(Atanh, "atanh"))


def abs(input):
    """|x| elementwise; integer tensors stay integer (no gradient); a complex tensor gives its modulus, with
    gradient dy * z / |z| (PyTorch's convention, see fourier.py)."""
    if input.dtype.kind not in "fc":
        return Tensor._make(np.abs(input.array))
    return Abs.apply(input)


absolute = abs


def square(input):
    """x * x (integers stay integers, bool becomes int64, as in PyTorch)."""
    if input.dtype == np.bool_:
        input = cast(input, dtypes.int64)
    return input * input


# ================================================================================================
# piecewise-constant functions: zero gradient (floor, ceil, round, trunc, sign)
# ================================================================================================

class PiecewiseConstant(Function):
    """y = f(x) for a step function f (floor, ceil, round, trunc, sign).

    f' = 0 wherever it exists, so dx = 0 (a zero tensor like x) and the jvp is 0, as PyTorch defines
    them; the result still belongs to the graph (as in PyTorch, it has a grad_fn).
    """

    saves_inputs = False

    f = None

    def forward(self, x, **params):
        return self.f(x, **params)

    def backward(self, dy):
        return Tensor._make(np.zeros(self.inputs[0].shape, dy.dtype))

    def jvp(self, dx):
        return None if dx is None else np.zeros_like(dx)


class Floor(PiecewiseConstant):
    """y = the largest integer <= x."""

    f = staticmethod(np.floor)


class Ceil(PiecewiseConstant):
    """y = the smallest integer >= x."""

    f = staticmethod(np.ceil)


class Trunc(PiecewiseConstant):
    """y = x rounded toward zero."""

    f = staticmethod(np.trunc)


class Round(PiecewiseConstant):
    """y = x rounded to `decimals` places, halves to even (2.5 -> 2, as PyTorch and NumPy)."""

    f = staticmethod(np.round)


class Sign(PiecewiseConstant):
    """y = -1, 0 or 1 as x is negative, zero or positive."""

    f = staticmethod(np.sign)


def _step(cls, input, op, **params):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":  # integers are already whole: a copy, as in PyTorch
        return Tensor._make(input.array.copy())
    return cls.apply(input, **params)


def floor(input):
    return _step(Floor, input, "floor")


def ceil(input):
    return _step(Ceil, input, "ceil")


def trunc(input):
    return _step(Trunc, input, "trunc")


fix = trunc


def round(input, *, decimals=0):
    """Round half to even; with `decimals`, to that many places (negative: to tens, hundreds, ...)."""
    if not isinstance(decimals, (builtins.int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _step(Round, input, "round", decimals=int(decimals))


def sign(input):
    """-1, 0 or 1 elementwise (bool stays bool); its gradient is zero."""
    if input.dtype.kind in "bu":  # 0 or 1 already
        return Tensor._make(input.array.copy() if input.dtype.kind == "b" else (input.array != 0).astype(input.dtype))
    if input.dtype.kind == "i":
        return Tensor._make(np.sign(input.array))
    if input.dtype.kind == "c":
        return sgn(input)
    return Sign.apply(input)


def sgn(input):
    """z / |z| for complex z (0 at 0), sign(x) for real x (torch.sgn). For complex z it is written with
    division and abs, so it has a gradient (the derivative of |z| is sgn(z); its own derivative is needed
    for second derivatives)."""
    if input.dtype.kind != "c":
        return sign(input)
    zero = Tensor._make(input.array == 0)
    return where(zero, 0.0, input / abs(where(zero, 1.0, input)))


def frac(input):
    """x - trunc(x) (the fractional part, with x's sign); dx = dy."""
    if input.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating point tensor, got {input.dtype}")
    return input - trunc(input)


# ================================================================================================
# functions of two inputs
# ================================================================================================

class Copysign(Function):
    """y = |a| with the sign of b (the sign bit: -0.0 counts as negative).

    da = dy * y / a (= +-1), 0 where a == 0 (as PyTorch);  db = 0.   Shapes: a, b broadcast to y.
    """

    def forward(self, a, b):
        return np.copysign(a, b)

    def backward(self, dy):
        from .comparison import eq

        a, b = self.inputs
        zero = Tensor._make(np.zeros((), dy.dtype))
        a_is_zero = eq(a, 0)
        da = sum_to(dy * where(a_is_zero, zero, self.output() / where(a_is_zero, 1.0, a)), a.shape)
        return da, (sum_to(dy * zero, b.shape) if self.needs_input_grad[1] else None)

    def jvp(self, da, db):
        a, y = self.inputs[0].array, self._outputs[0]
        if da is None:
            return np.zeros_like(y)
        safe = np.where(a == 0, 1, a)
        return np.broadcast_to(np.where(a == 0, 0, y / safe) * da, y.shape)


def copysign(input, other):
    a, b = operands(_float(input), other, "copysign")
    check_broadcast("copysign", a.shape, b.shape)
    return Copysign.apply(a, b)


def atan2(input, other):
    """The angle of the point (other, input) in (-pi, pi]: arctan(input / other) in the right quadrant."""
    a, b = operands(_float(input), other, "atan2")
    check_broadcast("atan2", a.shape, b.shape)
    return Atan2.apply(a, b)


arctan2 = atan2


class Atan2(Function):
    """y = atan2(a, b).   da = dy * b / (a^2 + b^2),  db = -dy * a / (a^2 + b^2).   Shapes: broadcast."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, dy):
        a, b = self.inputs
        r2 = a * a + b * b
        da = sum_to(dy * b / r2, a.shape) if self.needs_input_grad[0] else None
        db = sum_to(-dy * a / r2, b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):
        a, b = self.inputs[0].array, self.inputs[1].array
        r2 = a * a + b * b
        total = (0 if da is None else da * b / r2) + (0 if db is None else -db * a / r2)
        return np.broadcast_to(total, self._outputs[0].shape)


def hypot(input, other):
    """sqrt(a^2 + b^2) (through Sqrt, Mul and Add, so the gradient a / y, b / y follows)."""
    a, b = operands(input, other, "hypot")
    return sqrt(a * a + b * b)


def logaddexp(input, other):
    """log(e^a + e^b) computed as m + log(e^(a-m) + e^(b-m)) with m = max(a, b), so it cannot overflow."""
    a, b = operands(_float(input), other, "logaddexp")
    m = Tensor._make(np.maximum(a.array, b.array))
    m = Tensor._make(np.where(np.isfinite(m.array), m.array, np.zeros((), m.dtype)))
    return m + log(exp(a - m) + exp(b - m))


def lerp(input, end, weight):
    """input + weight * (end - input); weight a number or a tensor."""
    return input + weight * (end - input)


class NanToNum(Function):
    """y = x with NaN -> nan, +inf -> posinf, -inf -> neginf (defaults: 0 and the dtype's largest values).

    dx = dy where x is finite, 0 where it was replaced.   Shapes: like x.
    """

    saves_inputs = False

    def forward(self, x, nan, posinf, neginf):
        self.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, dy):
        return dy * Tensor._make(self.finite.astype(dy.dtype))

    def jvp(self, dx):
        return None if dx is None else dx * self.finite


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if input.dtype.kind != "f":
        return Tensor._make(input.array.copy())
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


# ================================================================================================
# clamp, where, maximum, minimum
# ================================================================================================

class Clamp(Function):
    """y = min(max(x, lo), hi) with number bounds.   dx = dy where lo <= x <= hi, else 0 (PyTorch's edges)."""

    saves_inputs = False

    def forward(self, x, lo, hi):
        inside = np.ones(x.shape, bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        self.inside = inside
        return np.clip(x, lo, hi) if (lo is not None or hi is not None) else x.copy()

    def backward(self, dy):
        return dy * Tensor._make(self.inside.astype(dy.dtype))

    def jvp(self, dx):  # dy = dx inside [lo, hi], 0 outside
        return None if dx is None else dx * self.inside


class ClampTensor(Function):
    """y = min(max(x, lo), hi) with tensor bounds lo, hi (all three broadcast together).

    The gradient goes to exactly one of them, chosen as PyTorch chooses:
    dx = dy where lo <= x <= hi;  dlo = dy where x < lo < hi;  dhi = dy where x > hi or lo > hi.
    (Where lo == hi and x is outside, nobody gets it.) Each is summed back to its input's shape.
    """

    saves_inputs = False

    def forward(self, x, lo, hi):
        self.masks = (lo <= x) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (lo > hi)
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, dy):
        return tuple(sum_to(dy * Tensor._make(m.astype(dy.dtype)), t.shape) if need else None
                     for m, t, need in zip(self.masks, self.inputs, self.needs_input_grad))

    def jvp(self, *tangents):
        y = self._outputs[0]
        total = sum(m * t for m, t in zip(self.masks, tangents) if t is not None)
        return np.broadcast_to(total, y.shape).astype(y.dtype)


def clamp(input, min=None, max=None):
    """Limit `input` to [min, max]; the bounds are numbers or tensors (broadcast with input)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return Clamp.apply(input, lo=min, hi=max)
    big = np.inf if input.dtype.kind == "f" else np.iinfo(input.dtype).max
    lo = as_tensor(-big if min is None else min, input.dtype)
    hi = as_tensor(big if max is None else max, input.dtype)
    x, lo = operands(input, lo, "clamp")
    x, hi = operands(x, hi, "clamp")
    lo, hi = cast(lo, x.dtype), cast(hi, x.dtype)
    check_broadcast("clamp", x.shape, lo.shape, hi.shape)
    return ClampTensor.apply(x, lo, hi)


clip = clamp


def clamp_min(input, min):
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """clamp(input, max=max)."""
    return clamp(input, max=max)


class Where(Function):
    """y = a where cond else b (cond is a constant mask).   da = sum_to(dy * cond), db = sum_to(dy * ~cond)."""

    saves_inputs = False

    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, dy):
        a, b = self.inputs
        zero = Tensor._make(np.zeros((), dy.dtype))
        cond = Tensor._make(self.cond)
        da = sum_to(where(cond, dy, zero), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(where(cond, zero, dy), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):  # dy = da where cond else db
        zero = np.zeros((), self._outputs[0].dtype)
        return np.where(self.cond, zero if da is None else da, zero if db is None else db)


def _scalar_pair(a, b):
    """Two Python scalars as 0-d tensors of PyTorch's result dtype (bool, int64 or the default float)."""
    kinds = {type(v) for v in (a, b)}
    if kinds <= {builtins.bool}:
        dtype = dtypes.bool
    elif builtins.float in kinds:
        dtype = dtypes.get_default_dtype()
    else:
        dtype = dtypes.int64
    return Tensor._make(np.asarray(a, dtype)), Tensor._make(np.asarray(b, dtype))


def where(condition, input=None, other=None):
    """Pick from `input` where `condition` is true, else from `other`, broadcasting all three.

    `input` and `other` may be tensors or Python numbers (two numbers give bool, int64 or the default
    float dtype, as in PyTorch). where(condition) alone is nonzero(condition, as_tuple=True).
    """
    cond = as_tensor(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(cond, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input, other = _scalar_pair(input, other)
    a, b = operands(input, other, "where")
    check_broadcast("where", cond.shape, a.shape, b.shape)
    return Where.apply(a, b, cond=cond.array)


def maximum(input, other):
    """Elementwise max; where both are equal the gradient is split in half, as PyTorch does."""
    a, b = operands(input, other, "maximum")
    if a.dtype.kind != "f":  # bool stays bool, integers stay integers; no gradient
        check_broadcast("maximum", a.shape, b.shape)
        return Tensor._make(np.maximum(a.array, b.array))
    return _select_extreme(a, b, a.array > b.array)


def minimum(input, other):
    """Elementwise min; where both are equal the gradient is split in half, as PyTorch does."""
    a, b = operands(input, other, "minimum")
    if a.dtype.kind != "f":
        check_broadcast("minimum", a.shape, b.shape)
        return Tensor._make(np.minimum(a.array, b.array))
    return _select_extreme(a, b, a.array < b.array)


def _select_extreme(a, b, a_wins):
    check_broadcast("maximum/minimum", a.shape, b.shape)
    tie = a.array == b.array
    if not tie.any():
        return Where.apply(a, b, cond=a_wins)
    # y = w * a + (1 - w) * b with w = 1, 0 or 1/2 at ties: the same values, PyTorch's gradients.
    w = Tensor._make(np.where(tie, 0.5, a_wins).astype(a.dtype))
    return a * w + b * (1 - w)


def fmax(input, other):
    """Like maximum, but where one side is NaN the other wins (NumPy's and PyTorch's fmax)."""
    a, b = operands(input, other, "fmax")
    a_nan, b_nan = Tensor._make(np.isnan(a.array)), Tensor._make(np.isnan(b.array))
    return where(b_nan, a, where(a_nan, b, maximum(a, b)))


def fmin(input, other):
    """Like minimum, but where one side is NaN the other wins."""
    a, b = operands(input, other, "fmin")
    a_nan, b_nan = Tensor._make(np.isnan(a.array)), Tensor._make(np.isnan(b.array))
    return where(b_nan, a, where(a_nan, b, minimum(a, b)))


_ops = sys.modules[__name__]  # the Tensor versions of the functions, for Elementwise.backward
