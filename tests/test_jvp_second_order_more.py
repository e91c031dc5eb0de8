"""Forward mode and second derivatives of the remaining fused operations: the distances and contrastive
losses, Linformer and Performer attention, the sparse product and segment softmax, CTC, the VAE's
reparameterisation and activation checkpointing.

For each case, in float64:
  * its jvp (forward_ad.jvp) against torch.func.jvp of the same computation, and against central
    differences (f(x + h v) - f(x - h v)) / 2h;
  * the gradient and a Hessian-vector product through create_graph=True (tests/test_second_order.py's
    runner) against torch.autograd.grad(create_graph=True), and the first-order gradient of that route
    against the ordinary (NumPy) backward.
Where PyTorch has no such op (contrastive, InfoNCE, NT-Xent, Linformer, Performer, segment softmax,
reparameterize, CTC's double backward) the torch side is the same computation written with torch ops.
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from test_efficient_attention import torch_linformer, torch_performer
from test_second_order import hessian_vector

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd.forward_ad import jvp
from glassnet.models.vae import reparameterize
from glassnet.ops.sparse import Pattern, segment_softmax, sparse_dense_matmul
from glassnet.utils.checkpoint import checkpoint


@dataclass
class Case:
    name: str
    ours: Callable  # glassnet tensors -> tensor
    theirs: Callable  # torch tensors -> tensor
    shapes: list
    make: Optional[Callable] = None  # rng, shape -> array (default: standard normal)


def _y(n):
    return np.random.default_rng(3).integers(0, 2, n)


def _reduce(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


# ---- distances and contrastive losses ----------------------------------------------------------------
def _torch_contrastive(x1, x2, margin=1.0, p=2.0, reduction="mean"):
    d = TF.pairwise_distance(x1, x2, p, 1e-6)
    y = torch.from_numpy(_y(len(x1))).to(x1.dtype)
    return _reduce(0.5 * (y * d ** 2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2), reduction)


def _torch_info_nce(q, k, temperature, symmetric):
    logits = TF.normalize(q, dim=1) @ TF.normalize(k, dim=1).T / temperature
    target = torch.arange(len(q))
    loss = TF.cross_entropy(logits, target, reduction="none")
    if symmetric:
        loss = (loss + TF.cross_entropy(logits.T, target, reduction="none")) / 2
    return loss.mean()


def _torch_nt_xent(z1, z2, temperature):
    z = TF.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    logits = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), -math.inf)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return TF.cross_entropy(logits, target, reduction="sum")


def _positive(rng, shape):
    return rng.uniform(0.3, 0.8, shape)


DISTANCE = [
    Case("normalize", lambda x: F.normalize(x, dim=1), lambda x: TF.normalize(x, dim=1), [(3, 4)]),
    Case("normalize_p3_dim0", lambda x: F.normalize(x, p=3, dim=0), lambda x: TF.normalize(x, p=3, dim=0), [(3, 4)]),
    Case("cosine_similarity_broadcast", lambda a, b: F.cosine_similarity(a, b, dim=1),
         lambda a, b: TF.cosine_similarity(a, b, dim=1), [(3, 4), (1, 4)]),
    Case("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b),
         [(3, 4), (3, 4)]),
    Case("pairwise_distance_p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
         lambda a, b: TF.pairwise_distance(a, b, p=1.0, keepdim=True), [(3, 4), (4,)]),
    Case("contrastive", lambda a, b: F.contrastive_loss(a, b, gn.tensor(_y(4)), margin=3.0),
         lambda a, b: _torch_contrastive(a, b, margin=3.0), [(4, 3), (4, 3)]),
    Case("contrastive_p3_none", lambda a, b: F.contrastive_loss(a, b, gn.tensor(_y(4)), 3.0, p=3.0, reduction="none"),
         lambda a, b: _torch_contrastive(a, b, 3.0, p=3.0, reduction="none"), [(4, 3), (4, 3)]),
    Case("triplet", lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0),
         lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0), [(4, 3), (4, 3), (4, 3)]),
    Case("triplet_swap_sum", lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=True, reduction="sum"),
         lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0, swap=True, reduction="sum"),
         [(4, 3), (4, 3), (4, 3)]),
    Case("info_nce_symmetric_learned_temperature", lambda q, k, t: F.info_nce_loss(q, k, t, symmetric=True),
         lambda q, k, t: _torch_info_nce(q, k, t, True), [(3, 4), (3, 4), ()], lambda rng, s: (
             _positive(rng, s) if s == () else rng.standard_normal(s))),
    Case("nt_xent_sum", lambda a, b: F.nt_xent_loss(a, b, 0.5, reduction="sum"), lambda a, b: _torch_nt_xent(a, b, 0.5),
         [(3, 4), (3, 4)]),
]


# ---- efficient attention ---------------------------------------------------------------------------
MASK = np.zeros((2, 5), bool)
MASK[0, 3:] = True
FEATURES = F.orthogonal_random_features(6, 3, gn.Generator(0), dtype=np.float64).array


def _torch_performer(q, k, v, causal=False, mask=None):
    return torch_performer(q, k, v, torch.from_numpy(FEATURES), causal, mask)


def _performer(causal=False, mask=None, chunk=2):
    return lambda q, k, v: F.performer_attention(q, k, v, gn.tensor(FEATURES), causal=causal, key_padding_mask=mask,
                                                 chunk_size=chunk)


ATTENTION = [
    Case("linformer", lambda q, k, v, e, f: F.linformer_attention(q, k, v, e, f),
         torch_linformer, [(2, 4, 3), (2, 5, 3), (2, 5, 2), (3, 5), (3, 5)]),
    Case("linformer_padding", lambda q, k, v, e, f: F.linformer_attention(q, k, v, e, f, key_padding_mask=MASK),
         lambda *t: torch_linformer(*t, mask=MASK), [(2, 4, 3), (2, 5, 3), (2, 5, 2), (3, 5), (3, 5)]),
    Case("performer", _performer(), _torch_performer, [(2, 4, 3), (2, 5, 3), (2, 5, 2)]),
    Case("performer_causal_padding", _performer(causal=True, mask=MASK),
         lambda *t: _torch_performer(*t, causal=True, mask=MASK), [(2, 4, 3), (2, 5, 3), (2, 5, 2)]),
]


# ---- sparse ----------------------------------------------------------------------------------------
ROWS, COLS = np.array([0, 2, 2, 1, 0, 2]), np.array([1, 0, 3, 3, 1, 2])  # (0, 1) twice: duplicates add
PATTERN = Pattern(ROWS, COLS, (3, 4))


def _torch_dense(values):
    """The matrix of the entries, duplicates added (torch's sparse tensors have no forward mode)."""
    rows, cols = torch.from_numpy(ROWS), torch.from_numpy(COLS)
    return torch.zeros(3, 4, dtype=values.dtype).index_put((rows, cols), values, accumulate=True)


def _torch_segment_softmax(s):
    """Each row's entries softmaxed together: a dense masked softmax read back at the entries."""
    seg = torch.from_numpy(ROWS)
    same = seg[:, None] == seg[None, :]  # (nnz, nnz): entries of one row
    scores = s[None, :, :].expand(len(seg), -1, -1).masked_fill(~same[:, :, None], -math.inf)  # (nnz, nnz, H)
    return torch.softmax(scores, 1)[torch.arange(len(seg)), torch.arange(len(seg))]


def _torch_gather_product(values, dense):  # (nnz, H) values, (m, H, f): multi-head Y[i] = sum a_k X[c_k]
    msgs = values[..., None] * dense[torch.from_numpy(COLS)]
    return torch.zeros(3, *dense.shape[1:], dtype=dense.dtype).index_add(0, torch.from_numpy(ROWS), msgs)


SPARSE = [
    Case("sparse_mm", lambda a, x: gn.sparse.mm(gn.sparse_coo_tensor(np.stack([ROWS, COLS]), a, (3, 4)), x),
         lambda a, x: _torch_dense(a) @ x, [(6,), (4, 2)]),
    Case("sparse_dense_matmul_heads", lambda a, x: sparse_dense_matmul(PATTERN, a, x), _torch_gather_product,
         [(6, 2), (4, 2, 3)]),
    Case("to_dense", lambda a: gn.sparse_coo_tensor(np.stack([ROWS, COLS]), a, (3, 4)).to_dense(),
         _torch_dense, [(6,)]),
    Case("segment_softmax", lambda s: segment_softmax(s, PATTERN), _torch_segment_softmax, [(6, 2)]),
]


# ---- CTC -------------------------------------------------------------------------------------------
TARGETS, IN_LEN, TGT_LEN = np.array([[1, 1, 2], [2, 3, 0]]), np.array([6, 5]), np.array([3, 2])


def _torch_ctc(log_probs, reduction):
    """The alpha recursion in torch ops (torch's ctc_loss has neither forward mode nor a double backward);
    impossible states hold -1e30, as glassnet's create_graph path."""
    steps, n, _ = log_probs.shape
    neg = -1e30
    losses = []
    for i in range(n):
        ext = [0]
        for label in TARGETS[i, :TGT_LEN[i]]:
            ext += [int(label), 0]
        lp = log_probs[:IN_LEN[i], i, ext]  # (T_n, S)
        s = len(ext)
        skip = torch.tensor([j >= 2 and ext[j] != 0 and ext[j] != ext[j - 2] for j in range(s)])
        floor = torch.full((1,), neg, dtype=lp.dtype)
        alpha = torch.where(torch.arange(s) < 2, lp[0], torch.full_like(lp[0], neg))
        for t in range(1, len(lp)):
            step = torch.cat([floor, alpha[:-1]])
            jump = torch.where(skip, torch.cat([floor, floor, alpha[:-2]]), torch.full_like(alpha, neg))
            alpha = lp[t] + torch.logsumexp(torch.stack([alpha, step, jump]), 0)
        losses.append(-torch.logsumexp(alpha[-2:], 0))
    loss = torch.stack(losses)
    if reduction == "mean":
        return (loss / torch.from_numpy(TGT_LEN).clamp(min=1)).mean()
    return _reduce(loss, reduction)


def _ctc(reduction):
    def ours(x):
        return F.ctc_loss(F.log_softmax(x, 2), gn.tensor(TARGETS), IN_LEN, TGT_LEN, reduction=reduction)

    return ours


CTC = [
    Case("ctc_mean", _ctc("mean"), lambda x: _torch_ctc(TF.log_softmax(x, 2), "mean"), [(6, 2, 4)]),
    Case("ctc_none_leaf_log_probs", lambda x: F.ctc_loss(x, gn.tensor(TARGETS), IN_LEN, TGT_LEN, reduction="none"),
         lambda x: _torch_ctc(x, "none"), [(6, 2, 4)], lambda rng, s: -rng.uniform(0.5, 2.0, s)),
]


# ---- the VAE's reparameterisation and checkpointing -------------------------------------------------
def _block(lib, x, w):
    h = (x @ w).tanh()
    return h * (h @ w.mT).sigmoid().sum(-1, keepdim=True)


OTHER = [
    Case("reparameterize", lambda mu, lv, eps: reparameterize(mu, lv, eps),
         lambda mu, lv, eps: mu + torch.exp(0.5 * lv) * eps, [(3, 2), (3, 2), (3, 2)]),
    Case("checkpoint", lambda x, w: checkpoint(lambda a, b: _block(gn, a, b), x, w),
         lambda x, w: _block(torch, x, w), [(3, 4), (4, 2)]),
]

CASES = DISTANCE + ATTENTION + SPARSE + CTC + OTHER


# ---- the checks ------------------------------------------------------------------------------------
def _arrays(case, seed):
    rng = np.random.default_rng(seed)
    make = case.make or (lambda r, s: r.standard_normal(s))
    return [np.asarray(make(rng, s), np.float64) for s in case.shapes]


def _value(out):
    return out.array if isinstance(out, gn.Tensor) else out.detach().numpy()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_jvp_matches_torch_func_and_finite_differences(case):
    xs, vs = _arrays(case, 0), _arrays(case, 1)
    vs = [v if s != () else 0.2 * v for v, s in zip(vs, case.shapes)]  # keep a temperature positive
    out, tangent = jvp(case.ours, tuple(gn.tensor(x) for x in xs), tuple(gn.tensor(v) for v in vs))
    ref_out, ref_tangent = torch.func.jvp(case.theirs, tuple(torch.tensor(x) for x in xs),
                                          tuple(torch.tensor(v) for v in vs))
    np.testing.assert_allclose(out.array, _value(ref_out), rtol=1e-9, atol=1e-11, err_msg=f"{case.name}: value")
    np.testing.assert_allclose(tangent.array, _value(ref_tangent), rtol=1e-7, atol=1e-9,
                               err_msg=f"{case.name}: jvp against torch.func.jvp")
    h = 1e-6
    plus = case.ours(*(gn.tensor(x + h * v) for x, v in zip(xs, vs))).array
    minus = case.ours(*(gn.tensor(x - h * v) for x, v in zip(xs, vs))).array
    np.testing.assert_allclose(tangent.array, (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7,
                               err_msg=f"{case.name}: jvp against central differences")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_second_derivatives_match_torch(case):
    xs = _arrays(case, 0)
    g, hv = hessian_vector(gn, lambda *t: case.ours(*t), [gn.tensor(x, requires_grad=True) for x in xs])
    g_ref, hv_ref = hessian_vector(torch, lambda *t: case.theirs(*t), [torch.tensor(x, requires_grad=True)
                                                                       for x in xs])
    for i, (a, b, c, d) in enumerate(zip(g, g_ref, hv, hv_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{case.name}: gradient of input {i}")
        np.testing.assert_allclose(c, np.zeros_like(c) if d is None else d, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{case.name}: Hessian-vector product, input {i}")
    # the ordinary (NumPy) backward gives the same first-order gradient as the recorded one
    leaves = [gn.tensor(x, requires_grad=True) for x in xs]
    rng = np.random.default_rng(1)
    out = case.ours(*leaves)
    (out.sin() * gn.tensor(rng.standard_normal(tuple(out.shape)))).sum().backward()
    for i, (leaf, a) in enumerate(zip(leaves, g)):
        np.testing.assert_allclose(leaf.grad.array, a, rtol=1e-9, atol=1e-12, err_msg=f"{case.name}: fast path {i}")


def test_torch_ctc_reference_is_torch_ctc_loss():
    """The torch-op recursion the CTC cases compare with is torch's own ctc_loss."""
    x = torch.tensor(_arrays(CTC[0], 0)[0])
    ours = _torch_ctc(TF.log_softmax(x, 2), "none")
    theirs = TF.ctc_loss(TF.log_softmax(x, 2), torch.from_numpy(TARGETS), torch.from_numpy(IN_LEN),
                         torch.from_numpy(TGT_LEN), reduction="none")
    torch.testing.assert_close(ours, theirs)


def test_third_derivative_through_recompute():
    """A Recompute node's backward is again one: a third derivative of normalize matches torch."""
    x = np.random.default_rng(0).standard_normal((2, 3))

    def third(lib, fn):
        t = lib.tensor(x, requires_grad=True)
        y = fn(t).pow(3).sum()
        (g,) = lib.autograd.grad(y, t, create_graph=True)
        (h,) = lib.autograd.grad(g.sin().sum(), t, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), t)
        return _value(k)

    np.testing.assert_allclose(third(gn, lambda t: F.normalize(t, dim=1)), third(torch, lambda t: TF.normalize(t, dim=1)),
                               rtol=1e-7, atol=1e-9)
