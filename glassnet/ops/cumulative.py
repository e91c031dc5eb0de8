"""Cumulative operations along one dimension: cumsum, cumprod, cummax, cummin, logcumsumexp.

Each output position i summarises the prefix x_0..x_i of its slice along `dim`, so each backward sends
dy_i back to that prefix: for sums, dx_j = sum over i >= j of dy_i (a cumulative sum from the end).
float16 cumulative sums are accumulated in float32 and rounded at each output, as PyTorch does.
"""
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import accepts_axis, normalize_dim
from .shape import cast, clone

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

_CummaxResult = namedtuple("cummax", ("values", "indices"))
_CumminResult = namedtuple("cummin", ("values", "indices"))


def _prepare(input, dim, dtype, op):
    """(input, dim): the dim normalised; `dtype` applied; bool and integers widened to int64 (as PyTorch)."""
    d = normalize_dim(dim, input.ndim, op)
    if dtype is not None:
        input = cast(input, dtype)
    if input.dtype.kind in "biu" and input.dtype != np.int64:
        input = Tensor._make(input.array.astype(np.int64))
    return input, d


# ---- cumsum ----------------------------------------------------------------------------------------
class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along `dim`.   dx_i = sum_{j >= i} dy_j (a cumulative sum from the end).

    Shapes: y and dx like x.
    """

    saves_inputs = False

    def forward(self, x, dim):
        self.dim = dim
        if x.dtype == np.float16:
            return np.cumsum(x, axis=dim, dtype=np.float32).astype(np.float16)
        return np.cumsum(x, axis=dim)

    def backward(self, dy):
        return ReverseCumsum.apply(dy, dim=self.dim)

    def jvp(self, dx):
        return None if dx is None else np.cumsum(dx, axis=self.dim)


class ReverseCumsum(Function):
    """y_i = sum_{j >= i} x_j along `dim` (Cumsum's backward).   dx_i = sum_{j <= i} dy_j."""

    saves_inputs = False

    def forward(self, x, dim):
        self.dim = dim
        return np.flip(Cumsum().forward(np.flip(x, dim), dim), dim).copy()

    def backward(self, dy):
        return Cumsum.apply(dy, dim=self.dim)

    def jvp(self, dx):
        return None if dx is None else np.flip(np.cumsum(np.flip(dx, self.dim), axis=self.dim), self.dim).copy()


@accepts_axis
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along `dim`; bool and integer tensors give int64, as in PyTorch."""
    input, d = _prepare(input, dim, dtype, "cumsum")
    if input.ndim == 0:
        return clone(input)
    return Cumsum.apply(input, dim=d)


# ---- cumprod ---------------------------------------------------------------------------------------
class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along `dim`.   Shapes: y and dx like x.

    dx_k = sum_{i >= k} dy_i prod_{j <= i, j != k} x_j, computed exactly when the slice has zeros.
    Let z be the position of the first zero of the slice (n if none):
      k < z:  dx_k = (sum_{i >= k} dy_i y_i) / x_k    (y_i = 0 for i >= z, so only i < z count; x_k != 0)
      k = z:  dx_z = sum_{i >= z} dy_i c_i,  c = cumprod of x with x_z replaced by 1
      k > z:  dx_k = 0                                  (every product still contains x_z = 0)
    Written with Tensor operations (the masks are constants), so it is differentiable again.
    """

    def forward(self, x, dim):
        self.dim = dim
        return np.cumprod(x, axis=dim)

    def backward(self, dy):
        from .elementwise import where

        x, d = self.inputs[0], self.dim
        if x.array.size == 0:
            return dy
        zero = x.array == 0
        n = x.shape[d]
        first_zero = np.where(zero.any(axis=d, keepdims=True), zero.argmax(axis=d, keepdims=True), n)
        position = np.arange(n).reshape((-1,) + (1,) * (x.ndim - d - 1))
        before, at = Tensor._make(position < first_zero), Tensor._make(position == first_zero)
        dx = where(before, ReverseCumsum.apply(dy * self.output(), dim=d) / where(before, x, 1.0), 0.0)
        if not zero.any():
            return dx
        c = Cumprod.apply(where(at, 1.0, x), dim=d)
        after = Tensor._make(position >= first_zero)
        from .reduction import sum as _sum

        at_zero = _sum(where(after, dy * c, 0.0), d, keepdim=True)
        return dx + where(at, at_zero, 0.0)

    def jvp(self, dx):
        # y_i = prod_{j<=i} x_j:  dy_i = sum_{k <= i} dx_k prod_{j<=i, j!=k} x_j, via the same exact split
        # as the backward: a forward-mode product rule accumulated along the dim.
        if dx is None:
            return None
        x, d = self.inputs[0].array, self.dim
        xs, ts = np.moveaxis(x, d, 0), np.moveaxis(dx, d, 0)
        y, t = np.empty_like(xs), np.empty_like(ts)
        y[0], t[0] = xs[0], ts[0]
        for i in range(1, xs.shape[0]):  # (y x)' = y' x + y x'
            y[i] = y[i - 1] * xs[i]
            t[i] = t[i - 1] * xs[i] + y[i - 1] * ts[i]
        return np.moveaxis(t, 0, d)


@accepts_axis
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along `dim`; exact gradients also where the input has zeros."""
    input, d = _prepare(input, dim, dtype, "cumprod")
    if input.ndim == 0:
        return clone(input)
    if input.dtype.kind != "f":
        return Tensor._make(np.cumprod(input.array, axis=d))
    return Cumprod.apply(input, dim=d)


# ---- cummax, cummin --------------------------------------------------------------------------------
def _running_extreme(x, dim, largest):
    """(values, indices) of the running max (min) along `dim`; ties and NaN take the latest index (PyTorch)."""
    values = (np.maximum if largest else np.minimum).accumulate(x, axis=dim)
    hit = (x == values) | (np.isnan(x) if x.dtype.kind == "f" else False)
    position = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    indices = np.maximum.accumulate(np.where(hit, position, 0), axis=dim)
    return values, indices.astype(np.int64)


def _cumulative_extreme(input, dim, largest, op):
    from .indexing import gather

    result = _CummaxResult if largest else _CumminResult
    d = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return result(clone(input), Tensor._make(np.zeros((), np.int64)))
    _, indices = _running_extreme(input.array, d, largest)
    index = Tensor._make(indices)
    return result(gather(input, d, index), index)


@accepts_axis
def cummax(input, dim):
    """(values, indices): the running maximum along `dim` and where it was found (the latest on ties).

    values = gather(input, dim, indices), so the gradient of each value goes to the element it came
    from (scatter-added: an element that stays the maximum collects the gradient of every position).
    """
    return _cumulative_extreme(input, dim, True, "cummax")


@accepts_axis
def cummin(input, dim):
    """(values, indices): the running minimum along `dim`; see cummax."""
    return _cumulative_extreme(input, dim, False, "cummin")


# ---- logcumsumexp ----------------------------------------------------------------------------------
class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} exp(x_j) along `dim`, computed as a running logaddexp (no overflow).

    dx_j = sum_{i >= j} dy_i exp(x_j - y_i) (softmax weights of each prefix). Computed stably in log
    space with dy split into its positive and negative parts:
      dx = exp(x + revLCSE(log dy+ - y)) - exp(x + revLCSE(log dy- - y)),
    revLCSE being logcumsumexp from the end. Shapes: like x. Raw NumPy (no second derivative).
    """

    differentiable_backward = False

    def forward(self, x, dim):
        self.dim = dim
        return np.logaddexp.accumulate(x, axis=dim)

    def backward(self, dy):
        x, y, d = self.inputs[0].array, self._outputs[0], self.dim
        flip = lambda a: np.flip(a, d)  # noqa: E731  (sums over i >= j are prefix sums of the reversed slice)
        return Tensor._make(flip(_signed_lcse(flip(dy.array), flip(-y), flip(x), d)))

    def jvp(self, dx):
        # dy_i = sum_{j <= i} exp(x_j - y_i) dx_j: the same weights, accumulated forwards
        if dx is None:
            return None
        x, y = self.inputs[0].array, self._outputs[0]
        return _signed_lcse(dx, x, -y, self.dim)


def _signed_lcse(values, logs, outer, dim):
    """exp(outer_i) * sum_{j <= i} values_j exp(logs_j) along `dim`, without overflow.

    Splitting `values` by sign keeps every logarithm real: the result is
    exp(outer + LCSE(logs + log v+)) - exp(outer + LCSE(logs + log v-)), LCSE a running logaddexp.
    """
    with np.errstate(divide="ignore"):
        plus = np.logaddexp.accumulate(logs + np.log(np.maximum(values, 0)), axis=dim)
        minus = np.logaddexp.accumulate(logs + np.log(np.maximum(-values, 0)), axis=dim)
    return np.exp(outer + plus) - np.exp(outer + minus)


@accepts_axis
def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along `dim`, without overflow."""
    d = normalize_dim(dim, input.ndim, "logcumsumexp")
    if input.dtype.kind != "f":
        from .. import dtypes

        input = cast(input, dtypes.get_default_dtype())
    if input.ndim == 0:
        return clone(input)
    return LogCumSumExp.apply(input, dim=d)
