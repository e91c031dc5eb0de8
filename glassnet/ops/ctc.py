"""Connectionist temporal classification (Graves et al. 2006): the CTC loss and CTC decoding.

A model emits, at each of T frames, log-probabilities over C symbols, one of them the `blank`. An
alignment is one symbol per frame; it reads as a label sequence once repeated symbols are merged and
blanks removed ("--hh-e-ll-ll--oo" reads "hello": the blank between the two l's keeps them apart).
The CTC loss is -log of the total probability of all alignments that read as the target:

    loss = -log sum_{alignments a reading as l} prod_t y_t(a_t)          y_t(c) = exp(log_probs[t, c])

summed by dynamic programming over the extended target l' = (blank, l_1, blank, l_2, ..., l_L, blank),
of length S = 2L + 1, in log space so that products of hundreds of small probabilities never
underflow. `ctc_loss` has torch.nn.functional.ctc_loss's signature and reductions; `greedy_decode`
and `beam_search_decode` turn log-probabilities back into label sequences.
"""
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import clamp, where
from .indexing import cat, stack
from .recompute import vjp_by_recompute
from .shape import reshape

__all__ = ["ctc_loss", "greedy_decode", "beam_search_decode", "forced_align", "collapse"]

_NEG_INF = -np.inf
_FINITE_NEG = -1e30  # "impossible" in the Tensor-op recursion: exp of it is 0, and it never makes 0 * inf


def _extended_targets(targets, target_lengths, blank):
    """l' per sample, padded with blanks to S = 2 max(L) + 1, where the skip s-2 -> s is allowed (l'_s is
    a label, not blank, that differs from l'_{s-2}), and which states are real (s < 2 L_n + 1):
    (N, L) -> (N, S) int, (N, S) bool, (N, S) bool."""
    n, max_len = targets.shape
    ext = np.full((n, 2 * max_len + 1), blank, np.int64)
    ext[:, 1::2] = targets
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    valid = np.arange(ext.shape[1])[None, :] < 2 * target_lengths[:, None] + 1  # beyond 2L + 1: padding
    return ext, skip, valid


def _shift(a, k):
    """a[..., s - k] at position s (and -inf for s < k): the states a step or two back along l'."""
    out = np.full_like(a, _NEG_INF)
    out[..., k:] = a[..., :-k]
    return out


def _forward_variables(lp_ext, skip):
    """alpha_t(s) = log P(frames 0..t emit a prefix of an alignment that is in state s of l' at t):
        alpha_0(0) = y_0(blank), alpha_0(1) = y_0(l_1)
        alpha_t(s) = y_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if skip_s])
    lp_ext (T, N, S): log y_t(l'_s), -inf at the padding states beyond 2L + 1. Returns alpha (T, N, S)."""
    alpha = np.full(lp_ext.shape, _NEG_INF)
    alpha[0, :, :2] = lp_ext[0, :, :2]
    for t in range(1, lp_ext.shape[0]):
        prev = alpha[t - 1]
        stay_or_step = np.logaddexp(prev, _shift(prev, 1))
        alpha[t] = lp_ext[t] + np.where(skip, np.logaddexp(stay_or_step, _shift(prev, 2)), stay_or_step)
    return alpha


def _backward_variables(lp_ext, skip, input_lengths, target_lengths):
    """beta_t(s) = log P(frames t..T_n-1 emit the rest of an alignment in state s at t), including y_t:
        beta_{T-1}(2L) = y_{T-1}(blank), beta_{T-1}(2L-1) = y_{T-1}(l_L)
        beta_t(s) = y_t(l'_s) + logsumexp(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2) if skip_{s+2}])
    Each sample starts at its own last frame T_n - 1; beta is -inf after it."""
    steps, n, s = lp_ext.shape
    beta = np.full(lp_ext.shape, _NEG_INF)
    skip_next = np.zeros_like(skip)
    skip_next[:, :-2] = skip[:, 2:]
    rows = np.arange(n)
    last, before_last = 2 * target_lengths, np.maximum(2 * target_lengths - 1, 0)
    for t in range(steps - 1, -1, -1):
        if t < steps - 1:
            nxt = beta[t + 1]
            step = np.logaddexp(nxt, _shift(nxt[..., ::-1], 1)[..., ::-1])
            beta[t] = lp_ext[t] + np.where(skip_next, np.logaddexp(step, _shift(nxt[..., ::-1], 2)[..., ::-1]), step)
        starts = rows[input_lengths - 1 == t]
        if starts.size:
            beta[t, starts] = _NEG_INF
            beta[t, starts, last[starts]] = lp_ext[t, starts, last[starts]]
            has_label = starts[target_lengths[starts] > 0]
            beta[t, has_label, before_last[has_label]] = lp_ext[t, has_label, before_last[has_label]]
    return beta


