"""Arithmetic: add, sub, mul, div (true, floor and trunc), remainder, fmod, pow, neg, matmul (and its
fixed-rank forms mm, bmm, mv, dot, outer, addmm).

Binary operations broadcast as NumPy does. In the backward, a gradient that was broadcast is summed
back to its input's shape with `sum_to` (the adjoint of broadcasting). Complex operands (FFT results)
follow PyTorch's gradient convention, which puts a conjugate on each factor of a product (see fourier.py).
"""
import numpy as np

from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function
from ..tensor import Tensor
from . import _util
from ._util import check_broadcast, operands
from .shape import sum_to

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "float_power", "neg", "negative", "conj", "matmul", "mm", "bmm", "mv", "dot", "outer",
    "ger", "addmm", "addcmul", "addcdiv"]


class Add(Function):
    """y = a + b.   da = sum_to(dy, a.shape), db = sum_to(dy, b.shape)."""

    saves_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, dy):
        a, b = self.inputs
        return sum_to(dy, a.shape), sum_to(dy, b.shape)

    def jvp(self, da, db):  # dy = da + db
        return add_tangents(self._outputs[0].shape, da, db)


class Sub(Function):
    """y = a - b.   da = sum_to(dy), db = -sum_to(dy)."""

    saves_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, dy):
        a, b = self.inputs
        return sum_to(dy, a.shape), -sum_to(dy, b.shape)

    def jvp(self, da, db):  # dy = da - db
        return add_tangents(self._outputs[0].shape, da, None if db is None else -db)


class Mul(Function):
    """y = a * b.   da = sum_to(dy * b), db = sum_to(dy * a)  (complex: dy * conj(b), dy * conj(a))."""

    saves_inputs = "cross"

    def forward(self, a, b):
        return a * b

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy * conj(b), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(dy * conj(a), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):  # dy = da b + a db  (holomorphic: no conjugates in forward mode)
        a, b = (t.array for t in self.inputs)
        return add_tangents(self._outputs[0].shape, None if da is None else da * b, None if db is None else a * db)


class Div(Function):
    """y = a / b.   da = sum_to(dy / b), db = -sum_to(dy * a / b^2)  (complex: conjugates of those factors)."""

    def forward(self, a, b):
        return a / b

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy / conj(b), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(-dy * conj(a / (b * b)), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):  # dy = da / b - y db / b
        b, y = self.inputs[1].array, self._outputs[0]
        return add_tangents(y.shape, None if da is None else da / b, None if db is None else -y * db / b)


class Pow(Function):
    """y = a ** b.   Shapes: a, b broadcast to y.

    da = dy * b * a^(b-1), and 0 where b == 0 (so x**0 has gradient 0 even at x = 0, as PyTorch);
    db = dy * y * log(a), and 0 where a == 0 and b >= 0 (the limit of y log a there, as PyTorch).
    """

    def forward(self, a, b):
        if a.dtype.kind in "iu" and b.dtype.kind in "iu" and (b < 0).any():
            return _integer_power(a, b)
        with np.errstate(divide="ignore"):  # 0 ** negative is inf, silently, as in PyTorch
            return np.power(a, b)

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy * _pow_slope(a, b), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(dy * self.output() * _log_base(a, b), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):  # dy = b a^(b-1) da + y log(a) db, with the backward's conventions at 0
        a, b = (t.array for t in self.inputs)
        y = self._outputs[0]
        slope = log_term = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if da is not None:
                slope = da * np.where(b == 0, 0, b * np.power(np.where(b == 0, 1, a), b - 1))
            if db is not None:
                log_a = np.log(np.where(a == 0, 1, a))
                log_term = db * y * np.where(a == 0, np.where(b >= 0, 0, -np.inf), log_a)
        return add_tangents(y.shape, slope, log_term)


def _integer_power(a, b):
    """a ** b for integer arrays with some b < 0, as PyTorch: 1 / a^|b| truncated to an integer, so a^b
    itself for a == +-1 (where a^b = a^(b mod 2)) and 0 for every other a (0 included)."""
    y = np.asarray(np.power(a, np.where(b < 0, b & 1, b)))
    y[(b < 0) & (a != 1) & (a != -1)] = 0
    return y


def _pow_slope(a, b):
    """b * a^(b-1), with 0 where b == 0 (the masking only happens when some b is 0)."""
    from .elementwise import where

    if not (b.array == 0).any():
        return b * a ** (b - 1)
    b_zero = b == 0
    return where(b_zero, 0.0, b * where(b_zero, 1.0, a) ** (b - 1))


def _log_base(a, b):
    """log(a), with 0 where a == 0 and b >= 0 (there y log a -> 0), -inf where a == 0 and b < 0."""
    from .elementwise import log, where

    if not (a.array == 0).any():
        return log(a)
    a_zero = a == 0
    log_a = log(where(a_zero, 1.0, a))
    return where(a_zero & (b >= 0), 0.0, where(a_zero, -np.inf, log_a))


