"""Arithmetic: add, sub, mul, div, pow, neg, matmul.

Binary operations broadcast as NumPy does. In the backward, a gradient that was broadcast is summed
back to its input's shape with `sum_to` (the adjoint of broadcasting).
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import check_broadcast, operands
from .shape import sum_to

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "matmul"]


class Add(Function):
    """y = a + b.   da = sum_to(dy, a.shape), db = sum_to(dy, b.shape)."""

    def forward(self, a, b):
        return a + b

    def backward(self, dy):
        a, b = self.inputs
        return sum_to(dy, a.shape), sum_to(dy, b.shape)


class Sub(Function):
    """y = a - b.   da = sum_to(dy), db = -sum_to(dy)."""

    def forward(self, a, b):
        return a - b

    def backward(self, dy):
        a, b = self.inputs
        return sum_to(dy, a.shape), -sum_to(dy, b.shape)


class Mul(Function):
    """y = a * b.   da = sum_to(dy * b), db = sum_to(dy * a)."""

    def forward(self, a, b):
        return a * b

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy * b, a.shape) if self.needs_input_grad[0] else None
        db = sum_to(dy * a, b.shape) if self.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """y = a / b.   da = sum_to(dy / b), db = -sum_to(dy * a / b^2)."""

    def forward(self, a, b):
        return a / b

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(dy / b, a.shape) if self.needs_input_grad[0] else None
        db = sum_to(-dy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return da, db


class Pow(Function):
    """y = a ** b.   da = dy * b * a^(b-1),  db = dy * y * log(a)  (0 where a == 0, as PyTorch)."""

    def forward(self, a, b):
        return np.power(a, b)

    def backward(self, dy):
        from .elementwise import log, where

        a, b = self.inputs
        da = db = None
        if self.needs_input_grad[0]:
            da = sum_to(dy * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:
            safe_log = where(a == 0, Tensor._make(np.zeros((), a.dtype)), log(a))
            db = sum_to(dy * self.output() * safe_log, b.shape)
        return da, db


class Neg(Function):
    """y = -x.   dx = -dy."""

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy


class MatMul(Function):
    """y = a @ b for a (..., n, k) and b (..., k, m) with broadcast batch dims -> (..., n, m).

    da = dy @ b^T, db = a^T @ dy, each summed over the batch dims that were broadcast. The 1-D cases
    are turned into these by `matmul` (a vector is a (1, k) or (k, 1) matrix), as in PyTorch.
    """

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, dy):
        a, b = self.inputs
        da = sum_to(matmul(dy, b.mT), a.shape) if self.needs_input_grad[0] else None
        db = sum_to(matmul(a.mT, dy), b.shape) if self.needs_input_grad[1] else None
        return da, db


def add(input, other):
    a, b = operands(input, other, "add")
    check_broadcast("add", a.shape, b.shape)
    return Add.apply(a, b)


def sub(input, other):
    a, b = operands(input, other, "sub")
    check_broadcast("sub", a.shape, b.shape)
    return Sub.apply(a, b)


def mul(input, other):
    a, b = operands(input, other, "mul")
    check_broadcast("mul", a.shape, b.shape)
    return Mul.apply(a, b)


def div(input, other):
    """True division; integer operands give the default float dtype, as in PyTorch."""
    from .. import dtypes
    from .shape import cast

    a, b = operands(input, other, "div")
    if a.dtype.kind != "f":
        a, b = cast(a, dtypes.get_default_dtype()), cast(b, dtypes.get_default_dtype())
    check_broadcast("div", a.shape, b.shape)
    return Div.apply(a, b)


def pow(input, exponent):
    a, b = operands(input, exponent, "pow")
    check_broadcast("pow", a.shape, b.shape)
    return Pow.apply(a, b)


def neg(input):
    return Neg.apply(input)


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
