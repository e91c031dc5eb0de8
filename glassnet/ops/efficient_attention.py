"""Attention in time and memory linear in the sequence length: Linformer and Performer, each one fused node with
its backward written out (also in glassnet.nn.functional).

Full attention softmax(q k^T / sqrt(d)) v builds an (L, S) matrix: time and memory grow with L * S.

Linformer (Wang et al. 2020) projects the S keys and values along the sequence onto k << S rows with learned
matrices E, F (k, S) and attends to those:

    K' = E k,  V' = F v                          (k, d)
    O  = softmax(q K'^T / sqrt(d)) V'            an (L, k) matrix instead of (L, S)

It mixes all positions into each projected row, so it cannot be causal (a language model would see the future).

Performer's FAVOR+ (Choromanski et al. 2021) writes the softmax kernel as an expectation over random
features: with q' = q d^-1/4, k' = k d^-1/4 and m random directions w_r (rows of `features`, (m, d)),

    exp(q'.k') = E_w[phi(q') . phi(k')],   phi(x)_r = exp(w_r . x - |x|^2 / 2) / sqrt(m)
    O_i = phi(q'_i) sum_j phi(k'_j) v_j^T / phi(q'_i) sum_j phi(k'_j)

so the sums over keys are formed once, (m, d), and never an (L, S) matrix. Causal: the sums run over j <= i
only; they are carried from chunk to chunk of `chunk_size` positions, with a small masked product inside a
chunk. The numerator and denominator share one pass: v gets a column of ones, [v, 1].

Higher order and forward mode: each class has a jvp (the tangent pushed through the same products), and under
create_graph its backward is the vector-Jacobian product of the forward written as Tensor operations
(`_graph_forward`, see ops/recompute.py); the causal Performer's graph form masks the full (L, S) matrix
instead of chunking, quadratic in memory but only used for higher-order gradients.
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import grad_mode
from ..autograd.function import Function
from ..random import rng
from ..tensor import Tensor
from .activation import softmax
from .indexing import cat
from .loss import _float_tensor
from .recompute import vjp_by_recompute

__all__ = ["linformer_attention", "performer_attention", "orthogonal_random_features"]


def _swap(a):
    return np.swapaxes(a, -1, -2)


def _softmax_rows(s):
    s = s - s.max(-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(-1, keepdims=True)
    return s


# ---- Linformer -----------------------------------------------------------------------------------
class LinformerAttention(Function):
    """O = softmax(scale q (E k)^T) (F v), q (*, L, d), k (*, S, d), v (*, S, dv), E and F (p, S);
    `keep` (broadcastable to (*, S, 1), or None): keys and values of padding positions are zeroed first.

    Backward, with K' = E k, V' = F v, P the attention weights:
        dV' = P^T dO,   dP = dO V'^T,   dS = P * (dP - rowsum(dP * P))
        dq  = scale dS K',   dK' = scale dS^T q
        dE  = sum over batch and heads of dK' k^T,   dk = E^T dK'     (and likewise F, v with dV')
    """

    def forward(self, q, k, v, e_proj, f_proj, scale, keep):
        self.scale, self.keep = q.dtype.type(scale), keep
        if keep is not None:
            k, v = k * keep, v * keep
        self.k, self.v = k, v
        self.kp, self.vp = e_proj @ k, f_proj @ v  # (*, p, d), (*, p, dv)
        self.P = _softmax_rows((q @ _swap(self.kp)) * self.scale)  # (*, L, p)
        return self.P @ self.vp

    def backward(self, dO):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs, (dO,))
        q, _, _, e_proj, f_proj = (t.array for t in self.inputs)
        dO, P = dO.array, self.P
        dvp = _swap(P) @ dO
        dP = dO @ _swap(self.vp)
        dS = P * (dP - np.sum(dP * P, -1, keepdims=True))
        dq = (dS @ self.kp) * self.scale
        dkp = (_swap(dS) @ q) * self.scale
        dk, dv = _swap(e_proj) @ dkp, _swap(f_proj) @ dvp
        if self.keep is not None:
            dk, dv = dk * self.keep, dv * self.keep
        batch = tuple(range(q.ndim - 2))
        de = np.tensordot(dkp, self.k, axes=(batch + (q.ndim - 1,), batch + (q.ndim - 1,)))  # (p, S)
        df = np.tensordot(dvp, self.v, axes=(batch + (q.ndim - 1,), batch + (q.ndim - 1,)))
        return tuple(Tensor._make(g.astype(q.dtype, copy=False)) for g in (dq, dk, dv, de, df))

    def _graph_forward(self, q, k, v, e_proj, f_proj):
        if self.keep is not None:
            keep = Tensor._make(self.keep)
            k, v = k * keep, v * keep
        return softmax((q @ (e_proj @ k).mT) * float(self.scale), -1) @ (f_proj @ v)

    def jvp(self, tq, tk, tv, te, tf):
        """Forward mode: dK' = dE k + E dk, dV' = dF v + F dv, dS = scale (dq K'^T + q dK'^T),
        dP = P * (dS - rowsum(P * dS)),  dO = dP V' + P dV'   (k, v, dk, dv zeroed at padding keys)."""
        q, e_proj, f_proj = self.inputs[0].array, self.inputs[3].array, self.inputs[4].array
        keep = 1 if self.keep is None else self.keep
        dkp = (0 if te is None else te @ self.k) + (0 if tk is None else e_proj @ (tk * keep))
        dvp = (0 if tf is None else tf @ self.v) + (0 if tv is None else f_proj @ (tv * keep))
        dS = ((0 if tq is None else tq @ _swap(self.kp)) + q @ _swap(np.broadcast_to(dkp, self.kp.shape))) * self.scale
        dP = self.P * (dS - np.sum(self.P * dS, -1, keepdims=True))
        return dP @ self.vp + self.P @ np.broadcast_to(dvp, self.vp.shape)


def _check_qkv(op, query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        _float_tensor(op, name, t)
        if t.ndim not in (3, 4):
            raise ValueError(f"{op}: {name} must be (B, L, d) or (B, heads, L, d), got shape {tuple(t.shape)}")
    q, k, v = query.shape, key.shape, value.shape
    if not (q[:-2] == k[:-2] == v[:-2] and q[-1] == k[-1] and k[-2] == v[-2]):
        raise ValueError(f"{op}: query {tuple(q)}, key {tuple(k)} and value {tuple(v)} do not fit: expected "
                         f"(*, L, d), (*, S, d) and (*, S, dv) with one batch shape *")
    if len({query.dtype, key.dtype, value.dtype}) > 1:
        raise TypeError(f"{op}: query, key and value must have one dtype, got {query.dtype}, {key.dtype}, "
                        f"{value.dtype}")


def _keep(op, key_padding_mask, key):
    """The (B, [1,] S, 1) array of key.dtype that is 0 at padding positions, or None."""
    if key_padding_mask is None:
        return None
    mask = key_padding_mask.array if isinstance(key_padding_mask, Tensor) else np.asarray(key_padding_mask)
    expected = (key.shape[0], key.shape[-2])
    if mask.dtype != np.bool_ or mask.shape != expected:
        raise ValueError(f"{op}: key_padding_mask must be a bool (B, S) = {expected} mask (True: padding, "
                         f"ignored), got {mask.dtype} {mask.shape}")
    keep = (~mask).astype(key.dtype)
    return keep.reshape(expected[:1] + (1,) * (key.ndim - 3) + expected[1:] + (1,))


def linformer_attention(query, key, value, e_proj, f_proj, key_padding_mask=None, scale=None):
    """softmax(query (E key)^T * scale) (F value): attention to the p rows that E and F (p, S) project the S
    keys and values onto. query (*, L, d), key (*, S, d), value (*, S, dv) with * = (B,) or (B, heads);
    key_padding_mask (B, S) bool, True at padding (those keys and values are zeroed before the projection);
    scale defaults to 1 / sqrt(d). Not causal."""
    op = "linformer_attention"
    _check_qkv(op, query, key, value)
    S = key.shape[-2]
    for name, proj in (("e_proj", e_proj), ("f_proj", f_proj)):
        _float_tensor(op, name, proj)
        if proj.ndim != 2 or proj.shape[1] != S or proj.dtype != key.dtype:
            raise ValueError(f"{op}: {name} must be a {key.dtype} (p, S) projection with S = {S} keys, got "
                             f"{proj.dtype} {tuple(proj.shape)}")
    if e_proj.shape != f_proj.shape:
        raise ValueError(f"{op}: e_proj {tuple(e_proj.shape)} and f_proj {tuple(f_proj.shape)} must have one shape")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return LinformerAttention.apply(query, key, value, e_proj, f_proj, scale=scale,
                                    keep=_keep(op, key_padding_mask, key))


# ---- Performer (FAVOR+) ----------------------------------------------------------------------------
def _features(x, omega, per_row):
    """phi(x) = exp(x w^T - |x|^2 / 2 - c) / sqrt(m) for x (*, n, d), omega (m, d) -> (*, n, m). The
    stabiliser c (each row's max for queries, the max over all positions for keys) is a constant factor that
    cancels between numerator and denominator, so it needs no gradient."""
    u = x @ omega.T
    u -= 0.5 * np.sum(x * x, -1, keepdims=True)
    u -= u.max(-1, keepdims=True) if per_row else u.max((-2, -1), keepdims=True)
    np.exp(u, out=u)
    u *= x.dtype.type(1 / math.sqrt(omega.shape[0]))
    return u


def _features_backward(x, phi, dphi, omega):
    """dx for phi = _features(x): du = dphi * phi; dx = du w - rowsum(du) x."""
    du = dphi * phi
    return du @ omega - np.sum(du, -1, keepdims=True) * x


def _features_tangent(x, phi, dx, omega, domega):
    """The tangent of phi = _features(x, omega): phi * (dx w^T + x dw^T - rowsum(x * dx)) (the stabiliser is
    a constant factor that cancels in the output: no tangent)."""
    du = 0 if domega is None else x @ domega.T
    if dx is not None:
        du = du + dx @ omega.T - np.sum(x * dx, -1, keepdims=True)
    return phi * du


def _chunks(n, size):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _causal_forward(A, B, V1, chunk):
    """N_i = sum_{j <= offset + i} (A_i . B_j) V1_j with offset = S - L (the queries are the last L positions).
    Returns N and the running sums B^T V1 at the start of every chunk."""
    L, S = A.shape[-2], B.shape[-2]
    off = S - L
    state = _swap(B[..., :off, :]) @ V1[..., :off, :]  # (*, m, dv + 1): the keys before the first query
    out = np.empty(A.shape[:-1] + V1.shape[-1:], A.dtype)
    states = []
    for s, e in _chunks(L, chunk):
        a, b, v = A[..., s:e, :], B[..., off + s:off + e, :], V1[..., off + s:off + e, :]
        states.append(state)
        inside = (a @ _swap(b)) * np.tri(e - s, dtype=A.dtype)  # (*, c, c): j <= i within the chunk
        out[..., s:e, :] = a @ state + inside @ v
        state = state + _swap(b) @ v
    return out, states


def _causal_backward(A, B, V1, states, dN, chunk):
    """dA, dB, dV1 of _causal_forward. G carries sum over later chunks of A^T dN: what each key's B_j V1_j^T
    contributes to the queries after its chunk."""
    L, S = A.shape[-2], B.shape[-2]
    off = S - L
    dA, dB, dV = np.empty_like(A), np.empty_like(B), np.empty_like(V1)
    G = np.zeros_like(states[0])
    for (s, e), state in reversed(list(zip(_chunks(L, chunk), states))):
        a, b, v, dn = A[..., s:e, :], B[..., off + s:off + e, :], V1[..., off + s:off + e, :], dN[..., s:e, :]
        tri = np.tri(e - s, dtype=A.dtype)
        d_inside = (dn @ _swap(v)) * tri
        dA[..., s:e, :] = dn @ _swap(state) + d_inside @ b
        dB[..., off + s:off + e, :] = _swap(d_inside) @ a + v @ _swap(G)
        dV[..., off + s:off + e, :] = _swap((a @ _swap(b)) * tri) @ dn + b @ G
        G = G + _swap(a) @ dn
    dB[..., :off, :] = V1[..., :off, :] @ _swap(G)
    dV[..., :off, :] = B[..., :off, :] @ G
    return dA, dB, dV


class PerformerAttention(Function):
    """FAVOR+ attention: q (*, L, d), k (*, S, d), v (*, S, dv), features (m, d) (constant) -> (*, L, dv).

    Forward, with c = d^-1/4, A = phi(c q) (*, L, m), B = phi(c k) (*, S, m) (zero rows at padding keys),
    V1 = [v, 1] (*, S, dv + 1):
        non-causal  N = A (B^T V1)
        causal      N_i = sum_{j <= S - L + i} (A_i . B_j) V1_j   (chunked running sums)
        O = N[:, :dv] / N[:, dv]
    Backward: dN = [dO / D, -rowsum(dO * O) / D] with D = N[:, dv], then
        non-causal  dA = dN (B^T V1)^T,  dB = V1 (A^T dN)^T,  dV1 = B (A^T dN)
        causal      the same sums chunk by chunk (see _causal_backward)
        dq = c (dA*A) w - c rowsum(dA*A) c q, and likewise dk from dB   (_features_backward)
    The features get no gradient (they are redrawn, not learned).
    """

    def forward(self, q, k, v, omega, causal, keep, chunk):
        c = q.dtype.type(q.shape[-1] ** -0.25)
        self.qs, self.ks, self.causal, self.keep, self.chunk = q * c, k * c, causal, keep, chunk
        self.A = _features(self.qs, omega, per_row=True)
        self.B = _features(self.ks, omega, per_row=False)
        if keep is not None:
            self.B *= keep
        self.V1 = np.concatenate([v, np.ones(v.shape[:-1] + (1,), v.dtype)], -1)
        if causal:
            N, self.states = _causal_forward(self.A, self.B, self.V1, chunk)
        else:
            self.KV = _swap(self.B) @ self.V1  # (*, m, dv + 1)
            N = self.A @ self.KV
        self.D = np.maximum(N[..., -1:], np.finfo(q.dtype).tiny)
        self.O = N[..., :-1] / self.D
        return self.O

    def backward(self, dO):
        if grad_mode.is_grad_enabled():
            return vjp_by_recompute(self._graph_forward, self.inputs[:3], (dO,)) + (None,)
        omega = self.inputs[3].array
        dO = dO.array / self.D
        dN = np.concatenate([dO, -np.sum(dO * self.O, -1, keepdims=True)], -1)
        if self.causal:
            dA, dB, dV1 = _causal_backward(self.A, self.B, self.V1, self.states, dN, self.chunk)
        else:
            dKV = _swap(self.A) @ dN
            dA, dB, dV1 = dN @ _swap(self.KV), self.V1 @ _swap(dKV), self.B @ dKV
        c = self.qs.dtype.type(self.qs.shape[-1] ** -0.25)
        dq = _features_backward(self.qs, self.A, dA, omega) * c
        dk = _features_backward(self.ks, self.B, dB, omega) * c  # B is 0 at padding keys: so is dk
        return Tensor._make(dq), Tensor._make(dk), Tensor._make(np.ascontiguousarray(dV1[..., :-1])), None

    def _products(self, A, B, V1):
        """N from the features and [v, 1] (trilinear, so the tangent is a sum of three of these)."""
        if self.causal:
            return _causal_forward(A, B, V1, self.chunk)[0]
        return A @ (_swap(B) @ V1)

    def _graph_forward(self, q, k, v):
        omega = self.inputs[3].array
        c = float(q.shape[-1] ** -0.25)

        def features(x, axes):
            u = x @ Tensor._make(omega.T) - 0.5 * (x * x).sum(-1, keepdim=True)
            return (u - Tensor._make(u.array.max(axes, keepdims=True))).exp() * (1 / math.sqrt(omega.shape[0]))

        A, B = features(q * c, -1), features(k * c, (-2, -1))
        if self.keep is not None:
            B = B * Tensor._make(self.keep)
        V1 = cat([v, Tensor._make(np.ones(v.shape[:-1] + (1,), v.dtype))], -1)
        if self.causal:  # j <= S - L + i as one masked (L, S) matrix
            L, S = q.shape[-2], k.shape[-2]
            N = ((A @ B.mT) * Tensor._make(np.tri(L, S, S - L, dtype=q.dtype))) @ V1
        else:
            N = A @ (B.mT @ V1)
        return N[..., :-1] / N[..., -1:]

    def jvp(self, tq, tk, tv, tomega):
        """Forward mode: dA, dB from _features_tangent (dq, dk scaled by c), dV1 = [dv, 0],
        dN = N(dA, B, V1) + N(A, dB, V1) + N(A, B, dV1), dO = (dN[:, :dv] - O dN[:, dv]) / D."""
        omega = self.inputs[3].array
        c = self.qs.dtype.type(self.qs.shape[-1] ** -0.25)
        dN = 0
        if tq is not None or tomega is not None:
            dA = _features_tangent(self.qs, self.A, None if tq is None else tq * c, omega, tomega)
            dN = dN + self._products(dA, self.B, self.V1)
        if tk is not None or tomega is not None:
            dB = _features_tangent(self.ks, self.B, None if tk is None else tk * c, omega, tomega)
            dN = dN + self._products(self.A, dB, self.V1)
        if tv is not None:
            dV1 = np.concatenate([tv, np.zeros(tv.shape[:-1] + (1,), tv.dtype)], -1)
            dN = dN + self._products(self.A, self.B, dV1)
        return (dN[..., :-1] - self.O * dN[..., -1:]) / self.D


def performer_attention(query, key, value, features, causal=False, key_padding_mask=None, chunk_size=64):
    """FAVOR+ attention with the random `features` (m, d) (see orthogonal_random_features): an unbiased
    estimate of softmax(q k^T / sqrt(d)) v in time and memory linear in the sequence length.
    query (*, L, d), key (*, S, d), value (*, S, dv), * = (B,) or (B, heads). causal: query i sees the keys up
    to its own position, the queries being the last L of the S positions (L = S in training; L < S when
    continuing a sequence from cached keys). key_padding_mask (B, S) bool, True at padding (ignored keys)."""
    op = "performer_attention"
    _check_qkv(op, query, key, value)
    _float_tensor(op, "features", features)
    if features.ndim != 2 or features.shape[1] != query.shape[-1] or features.dtype != query.dtype:
        raise ValueError(f"{op}: features must be {query.dtype} (m, d) with d = {query.shape[-1]}, got "
                         f"{features.dtype} {tuple(features.shape)}")
    if causal and query.shape[-2] > key.shape[-2]:
        raise ValueError(f"{op}: causal attention needs at least as many keys as queries, got "
                         f"{key.shape[-2]} keys for {query.shape[-2]} queries")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"{op}: chunk_size must be a positive int, got {chunk_size!r}")
    return PerformerAttention.apply(query, key, value, features, causal=bool(causal),
                                    keep=_keep(op, key_padding_mask, key), chunk=chunk_size)


def default_num_features(head_dim):
    """The Performer paper's m = d log d random features for heads of d dimensions (at least d)."""
    return max(head_dim, int(round(head_dim * math.log(head_dim))))


def orthogonal_random_features(num_features, dim, generator=None, dtype=None):
    """(num_features, dim) random directions for performer_attention: blocks of dim orthogonal rows (the QR
    factor of a Gaussian matrix), each row scaled to the length of a Gaussian vector, so that every row is
    distributed as N(0, I) while rows of a block are exactly orthogonal (lower variance than i.i.d. rows)."""
    if not isinstance(num_features, int) or not isinstance(dim, int) or num_features < 1 or dim < 1:
        raise ValueError(f"orthogonal_random_features: num_features and dim must be positive ints, got "
                         f"{num_features!r} and {dim!r}")
    g = rng(generator)
    blocks = []
    for _ in range(-(-num_features // dim)):
        q, _ = np.linalg.qr(g.standard_normal((dim, dim)))
        blocks.append(q.T)
    rows = np.concatenate(blocks)[:num_features]
    rows *= np.linalg.norm(g.standard_normal((num_features, dim)), axis=1, keepdims=True)
    return Tensor._make(rows.astype(dtype or dtypes.get_default_dtype()))
