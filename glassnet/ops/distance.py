"""Distances, similarities and the losses of metric and contrastive learning, each one fused node with its
backward written out (also in glassnet.nn.functional, as in PyTorch).

    normalize(x, p, dim)              x / max(||x||_p, eps)
    cosine_similarity(x1, x2, dim)    <x1, x2> / (max(||x1||, eps) max(||x2||, eps))
    pairwise_distance(x1, x2, p)      ||x1 - x2 + eps||_p over the last dim
    contrastive_loss(x1, x2, y)       1/2 y d^2 + 1/2 (1 - y) max(0, margin - d)^2      (Hadsell et al. 2006)
    triplet_margin_loss(a, p, n)      max(0, margin + d(a, p) - d(a, n))               (PyTorch's semantics)
    info_nce_loss(q, k, temperature)  cross-entropy of each query against all keys, its own key the answer
                                      (van den Oord et al. 2018; symmetric=True: the CLIP loss)
    nt_xent_loss(z1, z2, temperature) SimCLR's loss: each view against the 2N - 1 others (Chen et al. 2020)

Every backward goes through the gradient of a p-norm, `_norm_grad`:

    d||x||_p / dx = sign(x) |x|^(p-1) / ||x||_p^(p-1)     (p = 2: x / ||x||;  p = 1: sign(x))
                  = 0 where ||x||_p = 0                    (PyTorch's choice at the kink)

and the two contrastive losses through one node, `SimilarityCrossEntropy`: the cross-entropy of the rows (and,
symmetric, the columns) of a scaled similarity matrix S = s q k^T, whose backward is softmax minus one-hot.
"""
import math
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import check_broadcast, normalize_dim
from .recompute import vjp_by_recompute
from .loss import _float_tensor, _reduction, _tensor
from .shape import sum_to

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "contrastive_loss", "triplet_margin_loss",
           "info_nce_loss", "nt_xent_loss"]


# ---- p-norms on arrays ---------------------------------------------------------------------------
def _check_p(op, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (p > 0):
        raise ValueError(f"{op}: p must be a positive number or inf, got {p!r}")
    return float(p)


def _norm(x, p, axis):
    """||x||_p along `axis`, keepdims."""
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    if p == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=True)
    if math.isinf(p):
        return np.max(np.abs(x), axis=axis, keepdims=True, initial=0)
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1 / p)


