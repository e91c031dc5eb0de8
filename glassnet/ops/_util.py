"""Small helpers shared by the operation families: operand conversion and argument checks."""
import builtins
import functools

import numpy as np

from .. import dtypes
from ..tensor import Tensor


def as_tensor(x, dtype=None):
    """`x` if it is a Tensor, else a constant Tensor (no grad) of `dtype`."""
    if isinstance(x, Tensor):
        return x
    return Tensor._make(np.asarray(x, dtype=dtype))


def operands(a, b, op):
    """Two operands of a binary op as Tensors of one dtype (PyTorch's promotion, see dtypes.promote).

    A 0-d tensor with a tensor that has dimensions counts only when it is of a higher category
    (`dtypes.promote_zero_dim`). A Python scalar becomes a 0-d tensor of the result dtype; a tensor whose
    dtype differs is cast with the differentiable `cast`, so its gradient comes back in its own dtype.
    """
    from .shape import cast

    if type(a) is type(b) is Tensor and a.array.dtype == b.array.dtype:
        return a, b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    ka = a.dtype if isinstance(a, Tensor) else _scalar(a, op)
    kb = b.dtype if isinstance(b, Tensor) else _scalar(b, op)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (a.ndim == 0) != (b.ndim == 0):
        dtype = dtypes.promote_zero_dim(ka, kb) if b.ndim == 0 else dtypes.promote_zero_dim(kb, ka)
    else:
        dtype = dtypes.promote(ka, kb)
    a = cast(a, dtype) if isinstance(a, Tensor) else Tensor._make(np.asarray(a, dtype=dtype))
    b = cast(b, dtype) if isinstance(b, Tensor) else Tensor._make(np.asarray(b, dtype=dtype))
    return a, b


def _scalar(x, op):
    if isinstance(x, (builtins.bool, builtins.int, builtins.float, builtins.complex, np.generic)):
        return x.item() if isinstance(x, np.generic) else x
    if isinstance(x, np.ndarray):
        raise TypeError(f"{op}: got a NumPy array; wrap it with glassnet.tensor() first")
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}")


def check_broadcast(op, *shapes):
    """The broadcast shape of `shapes`, or an error naming the operation and the shapes."""
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together"
        ) from None


def normalize_dim(dim, ndim, op):
    """A dimension index in [0, ndim), accepting negative dims; a clear error when out of range."""
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not isinstance(dim, (builtins.int, np.integer)) or isinstance(dim, builtins.bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not lo <= dim <= hi:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor of {ndim} dimensions "
                         f"(expected in [{lo}, {hi}])")
    return dim % max(ndim, 1)


def normalize_dims(dim, ndim, op):
    """None (all dims), an int or a sequence of ints -> a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (builtins.int, np.integer)):
        dim = (dim,)
    dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return dims


def accepts_axis(fn):
    """Let `fn` take NumPy's `axis=` as another name for `dim=`, as PyTorch's functions and methods do."""

    @functools.wraps(fn)
    def with_axis(*args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}: got both dim and its alias axis; give one")
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)

    return with_axis


def matmul(a, b, out=None):
    """np.matmul, except that float16 operands are multiplied in float32 and the result rounded to float16.

    That is what float16 hardware with float32 accumulation computes (each product of two float16 values
    is exact in float32), and it runs at BLAS speed: NumPy's own float16 matmul has no BLAS and is about
    150 times slower. Used by every matrix product of the fused ops (linear, matmul, conv, attention).
    """
    if a.dtype != np.float16 and b.dtype != np.float16:
        return np.matmul(a, b, out=out)
    result = np.matmul(a.astype(np.float32), b.astype(np.float32))
    if out is None:
        return result.astype(np.result_type(a.dtype, b.dtype))
    np.copyto(out, result, casting="unsafe")
    return out
