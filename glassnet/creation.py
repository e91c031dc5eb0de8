"""Factories: tensor, zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint and *_like."""
import builtins

import numpy as np

from . import dtypes
from .random import rng
from .tensor import Tensor, to_array

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand_like", "randn_like", "randint_like"]


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _finish(array, requires_grad):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
    return t


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data` (Python numbers, nested lists, NumPy arrays or tensors)."""
    array = to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and dtype is None:
        array = array.copy()
    return _finish(array, requires_grad)


def as_tensor(data, dtype=None):
    """Like `tensor`, but shares the memory of a NumPy array or tensor when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return Tensor._make(data)
    return Tensor._make(to_array(data, dtype))


from_numpy = as_tensor


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size(size), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_size(size), _float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.empty(_size(size), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = to_array(fill_value).dtype
    return _finish(np.full(_size((size,)), fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from `start` up to (not including) `end`; int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _finish(rng(generator).random(_size(size), dtype=_float(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False):
    """Standard normal."""
    return _finish(rng(generator).standard_normal(_size(size), dtype=_float(dtype)), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None):
    """Integers uniform in [low, high) (int64 by default); randint(high, size) starts at 0."""
    if high is None:
        low, high = 0, low
    return Tensor._make(rng(generator).integers(low, high, _size((size,))).astype(dtype or dtypes.int64))


def randperm(n, generator=None):
    return Tensor._make(rng(generator).permutation(n).astype(np.int64))


def _like(factory):
    def like(input, *args, dtype=None, requires_grad=False, **kwargs):
        return factory(input.shape, *args, dtype=dtype or input.dtype, requires_grad=requires_grad, **kwargs)

    like.__name__ = factory.__name__ + "_like"
    like.__doc__ = f"`{factory.__name__}` with the shape (and, unless given, the dtype) of `input`."
    return like


zeros_like, ones_like, empty_like, rand_like, randn_like = map(_like, (zeros, ones, empty, rand, randn))


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low, high=None, generator=None, dtype=None):
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)
