"""Normalisation layers as fused operations: batch_norm, layer_norm, group_norm, instance_norm, rms_norm.

All five are one operation, `Normalize`, seen through different reshapes of x. A statistics group
is a set of m elements that share one mean and variance:

    batch_norm     x (N, C, *) viewed as (N, C, L)       one group per channel (over N and L)
    instance_norm  x (N, C, *) viewed as (N*C, L)        one group per row (sample, channel)
    group_norm     x (N, C, *) viewed as (N*G, C/G * L)  one group per row (sample, group)
    layer_norm     x (..., *S) viewed as (R, prod(S))    one group per row
    rms_norm       as layer_norm, without centring and without bias

The weight and bias are per channel (batch, instance, group norm) or per element of S (layer and
rms norm).

Forward (per statistics group; rms_norm drops the mean):

    mu = mean(xs),  var = mean((xs - mu)^2)  (biased),  rstd = 1 / sqrt(var + eps)
    xhat = (xs - mu) * rstd,   y = xhat * w + b

Backward, with g = dy * w seen in the statistics layout:

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat))      (rms: rstd * (g - xhat * mean(g * xhat)))
    dw = sum of dy * xhat over the dims w is broadcast along,   db = sum of dy over the same dims

Forward mode (jvp), with the same means over each statistics group:

    dxhat = rstd * (dx - mean(dx) - xhat * mean(dx * xhat))   (the backward's map, which is symmetric)
    dy = dxhat * w + xhat * dw + db

The ordinary backward runs on NumPy arrays (sums as BLAS matrix-vector products or np.einsum, the
fewest possible passes over the data); float16 is computed in float32. When the backward itself is recorded (create_graph=True)
the same formulas are evaluated with Tensor operations, recomputing the statistics from x, so that
second derivatives are exact.
"""
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function
from ..tensor import Tensor
from .reduction import mean
from .elementwise import rsqrt
from .shape import reshape, sum_to

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"]


def _row_sums(a2):
    """(R, K) -> (R,): sums along rows, as a matrix-vector product (BLAS: one pass, several times
    faster than np.sum here)."""
    return a2 @ np.ones(a2.shape[1], a2.dtype)


def _col_sums(a2):
    """(R, K) -> (K,)."""
    return np.ones(a2.shape[0], a2.dtype) @ a2


def _channel_sums(a3):
    """(A, B, L) -> (B,): sums over the first and last axes."""
    return np.einsum("abl->b", a3)


