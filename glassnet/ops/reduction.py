"""Reductions over one, several or all dimensions (`dim`, `keepdim` as in PyTorch).

The backward of a reduction spreads each output gradient back over the elements it summarised:
for a sum, to every element equally; for a max, to the element that won (or evenly among tied
winners). Gradients are first reshaped to the "kept" shape (reduced dims of size 1) so that they
broadcast against the input.

`dim=None` (or an empty tuple) means every dimension. A 0-d tensor accepts dim 0 or -1, as in
PyTorch, and then has nothing to reduce. NumPy's `axis=` is accepted as another name for `dim=`.
float16 sums are accumulated in float32 and rounded once at the end, as PyTorch does (sum, mean, var,
std, norm), so that a mean over more than 65,504 elements does not overflow on the way.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import accepts_axis, normalize_dim, normalize_dims
from .shape import broadcast_to, cast, clone, reshape


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "var", "std", "var_mean", "std_mean",
    "logsumexp", "norm", "argmax", "argmin", "any", "all", "count_nonzero", "nansum", "nanmean"]

# The (values, indices) pair returned by max/min along a dim, like torch.return_types.max / .min.
_MaxResult = namedtuple("max", ("values", "indices"))
_MinResult = namedtuple("min", ("values", "indices"))


# ---- helpers -------------------------------------------------------------------------------------
def _reduce_dims(dim, ndim, op):
    """The dims a reduction runs over: None or () -> all; an int or sequence -> sorted non-negative dims."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = normalize_dims(dim, ndim, op)
    return dims if ndim else ()


def _kept_shape(shape, dims):
    """`shape` with the reduced `dims` set to 1 (the keepdim shape), for broadcasting gradients back."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _out_shape(shape, dims, keepdim):
    """The shape of a reduction's result."""
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _count(shape, dims):
    """How many elements each output of a reduction over `dims` summarises."""
    return math.prod(shape[d] for d in dims)


def _check_nonempty(input, dims, op):
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{op}: expected reduction dim {d} to have non-zero size, "
                             f"got a tensor of shape {input.shape}")