class Remainder(Function):
    """y = a - q * b with the quotient q rounded by `rounding` (floor: Python's %, trunc: C's fmod).

    y has the sign of b (floor) or of a (trunc). da = dy;  db = -dy * q.   Shapes: a, b broadcast to y.
    """

    def forward(self, a, b, rounding):
        self.quotient = _rounded_quotient(a, b, rounding)
        return np.remainder(a, b) if rounding == "floor" else np.fmod(a, b)

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy, a.shape) if self.needs_input_grad[0] else None
        db = sum_to(-dy * Tensor._make(self.quotient), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):
        y = self._outputs[0]
        total = (0 if da is None else da) - (0 if db is None else db * self.quotient)
        return np.broadcast_to(total, y.shape).astype(y.dtype)


class RoundedDiv(Function):
    """y = a / b rounded down ("floor", Python's //) or toward zero ("trunc").

    Piecewise constant, so da = db = 0 (as PyTorch).   Shapes: a, b broadcast to y.
    """

    saves_inputs = False

    def forward(self, a, b, rounding):
        return _rounded_quotient(a, b, rounding)

    def backward(self, dy):
        return tuple(Tensor._make(np.zeros(t.shape, dy.dtype)) if need else None
                     for t, need in zip(self.inputs, self.needs_input_grad))

    def jvp(self, da, db):
        return np.zeros_like(self._outputs[0])


def _rounded_quotient(a, b, rounding):
    """floor(a / b) or trunc(a / b), exact for integers (no float round trip) and for floats
    (np.floor_divide is Python's floor division; a / b divides by zero to +-inf or nan as PyTorch)."""
    if rounding == "floor":
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor_divide(a, b)
            return np.where(b == 0, a / b, q).astype(q.dtype) if a.dtype.kind == "f" else q
    if a.dtype.kind == "f":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trunc(a / b)
    return (a - np.fmod(a, b)) // b  # exact: a - fmod(a, b) is a multiple of b


class Neg(Function):
    """y = -x.   dx = -dy."""

    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy

    def jvp(self, dx):
        return None if dx is None else -dx