def _norm_grad(x, n, p, axis):
    """d||x||_p / dx for n = ||x||_p (keepdims along `axis`); 0 where n = 0. For p = inf the largest |x_i|
    share the gradient equally."""
    safe = np.where(n > 0, n, 1)
    if p == 2:
        g = x / safe
    elif p == 1:
        g = np.sign(x)
    elif math.isinf(p):
        top = np.abs(x) == n
        g = np.sign(x) * top / np.maximum(top.sum(axis=axis, keepdims=True), 1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # |x|^(p-1) at x = 0 for p < 1
            g = np.sign(x) * np.nan_to_num(np.abs(x) ** (p - 1)) / safe ** (p - 1)
    return np.where(n > 0, g, 0).astype(x.dtype, copy=False)


# ---- normalize ------------------------------------------------------------------------------------
class Normalize(Function):
    """y = x / d with d = max(||x||_p, eps) along `dim`.

    Backward (g = dL/dy; the clamp passes no gradient where ||x|| < eps):
        dx = g / d - [||x|| >= eps] * sum(g * x, dim) / d^2 * d||x||_p/dx
    """

    def forward(self, x, p, dim, eps):
        self.p, self.dim, self.eps = p, dim, eps
        self.n = _norm(x, p, dim)
        self.d = np.maximum(self.n, x.dtype.type(eps))
        return x / self.d

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (g,))
        x, g = self.inputs[0].array, g.array
        dx = g / self.d
        through = self.n >= self.eps
        coeff = np.where(through, np.sum(g * x, axis=self.dim, keepdims=True) / (self.d * self.d), 0)
        dx -= coeff * _norm_grad(x, self.n, self.p, self.dim)
        return (Tensor._make(dx.astype(x.dtype, copy=False)),)

    def _graph_forward(self, x):
        return x / x.norm(self.p, self.dim, keepdim=True).clamp(min=self.eps)

    def jvp(self, dx):
        """Forward mode: dy = dx / d - x dd / d^2, dd = [||x|| >= eps] sum(d||x||_p/dx * dx, dim)."""
        x = self.inputs[0].array
        dn = np.sum(_norm_grad(x, self.n, self.p, self.dim) * dx, axis=self.dim, keepdims=True)
        dd = np.where(self.n >= self.eps, dn, 0)
        return dx / self.d - x * dd / (self.d * self.d)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along `dim`: unit vectors (torch.nn.functional.normalize)."""
    op = "normalize"
    _float_tensor(op, "input", input)
    if out is not None:
        raise NotImplementedError(f"{op}: out= is not supported; use the returned tensor")
    p = _check_p(op, p)
    d = normalize_dim(dim, input.ndim, op) if input.ndim else None
    if d is None:
        raise ValueError(f"{op}: input must have at least one dimension, got a 0-d tensor")
    return Normalize.apply(input, p=p, dim=d, eps=eps)


# ---- cosine similarity ----------------------------------------------------------------------------
class CosineSimilarity(Function):
    """cos = sum(u * v, dim) with u = a / max(||a||, eps), v = b / max(||b||, eps), a and b being x1 and x2
    broadcast together (output: that shape without `dim`).

    Backward (g = dL/dcos, put back along dim; PyTorch clamps the norms outside autograd, so the gradient
    flows through ||a|| even where the clamp acts):
        da = g / max(||a||, eps) * (v - cos * a / ||a||)       (the last term 0 where ||a|| = 0)
        db = g / max(||b||, eps) * (u - cos * b / ||b||)
    then each summed back to its input's shape (the adjoint of broadcasting).
    """

    def forward(self, x1, x2, shape, dim, eps):
        a, b = np.broadcast_to(x1, shape), np.broadcast_to(x2, shape)
        self.dim, self.shape, self.eps = dim, shape, eps
        self.na, self.nb = _norm(a, 2, dim), _norm(b, 2, dim)
        self.da, self.db = np.maximum(self.na, x1.dtype.type(eps)), np.maximum(self.nb, x1.dtype.type(eps))
        self.u, self.v = a / self.da, b / self.db
        self.cos = np.sum(self.u * self.v, axis=dim, keepdims=True)
        return self.cos.squeeze(dim)

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (g,))
        x1, x2 = (t.array for t in self.inputs)
        gk = np.expand_dims(g.array, self.dim)
        need = self.needs_input_grad
        da = db = None
        if need[0]:
            a = np.broadcast_to(x1, self.u.shape)
            full = gk / self.da * (self.v - self.cos * _norm_grad(a, self.na, 2, self.dim))
            da = sum_to(Tensor._make(full.astype(x1.dtype, copy=False)), x1.shape)
        if need[1]:
            b = np.broadcast_to(x2, self.v.shape)
            full = gk / self.db * (self.u - self.cos * _norm_grad(b, self.nb, 2, self.dim))
            db = sum_to(Tensor._make(full.astype(x2.dtype, copy=False)), x2.shape)
        return da, db

    def _graph_forward(self, x1, x2):
        def unit(x):  # x / max(||x||, eps), the clamp a constant shift (no gradient of its own, as PyTorch)
            n = x.broadcast_to(self.shape).norm(2, self.dim, keepdim=True)
            return x / (n + Tensor._make(np.maximum(n.array, self.eps) - n.array))

        return (unit(x1) * unit(x2)).sum(self.dim)

    def jvp(self, t1, t2):
        """Forward mode: dcos = sum(du v + u dv, dim), du = (da - u <a / ||a||, da>) / max(||a||, eps) (dv alike)."""
        def d_unit(x, t, n, d, u):
            if t is None:
                return None
            t = np.broadcast_to(t, self.shape)
            dn = np.sum(_norm_grad(np.broadcast_to(x, self.shape), n, 2, self.dim) * t, self.dim, keepdims=True)
            return (t - u * dn) / d

        x1, x2 = (t.array for t in self.inputs)
        du, dv = d_unit(x1, t1, self.na, self.da, self.u), d_unit(x2, t2, self.nb, self.db, self.v)
        dcos = (0 if du is None else du * self.v) + (0 if dv is None else self.u * dv)
        return np.sum(dcos, axis=self.dim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along `dim`, the inputs broadcast together
    (torch.nn.functional.cosine_similarity)."""
    op = "cosine_similarity"
    _float_tensor(op, "x1", x1)
    _float_tensor(op, "x2", x2)
    if x1.dtype != x2.dtype:
        raise TypeError(f"{op}: x1 is {x1.dtype} and x2 is {x2.dtype}; they must have one dtype")
    shape = check_broadcast(op, x1.shape, x2.shape)
    if not shape:
        raise ValueError(f"{op}: inputs must have at least one dimension, got 0-d tensors")
    d = normalize_dim(dim, len(shape), op)
    return CosineSimilarity.apply(x1, x2, shape=shape, dim=d, eps=eps)


