"""Attention: scaled dot-product attention as one fused node, and rotary position embeddings.

scaled_dot_product_attention(q, k, v) = softmax(q k^T * scale + mask) v, with PyTorch's semantics:
boolean masks (True = takes part), additive float masks, `is_causal` (top-left aligned), dropout on
the attention weights, broadcasting over the batch and head dims, and grouped-query attention.

The forward keeps only the attention weights P (and the dropout mask); the backward is written
out with batched matmuls on raw arrays:

    dV = P^T dO                                   (P with dropout applied)
    dP = dO V^T                                   (times the dropout scale, if any)
    dS = P * (dP - rowsum(dP * P))                (the softmax Jacobian-vector product)
    dQ = scale dS K,   dK = scale dS^T Q,   d(float mask) = dS

When the backward itself is recorded (create_graph=True) the same formulas run as glassnet
operations (matmul, softmax, sums) on P recomputed from q and k, so second derivatives work. Forward
mode pushes tangents the other way: dS = scale (dQ K^T + Q dK^T) + d(mask), dP = P * (dS - rowsum(P dS)),
dO = dPd V + Pd dV.
"""
import builtins
import functools
import math
import numbers

import numpy as np

from ..autograd.forward_ad import add_tangents
from ..autograd import grad_mode
from ..autograd.function import Function, autocast_active
from ..random import rng
from ..tensor import Tensor
from ._util import matmul

__all__ = ["scaled_dot_product_attention", "apply_rotary_emb", "rotate_half"]


def _unbroadcast(a, shape):
    """Sum the array `a` down to `shape` (the adjoint of broadcasting `shape` up to a.shape)."""
    shape = tuple(shape)
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def _swap(a):
    """The last two axes exchanged (a view; BLAS reads the transposed layout directly)."""
    return np.swapaxes(a, -1, -2)


def _row_sums(a):
    """Sums along the last axis, keepdims (einsum: one SIMD pass, several times faster than a.sum here)."""
    return np.einsum("...j->...", a)[..., None]


@functools.lru_cache(maxsize=16)
def _causal_bias(L, S, dtype):
    """(L, S) additive mask, -inf above the diagonal (key j > query i: the future) and 0 elsewhere.
    Built once per shape; adding it is about twice as fast as writing -inf through a boolean mask."""
    bias = np.zeros((L, S), dtype)
    bias[np.triu_indices(L, 1, S)] = -np.inf
    bias.flags.writeable = False
    return bias


def _softmax_rows(s, safe):
    """Softmax along the last axis, in place in `s`.

    safe=True: a row whose entries are all -inf (fully masked) gives zeros instead of NaN, as
    PyTorch's scaled_dot_product_attention does; safe=False gives NaN there, as a plain softmax.
    """
    m = s.max(axis=-1, keepdims=True, initial=-np.inf)
    dead = None
    if safe:
        dead = m == -np.inf
        if dead.any():
            m[dead] = 0  # exp(-inf - 0) = 0: the row sums to 0 and is fixed below
        else:
            dead = None
    with np.errstate(invalid="ignore"):  # safe=False: -inf - -inf = NaN is the intended result
        s -= m
    np.exp(s, out=s)
    total = _row_sums(s)
    if dead is not None:
        total[dead] = 1
    s *= 1 / total  # one division per row, then products
    return s