class CTCLoss(Function):
    """Per-sample CTC negative log-likelihood: log_probs (T, N, C) -> nll (N,).

    Forward:  alpha recursion (see _forward_variables); with T_n, L_n the sample's lengths,
              nll_n = -logsumexp(alpha_{T_n-1}(2L_n), alpha_{T_n-1}(2L_n - 1))
    Backward: with beta (the same recursion run backwards in time, see _backward_variables), the
              occupation probability of state s at frame t is
                  gamma_t(s) = exp(alpha_t(s) + beta_t(s) - log y_t(l'_s) + nll_n)
              (y_t(l'_s) is in both alpha and beta, so it is divided out once), and
                  d nll_n / d log_probs[t, n, c] = -sum_{s: l'_s = c} gamma_t(s)        for t < T_n, else 0.
    This is the exact partial derivative with respect to log_probs, whatever they are. PyTorch's
    ctc_loss returns exp(log_probs) minus it instead, which is the same after a log_softmax's backward
    (each row of gamma sums to 1) but not for log_probs that are leaves (pytorch issue 52241).
    zero_infinity: infinite losses (no alignment fits, e.g. T_n < L_n + repeats) become 0 with zero
    gradient; otherwise their gradient is NaN, as PyTorch's.

    Forward mode: nll_n is one number per sample, so its tangent is the gradient contracted with the
    tangent of the log-probabilities:  d nll_n = -sum_{t, c} occupancy_t(n, c) dlog_probs[t, n, c].
    Higher order: under create_graph the backward is the vector-Jacobian product of the alpha recursion
    written as Tensor operations (`_graph_forward`, see ops/recompute.py; impossible states hold a large
    finite negative number instead of -inf there, so that no 0 * inf appears in the second derivative).
    """

    saves_inputs = True  # the create_graph path recomputes from log_probs

    def forward(self, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        lp = log_probs.astype(np.float64)  # (T, N, C)
        ext, skip, valid = _extended_targets(targets, target_lengths, blank)  # (N, S)
        lp_ext = np.take_along_axis(lp, np.broadcast_to(ext[None], (lp.shape[0],) + ext.shape), axis=2)  # (T, N, S)
        lp_ext = np.where(valid[None], lp_ext, _NEG_INF)
        alpha = _forward_variables(lp_ext, skip)
        nll = self._nll(alpha, input_lengths, target_lengths)
        self.saved = (lp_ext, ext, skip, alpha, nll, input_lengths, target_lengths, zero_infinity)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0.0, nll)
        return nll.astype(log_probs.dtype)

    @staticmethod
    def _nll(alpha, input_lengths, target_lengths):
        rows = np.arange(alpha.shape[1])
        final = alpha[np.maximum(input_lengths - 1, 0), rows]  # (N, S)
        end_blank = final[rows, 2 * target_lengths]
        end_label = np.where(target_lengths > 0, final[rows, np.maximum(2 * target_lengths - 1, 0)], _NEG_INF)
        nll = -np.logaddexp(end_blank, end_label)
        empty = input_lengths == 0  # no frames: only the empty target has probability (1)
        return np.where(empty, np.where(target_lengths == 0, 0.0, np.inf), nll)

    def backward(self, grad):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (grad,))
        d_log_probs = -self._occupancy() * grad.array.astype(np.float64)[None, :, None]
        return Tensor._make(d_log_probs.astype(self.inputs[0].dtype))

    def jvp(self, d_log_probs):
        """Forward mode: d nll_n = -sum_{t, c} occupancy_t(n, c) dlog_probs[t, n, c]."""
        return -np.einsum("tnc,tnc->n", self._occupancy(), d_log_probs.astype(np.float64))

    def _occupancy(self):
        """sum_{s: l'_s = c} gamma_t(s), (T, N, C), 0 beyond each sample's frames (and for an infinite loss
        under zero_infinity): minus the gradient of nll_n with respect to log_probs[:, n]."""
        lp_ext, ext, skip, alpha, nll, input_lengths, target_lengths, zero_infinity = self.saved
        steps, n, c = self.inputs[0].shape
        beta = _backward_variables(lp_ext, skip, input_lengths, target_lengths)
        with np.errstate(invalid="ignore"):
            gamma = np.exp(alpha + beta - lp_ext + nll[None, :, None])  # (T, N, S); NaN where nll = inf
        gamma = np.where(np.isnan(gamma) & ~np.isinf(nll)[None, :, None], 0.0, gamma)
        one_hot = np.eye(c)[ext]  # (N, S, C); padding states have gamma = 0
        occupancy = np.einsum("tns,nsc->tnc", gamma, one_hot)  # (T, N, C)
        if zero_infinity:
            occupancy[:, np.isinf(nll)] = 0.0
        occupancy[np.arange(steps)[:, None] >= input_lengths[None, :]] = 0.0
        return occupancy

    def _graph_forward(self, log_probs):
        """The forward as Tensor operations (the alpha recursion in float64), for create_graph."""
        lp_ext, ext, skip, _, nll, input_lengths, target_lengths, zero_infinity = self.saved
        steps, n, s = lp_ext.shape
        lp = log_probs.to(np.float64).gather(2, Tensor._make(np.broadcast_to(ext[None], (steps, n, s)).copy()))
        lp = where(Tensor._make(np.isfinite(lp_ext)), lp, _FINITE_NEG)  # padding states
        floor = Tensor._make(np.full((n, 1), _FINITE_NEG))
        can_skip = Tensor._make(skip)
        alpha = [where(Tensor._make(np.arange(s) < 2), lp[0], _FINITE_NEG)]
        for t in range(1, steps):
            prev = alpha[-1]
            step = cat([floor, prev[:, :-1]], 1)
            jump = where(can_skip, cat([floor, floor, prev[:, :-2]], 1), _FINITE_NEG)
            alpha.append(lp[t] + stack([prev, step, jump]).logsumexp(0))
        rows = np.arange(n)
        final = stack(alpha)[np.maximum(input_lengths - 1, 0), rows]  # (N, S)
        end_label = where(Tensor._make(target_lengths > 0), final[rows, np.maximum(2 * target_lengths - 1, 0)],
                          _FINITE_NEG)
        out = -stack([final[rows, 2 * target_lengths], end_label]).logsumexp(0)
        fixed = np.isinf(nll) | (input_lengths == 0)  # no alignment, or no frames: the forward's constant
        return where(Tensor._make(fixed), Tensor._make(self._outputs[0].astype(np.float64)), out).to(log_probs.dtype)


