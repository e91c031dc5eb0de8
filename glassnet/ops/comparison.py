"""Comparisons, logical and bitwise operations, and NaN/inf tests: results are bool (or integer) tensors.

None of these has a gradient (their results are piecewise constant and not floating point), so each is
a plain NumPy function on the operands' arrays, after PyTorch's type promotion and a broadcast check.
"""
import numpy as np

from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, operands

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "isnan", "isfinite", "isinf",
    "isposinf", "isneginf", "signbit", "isclose", "allclose"]


def _binary(np_fn, name, doc):
    def op(input, other):
        a, b = operands(input, other, name)
        check_broadcast(name, a.shape, b.shape)
        return Tensor._make(np.asarray(np_fn(a.array, b.array)))

    op.__name__ = name
    op.__doc__ = doc
    return op


eq = _binary(np.equal, "eq", "a == b elementwise, as a bool tensor.")
ne = not_equal = _binary(np.not_equal, "ne", "a != b elementwise, as a bool tensor.")
lt = less = _binary(np.less, "lt", "a < b elementwise, as a bool tensor.")
le = less_equal = _binary(np.less_equal, "le", "a <= b elementwise, as a bool tensor.")
gt = greater = _binary(np.greater, "gt", "a > b elementwise, as a bool tensor.")
ge = greater_equal = _binary(np.greater_equal, "ge", "a >= b elementwise, as a bool tensor.")
logical_and = _binary(np.logical_and, "logical_and", "a and b (non-zero counts as true), as a bool tensor.")
logical_or = _binary(np.logical_or, "logical_or", "a or b (non-zero counts as true), as a bool tensor.")
logical_xor = _binary(np.logical_xor, "logical_xor", "Exactly one of a, b is non-zero, as a bool tensor.")


def _bitwise(np_fn, name):
    def op(input, other):
        a, b = operands(input, other, name)
        if a.dtype.kind not in "biu":
            raise TypeError(f"{name}: only integer and bool tensors are supported, got {a.dtype}")
        check_broadcast(name, a.shape, b.shape)
        return Tensor._make(np.asarray(np_fn(a.array, b.array)))

    op.__name__ = name
    op.__doc__ = f"Elementwise `{np_fn.__name__}` of integer or bool tensors (bools: the logical version)."
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")  # arithmetic: the sign is kept


def bitwise_not(input):
    """~x: flips every bit of an integer tensor, negates a bool tensor."""
    if input.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: only integer and bool tensors are supported, got {input.dtype}")
    return Tensor._make(np.invert(input.array))


def logical_not(input):
    return Tensor._make(np.logical_not(input.array))


def _test(np_fn, name, doc):
    def op(input):
        return Tensor._make(np.asarray(np_fn(input.array)))

    op.__name__ = name
    op.__doc__ = doc
    return op


isnan = _test(np.isnan, "isnan", "True where the element is NaN.")
isfinite = _test(np.isfinite, "isfinite", "True where the element is neither NaN nor infinite.")
isinf = _test(np.isinf, "isinf", "True where the element is +inf or -inf.")
isposinf = _test(np.isposinf, "isposinf", "True where the element is +inf.")
isneginf = _test(np.isneginf, "isneginf", "True where the element is -inf.")
signbit = _test(np.signbit, "signbit", "True where the sign bit is set (negative numbers and -0.0).")


def equal(input, other):
    """True if both tensors have the same shape and the same elements (a Python bool)."""
    a, b = as_tensor(input), as_tensor(other)
    return a.shape == b.shape and bool(np.array_equal(a.array, b.array))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (a bool tensor); both must have one dtype.

    Infinities are close only to themselves; NaN is close to NaN only with equal_nan.
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"isclose: expected two Tensors, got {type(input).__name__} and {type(other).__name__}")
    if input.dtype != other.dtype:
        raise TypeError(f"isclose: the dtypes must match, got {input.dtype} and {other.dtype}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    check_broadcast("isclose", input.shape, other.shape)
    return Tensor._make(np.asarray(np.isclose(input.array, other.array, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if isclose holds for every element (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())