class ScaledDotProductAttention(Function):
    """Fused attention for q (*Bq, L, E), k (*Bk, S, E), v (*Bv, S, Ev) [, float mask broadcastable to (*B, L, S)].

    Forward, with B = broadcast(Bq, Bk) and the output batch broadcast(B, Bv):
      S  = scale * q k^T (+ float mask)                      (*B, L, S)
      S  = -inf where `blocked` (bool mask False, causal)
      P  = softmax(S) along the last dim (all -inf rows -> 0 if `safe`)
      Pd = P * keep / (1 - p)       (dropout; Pd = P when p = 0)
      O  = Pd v                                              (*B', L, Ev)
    Outputs O, or (O, Pd) when `weights` (MultiheadAttention's need_weights path).

    Backward (dO (*B', L, Ev), and dW (*B, L, S) for the weights output):
      dv    = sum_to(Pd^T dO, v.shape)
      dPd   = sum_to(dO v^T, (*B, L, S)) (+ dW)
      dP    = dPd * keep / (1 - p)
      dS    = P * (dP - rowsum(dP * P))
      dq    = sum_to(scale dS k, q.shape)
      dk    = sum_to(scale dS^T q, k.shape)
      dmask = sum_to(dS, mask.shape)
    Saved: P and the boolean keep mask. The first-order backward runs on raw arrays; under
    create_graph it is `_graph_backward` (the same formulas as Tensor operations).
    """

    def forward(self, q, k, v, *bias, scale, blocked, causal, keep, p, safe, weights):
        scale = q.dtype.type(scale)
        s = matmul(q, _swap(k))
        s *= scale
        if bias:
            s += bias[0]
        if blocked is not None:
            np.copyto(s, -np.inf, where=blocked)
        if causal:
            s += _causal_bias(*s.shape[-2:], s.dtype)
        P = _softmax_rows(s, safe)
        self.P, self.keep, self.scale, self.blocked, self.causal = P, keep, scale, blocked, causal
        self.factor = 0.0 if p == 1 else 1 / (1 - p)  # p = 1 drops everything (keep is all False)
        Pd = self._dropped(P)
        out = matmul(Pd, v)
        return (out, Pd) if weights else out

    def _dropped(self, a):
        """a * keep / (1 - p): dropout's scaling, applied to P or to a gradient."""
        return a if self.keep is None else a * self.keep * a.dtype.type(self.factor)

    def backward(self, dO, dW=None):
        if grad_mode.is_grad_enabled():  # create_graph=True: record the backward itself
            return self._graph_backward(dO, dW)
        q, k, v = (t.array for t in self.inputs[:3])
        need = self.needs_input_grad
        P, scale = self.P, self.scale
        dO = dO.array
        dv = Tensor._make(_unbroadcast(matmul(_swap(self._dropped(P)), dO), v.shape)) if need[2] else None
        if not (need[0] or need[1] or builtins.any(need[3:])):
            return (None, None, dv) + (None,) * (len(need) - 3)
        dP = _unbroadcast(matmul(dO, _swap(v)), P.shape)
        if dW is not None:
            dP = dP + dW.array
        dP = self._dropped(dP)  # a new array here (never a saved one), so dS can be built in it
        dP -= np.einsum("...j,...j->...", dP, P)[..., None]
        dP *= P
        dS = dP
        dq = dk = None
        if need[0]:
            dq = matmul(dS, k)
            dq *= scale
            dq = Tensor._make(_unbroadcast(dq, q.shape))
        if need[1]:
            dk = matmul(_swap(dS), q)
            dk *= scale
            dk = Tensor._make(_unbroadcast(dk, k.shape))
        grads = (dq, dk, dv)
        if len(need) == 4:
            mask = self.inputs[3]
            grads += (Tensor._make(_unbroadcast(dS, mask.shape)) if need[3] else None,)
        return grads

    def _graph_backward(self, dO, dW):
        """The backward's formulas as Tensor operations, P recomputed from the inputs (class docstring)."""
        from .arithmetic import matmul
        from .reduction import sum as _sum
        from .shape import sum_to

        q, k, v = self.inputs[:3]
        P = self._graph_weights()
        Pd = P * self._keep_factor() if self.keep is not None else P
        dv = sum_to(matmul(Pd.mT, dO), v.shape)
        dPd = sum_to(matmul(dO, v.mT), P.shape)
        if dW is not None:
            dPd = dPd + dW
        dP = dPd * self._keep_factor() if self.keep is not None else dPd
        dS = P * (dP - _sum(dP * P, -1, True))
        dq = sum_to(matmul(dS, k) * float(self.scale), q.shape)
        dk = sum_to(matmul(dS.mT, q) * float(self.scale), k.shape)
        return (dq, dk, dv) + ((sum_to(dS, self.inputs[3].shape),) if len(self.inputs) == 4 else ())

    def _graph_weights(self):
        """P = softmax(scale q k^T + mask) as Tensor operations. Positions the forward blocked are filled
        with -inf; rows the forward found fully blocked (all of P zero) are computed on zeros and then
        multiplied by 0, so no NaN enters the graph."""
        from .activation import softmax
        from .arithmetic import matmul
        from .indexing import masked_fill

        q, k = self.inputs[:2]
        s = matmul(q, k.mT) * float(self.scale)
        if len(self.inputs) == 4:
            s = s + self.inputs[3]
        blocked = self.blocked
        if self.causal:
            future = _causal_bias(*s.shape[-2:], s.dtype) == -np.inf
            blocked = future if blocked is None else blocked | future
        if blocked is not None:
            s = masked_fill(s, Tensor._make(blocked), -np.inf)
        dead = np.einsum("...j->...", self.P)[..., None] == 0  # rows with nothing to attend to
        if not dead.any():
            return softmax(s, -1)
        s = masked_fill(s, Tensor._make(dead), 0.0)
        return softmax(s, -1) * Tensor._make((~dead).astype(s.dtype))

    def _keep_factor(self):
        return Tensor._make(self._dropped(np.ones(self.keep.shape, self.P.dtype)))

    def jvp(self, dq, dk, dv, *dmask):
        """Forward mode: dS = scale (dq k^T + q dk^T) + dmask, dP = P * (dS - rowsum(P * dS)),
        dO = dPd v + Pd dv with dPd = dropout(dP); the weights output (if returned) gets dPd."""
        q, k, v = (t.array for t in self.inputs[:3])
        P, scale = self.P, self.scale
        dS = add_tangents(P.shape, None if dq is None else np.matmul(dq, _swap(k)) * scale,
                          None if dk is None else np.matmul(q, _swap(dk)) * scale, *dmask)
        dPd = None
        if dS is not None:
            dP = P * (dS - np.einsum("...j,...j->...", P, dS)[..., None])
            dPd = self._dropped(dP)
        out = self._outputs[0]
        dO = add_tangents(out.shape, None if dPd is None else np.matmul(dPd, v),
                          None if dv is None else np.matmul(self._dropped(P), dv))
        return (dO, dPd) if len(self._outputs) == 2 else dO