# ---- argument checks ----------------------------------------------------------------------------

def _lengths(op, name, value, n):
    arr = value.array if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.ndim > 1 or arr.size != n:
        raise ValueError(f"{op}: {name} must be {n} non-negative integers (one per sample), got "
                         f"{arr.dtype} of shape {tuple(arr.shape)}")
    arr = arr.reshape(n).astype(np.int64)
    if (arr < 0).any():
        raise ValueError(f"{op}: {name} must be non-negative, got {arr.tolist()}")
    return arr


def _padded_targets(op, targets, target_lengths, n):
    """targets (N, S) padded or (sum L,) concatenated -> (N, max L) int64 padded with 0."""
    t = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integers, got dtype {t.dtype}")
    t = t.astype(np.int64)
    if t.ndim == 2:
        if t.shape[0] != n or (target_lengths > t.shape[1]).any():
            raise ValueError(f"{op}: padded targets of shape {tuple(t.shape)} must have {n} rows and at least "
                             f"max(target_lengths) = {int(target_lengths.max(initial=0))} columns")
        return t[:, :int(target_lengths.max(initial=0))]
    if t.ndim != 1 or t.size != target_lengths.sum():
        raise ValueError(f"{op}: targets must be (N, S) padded or 1-D with sum(target_lengths) = "
                         f"{int(target_lengths.sum())} entries, got shape {tuple(t.shape)}")
    padded = np.zeros((n, int(target_lengths.max(initial=0))), np.int64)
    mask = np.arange(padded.shape[1])[None, :] < target_lengths[:, None]
    padded[mask] = t
    return padded


