"""Distances, similarities and the contrastive losses (glassnet/ops/distance.py): float64 gradcheck of each
written-out backward, float32 parity with PyTorch (its own function where it has one, the same formula in
PyTorch where it does not), the modules, and the errors for bad inputs."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from parity import Case, Const, both, run_case


def _labels(shape, values=(0, 1)):
    return Const(lambda rng: rng.choice(values, size=shape))


def _torch_contrastive(x1, x2, y, margin=1.0, p=2.0, eps=1e-6, reduction="mean"):
    d = TF.pairwise_distance(x1, x2, p, eps)
    y = y.to(x1.dtype)
    loss = 0.5 * (y * d ** 2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2)
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def _torch_info_nce(q, k, temperature, symmetric=False, reduction="mean"):
    logits = TF.normalize(q, dim=1) @ TF.normalize(k, dim=1).T / temperature
    target = torch.arange(len(q))
    loss = TF.cross_entropy(logits, target, reduction="none")
    if symmetric:
        loss = (loss + TF.cross_entropy(logits.T, target, reduction="none")) / 2
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def _torch_nt_xent(z1, z2, temperature, reduction="mean"):
    z = TF.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    logits = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), -math.inf)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    loss = TF.cross_entropy(logits, target, reduction="none")
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def _cases():
    cases = []
    for shape, p, dim in [((4, 5), 2.0, 1), ((3, 4, 2), 1.0, 0), ((6,), 3.0, 0), ((2, 5), math.inf, -1),
                          ((3, 4), 0.5, 1)]:
        cases.append(both(f"normalize_{shape}_p{p}_d{dim}", lambda lib, x, p=p, dim=dim:
                          lib.nn.functional.normalize(x, p=p, dim=dim), [shape], domain="nonzero"))
    for s1, s2, dim in [((5, 4), (5, 4), 1), ((3, 4, 2), (4, 2), -2), ((6,), (6,), 0), ((2, 1, 3), (4, 3), 2)]:
        cases.append(both(f"cosine_similarity_{s1}_{s2}_d{dim}", lambda lib, a, b, dim=dim:
                          lib.nn.functional.cosine_similarity(a, b, dim=dim), [s1, s2]))
    for (s1, s2), p, keep in itertools.product([((5, 4), (5, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((4,), (4,))],
                                               [2.0, 1.0, 3.0, math.inf], [False, True]):
        cases.append(both(f"pairwise_distance_{s1}_{s2}_p{p}_k{int(keep)}", lambda lib, a, b, p=p, keep=keep:
                          lib.nn.functional.pairwise_distance(a, b, p=p, keepdim=keep), [s1, s2]))
    for shape, p, swap, red in itertools.product([(6, 4), (5,), (2, 3, 4)], [2.0, 1.0], [False, True],
                                                 ["mean", "sum", "none"]):
        cases.append(both(f"triplet_{shape}_p{p}_swap{int(swap)}_{red}", lambda lib, a, b, c, p=p, swap=swap, red=red:
                          lib.nn.functional.triplet_margin_loss(a, b, c, margin=1.5, p=p, swap=swap, reduction=red),
                          [shape, shape, shape]))
    cases.append(both("triplet_broadcast_negative", lambda lib, a, b, c:
                      lib.nn.functional.triplet_margin_loss(a, b, c, swap=True), [(5, 3), (5, 3), (1, 3)]))
    for shape, p, red in itertools.product([(7, 3), (4,)], [2.0, 1.0], ["mean", "sum", "none"]):
        cases.append(Case(f"contrastive_{shape}_p{p}_{red}",
                          lambda a, b, y, p=p, red=red: F.contrastive_loss(a, b, y, margin=2.0, p=p, reduction=red),
                          [shape, shape, _labels(shape[:-1])],
                          torch_fn=lambda a, b, y, p=p, red=red: _torch_contrastive(a, b, y, 2.0, p, reduction=red)))
    for sym, red in itertools.product([False, True], ["mean", "sum", "none"]):
        cases.append(Case(f"info_nce_sym{int(sym)}_{red}",
                          lambda q, k, sym=sym, red=red: F.info_nce_loss(q, k, 0.3, symmetric=sym, reduction=red),
                          [(6, 4), (6, 4)],
                          torch_fn=lambda q, k, sym=sym, red=red: _torch_info_nce(q, k, 0.3, sym, red)))
    # a learned temperature: exp(t) of a differentiable t (as CLIP's logit scale)
    cases.append(Case("info_nce_learned_temperature",
                      lambda q, k, t: F.info_nce_loss(q, k, t.exp(), symmetric=True), [(5, 3), (5, 3), ()],
                      torch_fn=lambda q, k, t: _torch_info_nce(q, k, t.exp(), True)))
    for red in ("mean", "sum", "none"):
        cases.append(Case(f"nt_xent_{red}", lambda a, b, red=red: F.nt_xent_loss(a, b, 0.5, reduction=red),
                          [(5, 4), (5, 4)], torch_fn=lambda a, b, red=red: _torch_nt_xent(a, b, 0.5, red)))
    cases.append(Case("nt_xent_learned_temperature", lambda a, b, t: F.nt_xent_loss(a, b, t.exp()),
                      [(4, 3), (4, 3), ()], torch_fn=lambda a, b, t: _torch_nt_xent(a, b, t.exp())))
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity_and_gradcheck(case):
    run_case(case)


def _leaf(array, dtype=np.float64):
    return gn.tensor(np.asarray(array, dtype), requires_grad=True)


def test_kinks_follow_pytorch():
    """Zero vectors and norms below eps: the gradients PyTorch gives there."""
    cases = [(lambda lib, x: lib.nn.functional.normalize(x), [[0.0, 0, 0], [1e-9, 0, 0]]),
             (lambda lib, x: lib.nn.functional.cosine_similarity(x, x.detach() * 0 + 1), [[0.0, 0, 0], [1e-9, 0, 0]]),
             (lambda lib, x: lib.nn.functional.pairwise_distance(x, x.detach(), eps=0.0), [[0.0, 1, 2]])]
    for fn, value in cases:
        g, t = _leaf(value, np.float32), torch.tensor(value, dtype=torch.float32, requires_grad=True)
        fn(gn, g).sum().backward()
        fn(torch, t).sum().backward()
        np.testing.assert_allclose(g.grad.array, t.grad.numpy(), rtol=1e-5)


def test_the_loss_falls_to_zero_for_separated_embeddings():
    """Sanity of meaning, not just of gradients: perfectly matched pairs far apart from the rest."""
    e = gn.tensor(np.eye(4) * 5)
    assert F.info_nce_loss(e, e, 0.01).item() < 1e-6
    assert F.nt_xent_loss(e, e, 0.01).item() < 1e-6
    same, far = gn.tensor(np.ones((2, 3))), gn.tensor(np.zeros((2, 3)))
    assert F.contrastive_loss(same, same, gn.tensor([1, 1]), eps=0.0).item() == 0
    assert F.contrastive_loss(same, far, gn.tensor([0, 0]), margin=1.0).item() == 0  # sqrt(3) > margin
    assert F.triplet_margin_loss(same, same, far * 10, margin=1.0).item() == 0


def test_modules():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6, 4)).astype(np.float32)
    ga, gb, ta, tb = gn.tensor(a), gn.tensor(b), torch.tensor(a), torch.tensor(b)
    np.testing.assert_allclose(gn.nn.PairwiseDistance(p=1.0, keepdim=True)(ga, gb).array,
                               torch.nn.PairwiseDistance(p=1.0, keepdim=True)(ta, tb).numpy(), rtol=1e-5)
    np.testing.assert_allclose(gn.nn.CosineSimilarity(dim=1)(ga, gb).array,
                               torch.nn.CosineSimilarity(dim=1)(ta, tb).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gn.nn.TripletMarginLoss(margin=0.5, swap=True)(ga, gb, ga * 2).item(),
                               torch.nn.TripletMarginLoss(margin=0.5, swap=True)(ta, tb, ta * 2).item(), rtol=1e-5)
    y = np.array([1, 0, 1, 0, 0, 1])
    assert gn.nn.ContrastiveLoss(margin=2.0)(ga, gb, gn.tensor(y)).item() == pytest.approx(
        _torch_contrastive(ta, tb, torch.tensor(y), 2.0).item(), rel=1e-5)
    assert gn.nn.InfoNCELoss(0.2, symmetric=True)(ga, gb).item() == pytest.approx(
        _torch_info_nce(ta, tb, 0.2, True).item(), rel=1e-5)
    assert gn.nn.NTXentLoss(0.5)(ga, gb).item() == pytest.approx(_torch_nt_xent(ta, tb, 0.5).item(), rel=1e-5)
    assert "temperature=0.5" in repr(gn.nn.NTXentLoss(0.5))


def _x(*shape, dtype=np.float32):
    return gn.tensor(np.ones(shape, dtype))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.normalize(_x(3, 4), p=0), ValueError, "p must be a positive"),
    (lambda: F.normalize(gn.tensor(1.0)), ValueError, "at least one dimension"),
    (lambda: F.normalize(gn.tensor([1, 2])), TypeError, "floating point"),
    (lambda: F.normalize(_x(3, 4), dim=2), IndexError, "out of range"),
    (lambda: F.cosine_similarity(_x(3, 4), _x(3, 5)), ValueError, "cannot be broadcast"),
    (lambda: F.cosine_similarity(_x(3, 4), _x(3, 4, dtype=np.float64)), TypeError, "one dtype"),
    (lambda: F.pairwise_distance(_x(3, 4), _x(3, 4), p=-1), ValueError, "p must be a positive"),
    (lambda: F.pairwise_distance(_x(3, 4), _x(2, 4)), ValueError, "cannot be broadcast"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(3, 4), _x(4)), ValueError, "number of dimensions"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(3, 4), _x(3, 4), margin=0), ValueError, "margin must be greater"),
    (lambda: F.triplet_margin_loss(_x(3, 4), _x(3, 4), _x(3, 4), reduction="avg"), ValueError, "reduction"),
    (lambda: F.contrastive_loss(_x(3, 4), _x(3, 4), gn.tensor([1, 0])), ValueError, "one label per pair"),
    (lambda: F.contrastive_loss(_x(3, 4), _x(3, 4), gn.tensor([1, 0, 2])), ValueError, "1 (similar pair)"),
    (lambda: F.contrastive_loss(_x(3, 4), _x(2, 4), gn.tensor([1, 0, 1])), ValueError, "one shape"),
    (lambda: F.info_nce_loss(_x(3, 4), _x(3, 5)), ValueError, "one shape"),
    (lambda: F.info_nce_loss(_x(3, 4, 2), _x(3, 4, 2)), ValueError, "(N, D)"),
    (lambda: F.info_nce_loss(_x(1, 4), _x(1, 4)), ValueError, "at least 2 pairs"),
    (lambda: F.info_nce_loss(_x(3, 4), _x(3, 4), temperature=0), ValueError, "temperature must be a positive number"),
    (lambda: F.info_nce_loss(_x(3, 4), _x(3, 4), temperature=gn.tensor([0.1, 0.2], dtype=gn.float32)), ValueError,
     "one float32 value"),
    (lambda: F.nt_xent_loss(_x(3, 4), _x(3, 4), temperature=-1.0), ValueError, "temperature"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()