def _compute_dtype(dtype):
    """float16 is normalised in float32 (its statistics overflow or lose all precision otherwise, as a
    sum of squares of values ~100 over a few hundred elements already exceeds float16's 65504)."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class Normalize(Function):
    """Fused normalisation and affine map (see the module docstring for the math).

    Inputs: x, then the weight if `has_weight`, then the bias if `has_bias`. Two layouts:

    * kind "channel": x viewed as (A, B, L), statistics and parameters per B (batch_norm);
    * kind "row": x viewed as (R, K), statistics per row; the parameters either per column
      (`param_view` == `stat_view`: layer_norm, rms_norm) or per channel of x viewed as
      `param_view` = (N, C, S) (instance_norm, group_norm).

    Shapes: y has x's shape; dw, db have the weight's and bias's shapes. If `stats_out` is a dict, the
    forward stores the batch `mean` and biased `var` (per statistics group) in it. float16 inputs are
    computed in float32 and the results rounded back to float16.
    """

    def forward(self, x, *params, kind, stat_view, param_view, param_shape, eps, center, has_weight, has_bias,
                stats_out=None):
        self.kind, self.stat_view, self.param_view, self.param_shape = kind, stat_view, param_view, param_shape
        self.eps, self.center, self.has_weight, self.has_bias = eps, center, has_weight, has_bias
        dtype = _compute_dtype(x.dtype)
        w = params[0].reshape(param_shape).astype(dtype, copy=False) if has_weight else None
        b = params[-1].reshape(param_shape).astype(dtype, copy=False) if has_bias else None
        xs = x.reshape(stat_view).astype(dtype, copy=False)
        if kind == "channel":
            sums, stat = _channel_sums, (lambda v: v.reshape(1, -1, 1))
            m = xs.size // max(stat_view[1], 1)
        else:
            sums, stat = _row_sums, (lambda v: v.reshape(-1, 1))
            m = xs.size // max(stat_view[0], 1)
        mu = None
        if center:
            mu = sums(xs) / m
            xc = xs - stat(mu)
        else:
            xc = xs
        if kind == "channel":
            var = np.einsum("abl,abl->b", xc, xc) / m
        else:
            var = np.einsum("ij,ij->i", xc, xc) / m
        rstd = 1.0 / np.sqrt(var + eps)
        if stats_out is not None:
            stats_out["mean"], stats_out["var"] = mu, var
        self.xc, self.rstd = xc, rstd
        # products with per-group / per-channel factors go through einsum: one pass, and faster than
        # NumPy's broadcasting loops
        y = np.empty_like(xc)
        yp = y.reshape(param_view)  # the same memory, seen per parameter
        if kind == "channel":
            scale = rstd * w.reshape(-1) if w is not None else rstd
            np.einsum("abl,b->abl", xc, scale, out=y)
        elif w is not None and param_view == stat_view:
            np.einsum("ij,i,j->ij", xc, rstd, w.reshape(-1), out=y)
        else:
            np.einsum("ij,i->ij", xc, rstd, out=y)
            if w is not None:
                yp *= w
        if b is not None:
            yp += b.reshape(-1) if kind == "row" and param_view == stat_view else b
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    def backward(self, dy):
        if grad_mode.is_grad_enabled():
            return self._graph_backward(dy)
        d = dy.array.astype(self.xc.dtype, copy=False)
        grads = self._channel_backward(d) if self.kind == "channel" else self._row_backward(d)
        dx, dw, db = grads
        per_input = [dx] + ([dw] if self.has_weight else []) + ([db] if self.has_bias else [])
        out = []
        for g, t, need in zip(per_input, self.inputs, self.needs_input_grad):
            # in the input's shape and dtype (float16 inputs were computed in float32)
            out.append(Tensor._make(g.reshape(t.shape).astype(t.dtype, copy=False)) if need else None)
        return tuple(out)

    def _weight(self):
        """The weight as an array of the computation dtype, shaped param_shape (None without one)."""
        return self.inputs[1].array.reshape(self.param_shape).astype(self.xc.dtype, copy=False) \
            if self.has_weight else None

    def _channel_backward(self, d):
        """x as (A, B, L), per-B statistics and parameters. With sd = sum(dy), sp = sum(dy * xc) per B:
        dx = w rstd dy - w rstd^3 (sp / m) xc - w rstd (sd / m),  dw = rstd sp,  db = sd."""
        xc, rstd = self.xc, self.rstd
        d3 = d.reshape(xc.shape)
        m = xc.size // max(xc.shape[1], 1)
        w = self._weight().reshape(-1) if self.has_weight else 1.0
        sd = _channel_sums(d3)
        sp = np.einsum("abl,abl->b", d3, xc)
        dx = None
        if self.needs_input_grad[0]:
            dx = np.einsum("abl,b->abl", d3, w * rstd)
            dx += np.einsum("abl,b->abl", xc, -w * rstd ** 3 * sp / m)
            if self.center:
                dx += (-w * rstd * sd / m).reshape(1, -1, 1)
        return dx, rstd * sp, sd

    def _row_backward(self, d):
        """x as (R, K), per-row statistics. With g = dy * w, s1 = sum_j(g xc), sg = sum_j(g) per row:
        dx = rstd g - rstd^3 (s1 / K) xc - rstd (sg / K);  dw, db sum dy * xhat and dy over the rest."""
        xc, rstd = self.xc, self.rstd
        r, k = xc.shape
        dx = dw = db = None
        w = self._weight()
        d2 = d.reshape(r, k)
        if self.param_view == self.stat_view:  # parameters per column: layer_norm, rms_norm
            w1 = w.reshape(k) if w is not None else None
            p = d2 * xc
            if self.has_weight and self.needs_input_grad[1]:
                dw = rstd @ p  # sum over rows of dy * xhat
            if self.has_bias and self.needs_input_grad[-1]:
                db = _col_sums(d2)
            if self.needs_input_grad[0]:
                s1 = p @ w1 if w1 is not None else _row_sums(p)
                sg = d2 @ w1 if w1 is not None else _row_sums(d2)
                dx = np.einsum("ij,i,j->ij", d2, rstd, w1) if w1 is not None else np.einsum("ij,i->ij", d2, rstd)
                dx += np.einsum("ij,i->ij", xc, -rstd ** 3 * s1 / k, out=p)
                if self.center:
                    dx += (-rstd * sg / k).reshape(-1, 1)
            return dx, dw, db
        d3 = d.reshape(self.param_view)
        if self.has_weight and self.needs_input_grad[1]:
            q = d2 * xc
            q *= rstd.reshape(-1, 1)
            dw = _channel_sums(q.reshape(self.param_view))
        if self.has_bias and self.needs_input_grad[-1]:
            db = _channel_sums(d3)
        if self.needs_input_grad[0]:
            g = (d3 * w).reshape(r, k) if w is not None else d2
            p = g * xc
            s1, sg = _row_sums(p), _row_sums(g)
            dx = np.einsum("ij,i->ij", g, rstd)
            dx += np.einsum("ij,i->ij", xc, -rstd ** 3 * s1 / k, out=p)
            if self.center:
                dx += (-rstd * sg / k).reshape(-1, 1)
        return dx, dw, db

    def jvp(self, dx, *dparams):
        """Forward mode (module docstring): dy = dxhat w + xhat dw + db, in the computation dtype."""
        dw = dparams[0] if self.has_weight else None
        db = dparams[-1] if self.has_bias else None
        dt = self.xc.dtype
        axes = (0, 2) if self.kind == "channel" else (1,)
        rstd = self.rstd.reshape((1, -1, 1) if self.kind == "channel" else (-1, 1))
        xhat = self.xc * rstd  # (stat_view)
        terms = []
        if dx is not None:
            d = dx.reshape(self.stat_view).astype(dt, copy=False)
            dxhat = d - xhat * (d * xhat).mean(axis=axes, keepdims=True)
            if self.center:
                dxhat -= d.mean(axis=axes, keepdims=True)
            dxhat = (dxhat * rstd).reshape(self.param_view)
            terms.append(dxhat * self._weight() if self.has_weight else dxhat)
        if dw is not None:
            terms.append(xhat.reshape(self.param_view) * dw.reshape(self.param_shape).astype(dt, copy=False))
        if db is not None:
            terms.append(db.reshape(self.param_shape).astype(dt, copy=False))
        total = add_tangents(self.param_view, *terms)
        return None if total is None else total.reshape(self._outputs[0].shape)

    def _graph_backward(self, dy):
        """The same gradients written with Tensor operations (recorded, for higher-order gradients),
        recomputing the statistics from x:  dx = rstd (g - mean(g) - xhat mean(g xhat))."""
        x = self.inputs[0]
        w = self.inputs[1] if self.has_weight else None
        axes = (0, 2) if self.kind == "channel" else (1,)
        xs = reshape(x, self.stat_view)
        xc = xs - mean(xs, axes, True) if self.center else xs
        rstd = rsqrt(mean(xc * xc, axes, True) + self.eps)
        xhat = xc * rstd
        dyp = reshape(dy, self.param_view)
        grads = []
        if self.needs_input_grad[0]:
            g = reshape(dyp * reshape(w, self.param_shape) if w is not None else dyp, self.stat_view)
            inner = g - xhat * mean(g * xhat, axes, True)
            if self.center:
                inner = inner - mean(g, axes, True)
            grads.append(reshape(inner * rstd, x.shape))
        else:
            grads.append(None)
        if self.has_weight:
            if self.needs_input_grad[1]:
                dw = sum_to(dyp * reshape(xhat, self.param_view), self.param_shape)
                grads.append(reshape(dw, w.shape))
            else:
                grads.append(None)
        if self.has_bias:
            b = self.inputs[-1]
            grads.append(reshape(sum_to(dyp, self.param_shape), b.shape) if self.needs_input_grad[-1] else None)
        return tuple(grads)


def _normalize(x, weight, bias, kind, stat_view, param_view, param_shape, eps, center, stats_out=None):
    params = [p for p in (weight, bias) if p is not None]
    return Normalize.apply(x, *params, kind=kind, stat_view=tuple(stat_view), param_view=tuple(param_view),
                           param_shape=tuple(param_shape), eps=float(eps), center=center,
                           has_weight=weight is not None, has_bias=bias is not None, stats_out=stats_out)


# ---- argument checks ----------------------------------------------------------------------------

def _check_float(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")


def _check_param(op, name, p, shape, dtype):
    if p is None:
        return
    if not isinstance(p, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(p).__name__}")
    if tuple(p.shape) != tuple(shape):
        raise ValueError(f"{op}: {name} has shape {tuple(p.shape)}, expected {tuple(shape)}")
    if p.dtype != dtype:
        raise TypeError(f"{op}: {name} has dtype {p.dtype} but the input is {dtype}")


def _check_eps(op, eps):
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")


def _normalized_shape(op, normalized_shape, x):
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    k = len(normalized_shape)
    if k == 0:
        raise ValueError(f"{op}: normalized_shape must name at least one dimension")
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise ValueError(
            f"{op}: input of shape {tuple(x.shape)} does not end with normalized_shape {normalized_shape}; "
            f"expected input of shape [*, {', '.join(map(str, normalized_shape))}]"
        )
    return normalized_shape


def _update_running(running, batch_stat, momentum):
    """running <- (1 - momentum) * running + momentum * batch_stat, in place (no graph)."""
    r = running.array
    r *= 1.0 - momentum
    r += (momentum * batch_stat).astype(r.dtype, copy=False)


# ---- public functions ---------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over (N, C, *): statistics per channel C over the batch and spatial dims.

    In training the batch statistics are used (biased variance) and, when running_mean/running_var are
    given, they are updated in place with `momentum` (the running variance takes the UNBIASED batch
    variance, as PyTorch). Otherwise the running statistics normalise the input.
    """
    op = "batch_norm"
    _check_float(op, input)
    _check_eps(op, eps)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (N, C, *), got shape {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} has shape {tuple(t.shape)}, expected ({c},) for an input of "
                             f"shape {tuple(input.shape)} with {c} channels")
    _check_param(op, "weight", weight, (c,), input.dtype)
    _check_param(op, "bias", bias, (c,), input.dtype)
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        count = input.array.size // c if c else 0
        if count <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(input.shape)}")
        if (running_mean is None) != (running_var is None):
            raise ValueError(f"{op}: give both running_mean and running_var, or neither")
        stats = {} if running_mean is not None else None
        view = (input.shape[0], c, count // input.shape[0])
        y = _normalize(input, weight, bias, "channel", view, view, (1, c, 1), eps, True, stats)
        if stats is not None:
            _update_running(running_mean, stats["mean"].reshape(c), momentum)
            _update_running(running_var, stats["var"].reshape(c) * (count / (count - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var must be given when training=False")
    return _affine_with_stats(input, running_mean, running_var, weight, bias, eps, param_shape)


def _affine_with_stats(input, running_mean, running_var, weight, bias, eps, param_shape):
    """y = (x - mean) * rstd * w + b with given statistics, as Tensor operations:

        scale = w / sqrt(var + eps),  shift = b - mean * scale,  y = x * scale + shift
        dx = dy * scale,  dw = sum(dy * (x - mean) / sqrt(var + eps)),  db = sum(dy)   (by autograd)
    """
    rstd = 1.0 / np.sqrt(running_var.array.astype(input.dtype) + eps)
    mu = running_mean.array.astype(input.dtype)
    scale = Tensor._make(rstd.reshape(param_shape))
    if weight is not None:
        scale = scale * reshape(weight, param_shape)
    shift = Tensor._make(-mu.reshape(param_shape)) * scale
    if bias is not None:
        shift = shift + reshape(bias, param_shape)
    return input * scale + shift


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalisation over (N, C, *): statistics per sample and channel over the spatial dims.

    With `use_input_stats` and running statistics given, these are updated with the batch average of
    the per-instance means and unbiased variances (as PyTorch); without it the running statistics are used.
    """
    op = "instance_norm"
    _check_float(op, input)
    _check_eps(op, eps)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dims (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    n, c = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} has shape {tuple(t.shape)}, expected ({c},) for an input of "
                             f"shape {tuple(input.shape)}")
    _check_param(op, "weight", weight, (c,), input.dtype)
    _check_param(op, "bias", bias, (c,), input.dtype)
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var must be given when use_input_stats=False")
        return _affine_with_stats(input, running_mean, running_var, weight, bias, eps, param_shape)
    count = int(np.prod(input.shape[2:]))
    if count <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element when training, got input of shape "
                         f"{tuple(input.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    stats = {} if running_mean is not None else None
    y = _normalize(input, weight, bias, "row", (n * c, count), (n, c, count), (1, c, 1), eps, True, stats)
    if stats is not None:
        _update_running(running_mean, stats["mean"].reshape(n, c).mean(axis=0), momentum)
        unbiased = stats["var"].reshape(n, c) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(axis=0), momentum)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of (N, C, *): the C channels in `num_groups` groups, statistics per sample and group."""
    op = "group_norm"
    _check_float(op, input)
    _check_eps(op, eps)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (N, C, *), got shape {tuple(input.shape)}")
    if not isinstance(num_groups, numbers.Integral) or num_groups <= 0:
        raise ValueError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise ValueError(f"{op}: the number of channels {c} of input shape {tuple(input.shape)} is not "
                         f"divisible by num_groups={num_groups}")
    _check_param(op, "weight", weight, (c,), input.dtype)
    _check_param(op, "bias", bias, (c,), input.dtype)
    spatial = int(np.prod(input.shape[2:]))
    stat_view = (n * int(num_groups), (c // num_groups) * spatial)
    return _normalize(input, weight, bias, "row", stat_view, (n, c, spatial), (1, c, 1), eps, True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing dims `normalized_shape` (statistics per leading index)."""
    op = "layer_norm"
    _check_float(op, input)
    _check_eps(op, eps)
    shape = _normalized_shape(op, normalized_shape, input)
    _check_param(op, "weight", weight, shape, input.dtype)
    _check_param(op, "bias", bias, shape, input.dtype)
    d = int(np.prod(shape))
    view = (input.array.size // d if d else 0, d)
    return _normalize(input, weight, bias, "row", view, view, (1, d), eps, True)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing dims: y = x / sqrt(mean(x^2) + eps) * w.

    eps=None means the machine epsilon of the computation dtype (float64 for float64 input, else
    float32), as PyTorch.
    """
    op = "rms_norm"
    _check_float(op, input)
    if eps is None:  # float16 computes in float32, so it takes float32's epsilon, as PyTorch
        eps = float(np.finfo(np.float64 if input.dtype == np.float64 else np.float32).eps)
    _check_eps(op, eps)
    shape = _normalized_shape(op, normalized_shape, input)
    _check_param(op, "weight", weight, shape, input.dtype)
    d = int(np.prod(shape))
    view = (input.array.size // d if d else 0, d)
    return _normalize(input, weight, None, "row", view, view, (1, d), eps, False)