def _check_labels(op, padded, target_lengths, blank, classes):
    used = padded[np.arange(padded.shape[1])[None, :] < target_lengths[:, None]]
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise IndexError(f"{op}: target label {int(used.min() if used.min() < 0 else used.max())} is out of range "
                         f"for {classes} classes (expected 0 <= label < {classes})")
    if (used == blank).any():
        raise ValueError(f"{op}: targets contain the blank index {blank}; the blank cannot be a label")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The CTC loss, as torch.nn.functional.ctc_loss.

    log_probs (T, N, C) or (T, C): log-probabilities (usually log_softmax over C, blank included);
    targets (N, S) padded or (sum(target_lengths),) concatenated label indices (never `blank`);
    input_lengths, target_lengths (N,): frames and labels of each sample (T_n <= T).
    reduction: "none" (N,), "sum", or "mean": the mean over the batch of loss_n / max(L_n, 1).
    """
    op = "ctc_loss"
    from .loss import _float_tensor, _reduction

    reduction = _reduction(op, None, None, reduction)
    _float_tensor(op, "log_probs", log_probs)
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{op}: log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}")
    unbatched = log_probs.ndim == 2
    lp = reshape(log_probs, (log_probs.shape[0], 1, log_probs.shape[1])) if unbatched else log_probs
    steps, n, classes = lp.shape
    if not isinstance(blank, numbers.Integral) or not 0 <= blank < classes:
        raise ValueError(f"{op}: blank must be an index in [0, {classes}), got {blank!r}")
    in_len = _lengths(op, "input_lengths", input_lengths, n)
    tgt_len = _lengths(op, "target_lengths", target_lengths, n)
    if (in_len > steps).any():
        raise ValueError(f"{op}: input_lengths {in_len.tolist()} exceed the {steps} frames of log_probs")
    padded = _padded_targets(op, targets, tgt_len, n)
    _check_labels(op, padded, tgt_len, blank, classes)
    losses = CTCLoss.apply(
        lp, targets=padded, input_lengths=in_len, target_lengths=tgt_len, blank=int(blank),
        zero_infinity=bool(zero_infinity))  # (N,)
    if reduction == "none":
        return reshape(losses, ()) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    lengths = clamp(Tensor._make(tgt_len.astype(losses.dtype)), min=1)
    return (losses / lengths).mean()


# ---- decoding -----------------------------------------------------------------------------------

def _as_frames(log_probs, input_lengths):
    """(T, N, C) or (T, C) log-probabilities (Tensor or array) -> a (T, N, C) array and (N,) lengths."""
    lp = log_probs.array if isinstance(log_probs, Tensor) else np.asarray(log_probs)
    if lp.ndim == 2:
        lp = lp[:, None]
    if lp.ndim != 3:
        raise ValueError(f"ctc decoding: log_probs must be (T, N, C) or (T, C), got shape {lp.shape}")
    if input_lengths is None:
        return lp, np.full(lp.shape[1], lp.shape[0])
    return lp, _lengths("ctc decoding", "input_lengths", input_lengths, lp.shape[1]).clip(max=lp.shape[0])


def collapse(path, blank=0):
    """Read an alignment: merge runs of the same symbol, then drop blanks ([1, 1, 0, 1, 2, 2] -> [1, 1, 2])."""
    path = np.asarray(path)
    keep = np.ones(path.shape, bool)
    keep[1:] = path[1:] != path[:-1]
    return [int(c) for c in path[keep] if c != blank]


def greedy_decode(log_probs, input_lengths=None, blank=0):
    """The best symbol at each frame, read as a label sequence: one list of labels per sample.
    (Fast, and exact when one alignment dominates; beam search sums over alignments.)"""
    lp, lengths = _as_frames(log_probs, input_lengths)
    best = lp.argmax(-1)  # (T, N)
    return [collapse(best[:lengths[i], i], blank) for i in range(lp.shape[1])]


def _prefix_beam_search(lp, blank, beam_width):
    """One sample's frames lp (T, C): the label sequence with the highest total probability among
    those kept, and its log-probability. Each prefix keeps two log-probabilities, of the alignments
    read so far ending in a blank (pb) and in its last label (pl): a label equal to the prefix's last
    one extends it only after a blank, otherwise it merges into that label."""
    beams = {(): (0.0, _NEG_INF)}
    for frame in lp:
        grown = {}

        def add(prefix, pb=_NEG_INF, pl=_NEG_INF):
            old_b, old_l = grown.get(prefix, (_NEG_INF, _NEG_INF))
            grown[prefix] = (np.logaddexp(old_b, pb), np.logaddexp(old_l, pl))

        for prefix, (pb, pl) in beams.items():
            total = np.logaddexp(pb, pl)
            add(prefix, pb=total + frame[blank])
            for c in range(frame.size):
                if c == blank:
                    continue
                if prefix and prefix[-1] == c:
                    add(prefix, pl=pl + frame[c])  # repeated symbol: the same label continues
                    add(prefix + (c,), pl=pb + frame[c])  # after a blank: a new label
                else:
                    add(prefix + (c,), pl=total + frame[c])
        ranked = sorted(grown.items(), key=lambda kv: np.logaddexp(*kv[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    prefix, (pb, pl) = max(beams.items(), key=lambda kv: np.logaddexp(*kv[1]))
    return list(prefix), float(np.logaddexp(pb, pl))


def beam_search_decode(log_probs, input_lengths=None, blank=0, beam_width=8, return_scores=False):
    """CTC prefix beam search: per sample, the label sequence whose alignments have the highest summed
    probability among the `beam_width` prefixes kept at each frame (exact with an unlimited beam).
    Returns one list of labels per sample (and their log-probabilities with return_scores=True)."""
    if not isinstance(beam_width, numbers.Integral) or beam_width < 1:
        raise ValueError(f"beam_search_decode: beam_width must be a positive int, got {beam_width!r}")
    lp, lengths = _as_frames(log_probs, input_lengths)
    results = [_prefix_beam_search(lp[:lengths[i], i].astype(np.float64), blank, beam_width)
               for i in range(lp.shape[1])]
    labels = [r[0] for r in results]
    return (labels, [r[1] for r in results]) if return_scores else labels


def forced_align(log_probs, target, blank=0):
    """The single most probable alignment of `target` to the frames (Viterbi): log_probs (T, C) -> (T,) symbols.

    The alpha recursion with max in place of the sum, keeping which predecessor won:
        delta_t(s) = log y_t(l'_s) + max(delta_{t-1}(s), delta_{t-1}(s-1), [delta_{t-1}(s-2) if skip_s])
    then back from the better of the two final states. It shows where the model hears each label.
    """
    lp = np.asarray(log_probs.array if isinstance(log_probs, Tensor) else log_probs, np.float64)
    target = np.asarray(target, np.int64)
    ext, skip, _ = _extended_targets(target[None], np.array([target.size]), blank)
    ext, skip = ext[0], skip[0]
    steps, states = lp.shape[0], ext.size
    if steps < target.size + int(np.sum(target[1:] == target[:-1])):
        raise ValueError(f"forced_align: {steps} frames cannot hold the {target.size} labels {target.tolist()}")
    delta = np.full((steps, states), _NEG_INF)
    back = np.zeros((steps, states), np.int64)
    delta[0, :2] = lp[0, ext[:2]]
    for t in range(1, steps):
        prev = delta[t - 1]
        candidates = np.stack([prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), _NEG_INF)])
        back[t] = candidates.argmax(0)  # 0: stay, 1: from s - 1, 2: from s - 2
        delta[t] = lp[t, ext] + candidates.max(0)
    s = states - 1 if states == 1 or delta[-1, -1] >= delta[-1, -2] else states - 2
    path = np.empty(steps, np.int64)
    for t in range(steps - 1, -1, -1):
        path[t] = ext[s]
        s -= back[t, s]
    return path
