"""Loss functions (also in glassnet.nn.functional, as in PyTorch).

`reduction` is "none" (one loss per element or sample), "sum", or "mean" everywhere; the deprecated
`size_average` / `reduce` arguments are accepted and override it, as PyTorch.

Losses whose math is a few elementwise steps (mse, l1, smooth_l1, huber, bce_with_logits, kl_div, the
margin and cosine losses) are composed from Tensor operations, so their gradients of every order come
from those operations. `cross_entropy` is one fused, numerically stable operation (log-softmax inside);
`nll_loss` and `binary_cross_entropy` are fused too, with backward formulas written out as PyTorch's.

Input and target shapes must agree exactly: nothing is silently broadcast.
"""
import math
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import check_broadcast
from .elementwise import abs, clamp, exp, log, log1p, maximum, minimum, sqrt, where
from .reduction import mean, sum
from .shape import reshape

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_with_distance_loss"]


# ---- shared helpers -----------------------------------------------------------------------------

def _reduction(op, size_average, reduce, reduction, allowed=("none", "mean", "sum")):
    """The reduction string, from the deprecated size_average/reduce pair when either is given."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction={reduction!r} is not valid; expected one of "
                         f"{', '.join(repr(a) for a in allowed)}")
    return reduction


def _reduce_tangent(per, reduction, denom=None):
    """A jvp's per-element loss tangent reduced as the loss was ("mean" divides by `denom`, default the count)."""
    if reduction == "none":
        return per
    total = np.asarray(per.sum(dtype=per.dtype))
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / np.asarray(per.size if denom is None else denom, per.dtype)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return sum(loss) if reduction == "sum" else mean(loss)