# ---- pairwise distance ----------------------------------------------------------------------------
class PairwiseDistance(Function):
    """d = ||x1 - x2 + eps||_p over the last dim of the broadcast inputs (keepdim: that dim kept as 1).

    Backward: with r = x1 - x2 + eps and g = dL/dd,
        dx1 = g * d||r||_p/dr,   dx2 = -dx1      (each summed back to its input's shape)
    """

    def forward(self, x1, x2, p, eps, keepdim, scalar):
        self.p, self.eps, self.keepdim, self.scalar = p, eps, keepdim, scalar
        self.r = np.atleast_1d(x1 - x2 + x1.dtype.type(eps))
        self.d = _norm(self.r, p, -1)
        out = self.d if keepdim else self.d[..., 0]
        return out.reshape(()) if scalar else out

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (g,))
        x1, x2 = (t.array for t in self.inputs)
        g = g.array.reshape(self.d.shape)
        grad = (g * _norm_grad(self.r, self.d, self.p, -1)).astype(x1.dtype, copy=False)
        grad = grad.reshape(np.broadcast_shapes(x1.shape, x2.shape))
        need = self.needs_input_grad
        return (sum_to(Tensor._make(grad), x1.shape) if need[0] else None,
                sum_to(Tensor._make(-grad), x2.shape) if need[1] else None)

    def _graph_forward(self, x1, x2):
        d = _distance_graph(x1, x2, self.p, self.eps)
        return d.reshape(self._outputs[0].shape)

    def jvp(self, t1, t2):
        """Forward mode: dd = sum(d||r||_p/dr * (dx1 - dx2), last dim)."""
        return _distance_tangent(self.r, self.d, self.p, t1, t2).reshape(self._outputs[0].shape)


def _distance_graph(x, y, p, eps):
    """||x - y + eps||_p over the last dim (kept), as Tensor operations; 0-d inputs count as one element."""
    r = x - y + eps
    return (r.reshape(1) if r.ndim == 0 else r).norm(p, -1, keepdim=True)


