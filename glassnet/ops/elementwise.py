"""Elementwise functions of one or two tensors, and comparisons (which have no gradient).

For y = f(x) applied elementwise, the backward is dx = dy * f'(x); each class states f'.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, operands
from .shape import sum_to


__all__ = ["exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sin", "cos", "sign", "clamp", "clip", "where",
    "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
    "isnan", "isfinite", "allclose"]


class Exp(Function):
    """y = e^x.   dx = dy * y."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, dy):
        return dy * self.output()


class Log(Function):
    """y = ln x.   dx = dy / x."""

    def forward(self, x):
        return np.log(x)

    def backward(self, dy):
        return dy / self.inputs[0]


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dx = dy / (1 + x)."""

    def forward(self, x):
        return np.log1p(x)

    def backward(self, dy):
        return dy / (self.inputs[0] + 1)


class Sqrt(Function):
    """y = sqrt(x).   dx = dy / (2 y)."""

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, dy):
        return dy / (self.output() * 2)


class Rsqrt(Function):
    """y = 1 / sqrt(x).   dx = -dy * y^3 / 2."""

    def forward(self, x):
        return 1 / np.sqrt(x)

    def backward(self, dy):
        y = self.output()
        return dy * y * y * y * -0.5


class Abs(Function):
    """y = |x|.   dx = dy * sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        return np.abs(x)

    def backward(self, dy):
        return dy * sign(self.inputs[0])


class Sin(Function):
    """y = sin x.   dx = dy * cos x."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, dy):
        return dy * cos(self.inputs[0])


class Cos(Function):
    """y = cos x.   dx = -dy * sin x."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, dy):
        return -dy * sin(self.inputs[0])


class Clamp(Function):
    """y = min(max(x, lo), hi).   dx = dy where lo <= x <= hi, else 0 (PyTorch's convention at the edges)."""

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


class Where(Function):
    """y = a where cond else b (cond is a constant mask).   da = sum_to(dy * cond), db = sum_to(dy * ~cond)."""

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


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def log1p(input):
    return Log1p.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def rsqrt(input):
    return Rsqrt.apply(input)


def abs(input):
    return Abs.apply(input)


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def sign(input):
    """-1, 0 or 1 elementwise; its gradient is zero, so the result does not require grad."""
    return Tensor._make(np.sign(input.array))


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(input, lo=min, hi=max)


clip = clamp


def where(condition, input, other):
    """Pick from `input` where `condition` is true, else from `other`, broadcasting all three."""
    cond = as_tensor(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    a, b = operands(input, other, "where")
    check_broadcast("where", cond.shape, a.shape, b.shape)
    return Where.apply(a, b, cond=cond.array)


def maximum(input, other):
    """Elementwise max; where both are equal the gradient is split in half, as PyTorch does."""
    a, b = operands(input, other, "maximum")
    return _select_extreme(a, b, a.array > b.array)


def minimum(input, other):
    """Elementwise min; where both are equal the gradient is split in half, as PyTorch does."""
    a, b = operands(input, other, "minimum")
    return _select_extreme(a, b, a.array < b.array)


def _select_extreme(a, b, a_wins):
    check_broadcast("maximum/minimum", a.shape, b.shape)
    tie = a.array == b.array
    if not tie.any():
        return Where.apply(a, b, cond=a_wins)
    # y = w * a + (1 - w) * b with w = 1, 0 or 1/2 at ties: the same values, PyTorch's gradients.
    w = Tensor._make(np.where(tie, 0.5, a_wins).astype(a.dtype))
    return a * w + b * (1 - w)


def _compare(np_fn, name):
    def compare(input, other):
        a, b = operands(input, other, name)
        check_broadcast(name, a.shape, b.shape)
        return Tensor._make(np_fn(a.array, b.array))

    compare.__name__ = name
    compare.__doc__ = f"Elementwise `{np_fn.__name__}` as a bool tensor (no gradient)."
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")


def logical_not(input):
    return Tensor._make(np.logical_not(input.array))


def isnan(input):
    return Tensor._make(np.isnan(input.array))


def isfinite(input):
    return Tensor._make(np.isfinite(input.array))


def allclose(input, other, rtol=1e-5, atol=1e-8):
    return bool(np.allclose(as_tensor(input).array, as_tensor(other).array, rtol=rtol, atol=atol))