def _tensor(op, name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _float_tensor(op, name, x):
    _tensor(op, name, x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point tensor, got {x.dtype}")
    return x


def _same_shape(op, input, target, names=("input", "target")):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: {names[0]} shape {tuple(input.shape)} and {names[1]} shape "
                         f"{tuple(target.shape)} differ; they must be the same (no broadcasting)")


def _broadcastable_to(op, name, w, shape):
    """`w` (a Tensor) must broadcast to exactly `shape`."""
    if check_broadcast(op, w.shape, shape) != tuple(shape):
        raise ValueError(f"{op}: {name} of shape {tuple(w.shape)} cannot be broadcast to the input shape "
                         f"{tuple(shape)}")


def _weighted_elementwise(op, loss, weight, input, reduction, mean_by_weight):
    """Reduce an elementwise loss, optionally weighted by `weight` (same shape as the input)."""
    if weight is None:
        return _reduce(loss, reduction)
    _tensor(op, "weight", weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: weight shape {tuple(weight.shape)} must equal the input shape "
                         f"{tuple(input.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return sum(loss) / sum(weight)
    return _reduce(loss, reduction)


# ---- regression losses (composed) ---------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2 elementwise; with `weight`, the weighted mean divides by sum(weight) as PyTorch."""
    op = "mse_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_shape(op, _float_tensor(op, "input", input), _tensor(op, "target", target))
    d = input - target
    return _weighted_elementwise(op, d * d, weight, input, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target| elementwise; with `weight`, the weighted mean divides by sum(weight) as PyTorch."""
    op = "l1_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_shape(op, _float_tensor(op, "input", input), _tensor(op, "target", target))
    return _weighted_elementwise(op, abs(input - target), weight, input, reduction, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """z = |input - target|:  0.5 z^2 / beta if z < beta, else z - 0.5 beta  (beta = 0: the L1 loss)."""
    op = "smooth_l1_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_shape(op, _float_tensor(op, "input", input), _tensor(op, "target", target))
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    z = abs(input - target)
    if beta == 0:
        return _reduce(z, reduction)
    loss = where(Tensor._make(z.array < beta), z * z * (0.5 / beta), z - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """z = |input - target|:  0.5 z^2 if z < delta, else delta (z - 0.5 delta).

    With `weight` (input's shape) the mean is the plain mean of the weighted losses, as PyTorch.
    """
    op = "huber_loss"
    reduction = _reduction(op, None, None, reduction)
    _same_shape(op, _float_tensor(op, "input", input), _tensor(op, "target", target))
    if delta <= 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    z = abs(input - target)
    loss = where(Tensor._make(z.array < delta), z * z * 0.5, (z - 0.5 * delta) * delta)
    return _weighted_elementwise(op, loss, weight, input, reduction, False)


# ---- classification: cross_entropy and nll_loss (fused) ------------------------------------------

def _class_layout(op, input, target, allow_probs):
    """Check shapes and return (x, target_array_or_prob_tensor, is_probs, unbatched) with x as (N, C, *)."""
    from .shape import unsqueeze

    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    unbatched = input.ndim == 1
    x = unsqueeze(input, 0) if unbatched else input
    n_classes = x.shape[1]
    if target.dtype.kind == "f":
        if not allow_probs:
            raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"{op}: class-probability target of shape {tuple(target.shape)} must have the "
                             f"input's shape {tuple(input.shape)}")
        if target.dtype != input.dtype:
            raise TypeError(f"{op}: probability target dtype {target.dtype} differs from input dtype {input.dtype}")
        return x, (unsqueeze(target, 0) if unbatched else target), True, unbatched, n_classes
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices or float probabilities, got {target.dtype}")
    expected = tuple(input.shape[:1]) + tuple(input.shape[2:]) if not unbatched else ()
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not match input of shape "
                         f"{tuple(input.shape)}; expected target shape {expected}")
    t = target.array.reshape((1,)) if unbatched else target.array
    return x, t.astype(np.int64, copy=False), False, unbatched, n_classes


def _check_indices(op, t, n_classes, ignore_index):
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target index {int(t[bad].flat[0])} is out of range for {n_classes} classes "
                         f"(expected 0 <= index < {n_classes}, or ignore_index={ignore_index})")
    return valid


def _class_weight(op, weight, n_classes, dtype):
    if weight is None:
        return None
    _tensor(op, "weight", weight)
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have one entry per class, "
                         f"expected ({n_classes},)")
    return weight.array.astype(dtype, copy=False)


def _class_sum(a):
    """Sum over the class axis 1, keeping it: (N, C, *) -> (N, 1, *) (einsum, fast, for 2-D)."""
    if a.ndim == 2:
        return np.einsum("nc->n", a)[:, None]
    return a.sum(axis=1, keepdims=True)


def _per_position(array, ndim):
    """(N, *) -> (N, 1, *): broadcast a per-position value along the class axis."""
    return array.reshape(array.shape[:1] + (1,) + array.shape[1:]) if ndim >= 2 else array


class CrossEntropy(Function):
    """Cross entropy of logits x (N, C, *) against class indices t (N, *) or probabilities q (N, C, *).

    Forward (log-softmax over the class axis, shifted by the max for stability):
        logp = x - max - log(sum(exp(x - max)))
        indices:  loss_i = (1 - s) w[t_i] (-logp[i, t_i]) + (s / C) sum_c w_c (-logp[i, c]),  0 if t_i ignored
        probs:    loss_i = -sum_c w_c q'_ic logp_ic   with q' = (1 - s) q + s / C
        (s = label_smoothing, w = class weights or ones). "mean" divides the sum by sum of w[t_i] over
        non-ignored positions (indices) or by the number of positions N * prod(*) (probabilities).
    Backward: with p = softmax(x) and c_i the output gradient times the reduction's scale,
        dx_ic = c_i (a_i p_ic - b_ic)  where, for indices,  a_i = (1 - s) w[t_i] + (s / C) sum_k w_k,
            b_ic = (1 - s) w[t_i] [c = t_i] + (s / C) w_c   (both 0 at ignored positions);
        for probabilities a_i = sum_k w_k q'_ik, b_ic = w_c q'_ic (without weights and smoothing: p - t).
        dq_ic = -c_i (1 - s) w_c logp_ic.
    Shapes: loss (N, *) for "none", else ().
    """

    def forward(self, x, *q, target, weight, ignore_index, reduction, label_smoothing):
        n_classes = x.shape[1]
        s = label_smoothing
        self.reduction, self.s = reduction, s
        # shift = max + log(sum(exp(x - max))) per position, so that logp = x - shift
        m = x.max(axis=1, keepdims=True) if x.size else np.zeros(x.shape[:1] + (1,) + x.shape[2:], x.dtype)
        e = np.exp(x - m)
        ssum = _class_sum(e)
        shift = m + np.log(ssum)
        self.m, self.e, self.ssum, self.shift = m, e, ssum, shift
        w_b = weight.reshape((1, n_classes) + (1,) * (x.ndim - 2)) if weight is not None else None
        self.w_b = w_b
        if q:
            qq = q[0] * (1 - s) + s / n_classes if s > 0 else q[0]
            wq = qq * w_b if w_b is not None else qq
            self.wq = wq
            # -sum_c wq_c logp_c = shift * sum_c wq_c - sum_c wq_c x_c
            loss = (shift * _class_sum(wq) - _class_sum(wq * x))[:, 0]
            denom = loss.size
        else:
            valid = target != ignore_index
            t = np.where(valid, target, 0)
            wt = weight[t] * valid if weight is not None else valid.astype(x.dtype)
            wt = wt.astype(x.dtype, copy=False)
            x_t = np.take_along_axis(x, t[:, None], axis=1)[:, 0]
            loss = (shift[:, 0] - x_t) * wt
            if s > 0:
                loss *= 1 - s
                w_sum = weight.sum() if weight is not None else n_classes
                # sum_c w_c (-logp_c) = w_sum * shift - sum_c w_c x_c
                x_w = _class_sum(x * w_b if w_b is not None else x)[:, 0]
                loss += (s / n_classes) * (w_sum * shift[:, 0] - x_w) * valid
                self.w_sum = w_sum
            self.valid, self.t, self.wt = valid, t, wt
            denom = wt.sum()
        self.denom = denom
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        total = loss.sum(dtype=x.dtype)
        if reduction == "sum":
            return np.asarray(total)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / np.asarray(denom, x.dtype))

    def _scale(self, d, ndim):
        if self.reduction == "none":
            return _per_position(d, ndim)
        if self.reduction == "sum":
            return d
        with np.errstate(invalid="ignore", divide="ignore"):
            return d / np.asarray(self.denom, d.dtype)

    def backward(self, dy):
        if grad_mode.is_grad_enabled():
            return self._graph_backward(dy)
        x = self.inputs[0]
        c = self._scale(dy.array, x.ndim)
        n_classes = x.shape[1]
        s = self.s
        probs = len(self.inputs) > 1
        dx = dq = None
        if self.needs_input_grad[0]:
            # dx = c (a p - b) with p = e / ssum: one pass for c a / ssum * e, then the b terms
            if probs:
                a = _class_sum(self.wq)
                grad = self.e * (a * c / self.ssum)
                grad -= self.wq * c
            else:
                a = (1 - s) * self.wt
                if s > 0:
                    a = a + (s / n_classes) * self.w_sum * self.valid
                grad = self.e * (_per_position(a, x.ndim) * c / self.ssum)
                hit = _per_position((1 - s) * self.wt, x.ndim) * c
                idx = self.t[:, None]
                np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=1) - hit, axis=1)
                if s > 0:
                    wb = self.w_b if self.w_b is not None else 1.0
                    grad -= (s / n_classes) * wb * _per_position(self.valid, x.ndim) * c
            dx = Tensor._make(grad.astype(x.dtype, copy=False))
        if probs and self.needs_input_grad[1]:
            g = (x.array - self.shift) * (-(1 - s) * c)
            if self.w_b is not None:
                g *= self.w_b
            dq = Tensor._make(g.astype(x.dtype, copy=False))
        return (dx, dq) if probs else dx

    def jvp(self, tx, tq=None):
        """Forward mode: d loss_i = sum_c (a_i p_ic - b_ic) dx_ic - (1 - s) sum_c w_c logp_ic dq_ic (see above)."""
        x = self.inputs[0].array
        n_classes, s = x.shape[1], self.s
        p = self.e / self.ssum
        per = np.zeros(self.shift.shape[:1] + self.shift.shape[2:], x.dtype)
        if tx is not None:
            if len(self.inputs) > 1:
                per = per + (_class_sum(self.wq) * _class_sum(p * tx) - _class_sum(self.wq * tx))[:, 0]
            else:
                a = (1 - s) * self.wt
                per = per + a * _class_sum(p * tx)[:, 0] - a * np.take_along_axis(tx, self.t[:, None], axis=1)[:, 0]
                if s > 0:
                    wtx = tx * self.w_b if self.w_b is not None else tx
                    per = per + (s / n_classes) * self.valid * (self.w_sum * _class_sum(p * tx) - _class_sum(wtx))[:, 0]
        if tq is not None:
            logp_tq = (x - self.shift) * tq
            if self.w_b is not None:
                logp_tq = logp_tq * self.w_b
            per = per - (1 - s) * _class_sum(logp_tq)[:, 0]
        return _reduce_tangent(per.astype(x.dtype, copy=False), self.reduction, self.denom)

    def _graph_backward(self, dy):
        """The same gradients with Tensor operations, for create_graph=True (p = softmax(x) recorded)."""
        x = self.inputs[0]
        n_classes = x.shape[1]
        s = self.s
        m = Tensor._make(self.m)
        logp = x - (log(sum(exp(x - m), 1, True)) + m)
        p = exp(logp)
        if self.reduction == "none":
            c = reshape(dy, _per_position(dy.array, x.ndim).shape)
        else:
            c = dy if self.reduction == "sum" else dy / float(self.denom)
        w_b = Tensor._make(self.w_b) if self.w_b is not None else None
        if len(self.inputs) > 1:
            q = self.inputs[1]
            qq = q * (1 - s) + s / n_classes if s > 0 else q
            wq = qq * w_b if w_b is not None else qq
            dx = (p * sum(wq, 1, True) - wq) * c if self.needs_input_grad[0] else None
            dq = None
            if self.needs_input_grad[1]:
                dq = logp * c * (-(1 - s))
                dq = dq * w_b if w_b is not None else dq
            return dx, dq
        a = (1 - s) * self.wt
        b = np.zeros(x.shape, x.dtype)
        np.put_along_axis(b, self.t[:, None], _per_position((1 - s) * self.wt, x.ndim), axis=1)
        if s > 0:
            a = a + (s / n_classes) * self.w_sum * self.valid
            b += (s / n_classes) * (self.w_b if self.w_b is not None else 1.0) * _per_position(self.valid, x.ndim)
        a = Tensor._make(_per_position(a, x.ndim).astype(x.dtype, copy=False))
        return (p * a - Tensor._make(b)) * c


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits `input` (N, C, *), (C,) and class indices (N, *), () or probabilities
    (input's shape). One fused, numerically stable operation; see CrossEntropy for the math."""
    op = "cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, t, probs, unbatched, n_classes = _class_layout(op, input, target, allow_probs=True)
    w = _class_weight(op, weight, n_classes, input.dtype)
    if probs:
        out = CrossEntropy.apply(x, t, target=None, weight=w, ignore_index=ignore_index, reduction=reduction,
                                 label_smoothing=float(label_smoothing))
    else:
        _check_indices(op, t, n_classes, ignore_index)
        out = CrossEntropy.apply(x, target=t, weight=w, ignore_index=ignore_index, reduction=reduction,
                                 label_smoothing=float(label_smoothing))
    return reshape(out, ()) if unbatched and reduction == "none" else out


class NLLLoss(Function):
    """Negative log likelihood of log-probabilities x (N, C, *) at class indices t (N, *).

    Forward: loss_i = -w[t_i] x[i, t_i] (0 where t_i == ignore_index); "mean" divides the sum by the sum
    of w[t_i] over non-ignored positions.
    Backward: dx[i, c] = -c_i w[t_i] [c = t_i], with c_i the output gradient times the reduction's scale;
    written as dy * M with a constant M, so it is differentiable again.
    Shapes: loss (N, *) for "none", else ().
    """

    def forward(self, x, target, weight, ignore_index, reduction):
        valid = target != ignore_index
        t = np.where(valid, target, 0)
        wt = (weight[t] * valid if weight is not None else valid).astype(x.dtype, copy=False)
        loss = -np.take_along_axis(x, t[:, None], axis=1)[:, 0] * wt
        self.t, self.wt, self.reduction = t, wt, reduction
        self.denom = wt.sum()
        if reduction == "none":
            return loss
        total = loss.sum(dtype=x.dtype)
        if reduction == "sum":
            return np.asarray(total)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / self.denom)

    def backward(self, dy):
        x = self.inputs[0]
        coeff = np.zeros(x.shape, x.dtype)
        scale = 1.0
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = 1.0 / self.denom
        np.put_along_axis(coeff, self.t[:, None], _per_position(-self.wt * scale, x.ndim).astype(x.dtype), axis=1)
        if self.reduction == "none":
            dy = reshape(dy, _per_position(dy.array, x.ndim).shape)
        return dy * Tensor._make(coeff)


    def jvp(self, tx):
        """Forward mode: d loss_i = -w[t_i] dx[i, t_i], reduced as the loss."""
        if tx is None:
            return None
        per = -np.take_along_axis(tx, self.t[:, None], axis=1)[:, 0] * self.wt
        return _reduce_tangent(per, self.reduction, self.denom)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities `input` (N, C, *) or (C,) at class indices `target`."""
    op = "nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    x, t, _, unbatched, n_classes = _class_layout(op, input, target, allow_probs=False)
    w = _class_weight(op, weight, n_classes, input.dtype)
    _check_indices(op, t, n_classes, ignore_index)
    out = NLLLoss.apply(x, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return reshape(out, ()) if unbatched and reduction == "none" else out


# ---- binary classification ----------------------------------------------------------------------

class BinaryCrossEntropy(Function):
    """loss = -w (y log x + (1 - y) log(1 - x)) for probabilities x, each log clamped at -100 (as PyTorch).

    Backward (PyTorch's formulas; written with Tensor operations, so differentiable again):
        dx = c w (x - y) / max(x (1 - x), 1e-12),   dy = c w (max(log(1 - x), -100) - max(log x, -100))
    with c the output gradient times the reduction's scale.  Shapes: x, y, loss all alike; w broadcasts.
    """

    def forward(self, x, y, weight, reduction):
        self.weight, self.reduction = weight, reduction
        with np.errstate(divide="ignore"):
            loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
        if weight is not None:
            loss = loss * weight
        loss = loss.astype(x.dtype, copy=False)
        if reduction == "none":
            return loss
        return np.asarray(loss.sum(dtype=x.dtype) if reduction == "sum" else loss.mean(dtype=x.dtype))

    def backward(self, dy):
        x, y = self.inputs
        c = dy
        if self.reduction == "mean":
            c = dy / float(x.array.size) if x.array.size else dy * float("nan")
        if self.weight is not None:
            c = c * Tensor._make(self.weight)
        dx = c * (x - y) / maximum(x * (1 - x), 1e-12) if self.needs_input_grad[0] else None
        dt = None
        if self.needs_input_grad[1]:
            dt = c * (clamp(log1p(-x), min=-100) - clamp(log(x), min=-100))
        return dx, dt


    def jvp(self, tx, ty):
        """Forward mode: d loss = w ((x - y) / max(x (1 - x), 1e-12) dx
                                       + (max(log(1 - x), -100) - max(log x, -100)) dy)."""
        x, y = (t.array for t in self.inputs)
        per = np.zeros(x.shape, x.dtype)
        if tx is not None:
            per = per + tx * (x - y) / np.maximum(x * (1 - x), 1e-12)
        if ty is not None:
            with np.errstate(divide="ignore"):
                per = per + ty * (np.maximum(np.log1p(-x), -100) - np.maximum(np.log(x), -100))
        if self.weight is not None:
            per = per * self.weight
        return _reduce_tangent(per.astype(x.dtype, copy=False), self.reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy of probabilities `input` in [0, 1] against `target` (same shape)."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _float_tensor(op, "target", target)
    _same_shape(op, input, target)
    if input.array.size and (np.min(input.array) < 0 or np.max(input.array) > 1):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1, got values in "
                         f"[{np.min(input.array):g}, {np.max(input.array):g}]")
    if target.array.size and (np.min(target.array) < 0 or np.max(target.array) > 1):
        raise ValueError(f"{op}: all elements of target should be between 0 and 1, got values in "
                         f"[{np.min(target.array):g}, {np.max(target.array):g}]")
    w = None
    if weight is not None:
        _tensor(op, "weight", weight)
        _broadcastable_to(op, "weight", weight, input.shape)
        w = np.broadcast_to(weight.array.astype(input.dtype, copy=False), input.shape)
    if target.dtype != input.dtype:
        raise TypeError(f"{op}: target dtype {target.dtype} differs from input dtype {input.dtype}")
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


def _log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for any x (Tensor operations)."""
    return minimum(x, 0.0) - log1p(exp(-abs(x)))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy on logits, in the stable form (as PyTorch):

        loss = (1 - y) x - (1 + (pos_weight - 1) y) log_sigmoid(x),   times `weight`

    `weight` and `pos_weight` broadcast against the input (pos_weight typically has shape (C,), the
    last dim). Composed from Tensor operations (gradients for input, target, weight and pos_weight).
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as input size "
                         f"{tuple(input.shape)}")
    ls = _log_sigmoid(input)
    if pos_weight is not None:
        _tensor(op, "pos_weight", pos_weight)
        _broadcastable_to(op, "pos_weight", pos_weight, input.shape)
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * ls
    else:
        loss = (1 - target) * input - ls
    if weight is not None:
        _tensor(op, "weight", weight)
        _broadcastable_to(op, "weight", weight, input.shape)
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- distributions ------------------------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence with `input` as log-probabilities:

        target * (log(target) - input)   (0 where target == 0),   or with log_target:
        exp(target) * (target - input).
    reduction "batchmean" divides the sum by input.shape[0] (the mathematical KL divergence).
    """
    op = "kl_div"
    reduction = _reduction(op, size_average, reduce, reduction, ("none", "mean", "sum", "batchmean"))
    _float_tensor(op, "input", input)
    _float_tensor(op, "target", target)
    _same_shape(op, input, target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = Tensor._make(target.array == 0)
        safe = where(zero, 1.0, target)
        loss = where(zero, 0.0, target * log(safe)) - target * input
    if reduction == "batchmean":
        total = sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# ---- similarity and margin losses ---------------------------------------------------------------

def _keep_value_clamp_min(t, eps):
    """max(t, eps) in value, with t's gradient (PyTorch clamps outside autograd)."""
    fix = np.maximum(t.array, eps) - t.array
    return t + Tensor._make(fix.astype(t.dtype, copy=False)) if fix.any() else t


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """With cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) along the last dim:
    loss = 1 - cos where target == 1,  max(0, cos - margin) where target == -1.
    Inputs (N, D) with target (N,), or (D,) with target ()."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input1", input1)
    _float_tensor(op, "input2", input2)
    _tensor(op, "target", target)
    _same_shape(op, input1, input2, ("input1", "input2"))
    if input1.ndim not in (1, 2) or tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ValueError(f"{op}: expected inputs (N, D) with target (N,) or inputs (D,) with target (), got "
                         f"inputs {tuple(input1.shape)} and target {tuple(target.shape)}")
    d = input1.ndim - 1
    prod = sum(input1 * input2, d)
    m1 = sum(input1 * input1, d) + 1e-12
    m2 = sum(input2 * input2, d) + 1e-12
    cos = prod / sqrt(m1 * m2)
    pos = Tensor._make(target.array == 1)
    neg = Tensor._make(target.array == -1)
    loss = where(pos, 1 - cos, 0.0) + where(neg, clamp(cos - margin, min=0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), elementwise; all three of one shape."""
    op = "margin_ranking_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input1", input1)
    _float_tensor(op, "input2", input2)
    _tensor(op, "target", target)
    _same_shape(op, input1, input2, ("input1", "input2"))
    _same_shape(op, input1, target, ("input1", "target"))
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where target == 1, max(0, margin - x) where target == -1, elementwise (PyTorch adds both
    terms for any other target value); `target` has the input's shape."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    t = target.array
    hinge = where(Tensor._make(t != 1), clamp(margin - input, min=0), 0.0)
    return _reduce(hinge + where(Tensor._make(t != -1), input, 0.0), reduction)


def _softplus_neg(z):
    """log(1 + e^-z) = -log_sigmoid(z), stable for any z."""
    return -_log_sigmoid(z)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) elementwise (targets +-1), computed without overflow."""
    op = "soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    return _reduce(_softplus_neg(input * target), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the mean over the C classes (last dim) of -(y log sigmoid(x) + (1 - y) log sigmoid(-x)),
    each class term times weight[c] if given. Input and target (N, C) or (C,)."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        _tensor(op, "weight", weight)
        _broadcastable_to(op, "weight", weight, input.shape)
        loss = loss * weight
    return _reduce(sum(loss, input.ndim - 1) / input.shape[-1], reduction)


def _margin_layout(op, input, target):
    """(x (N, C), target indices (N,), unbatched) for the multi-class margin losses."""
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input (N, C) or (C,), got shape {tuple(input.shape)}")
    unbatched = input.ndim == 1
    x = reshape(input, (1, -1)) if unbatched else input
    return x, unbatched


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss: for sample i with class y = target[i],

        loss_i = sum_{j != y} w[y] max(0, margin - x[i, y] + x[i, j])^p / C,   p = 1 or 2.
    Input (N, C) with target (N,), or (C,) with target ()."""
    from .indexing import gather

    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p!r}")
    x, unbatched = _margin_layout(op, input, target)
    n, c = x.shape
    t = target.array.reshape(-1).astype(np.int64)
    if t.shape != (n,):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not match input of shape "
                         f"{tuple(input.shape)}; expected {(n,) if not unbatched else ()}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"{op}: target index {int(t[(t < 0) | (t >= c)][0])} is out of range for {c} classes")
    x_y = gather(x, 1, Tensor._make(t[:, None]))  # (N, 1)
    hinge = clamp(x - x_y + margin, min=0)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones((n, c), x.dtype)
    others[np.arange(n), t] = 0  # j != y
    if weight is not None:
        _tensor(op, "weight", weight)
        if tuple(weight.shape) != (c,):
            raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have one entry per class ({c},)")
        others = others * weight.array.astype(x.dtype)[t][:, None]
    loss = sum(hinge * Tensor._make(others), 1) / c
    return _reduce(reshape(loss, ()) if unbatched else loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss. target[i] lists sample i's classes, ended by the first -1 (or the row's end):

        loss_i = sum_{j in targets} sum_{k not in targets} max(0, 1 - (x[i, j] - x[i, k])) / C.
    Input and target (N, C) or (C,); a class listed twice counts twice (as PyTorch)."""
    op = "multilabel_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    x, unbatched = _margin_layout(op, input, target)
    n, c = x.shape
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    t = target.array.reshape(n, c).astype(np.int64)
    listed = np.cumprod(t >= 0, axis=1).astype(bool)  # entries before the first -1
    if np.any(listed & (t >= c)):
        raise IndexError(f"{op}: target index {int(t[listed & (t >= c)][0])} is out of range for {c} classes")
    counts = np.zeros((n, c), x.dtype)
    rows = np.repeat(np.arange(n), c).reshape(n, c)
    np.add.at(counts, (rows[listed], t[listed]), 1)
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]  # (N, C_j, C_k): j a target, k not
    diff = reshape(x, (n, c, 1)) - reshape(x, (n, 1, c))  # x_j - x_k
    loss = sum(clamp(1 - diff, min=0) * Tensor._make(pairs), (1, 2)) / c
    return _reduce(reshape(loss, ()) if unbatched else loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with any distance function (default:
    pairwise_distance); `swap` uses min(d(a, n), d(p, n)) as the negative distance."""
    from .distance import pairwise_distance

    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, None, None, reduction)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _float_tensor(op, name, t)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    if anchor.ndim != positive.ndim or anchor.ndim != negative.ndim:
        raise ValueError(f"{op}: anchor, positive and negative must have the same number of dimensions, got "
                         f"{anchor.ndim}, {positive.ndim} and {negative.ndim}")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return _reduce(clamp(d_pos - d_neg + margin, min=0), reduction)