def _distance_tangent(r, d, p, tx, ty):
    """The tangent of d = ||r||_p (last dim kept) for r = x - y + eps, given x's and y's tangents (None: 0)."""
    dr = (0 if tx is None else tx) - (0 if ty is None else ty)
    return np.sum(_norm_grad(r, d, p, -1) * np.broadcast_to(dr, r.shape), -1, keepdims=True)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim, the inputs broadcast together
    (torch.nn.functional.pairwise_distance; p > 0 or inf)."""
    op = "pairwise_distance"
    _float_tensor(op, "x1", x1)
    _float_tensor(op, "x2", x2)
    if x1.dtype != x2.dtype:
        raise TypeError(f"{op}: x1 is {x1.dtype} and x2 is {x2.dtype}; they must have one dtype")
    shape = check_broadcast(op, x1.shape, x2.shape)
    return PairwiseDistance.apply(x1, x2, p=_check_p(op, p), eps=eps, keepdim=keepdim, scalar=not shape)


# ---- the contrastive (pair) loss and the triplet loss ---------------------------------------------
def _reduce_array(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _reduce_tensor(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _reduced_grad(g, shape, reduction):
    """The upstream gradient of a reduced loss, per element of the unreduced loss of `shape`."""
    g = g.array
    if reduction == "none":
        return g
    n = int(np.prod(shape))
    return np.broadcast_to(g / n if reduction == "mean" else g, shape)


class ContrastiveLoss(Function):
    """The contrastive loss of pairs (Hadsell, Chopra and LeCun 2006), y = 1 for a similar pair, 0 for a
    dissimilar one, d = ||x1 - x2 + eps||_p over the last dim:

        l = 1/2 y d^2 + 1/2 (1 - y) max(0, margin - d)^2

    Backward: dl/dd = y d - (1 - y) max(0, margin - d); dx1 = g dl/dd d||r||/dr, dx2 = -dx1.
    """

    def forward(self, x1, x2, target, margin, p, eps, reduction):
        self.p, self.reduction, self.margin, self.eps = p, reduction, margin, eps
        self.r = x1 - x2 + x1.dtype.type(eps)
        self.d = _norm(self.r, p, -1)[..., 0]
        y = target.astype(x1.dtype)
        self.slack = np.maximum(margin - self.d, 0)
        self.dl_dd = y * self.d - (1 - y) * self.slack
        loss = 0.5 * (y * self.d ** 2 + (1 - y) * self.slack ** 2)
        return np.asarray(_reduce_array(loss, reduction), x1.dtype)

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs[:2], (g,)) + (None,)
        x1 = self.inputs[0].array
        per = _reduced_grad(g, self.d.shape, self.reduction) * self.dl_dd
        grad = (per[..., None] * _norm_grad(self.r, self.d[..., None], self.p, -1)).astype(x1.dtype, copy=False)
        need = self.needs_input_grad
        return (Tensor._make(grad) if need[0] else None, Tensor._make(-grad) if need[1] else None, None)

    def _graph_forward(self, x1, x2):
        y = Tensor._make(self.inputs[2].array.astype(x1.dtype))
        d = _distance_graph(x1, x2, self.p, self.eps)[..., 0]
        loss = 0.5 * (y * d ** 2 + (1 - y) * (self.margin - d).clamp(min=0) ** 2)
        return _reduce_tensor(loss, self.reduction)

    def jvp(self, t1, t2, _):
        """Forward mode: dl = dl/dd * dd, dd = sum(d||r||_p/dr * (dx1 - dx2), last dim), then reduced."""
        dd = _distance_tangent(self.r, self.d[..., None], self.p, t1, t2)[..., 0]
        return np.asarray(_reduce_array(self.dl_dd * dd, self.reduction))


def _check_pair_shapes(op, x1, x2, target):
    if tuple(x1.shape) != tuple(x2.shape) or x1.ndim not in (1, 2):
        raise ValueError(f"{op}: expected x1 and x2 of one shape, (N, D) or (D,), got {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    if tuple(target.shape) != tuple(x1.shape[:-1]):
        raise ValueError(f"{op}: target must have shape {tuple(x1.shape[:-1])} (one label per pair), got "
                         f"{tuple(target.shape)}")
    labels = target.array
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{op}: target must be 1 (similar pair) or 0 (dissimilar pair), got values "
                         f"{np.unique(labels)[:5].tolist()}")


def contrastive_loss(x1, x2, target, margin=1.0, p=2.0, eps=1e-6, reduction="mean"):
    """1/2 y d^2 + 1/2 (1 - y) max(0, margin - d)^2 per pair, d = pairwise_distance(x1, x2, p, eps), y = 1 for a
    similar pair and 0 for a dissimilar one: similar pairs are pulled together, dissimilar ones pushed at
    least `margin` apart. x1, x2 (N, D) with target (N,), or (D,) with target ()."""
    op = "contrastive_loss"
    reduction = _reduction(op, None, None, reduction)
    _float_tensor(op, "x1", x1)
    _float_tensor(op, "x2", x2)
    _tensor(op, "target", target)
    _check_pair_shapes(op, x1, x2, target)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    return ContrastiveLoss.apply(x1, x2, Tensor._make(target.array), margin=float(margin), p=_check_p(op, p),
                                 eps=eps, reduction=reduction)


class TripletMarginLoss(Function):
    """l = max(0, margin + d(a, p) - d_neg), d(x, y) = ||x - y + eps||_p over the last dim (inputs broadcast),
    d_neg = d(a, n), or with `swap` min(d(a, n), d(p, n)) (Balntas et al. 2016).

    Backward, where margin + d(a, p) - d_neg >= 0 (elsewhere 0), with G(r) = d||r||_p/dr:
        da += g G(a - p + eps),  dp -= g G(a - p + eps)                  the positive distance
        da -= g G(a - n + eps),  dn += g G(a - n + eps)                  when d(a, n) is d_neg
        dp -= g G(p - n + eps),  dn += g G(p - n + eps)                  when d(p, n) is (swap)
    (a tie between d(a, n) and d(p, n) splits the gradient in halves, as torch.minimum.)
    """

    def forward(self, a, pos, neg, margin, p, eps, swap, reduction):
        self.p, self.reduction, self.margin, self.eps = p, reduction, margin, eps
        e = a.dtype.type(eps)
        self.r_ap, self.r_an = np.atleast_1d(a - pos + e), np.atleast_1d(a - neg + e)
        self.d_ap, self.d_an = _norm(self.r_ap, p, -1), _norm(self.r_an, p, -1)
        d_neg, self.r_pn, self.d_pn = self.d_an, None, None
        if swap:
            self.r_pn = np.atleast_1d(pos - neg + e)
            self.d_pn = _norm(self.r_pn, p, -1)
            d_neg = np.minimum(self.d_an, self.d_pn)
        hinge = margin + self.d_ap - d_neg
        self.active = hinge >= 0
        self.loss_shape = hinge.shape[:-1] if a.ndim else ()
        loss = np.maximum(hinge, 0)[..., 0].reshape(self.loss_shape)
        return np.asarray(_reduce_array(loss, reduction), a.dtype)

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (g,))
        a, pos, neg = (t.array for t in self.inputs)
        gk = _reduced_grad(g, self.loss_shape, self.reduction).reshape(self.d_ap.shape) * self.active
        shape = np.broadcast_shapes(a.shape, pos.shape, neg.shape)
        w_an, w_pn = self._negative_weights()
        g_ap = gk * _norm_grad(self.r_ap, self.d_ap, self.p, -1)
        g_an = gk * w_an * _norm_grad(self.r_an, self.d_an, self.p, -1)
        da, dp, dn = g_ap - g_an, -g_ap, g_an
        if w_pn is not None:
            g_pn = gk * w_pn * _norm_grad(self.r_pn, self.d_pn, self.p, -1)
            dp, dn = dp - g_pn, dn + g_pn
        return tuple(sum_to(Tensor._make(d.reshape(shape).astype(x.dtype, copy=False)), x.shape) if need else None
                     for d, x, need in zip((da, dp, dn), (a, pos, neg), self.needs_input_grad))

    def _negative_weights(self):
        """How much of d_neg is d(a, n) and how much d(p, n) (swap): min's gradient, halves at a tie."""
        if self.d_pn is None:
            return np.ones_like(self.d_an), None
        w_an = np.where(self.d_an < self.d_pn, 1.0, np.where(self.d_an == self.d_pn, 0.5, 0.0))
        return w_an, 1 - w_an

    def _graph_forward(self, a, pos, neg):
        d_ap, d_an = _distance_graph(a, pos, self.p, self.eps), _distance_graph(a, neg, self.p, self.eps)
        d_neg = d_an if self.d_pn is None else d_an.minimum(_distance_graph(pos, neg, self.p, self.eps))
        loss = (self.margin + d_ap - d_neg).clamp(min=0)[..., 0].reshape(self.loss_shape)
        return _reduce_tensor(loss, self.reduction)

    def jvp(self, ta, tp, tn):
        """Forward mode: dl = [margin + d(a, p) - d_neg >= 0] (dd(a, p) - dd_neg), each dd = sum(d||r||/dr * dr)
        and dd_neg taken from the smaller distance (halves at a tie), then reduced."""
        w_an, w_pn = self._negative_weights()
        dl = _distance_tangent(self.r_ap, self.d_ap, self.p, ta, tp)
        dl = dl - w_an * _distance_tangent(self.r_an, self.d_an, self.p, ta, tn)
        if w_pn is not None:
            dl = dl - w_pn * _distance_tangent(self.r_pn, self.d_pn, self.p, tp, tn)
        dl = (dl * self.active)[..., 0].reshape(self.loss_shape)
        return np.asarray(_reduce_array(dl, self.reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm distance over the last dim
    (torch.nn.functional.triplet_margin_loss: the three inputs have one number of dims and broadcast; `swap`
    takes the smaller of d(anchor, negative) and d(positive, negative))."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _float_tensor(op, name, t)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{op}: anchor, positive and negative must have one number of dimensions, got "
                         f"{anchor.ndim}, {positive.ndim} and {negative.ndim}")
    if len({anchor.dtype, positive.dtype, negative.dtype}) > 1:
        raise TypeError(f"{op}: anchor, positive and negative must have one dtype, got {anchor.dtype}, "
                        f"{positive.dtype} and {negative.dtype}")
    check_broadcast(op, anchor.shape, positive.shape, negative.shape)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    return TripletMarginLoss.apply(anchor, positive, negative, margin=float(margin), p=_check_p(op, p), eps=eps,
                                   swap=bool(swap), reduction=reduction)


# ---- InfoNCE and NT-Xent: cross-entropy over a similarity matrix ---------------------------------
def _log_softmax(s, axis):
    m = np.max(s, axis=axis, keepdims=True)
    shifted = s - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class SimilarityCrossEntropy(Function):
    """Cross-entropy of the rows of S = scale * q k^T (q (N, D), k (M, D), scale a 0-d tensor): row i's
    answer is column targets[i]. `exclude_self` sets S_ii = -inf (a sample is not its own candidate);
    `symmetric` also takes the cross-entropy of the columns (column j's answer is row j; targets must be
    0..N-1) and gives (row loss + column loss) / 2 per sample.

        l_i = logsumexp_j S_ij - S_i,t(i)          [+ logsumexp_j S_ji - S_ii, halved, when symmetric]

    Backward, with w_i = dL/dl_i (1/N for the mean) and Y the one-hot matrix of the targets
    (softmax_rows normalises each row of S, softmax_cols each column; exp(-inf) = 0 on an excluded diagonal):
        dS = w[:, None] * (softmax_rows(S) - Y)
        symmetric: dS = (w[:, None] * (softmax_rows(S) - I) + w[None, :] * (softmax_cols(S) - I)) / 2
        dq = scale dS k,   dk = scale dS^T q,   dscale = sum(dS * q k^T)
    """

    def forward(self, q, k, scale, targets, exclude_self, symmetric, reduction):
        self.targets, self.symmetric, self.reduction, self.exclude_self = targets, symmetric, reduction, exclude_self
        self.G = q @ k.T  # (N, M)
        S = self.G * scale
        if exclude_self:
            np.fill_diagonal(S, -np.inf)
        rows = np.arange(len(q))
        log_p = _log_softmax(S, 1)
        self.P_rows = np.exp(log_p)
        loss = -log_p[rows, targets]
        if symmetric:
            log_pc = _log_softmax(S, 0)
            self.P_cols = np.exp(log_pc)
            loss = (loss - log_pc[rows, rows]) / 2
        return np.asarray(_reduce_array(loss, reduction), q.dtype)

    def backward(self, g):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (g,))
        q, k, scale = (t.array for t in self.inputs)
        w = _reduced_grad(g, (len(q),), self.reduction)
        rows = np.arange(len(q))
        dS = self.P_rows.copy()
        dS[rows, self.targets] -= 1
        dS *= w[:, None]
        if self.symmetric:
            dC = self.P_cols.copy()
            dC[rows, rows] -= 1
            dS = (dS + dC * w[None, :]) / 2
        dS = dS.astype(q.dtype, copy=False)
        need = self.needs_input_grad
        dq = Tensor._make((dS @ k) * scale) if need[0] else None
        dk = Tensor._make((dS.T @ q) * scale) if need[1] else None
        dscale = Tensor._make(np.asarray(np.sum(dS * self.G), scale.dtype)) if need[2] else None
        return dq, dk, dscale

    def _graph_forward(self, q, k, scale):
        from .activation import log_softmax

        S = (q @ k.mT) * scale
        if self.exclude_self:
            S = S.masked_fill(Tensor._make(np.eye(len(q), dtype=bool)), -np.inf)
        rows = Tensor._make(np.arange(len(q))[:, None])
        loss = -log_softmax(S, 1).gather(1, Tensor._make(self.targets[:, None]))[:, 0]
        if self.symmetric:
            loss = (loss - log_softmax(S, 0).gather(1, rows)[:, 0]) / 2
        return _reduce_tensor(loss, self.reduction)

    def jvp(self, tq, tk, tscale):
        """Forward mode: dS = scale (dq k^T + q dk^T) + dscale q k^T, then dl_i = sum_j P_ij dS_ij - dS_i,t(i)
        (P = softmax of the rows; symmetric: averaged with sum_j Pc_ji dS_ji - dS_ii over the columns)."""
        q, k, scale = (t.array for t in self.inputs)
        dG = (0 if tq is None else tq @ k.T) + (0 if tk is None else q @ tk.T)
        dS = np.broadcast_to(dG * scale + (0 if tscale is None else self.G * tscale), self.G.shape).copy()
        if self.exclude_self:
            np.fill_diagonal(dS, 0)
        rows = np.arange(len(q))
        dl = np.sum(self.P_rows * dS, 1) - dS[rows, self.targets]
        if self.symmetric:
            dl = (dl + np.sum(self.P_cols * dS, 0) - dS[rows, rows]) / 2
        return np.asarray(_reduce_array(dl, self.reduction))