def _check_attention_inputs(query, key, value, op):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    mixed = query.dtype != key.dtype or query.dtype != value.dtype
    if (mixed and not autocast_active()) or query.dtype.kind != "f":
        raise TypeError(f"{op}: query, key and value must have the same floating dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if builtins.min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError(f"{op}: query, key and value must have at least 2 dimensions (..., seq, features), "
                         f"got shapes {query.shape}, {key.shape} and {value.shape}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{op}: query (..., L, E) {query.shape} and key (..., S, E) {key.shape} must have the "
                         "same last dimension E")
    if value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{op}: key (..., S, E) {key.shape} and value (..., S, Ev) {value.shape} must have the "
                         "same sequence length S")


def _broadcast(op, what, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: the batch dimensions of {what} {', '.join(str(tuple(s)) for s in shapes)} "
                         "cannot be broadcast together") from None


def _attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, safe=True,
               weights=False, op="scaled_dot_product_attention"):
    """Shared by scaled_dot_product_attention and MultiheadAttention: checks, masks, dropout draw, apply."""
    _check_attention_inputs(query, key, value, op)
    if not isinstance(dropout_p, numbers.Real) or isinstance(dropout_p, bool) or not 0 <= dropout_p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {dropout_p!r}")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    elif not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise TypeError(f"{op}: scale must be a float or None, got {scale!r}")
    L, S = query.shape[-2], key.shape[-2]
    batch = _broadcast(op, "query and key", query.shape[:-2], key.shape[:-2])
    _broadcast(op, "the attention weights and value", batch, value.shape[:-2])
    scores = batch + (L, S)
    bias, blocked = (), None
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{op}: an explicit attn_mask should not be set when is_causal=True")
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise TypeError(f"{op}: attn_mask must be bool or of the query's dtype {query.dtype}, "
                            f"got {attn_mask.dtype}")
        try:
            fits = np.broadcast_shapes(attn_mask.shape, scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{op}: attn_mask of shape {attn_mask.shape} cannot be broadcast to the attention "
                             f"weights' shape {scores} (batch..., L, S)")
        if attn_mask.dtype == np.bool_:
            blocked = ~attn_mask.array
        else:
            bias = (attn_mask,)
    keep = None
    if dropout_p > 0:
        keep = (np.zeros(scores, bool) if dropout_p == 1
                else rng(None).random(scores, dtype=np.float32) >= np.float32(dropout_p))
    return ScaledDotProductAttention.apply(query, key, value, *bias, scale=float(scale), blocked=blocked,
                                           causal=bool(is_causal), keep=keep, p=float(dropout_p), safe=safe,
                                           weights=weights)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *,
                                 scale=None, enable_gqa=False):
    """softmax(query key^T * scale + mask) value, as torch.nn.functional.scaled_dot_product_attention.

    query (N, ..., Hq, L, E), key (N, ..., H, S, E), value (N, ..., H, S, Ev) -> (N, ..., Hq, L, Ev);
    batch dims broadcast. attn_mask broadcastable to (N, ..., Hq, L, S): bool (True = takes part) or
    float (added to the scores). is_causal: position i attends to j <= i (top-left aligned when L != S;
    not together with attn_mask). scale defaults to 1/sqrt(E). dropout_p > 0 drops attention weights
    (always, whatever the training mode). A fully masked row gives zeros. enable_gqa: H divides Hq and
    key/value head j serves query heads j*Hq/H ... (j+1)*Hq/H - 1.
    """
    op = "scaled_dot_product_attention"
    if not enable_gqa:
        return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, op=op)
    _check_attention_inputs(query, key, value, op)
    if builtins.min(query.ndim, key.ndim, value.ndim) < 3:
        raise ValueError(f"{op}: enable_gqa needs a head dimension (..., H, L, E), got shapes {query.shape}, "
                         f"{key.shape} and {value.shape}")
    hq, hk = query.shape[-3], key.shape[-3]
    if value.shape[-3] != hk or hk == 0 or hq % hk:
        raise ValueError(f"{op}: enable_gqa needs key and value with the same number of heads dividing the "
                         f"query's: got {hq} query heads, {hk} key heads and {value.shape[-3]} value heads")
    if hq == hk:
        return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, op=op)
    g = hq // hk
    q = query.reshape(*query.shape[:-3], hk, g, *query.shape[-2:])
    k = key.reshape(*key.shape[:-3], hk, 1, *key.shape[-2:])
    v = value.reshape(*value.shape[:-3], hk, 1, *value.shape[-2:])
    if attn_mask is not None and isinstance(attn_mask, Tensor) and attn_mask.ndim >= 3:
        mh = attn_mask.shape[-3]
        if mh not in (1, hq):
            raise ValueError(f"{op}: attn_mask of shape {attn_mask.shape} has {mh} heads; expected 1 or {hq}")
        attn_mask = attn_mask.reshape(*attn_mask.shape[:-3], hk if mh == hq else 1, g if mh == hq else 1,
                                      *attn_mask.shape[-2:])
    scale = scale if scale is not None else (1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0)
    out = _attention(q, k, v, attn_mask, dropout_p, is_causal, scale, op=op)
    return out.reshape(*out.shape[:-4], hq, *out.shape[-2:])