# ---- likelihoods --------------------------------------------------------------------------------

def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log likelihood of `target` under Poisson(rate), elementwise:

        log_input:  exp(input) - target * input        (input is the log rate)
        otherwise:  input - target * log(input + eps)
    `full` adds Stirling's approximation of log(target!), target log target - target + log(2 pi target) / 2,
    where target > 1."""
    op = "poisson_nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        big = Tensor._make(target.array > 1)
        safe = where(big, target, 1.0)
        loss = loss + where(big, safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe), 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of `target` under N(input, var), elementwise:

        (log max(var, eps) + (input - target)^2 / max(var, eps)) / 2   (+ log(2 pi) / 2 if full)
    `var` has the input's shape, or one dimension fewer (the last), or a 1 in one dimension
    (one variance shared along it); a float is one variance for all. The clamp at eps changes the
    value only: the gradient flows to var as if unclamped, as in PyTorch."""
    op = "gaussian_nll_loss"
    reduction = _reduction(op, None, None, reduction)
    _float_tensor(op, "input", input)
    _tensor(op, "target", target)
    if isinstance(var, numbers.Real):
        var = Tensor._make(np.full(input.shape, var, input.dtype))
    _float_tensor(op, "var", var)
    if var.array.size and np.min(var.array) < 0:
        raise ValueError(f"{op}: var has negative entry/entries (min {np.min(var.array):g})")
    if tuple(var.shape) != tuple(input.shape):
        mismatched = [v for i, v in zip(input.shape, var.shape) if i != v]
        if tuple(var.shape) == tuple(input.shape[:-1]):
            var = reshape(var, tuple(var.shape) + (1,))
        elif not (var.ndim == input.ndim and mismatched == [1]):
            raise ValueError(f"{op}: var of shape {tuple(var.shape)} is of incorrect size for input of shape "
                             f"{tuple(input.shape)}: expected the input's shape, its shape without the last "
                             "dimension, or a 1 in place of one dimension")
    var = _keep_value_clamp_min(var, eps)
    d = input - target
    loss = (log(var) + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
