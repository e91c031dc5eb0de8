"""PyTorch's legacy typed constructors and small module-level helpers, for programs that use them.

`FloatTensor(2, 3)` is an uninitialised float32 tensor of shape (2, 3); `LongTensor([1, 2])` an int64
tensor holding the data. New code writes `glassnet.empty(2, 3)` and `glassnet.tensor([1, 2])`.
"""
import numpy as np

from . import dtypes
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor",
           "is_tensor", "is_floating_point", "is_nonzero", "numel"]


class _LegacyTensorType(type):
    """The type of FloatTensor and its kin, as in PyTorch: calling one builds a tensor of its dtype,
    `isinstance(x, glassnet.FloatTensor)` asks whether x is a float32 tensor, and `x.type(DoubleTensor)`
    casts (the class carries its `dtype`)."""

    def __call__(cls, *args):
        return Tensor(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'glassnet.{cls.__name__}'>"


def _typed(dtype, name):
    doc = f"{name}(*sizes) or {name}(data): a {np.dtype(dtype)} tensor (PyTorch's legacy constructor)."
    return _LegacyTensorType(name, (), {"dtype": np.dtype(dtype), "__doc__": doc, "__module__": __name__})


FloatTensor = _typed(dtypes.float32, "FloatTensor")
DoubleTensor = _typed(dtypes.float64, "DoubleTensor")
HalfTensor = _typed(dtypes.float16, "HalfTensor")
LongTensor = _typed(dtypes.int64, "LongTensor")
IntTensor = _typed(dtypes.int32, "IntTensor")
BoolTensor = _typed(dtypes.bool, "BoolTensor")
ByteTensor = _typed(dtypes.uint8, "ByteTensor")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_nonzero(input):
    """The truth of a one-element tensor (an error for any other size, as bool(tensor))."""
    if input.numel() != 1:
        raise RuntimeError(f"is_nonzero: expected a tensor with one element, got {input.numel()} elements")
    return bool(input)


def numel(input):
    return input.numel()