def _scale_from_temperature(op, temperature, like):
    """1 / temperature as a 0-d tensor of like's dtype (a Tensor temperature keeps its gradient)."""
    if isinstance(temperature, Tensor):
        if temperature.numel() != 1 or temperature.dtype != like.dtype:
            raise ValueError(f"{op}: a Tensor temperature must hold one {like.dtype} value, got "
                             f"{temperature.dtype} of shape {tuple(temperature.shape)}")
        if not (temperature.array > 0).all():
            raise ValueError(f"{op}: temperature must be positive, got {temperature.item()}")
        return 1 / temperature.reshape(())
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError(f"{op}: temperature must be a positive number, got {temperature!r}")
    return Tensor._make(np.asarray(1 / temperature, like.dtype))


def _check_embeddings(op, names, *tensors):
    for name, t in zip(names, tensors):
        _float_tensor(op, name, t)
        if t.ndim != 2:
            raise ValueError(f"{op}: {name} must be a batch of embeddings (N, D), got shape {tuple(t.shape)}")
    first = tensors[0]
    for name, t in zip(names[1:], tensors[1:]):
        if tuple(t.shape) != tuple(first.shape) or t.dtype != first.dtype:
            raise ValueError(f"{op}: {names[0]} {first.dtype} {tuple(first.shape)} and {name} {t.dtype} "
                             f"{tuple(t.shape)} must have one shape and dtype")
    if len(first) < 2:
        raise ValueError(f"{op}: needs at least 2 pairs (the others are the negatives), got {len(first)}")