def _check_float(input, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {input.dtype}")


def _widen_int(input):
    """Bool and small integer tensors are summed/multiplied in int64, as in PyTorch."""
    if input.dtype.kind in "biu" and input.dtype != np.int64:
        return Tensor._make(input.array.astype(np.int64))
    return input


def _with_dtype(input, dtype):
    return input if dtype is None else cast(input, dtype)


def _accumulator(dtype):
    """The dtype sums of `dtype` run in: float32 for float16 (as PyTorch), else None (the dtype itself)."""
    return np.float32 if dtype == np.float16 else None


# ---- sum, mean, prod -----------------------------------------------------------------------------
class Sum(Function):
    """y = sum of x over `dims`.   dx = dy broadcast back over the reduced dims."""

    saves_inputs = False

    def forward(self, x, dims, keepdim):
        self.dims = dims
        acc = _accumulator(x.dtype)
        if acc is None:
            return x.sum(axis=dims, keepdims=keepdim)
        with np.errstate(over="ignore"):  # a float16 total beyond 65,504 is inf, silently, as in PyTorch
            return np.asarray(x.sum(axis=dims, keepdims=keepdim, dtype=acc), x.dtype)

    def backward(self, dy):
        x = self.inputs[0]
        return broadcast_to(reshape(dy, _kept_shape(x.shape, self.dims)), x.shape)

    def jvp(self, dx):  # linear: the same sum of the tangent
        return None if dx is None else dx.sum(axis=self.dims).reshape(self._outputs[0].shape)


@accepts_axis
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over `dim` (all dims if None); bool and integer tensors are summed in int64."""
    dims = _reduce_dims(dim, input.ndim, "sum")
    input = _widen_int(_with_dtype(input, dtype))
    return Sum.apply(input, dims=dims, keepdim=keepdim)


@accepts_axis
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """sum / count; the backward is Sum's divided by the count (NaN over an empty dim, as in PyTorch).

    float16 is averaged in float32 and rounded once (the sum alone could overflow float16).
    """
    input = _with_dtype(input, dtype)
    if input.dtype.kind != "c":
        _check_float(input, "mean")
    if input.dtype == np.float16:
        return cast(mean(cast(input, np.float32), dim, keepdim), np.float16)
    dims = _reduce_dims(dim, input.ndim, "mean")
    count = _count(input.shape, dims)
    total = sum(input, dims, keepdim)
    if count == 0:
        return total * float("nan")
    return total / count


class Prod(Function):
    """y = product of x over `dims`.

    dx_i = dy * (product of the other elements of x_i's slice). That product is computed without
    dividing (y / x_i fails at zeros) as the product of the elements before x_i times that of the
    elements after it: two cumulative products (see _product_of_others). Written with Tensor ops
    (cumprod has an exact gradient through zeros), so it is differentiable again.
    Shapes: dx like x.
    """

    def forward(self, x, dims, keepdim):
        self.dims = dims
        return x.prod(axis=dims, keepdims=keepdim)

    def backward(self, dy):
        x = self.inputs[0]
        return reshape(dy, _kept_shape(x.shape, self.dims)) * _product_of_others(x, self.dims)

    def jvp(self, dx):
        if dx is None:
            return None
        others = _product_of_others(Tensor._make(self.inputs[0].array), self.dims).array
        return (dx * others).sum(axis=self.dims).reshape(self._outputs[0].shape)


def _product_of_others(x, dims):
    """For each element, the product of the other elements of its slice over `dims` (a Tensor like x):
    the reduced dims are moved last and flattened to n, then prod_{j<i} x_j * prod_{j>i} x_j comes from an
    exclusive cumulative product from the front and one from the back."""
    from .cumulative import cumprod
    from .indexing import cat, flip
    from .shape import movedim

    if x.array.size == 0:
        return Tensor._make(np.zeros(x.shape, x.dtype))
    kept = [d for d in range(x.ndim) if d not in dims]
    moved = movedim(x, tuple(dims), tuple(range(len(kept), x.ndim))) if dims else x
    flat = reshape(moved, moved.shape[:len(kept)] + (_count(x.shape, dims),))  # (..., n)
    ones = Tensor._make(np.ones(flat.shape[:-1] + (1,), x.dtype))
    before = cumprod(cat([ones, flat[..., :-1]], -1), -1)
    after = flip(cumprod(flip(cat([flat[..., 1:], ones], -1), -1), -1), -1)
    others = reshape(before * after, moved.shape)
    return movedim(others, tuple(range(len(kept), x.ndim)), tuple(dims)) if dims else others


@accepts_axis
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one `dim` (an int, as in PyTorch) or over all elements when dim is None."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int or None, got {dim!r}")
    dims = _reduce_dims(dim, input.ndim, "prod")
    input = _widen_int(_with_dtype(input, dtype))
    return Prod.apply(input, dims=dims, keepdim=keepdim)


# ---- max, min, amax, amin, argmax, argmin ------------------------------------------------------
class AMax(Function):
    """y = max (or min) of x over `dims`.

    dx = dy * [x == y] / count: the gradient is shared evenly among the elements that tie for the
    extreme value (count of them per slice), as in PyTorch. A NaN result counts the NaNs as ties.
    Shapes: y is x reduced over dims (kept with keepdim); dx like x. The mask is a constant.
    """

    def forward(self, x, dims, keepdim, largest):
        self.dims = dims
        y = (np.max if largest else np.min)(x, axis=dims, keepdims=True)
        self.kept = y
        return y if keepdim else y.reshape(_out_shape(x.shape, dims, False))

    def backward(self, dy):
        x = self.inputs[0]
        return reshape(dy, self.kept.shape) * Tensor._make(self._share(dy.dtype))

    def jvp(self, dx):
        return None if dx is None else _sum_over(self, dx * self._share(dx.dtype))

    def _share(self, dtype):
        x = self.inputs[0].array
        hit = (x == self.kept) | (np.isnan(x) & np.isnan(self.kept))
        return (hit / hit.sum(axis=self.dims, keepdims=True)).astype(dtype)


def _sum_over(fn, values):
    """A reduction's tangent: `values` (x's shape) summed over fn.dims, in the output's shape."""
    return values.sum(axis=fn.dims).reshape(fn._outputs[0].shape)


class SelectAlong(Function):
    """y = x at the given `index` along `dim` (the winners chosen by max/min over dim).

    dx = dy placed at the selected positions, 0 elsewhere (a constant one-hot mask times dy).
    Shapes: index has x's shape with dim set to 1; y is that, without dim unless keepdim.
    """

    def forward(self, x, dim, index, keepdim):
        self.dim, self.index = dim, index
        y = np.take_along_axis(x, index, axis=dim)
        return y if keepdim else y.squeeze(dim)

    def backward(self, dy):
        x = self.inputs[0]
        positions = np.arange(x.shape[self.dim]).reshape((-1,) + (1,) * (x.ndim - self.dim - 1))
        hit = Tensor._make((positions == self.index).astype(dy.dtype))
        return reshape(dy, self.index.shape) * hit

    def jvp(self, dx):
        return None if dx is None else np.take_along_axis(dx, self.index, axis=self.dim).reshape(self._outputs[0].shape)


def _extreme(input, dim, keepdim, largest, op):
    result_type = _MaxResult if largest else _MinResult
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim=True needs a dim")
        if input.array.size == 0:
            raise RuntimeError(f"{op}: expected reduction dim to be specified for an empty tensor "
                               f"(shape {input.shape})")
        return AMax.apply(input, dims=tuple(range(input.ndim)), keepdim=False, largest=largest)
    d = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return result_type(clone(input), Tensor._make(np.zeros((), np.int64)))
    _check_nonempty(input, (d,), op)
    index = (np.argmax if largest else np.argmin)(input.array, axis=d, keepdims=True).astype(np.int64)
    values = SelectAlong.apply(input, dim=d, index=index, keepdim=keepdim)
    return result_type(values, Tensor._make(index if keepdim else index.squeeze(d)))


@accepts_axis
def max(input, dim=None, keepdim=False):
    """max(input): the largest element (ties share the gradient evenly).
    max(input, dim, keepdim=False): namedtuple (values, indices) along `dim`; the gradient goes to
    the selected index. max(input, other): the elementwise maximum.
    """
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    return _extreme(input, dim, keepdim, True, "max")


@accepts_axis
def min(input, dim=None, keepdim=False):
    """Like `max`, for the smallest element(s); min(input, other) is the elementwise minimum."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    return _extreme(input, dim, keepdim, False, "min")


@accepts_axis
def amax(input, dim=(), keepdim=False):
    """Largest value over `dim` (int or tuple; all dims if empty/None); ties share the gradient evenly."""
    dims = _reduce_dims(dim, input.ndim, "amax")
    _check_nonempty(input, dims, "amax")
    return AMax.apply(input, dims=dims, keepdim=keepdim, largest=True)


@accepts_axis
def amin(input, dim=(), keepdim=False):
    """Smallest value over `dim` (int or tuple; all dims if empty/None); ties share the gradient evenly."""
    dims = _reduce_dims(dim, input.ndim, "amin")
    _check_nonempty(input, dims, "amin")
    return AMax.apply(input, dims=dims, keepdim=keepdim, largest=False)


def _arg_extreme(input, dim, keepdim, largest, op):
    find = np.argmax if largest else np.argmin
    if dim is None:
        if input.array.size == 0:
            raise IndexError(f"{op}: expected reduction dim to be specified for an empty tensor "
                             f"(shape {input.shape})")
        index = np.asarray(find(input.array.reshape(-1)), np.int64)
        return Tensor._make(index.reshape((1,) * input.ndim) if keepdim else index)
    d = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    _check_nonempty(input, (d,), op)
    return Tensor._make(np.asarray(find(input.array, axis=d, keepdims=keepdim), np.int64))


@accepts_axis
def argmax(input, dim=None, keepdim=False):
    """Index (int64) of the largest element, over the flattened tensor or along `dim`; first one on ties."""
    return _arg_extreme(input, dim, keepdim, True, "argmax")


@accepts_axis
def argmin(input, dim=None, keepdim=False):
    """Index (int64) of the smallest element, over the flattened tensor or along `dim`; first one on ties."""
    return _arg_extreme(input, dim, keepdim, False, "argmin")


# ---- var, std ------------------------------------------------------------------------------------
def _centered(x, dims):
    """x - mean(x) over dims, as a graph-attached Tensor (for differentiable backwards)."""
    return x - mean(x, dims, keepdim=True)


class Var(Function):
    """y = sum((x - mean(x))^2) / max(0, N - correction) over `dims` (N elements per slice).

    dx = dy * 2 (x - mean(x)) / (N - correction). Shapes: dx like x. Written with Tensor ops.
    """

    def forward(self, x, dims, keepdim, correction):
        self.dims, self.correction = dims, correction
        return _variance(x, dims, keepdim, correction)

    def backward(self, dy):
        x = self.inputs[0]
        return _var_backward(x, reshape(dy, _kept_shape(x.shape, self.dims)), self.dims, self.correction)

    def jvp(self, dx):  # dy = sum(2 (x - mean) dx) / (N - correction)
        return None if dx is None else _var_jvp(self, dx)


def _var_jvp(fn, dx):
    x = fn.inputs[0].array
    dof = _count(x.shape, fn.dims) - fn.correction
    with np.errstate(divide="ignore", invalid="ignore"):
        centered = x - x.mean(axis=fn.dims, keepdims=True)
        return _sum_over(fn, 2 * centered * dx) / (dof if dof > 0 else 0.0)


def _variance(x, dims, keepdim, correction):
    """The NumPy forward of var (two passes: the mean, then the squared deviations); float16 in float32."""
    if x.dtype == np.float16:
        return _variance(x.astype(np.float32), dims, keepdim, correction).astype(np.float16)
    n = _count(x.shape, dims)
    with np.errstate(divide="ignore", invalid="ignore"):  # empty slices and N <= correction give nan/inf
        d = x - x.sum(axis=dims, keepdims=True) / x.dtype.type(n)
        y = (d * d).sum(axis=dims, keepdims=keepdim) / x.dtype.type(builtins.max(0, n - correction))
    return np.asarray(y, x.dtype)


def _var_backward(x, g, dims, correction):
    """dx = g * 2 (x - mean) / (N - correction), g in the kept shape (infinite scale when N <= correction)."""
    dof = _count(x.shape, dims) - correction
    scale = 2.0 / dof if dof > 0 else float("inf")
    return g * _centered(x, dims) * scale


class Std(Function):
    """y = sqrt(var(x)) over `dims` (see Var).

    dx = dy / (2 y) * 2 (x - mean(x)) / (N - correction), with 0 where y == 0 (as PyTorch).
    Shapes: dx like x. Written with Tensor ops.
    """

    def forward(self, x, dims, keepdim, correction):
        self.dims, self.correction = dims, correction
        return np.sqrt(_variance(x, dims, keepdim, correction))

    def backward(self, dy):
        from .elementwise import where

        x = self.inputs[0]
        kept = _kept_shape(x.shape, self.dims)
        y = reshape(self.output(), kept)
        zero = Tensor._make(y.array == 0)
        g = where(zero, 0.0, reshape(dy, kept) / (where(zero, 1.0, y) * 2))
        return _var_backward(x, g, self.dims, self.correction)

    def jvp(self, dx):  # dy = dvar / (2 y), 0 where y == 0
        if dx is None:
            return None
        y = self._outputs[0]
        return np.where(y == 0, 0, _var_jvp(self, dx) / (2 * np.where(y == 0, 1, y))).astype(y.dtype)


def _correction(op, input, dim, unbiased, correction):
    _check_float(input, op)
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    return _reduce_dims(dim, input.ndim, op), correction


@accepts_axis
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim` with `correction` (default 1, Bessel's; unbiased=False means 0).

    var(input, True/False) is the legacy form where the second argument is `unbiased`.
    """
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    dims, c = _correction("var", input, dim, unbiased, correction)
    return Var.apply(input, dims=dims, keepdim=keepdim, correction=c)


@accepts_axis
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt of `var` with the same arguments; its gradient is 0 where it is 0."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    dims, c = _correction("std", input, dim, unbiased, correction)
    return Std.apply(input, dims=dims, keepdim=keepdim, correction=c)


# ---- logsumexp, norm -----------------------------------------------------------------------------
class LogSumExp(Function):
    """y = m + log(sum(exp(x - m))) over `dims`, with m the (finite) max, so large x cannot overflow.

    dx = dy * exp(x - y) (the softmax of x over dims). Shapes: dx like x. Written with Tensor ops.
    """

    def forward(self, x, dims, keepdim):
        self.dims = dims
        m = np.max(x, axis=dims, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, np.zeros((), x.dtype))
        with np.errstate(divide="ignore"):  # log(0) = -inf for an empty or all -inf slice
            y = np.log(np.exp(x - m).sum(axis=dims, keepdims=True)) + m
        return y if keepdim else y.reshape(_out_shape(x.shape, dims, False))

    def backward(self, dy):
        from .elementwise import exp

        x = self.inputs[0]
        kept = _kept_shape(x.shape, self.dims)
        return reshape(dy, kept) * exp(x - reshape(self.output(), kept))

    def jvp(self, dx):  # dy = sum(softmax(x) dx)
        if dx is None:
            return None
        x = self.inputs[0].array
        return _sum_over(self, np.exp(x - self._outputs[0].reshape(_kept_shape(x.shape, self.dims))) * dx)


@accepts_axis
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over `dim` (int or tuple), computed stably; integers become floats."""
    if dim is None:
        raise TypeError("logsumexp: dim is required (an int or a tuple of ints)")
    if input.dtype.kind != "f":
        from .. import dtypes

        input = cast(input, dtypes.get_default_dtype())
    return LogSumExp.apply(input, dims=_reduce_dims(dim, input.ndim, "logsumexp"), keepdim=keepdim)


class Norm(Function):
    """Vector p-norm over `dims`: y = (sum |x|^p)^(1/p); p = inf: max |x|; p = 0: number of non-zeros.

    dx = dy * sign(x) |x|^(p-1) / y^(p-1)   (p = 2: dy * x / y;  p = 1: dy * sign(x)),
         0 where y == 0 (and, for p < 1, where x == 0), as PyTorch.
    p = inf: dx = dy * sign(x) * [|x| == y] / count (ties share evenly).   p = 0: dx = 0.
    Shapes: dx like x. Written with Tensor ops (masks are constants).
    """

    def forward(self, x, p, dims, keepdim):
        self.p, self.dims = p, dims
        if x.dtype == np.float16:  # accumulate in float32, as PyTorch
            return self.forward(x.astype(np.float32), p, dims, keepdim).astype(np.float16)
        a = np.abs(x)
        if p == 2:
            y = np.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        elif p == 1:
            y = a.sum(axis=dims, keepdims=keepdim)
        elif p == math.inf:
            y = a.max(axis=dims, keepdims=keepdim, initial=0)
        elif p == 0:
            y = (x != 0).sum(axis=dims, keepdims=keepdim)
        else:
            y = (a ** p).sum(axis=dims, keepdims=keepdim) ** (1 / p)
        return np.asarray(y, x.dtype)

    def backward(self, dy):
        from .elementwise import abs, sign, where

        x = self.inputs[0]
        p = self.p
        kept = _kept_shape(x.shape, self.dims)
        g = reshape(dy, kept)
        y = reshape(self.output(), kept)
        if p == 0:
            return Tensor._make(np.zeros(x.shape, x.dtype))
        if p == 1:
            return g * sign(x)
        if p == math.inf:
            hit = np.abs(x.array) == y.array
            share = (hit / hit.sum(axis=self.dims, keepdims=True)).astype(x.dtype)
            return g * sign(x) * Tensor._make(share)
        y_zero = Tensor._make(y.array == 0)
        safe_y = where(y_zero, 1.0, y)
        if p == 2:
            return x * where(y_zero, 0.0, g / safe_y)
        x_zero = Tensor._make(x.array == 0)
        scaled = sign(x) * abs(where(x_zero, 1.0, x)) ** (p - 1)  # 0 at x == 0 through sign
        return scaled * where(y_zero, 0.0, g / safe_y ** (p - 1))

    def jvp(self, dx):  # dy = sum(dnorm/dx * dx), with the backward's dnorm/dx
        if dx is None:
            return None
        x, p = self.inputs[0].array, self.p
        y = self._outputs[0].reshape(_kept_shape(x.shape, self.dims))
        safe_y = np.where(y == 0, 1, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                slope = np.zeros_like(x)
            elif p == 1:
                slope = np.sign(x)
            elif p == math.inf:
                hit = np.abs(x) == y
                slope = np.sign(x) * hit / hit.sum(axis=self.dims, keepdims=True)
            else:
                slope = np.sign(x) * np.abs(np.where(x == 0, 1, x)) ** (p - 1) / safe_y ** (p - 1)
                slope = np.where(y == 0, 0, slope)
        return _sum_over(self, slope * dx).astype(x.dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector norm over `dim` (all dims if None). p: "fro" (= 2, over at most 2 dims), 2, 1, inf,
    0 or another positive number; "nuc" is the nuclear matrix norm (see linalg.matrix_norm).
    """
    input = _with_dtype(input, dtype)
    _check_float(input, "norm")
    if isinstance(p, str):
        if p == "nuc":  # the sum of the singular values of the matrices over `dim` (the last two by default)
            from .linear_algebra import matrix_norm

            return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
        if p != "fro":
            raise ValueError(f"norm: unknown p {p!r} (expected 'fro' or a number)")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={dim}")
        p = 2.0
    p = 2.0 if p is None else float(p)
    if not p >= 0:
        raise ValueError(f"norm: p must be 'fro', 0, a positive number or inf, got {p}")
    dims = _reduce_dims(dim, input.ndim, "norm")
    if p == math.inf:
        _check_nonempty(input, dims, "norm (p=inf)")
    return Norm.apply(input, p=p, dims=dims, keepdim=keepdim)


@accepts_axis
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over the same dims, as one call (each with its own gradient)."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@accepts_axis
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over the same dims, as one call (each with its own gradient)."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


_MinMaxResult = namedtuple("aminmax", ("min", "max"))


@accepts_axis
def aminmax(input, *, dim=None, keepdim=False):
    """(amin, amax) over `dim` (all elements if None), as a namedtuple (min, max)."""
    return _MinMaxResult(amin(input, dim, keepdim), amax(input, dim, keepdim))


# ---- any, all, count_nonzero, nansum, nanmean ------------------------------------------------------
def _truth(op, np_fn, input, dim, keepdim):
    dims = _reduce_dims(dim, input.ndim, op)
    return Tensor._make(np.asarray(np_fn(input.array != 0, axis=dims, keepdims=keepdim)))


@accepts_axis
def any(input, dim=None, keepdim=False):
    """True where some element over `dim` (an int, a tuple, or None for all) is non-zero; a bool tensor."""
    return _truth("any", np.any, input, dim, keepdim)


@accepts_axis
def all(input, dim=None, keepdim=False):
    """True where every element over `dim` (an int, a tuple, or None for all) is non-zero; a bool tensor."""
    return _truth("all", np.all, input, dim, keepdim)


@accepts_axis
def count_nonzero(input, dim=None):
    """The number of non-zero elements over `dim` (int64)."""
    dims = _reduce_dims(dim, input.ndim, "count_nonzero")
    return Tensor._make(np.asarray(np.count_nonzero(input.array, axis=dims), np.int64))


def _nan_as_zero(input):
    from .elementwise import where

    return where(Tensor._make(np.isnan(input.array)), 0.0, input) if input.dtype.kind == "f" else input


@accepts_axis
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum, treating NaN as 0 (NaN elements get zero gradient)."""
    return sum(_nan_as_zero(input), dim, keepdim, dtype=dtype)


@accepts_axis
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """mean over the non-NaN elements (NaN where all are NaN)."""
    input = _with_dtype(input, dtype)
    _check_float(input, "nanmean")
    count = sum(Tensor._make(~np.isnan(input.array)), dim, keepdim)
    return nansum(input, dim, keepdim) / count