class MatMul(Function):
    """y = a @ b for a (..., n, k) and b (..., k, m) with broadcast batch dims -> (..., n, m).

    da = dy @ b^T, db = a^T @ dy, each summed over the batch dims that were broadcast. The 1-D cases
    are turned into these by `matmul` (a vector is a (1, k) or (k, 1) matrix), as in PyTorch.
    """

    saves_inputs = "cross"

    def forward(self, a, b):
        return _util.matmul(a, b)  # float16 multiplied in float32

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(matmul(dy, conj(b.mT)), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(matmul(conj(a.mT), dy), b.shape) if self.needs_input_grad[1] else None
        return da, db

    def jvp(self, da, db):  # dy = da @ b + a @ db
        a, b = (t.array for t in self.inputs)
        return add_tangents(self._outputs[0].shape, None if da is None else np.matmul(da, b),
                            None if db is None else np.matmul(a, db))


def _scaled(other, alpha):
    """alpha * other, for the alpha= argument of add and sub (other may be a Python number)."""
    if alpha == 1:
        return other
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def add(input, other, *, alpha=1):
    """input + alpha * other."""
    a, b = operands(input, _scaled(other, alpha), "add")
    check_broadcast("add", a.shape, b.shape)
    return Add.apply(a, b)


def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    a, b = operands(input, _scaled(other, alpha), "sub")
    check_broadcast("sub", a.shape, b.shape)
    return Sub.apply(a, b)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


def mul(input, other):
    a, b = operands(input, other, "mul")
    check_broadcast("mul", a.shape, b.shape)
    return Mul.apply(a, b)


multiply = mul


def div(input, other, *, rounding_mode=None):
    """input / other.

    rounding_mode None: true division (integer operands give the default float dtype, as in PyTorch);
    "floor": rounded down, as Python's // (floor_divide); "trunc": rounded toward zero. The rounded
    forms keep integer dtypes (an integer division by zero is an error) and have zero gradient.
    """
    from .. import dtypes
    from .shape import cast

    a, b = operands(input, other, "div")
    check_broadcast("div", a.shape, b.shape)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        _check_integer_divisor(b, "div")
        return RoundedDiv.apply(a, b, rounding=rounding_mode)
    if a.dtype.kind in "biu":
        a, b = cast(a, dtypes.get_default_dtype()), cast(b, dtypes.get_default_dtype())
    return Div.apply(a, b)


divide = true_divide = div


def floor_divide(input, other):
    """input // other: the quotient rounded down (Python's rule; PyTorch >= 1.13 does the same)."""
    return div(input, other, rounding_mode="floor")


def _check_integer_divisor(b, op):
    if b.dtype.kind in "biu" and (b.array == 0).any():
        raise RuntimeError(f"{op}: ZeroDivisionError: integer division by zero (the divisor has a zero)")


def remainder(input, other):
    """input % other with Python's sign rule: the result has the sign of `other` (a - floor(a / b) * b)."""
    a, b = operands(input, other, "remainder")
    check_broadcast("remainder", a.shape, b.shape)
    _check_integer_divisor(b, "remainder")
    return Remainder.apply(a, b, rounding="floor")


def fmod(input, other):
    """C's fmod: a - trunc(a / b) * b, with the sign of `input`."""
    a, b = operands(input, other, "fmod")
    check_broadcast("fmod", a.shape, b.shape)
    _check_integer_divisor(b, "fmod")
    return Remainder.apply(a, b, rounding="trunc")


def pow(input, exponent):
    a, b = operands(input, exponent, "pow")
    if a.dtype.kind == "c":
        raise TypeError("pow: complex tensors are not supported (for a power spectrum write x.abs() ** 2)")
    if isinstance(exponent, int) and exponent < 0 and a.dtype.kind in "iub":  # PyTorch refuses this one too
        raise ValueError(f"pow: an integer tensor ({a.dtype}) to the negative integer power {exponent} is not "
                         f"allowed; make the base floating point")
    check_broadcast("pow", a.shape, b.shape)
    return Pow.apply(a, b)


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64, as PyTorch's float_power)."""
    from .. import dtypes
    from ._util import as_tensor
    from .shape import cast

    base = cast(as_tensor(input), dtypes.float64)
    power = cast(exponent, dtypes.float64) if isinstance(exponent, Tensor) else exponent
    return pow(base, power)


def neg(input):
    return Neg.apply(input)


def conj(input):
    """The complex conjugate; a real tensor is returned as it is (see fourier.Conj)."""
    if input.dtype.kind != "c":
        return input
    from .fourier import Conj

    return Conj.apply(input)


negative = neg


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return input + value * tensor1 * tensor2 if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    return input + value * tensor1 / tensor2 if value != 1 else input + tensor1 / tensor2


def matmul(input, other):
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dimensions."""
    from .shape import squeeze, unsqueeze

    a, b = operands(input, other, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    a2 = unsqueeze(a, 0) if a.ndim == 1 else a
    b2 = unsqueeze(b, -1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
            f"({a2.shape[-1]} columns against {b2.shape[-2]} rows)"
        )
    check_broadcast("matmul (batch dimensions)", a2.shape[:-2], b2.shape[:-2])
    y = MatMul.apply(a2, b2)
    if a.ndim == 1:
        y = squeeze(y, -2)
    if b.ndim == 1:
        y = squeeze(y, -1)
    return y


def _check_ranks(op, *operands_and_ranks):
    """PyTorch's fixed-rank products refuse what matmul would broadcast: each operand must have its rank."""
    shapes = [tuple(t.shape) for t, _ in operands_and_ranks]
    if any(t.ndim != rank for t, rank in operands_and_ranks):
        wanted = " and ".join(f"{rank}-D" for _, rank in operands_and_ranks)
        raise ValueError(f"{op}: expected {wanted} tensors, got shapes {' and '.join(map(str, shapes))}")


def mm(input, mat2):
    """(n, m) @ (m, p) -> (n, p): matmul for exactly two matrices (the gradient is matmul's)."""
    a, b = operands(input, mat2, "mm")
    _check_ranks("mm", (a, 2), (b, 2))
    return matmul(a, b)


def bmm(input, mat2):
    """(B, n, m) @ (B, m, p) -> (B, n, p), with the same batch size B on both sides (no broadcasting)."""
    a, b = operands(input, mat2, "bmm")
    _check_ranks("bmm", (a, 3), (b, 3))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def mv(input, vec):
    """(n, m) @ (m,) -> (n,)."""
    a, b = operands(input, vec, "mv")
    _check_ranks("mv", (a, 2), (b, 1))
    return matmul(a, b)


def dot(input, other):
    """The inner product of two vectors of the same length, a 0-d tensor."""
    a, b = operands(input, other, "dot")
    _check_ranks("dot", (a, 1), (b, 1))
    if a.shape != b.shape:
        raise ValueError(f"dot: the vectors have different lengths {a.shape[0]} and {b.shape[0]}")
    return matmul(a, b)


def outer(input, vec2):
    """(n,) and (m,) -> (n, m) with entries input[i] * vec2[j]."""
    from .shape import unsqueeze

    a, b = operands(input, vec2, "outer")
    _check_ranks("outer", (a, 1), (b, 1))
    return mul(unsqueeze(a, 1), unsqueeze(b, 0))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), `input` broadcast to the product's shape."""
    product = mm(mat1, mat2)
    product = product if alpha == 1 else mul(product, alpha)
    return add(product, input if beta == 1 else mul(input, beta))
