"""Factories: tensor, zeros, ones, full, empty, arange, linspace, eye, the random draws (rand, randn,
randint, randperm, normal, bernoulli, multinomial, poisson) and the *_like forms.

Each takes PyTorch's keywords: dtype=, requires_grad=, device= (only the CPU exists: see device.py),
and sizes as separate ints, a tuple, or the size= keyword.
"""
import builtins

import numpy as np

from . import dtypes
from .device import check_device
from .random import rng
from .tensor import Tensor, to_array

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson", "zeros_like",
           "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like"]


def _size(size, keyword=None, op="factory"):
    """Sizes given as ints, as one tuple/list, or with the size= keyword -> a tuple of ints."""
    if keyword is not None:
        if size:
            raise TypeError(f"{op}: sizes given both as arguments {size} and as size={keyword}")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {size}")
    return tuple(builtins.int(s) for s in size)


def _finish(array, requires_grad, device=None, op="factory"):
    check_device(device, op)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
    return t


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (Python numbers, nested lists, NumPy arrays or tensors)."""
    array = to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and dtype is None:
        array = array.copy()
    return _finish(array, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares the memory of a NumPy array or tensor when no conversion is needed."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return Tensor._make(data)
    return Tensor._make(to_array(data, dtype))


def from_numpy(array):
    """A tensor sharing the memory of the NumPy array `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_size(sizes, size, "zeros"), _float(dtype)), requires_grad, device)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_size(sizes, size, "ones"), _float(dtype)), requires_grad, device)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_size(sizes, size, "empty"), _float(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = to_array(fill_value).dtype
    return _finish(np.full(_size((size,), op="full"), fill_value, dtype), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from `start` up to (not including) `end`; int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dtype = _float(dtype)
    if dtype == np.bool_:
        raise TypeError("linspace: dtype bool is not supported (as in PyTorch); take a numeric dtype and compare")
    return _finish(np.linspace(start, end, steps).astype(dtype), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad, device)


def _draw_float(draw, size, dtype):
    """NumPy draws float32 and float64 directly; other float dtypes (float16) are drawn in float32."""
    dtype = _float(dtype)
    if dtype.kind != "f":
        raise TypeError(f"expected a floating point dtype for a continuous draw, got {dtype}")
    if dtype in (dtypes.float32, dtypes.float64):
        return draw(size, dtype=dtype)
    return draw(size, dtype=np.float32).astype(dtype)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    array = _draw_float(rng(generator).random, _size(sizes, size, "rand"), dtype)
    return _finish(array, requires_grad, device)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    array = _draw_float(rng(generator).standard_normal, _size(sizes, size, "randn"), dtype)
    return _finish(array, requires_grad, device)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high) (int64 by default), PyTorch's signatures:
    randint(high, size) and randint(low, high, size), size also as the size= keyword."""
    if size is None and args and isinstance(args[-1], (tuple, list)):
        args, size = args[:-1], args[-1]
    if size is None:
        raise TypeError("randint: missing the size, as in randint(10, (3,)) or randint(0, 10, size=(3,))")
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size), got {len(args)} bounds")
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    array = rng(generator).integers(low, high, _size((size,), op="randint")).astype(dtype or dtypes.int64)
    return _finish(array, requires_grad, device)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    return _finish(rng(generator).permutation(n).astype(dtype or np.int64), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal draws: normal(mean_tensor, std_tensor) elementwise, or normal(mean, std, size) with floats."""
    check_device(device, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean.array if isinstance(mean, Tensor) else mean
        s = std.array if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        kind = next(t.dtype for t in (mean, std) if isinstance(t, Tensor))
        if np.any(np.asarray(s) < 0):
            raise ValueError("normal: std must be non-negative")
        return _finish((m + s * _draw_float(rng(generator).standard_normal, shape, kind)).astype(kind),
                       requires_grad)
    if size is None:
        raise TypeError("normal: with float mean and std, give a size: normal(0.0, 1.0, size=(3,))")
    if std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    draws = _draw_float(rng(generator).standard_normal, _size((size,), op="normal"), dtype)
    return _finish((draws * std + mean).astype(draws.dtype), requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (elementwise, or p when given), else 0; the dtype of input."""
    probs = input.array if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    return Tensor._make((rng(generator).random(input.shape) < probs).astype(input.dtype))


def poisson(input, generator=None):
    """Poisson draws with rates `input` (elementwise), in input's dtype."""
    if np.any(input.array < 0):
        raise ValueError("poisson: rates must be non-negative")
    return Tensor._make(rng(generator).poisson(input.array).astype(input.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categorical distribution of each row of `input` (non-negative weights,
    not necessarily normalised): (num_samples,) for a vector, (rows, num_samples) for a matrix, int64."""
    weights = np.asarray(input.array, dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {input.shape}")
    rows = weights.reshape(-1, weights.shape[-1])
    if np.any(rows < 0) or not np.all(np.isfinite(rows)):
        raise ValueError("multinomial: weights must be finite and non-negative")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("multinomial: each row of weights must have a positive sum")
    positive = (rows > 0).sum(axis=1).min()
    if not replacement and num_samples > positive:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"{positive} non-zero weights")
    gen = rng(generator)
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, (row, total) in enumerate(zip(rows, totals)):
        out[i] = gen.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    return Tensor._make(out if weights.ndim == 2 else out[0])


def _like(factory):
    def like(input, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return factory(input.shape, *args, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad,
                       **kwargs)

    like.__name__ = factory.__name__ + "_like"
    like.__doc__ = f"`{factory.__name__}` with the shape (and, unless given, the dtype) of `input`."
    return like


zeros_like, ones_like, empty_like, rand_like, randn_like = map(_like, (zeros, ones, empty, rand, randn))


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint_like(input, low, high=None, generator=None, dtype=None, device=None):
    bounds = (low,) if high is None else (low, high)
    return randint(*bounds, input.shape, generator=generator, dtype=dtype or input.dtype, device=device)