# ---- rotary position embeddings ------------------------------------------------------------------
def _rotate_half_array(x):
    h = x.shape[-1] // 2
    return np.concatenate((-x[..., h:], x[..., :h]), axis=-1)


class RotateHalf(Function):
    """y = [-x2, x1] for x = [x1, x2] split in halves along the last dim (a 90-degree rotation of each
    pair (x[i], x[i + d/2])).   dx = [dy2, -dy1] = -rotate_half(dy)  (the rotation's transpose)."""

    def forward(self, x):
        return _rotate_half_array(x)

    def backward(self, dy):
        return -RotateHalf.apply(dy)

    def jvp(self, dx):  # linear: the tangent rotated the same way
        return None if dx is None else _rotate_half_array(dx)


def rotate_half(x):
    """[-x2, x1] for the two halves x1, x2 of the last dim (which must have even size)."""
    if x.shape[-1] % 2:
        raise ValueError(f"rotate_half: the last dimension must be even, got shape {x.shape}")
    return RotateHalf.apply(x)


class Rotary(Function):
    """RoPE, half-split pairing: y = x * cos + rotate_half(x) * sin.

    x (..., L, D) with D even; cos, sin broadcastable to x (typically (L, D), each frequency repeated
    in both halves: cos = [cos(m theta), cos(m theta)]). Pair i is (x[i], x[i + D/2]).
    Backward: dx   = dy * cos - rotate_half(dy * sin)    (rotate_half^T = -rotate_half)
              dcos = sum_to(dy * x),  dsin = sum_to(dy * rotate_half(x))
    The backward is written with glassnet ops, so it is itself differentiable.
    """

    def forward(self, x, cos, sin):
        return x * cos + _rotate_half_array(x) * sin

    def backward(self, dy):
        from .shape import sum_to

        x, cos, sin = self.inputs
        need = self.needs_input_grad
        dx = dy * cos - RotateHalf.apply(dy * sin) if need[0] else None
        dcos = sum_to(dy * x, cos.shape) if need[1] else None
        dsin = sum_to(dy * RotateHalf.apply(x), sin.shape) if need[2] else None
        return dx, dcos, dsin

    def jvp(self, dx, dcos, dsin):
        """Forward mode: dy = dx * cos + rotate_half(dx) * sin + x * dcos + rotate_half(x) * dsin."""
        x, cos, sin = (t.array for t in self.inputs)
        return add_tangents(self._outputs[0].shape,
                            None if dx is None else dx * cos + _rotate_half_array(dx) * sin,
                            None if dcos is None else x * dcos,
                            None if dsin is None else _rotate_half_array(x) * dsin)