def info_nce_loss(query, key, temperature=0.1, symmetric=False, reduction="mean"):
    """InfoNCE: query i (N, D) must pick key i among the N keys (N, D), by the cosine similarities divided by
    `temperature` (a positive number, or a 0-d Tensor that is learned). symmetric=True averages it with the
    loss of each key picking its query: CLIP's loss. Per pair:

        l_i = -log softmax_j(cos(q_i, k_j) / T)_i        [symmetric: (l_i + same with q and k exchanged) / 2]
    """
    op = "info_nce_loss"
    reduction = _reduction(op, None, None, reduction)
    _check_embeddings(op, ("query", "key"), query, key)
    scale = _scale_from_temperature(op, temperature, query)
    q, k = normalize(query, dim=1), normalize(key, dim=1)
    return SimilarityCrossEntropy.apply(q, k, scale, targets=np.arange(len(q)), exclude_self=False,
                                        symmetric=bool(symmetric), reduction=reduction)


def nt_xent_loss(z1, z2, temperature=0.5, reduction="mean"):
    """SimCLR's normalised temperature-scaled cross-entropy: z1[i] and z2[i] (N, D) are two views of one
    sample; each of the 2N views must pick its partner among the 2N - 1 others by cosine similarity / T.
    Returns the mean over the 2N views (reduction 'none': their 2N losses, z1's first)."""
    from .indexing import cat

    op = "nt_xent_loss"
    reduction = _reduction(op, None, None, reduction)
    _check_embeddings(op, ("z1", "z2"), z1, z2)
    scale = _scale_from_temperature(op, temperature, z1)
    n = len(z1)
    z = normalize(cat([z1, z2], 0), dim=1)  # (2N, D)
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    return SimilarityCrossEntropy.apply(z, z, scale, targets=partner, exclude_self=True, symmetric=False,
                                        reduction=reduction)
