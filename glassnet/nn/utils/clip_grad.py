"""Gradient clipping: rescale gradients in place by their total norm, or clamp each element."""
import math
import types
import warnings

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _norm_type(norm_type, op):
    try:
        return float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: norm_type must be a number or 'inf', got {norm_type!r}") from None


def _vector_norm(array, p):
    """The p-norm of all elements of `array` (accumulated in float64), as a 0-d array of its dtype."""
    if array.size == 0:
        return np.asarray(0.0, dtype=array.dtype)
    if p == 2:  # the common case: no |x| temporary, BLAS dot products
        return np.asarray(math.sqrt(_sum_of_squares(array.ravel())), dtype=array.dtype)
    a = np.abs(array).ravel()
    if p == math.inf:
        value = a.max()
    elif p == -math.inf:
        value = a.min()
    elif p == 0:
        value = np.count_nonzero(a)
    elif p == 1:
        value = a.sum(dtype=np.float64)
    else:
        value = np.sum(a.astype(np.float64) ** p) ** (1.0 / p)
    return np.asarray(value, dtype=array.dtype)


_CHUNK = 32768


def _sum_of_squares(a):
    """sum(a**2) of a 1-D array as a float: BLAS dot products of chunks (each accumulated in the array's
    dtype over at most _CHUNK elements, in many SIMD lanes), added up in float64."""
    if a.dtype not in (np.float32, np.float64):  # float16 would overflow, integers need no BLAS
        a = a.astype(np.float64)
    return math.fsum(float(np.dot(c, c)) for c in (a[i:i + _CHUNK] for i in range(0, a.size, _CHUNK)))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of the norms of `tensors` (= the norm of all their elements together), as a Tensor.

    Forward: ||t||_p = (sum |x|^p)^(1/p) over every element (max |x| for p = inf). No gradient.
    """
    arrays = [t.array if isinstance(t, Tensor) else np.asarray(t) for t in _as_list(tensors)]
    p = _norm_type(norm_type, "get_total_norm")
    if not arrays:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    norms = [_vector_norm(a, p) for a in arrays]
    total = _vector_norm(np.stack(norms), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {p} of the gradients is non-finite ({float(total)}), so it "
            "cannot be clipped; set error_if_nonfinite=False to scale the gradients by it anyway"
        )
    return Tensor._make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of `parameters` in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = float(max_norm) / (total + 1e-6)
    coef = np.minimum(coef, 1.0)
    for g in grads:
        g.array *= coef.astype(g.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of `parameters` in place so that their total `norm_type`-norm is at most `max_norm`.

    total = ||(||g_1||_p, ..., ||g_n||_p)||_p; each g <- g * min(1, max_norm / (total + 1e-6)).
    Parameters without a gradient are skipped. Returns the total norm (before clipping) as a Tensor.
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warnings.warn("clip_grad_norm_: `parameters` is empty, no gradient clipping will occur", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of `parameters` into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