def apply_rotary_emb(x, cos, sin):
    """Rotary position embedding (RoPE, Su et al. 2021) of x (..., L, D) with the tables cos, sin (L, D).

    Half-split convention (as GPT-NeoX / LLaMA in Hugging Face): feature i is paired with i + D/2 and
    the pair is rotated by the angle m * theta_i at position m: y = x * cos + rotate_half(x) * sin.
    cos and sin (from `nn.RotaryEmbedding`) must broadcast to x's shape.
    """
    for name, t in (("x", x), ("cos", cos), ("sin", sin)):
        if not isinstance(t, Tensor):
            raise TypeError(f"apply_rotary_emb: {name} must be a Tensor, got {type(t).__name__}")
    if x.dtype.kind != "f" or cos.dtype != x.dtype or sin.dtype != x.dtype:
        raise TypeError(f"apply_rotary_emb: x, cos and sin must have the same floating dtype, got {x.dtype}, "
                        f"{cos.dtype} and {sin.dtype}")
    if x.ndim == 0 or x.shape[-1] % 2:
        raise ValueError(f"apply_rotary_emb: x must have an even last dimension (pairs of features), got {x.shape}")
    for name, t in (("cos", cos), ("sin", sin)):
        try:
            fits = np.broadcast_shapes(t.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"apply_rotary_emb: {name} of shape {t.shape} cannot be broadcast to x's shape "
                             f"{x.shape} (expected (L, D) = {x.shape[-2:]})")
    return Rotary.apply(x, cos, sin)
