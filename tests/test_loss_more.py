"""The likelihood, margin and multi-label losses against PyTorch (parity rows, float64 gradcheck), their
modules, forward mode and second derivatives of the fused losses, and bad input."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd.forward_ad import jvp
from parity import Const, both, run_case
from test_reduction import check_second_order

SIGNS = Const(lambda rng: rng.choice([-1.0, 1.0], size=(4, 3)))
HINGE_TARGETS = Const(lambda rng: rng.choice([-1.0, 1.0, 0.0, 2.0], size=(4, 3)))
LABELS = Const(lambda rng: (rng.random((4, 3)) < 0.5).astype(np.float64))
CLASSES = Const(lambda rng: rng.integers(0, 5, size=4))
POSITIVE = Const(lambda rng: rng.uniform(0.5, 2.0, size=(5,)))
# class lists ended by -1 (one row with a repeated class, one empty, one full)
LABEL_LISTS = Const(lambda rng: np.array([[1, 3, -1, 0, 2], [4, 4, 0, -1, -1], [-1, 2, 3, 1, 0],
                                          [0, 1, 2, 3, 4]]))


def _reductions(name, fn, inputs, **kw):
    return [both(f"{name}_{r}", (lambda r: lambda lib, *a: fn(lib, *a, reduction=r))(r), inputs, **kw)
            for r in ("mean", "sum", "none")]


CASES = (
    _reductions("poisson_log", lambda lib, x, t, **k: lib.nn.functional.poisson_nll_loss(x, t, **k),
                [(4, 3), (4, 3)], domain="positive")
    + _reductions("poisson_full", lambda lib, x, t, **k: lib.nn.functional.poisson_nll_loss(
        x, t * 2, log_input=False, full=True, **k), [(4, 3), (4, 3)], domain="positive")
    + _reductions("gaussian_nll", lambda lib, x, t, v, **k: lib.nn.functional.gaussian_nll_loss(x, t, v, **k),
                  [(4, 3), (4, 3), (4, 3)], domain="positive")
    + _reductions("hinge_embedding", lambda lib, x, t, **k: lib.nn.functional.hinge_embedding_loss(
        x, t, margin=0.7, **k), [(4, 3), HINGE_TARGETS])
    + _reductions("soft_margin", lambda lib, x, t, **k: lib.nn.functional.soft_margin_loss(x, t, **k),
                  [(4, 3), SIGNS])
    + _reductions("multilabel_soft_margin", lambda lib, x, t, **k: lib.nn.functional.multilabel_soft_margin_loss(
        x, t, **k), [(4, 3), LABELS])
    + _reductions("multi_margin", lambda lib, x, t, **k: lib.nn.functional.multi_margin_loss(x, t, **k),
                  [(4, 5), CLASSES], domain="distinct")
    + _reductions("multilabel_margin", lambda lib, x, t, **k: lib.nn.functional.multilabel_margin_loss(x, t, **k),
                  [(4, 5), LABEL_LISTS], domain="distinct")
    + _reductions("triplet_distance", lambda lib, a, p, n, **k: lib.nn.functional.triplet_margin_with_distance_loss(
        a, p, n, **k), [(4, 3), (4, 3), (4, 3)])
    + [
        both("gaussian_nll_homoscedastic_full", lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(
            x, t, v, full=True), [(4, 3), (4, 3), (4,)], domain="positive"),
        both("gaussian_nll_shared_dim", lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(x, t, v),
             [(2, 3, 4), (2, 3, 4), (2, 1, 4)], domain="positive"),
        both("gaussian_nll_clamped_var", lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(
            x, t, v * 1e-3, eps=0.01), [(4, 3), (4, 3), (4, 3)], domain="positive", gradcheck=False),
        both("multilabel_soft_margin_weight", lambda lib, x, t, w: lib.nn.functional.multilabel_soft_margin_loss(
            x, t, weight=w), [(4, 3), LABELS, (3,)]),
        both("multi_margin_p2_weight", lambda lib, x, t, w: lib.nn.functional.multi_margin_loss(
            x, t, p=2, margin=0.5, weight=lib.tensor(w)), [(4, 5), CLASSES, POSITIVE], domain="distinct"),
        both("multi_margin_1d", lambda lib, x: lib.nn.functional.multi_margin_loss(x, lib.tensor(2)), [(5,)],
             domain="distinct"),
        both("multilabel_margin_1d", lambda lib, x: lib.nn.functional.multilabel_margin_loss(
            x, lib.tensor([3, 0, -1, 1])), [(4,)], domain="distinct"),
        both("triplet_distance_cosine_swap", lambda lib, a, p, n: lib.nn.functional.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - lib.nn.functional.cosine_similarity(u, v), margin=0.5,
            swap=True), [(4, 3), (4, 3), (4, 3)]),
    ]
)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


MODULES = [
    ("PoissonNLLLoss", {"log_input": False, "full": True}, ["pos", "pos"]),
    ("GaussianNLLLoss", {"full": True}, ["x", "x", "pos"]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, ["x", "sign"]),
    ("SoftMarginLoss", {"reduction": "sum"}, ["x", "sign"]),
    ("MultiLabelSoftMarginLoss", {"weight": "w"}, ["x", "labels"]),
    ("MultiMarginLoss", {"p": 2, "weight": "w"}, ["x", "classes"]),
    ("MultiLabelMarginLoss", {}, ["x", "lists"]),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0, "swap": True}, ["x", "x", "x"]),
]


@pytest.mark.parametrize("name, kw, specs", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, kw, specs):
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    values = {"x": lambda: rng.standard_normal((3, 4)), "pos": lambda: rng.uniform(0.5, 2, (3, 4)),
              "sign": lambda: rng.choice([-1.0, 1.0], (3, 4)), "labels": lambda: (rng.random((3, 4)) < 0.5) * 1.0,
              "classes": lambda: rng.integers(0, 4, 3), "lists": lambda: np.array([[1, -1, 0, 0], [3, 2, -1, 1],
                                                                                    [0, 1, 2, 3]])}
    arrays = [values[s]() for s in specs]
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]
    ours = getattr(gn.nn, name)(**{k: gn.tensor(w) if v == "w" else v for k, v in kw.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(w) if v == "w" else v for k, v in kw.items()})
    if name != "TripletMarginWithDistanceLoss":  # its PairwiseDistance child shows its options, torch's does not
        assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    diff = [a.dtype.kind == "f" and s not in ("sign", "labels") for a, s in zip(arrays, specs)]
    g = [gn.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    t = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    g_out, t_out = ours(*g), theirs(*t)
    np.testing.assert_allclose(g_out.array, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    g_out.backward()
    t_out.backward()
    for a, b in zip(g, t):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.array, b.grad.numpy(), rtol=1e-4, atol=1e-6)


# ---- forward mode and second derivatives of the fused losses --------------------------------------
IDX = np.array([1, 0, 3])
IGNORED = np.array([1, -100, 3])


def _weights(lib):
    return lib.tensor([1.0, 2, 3, 4], dtype=lib.float64)


def _ce(lib, **kw):
    return lambda x: lib.nn.functional.cross_entropy(x, lib.tensor(IDX), **kw)


JVP = {
    "cross_entropy": lambda lib: _ce(lib),
    "cross_entropy_smooth_weight": lambda lib: _ce(lib, label_smoothing=0.2, weight=_weights(lib)),
    "cross_entropy_none": lambda lib: _ce(lib, reduction="none"),
    "cross_entropy_ignore_sum": lambda lib: lambda x: lib.nn.functional.cross_entropy(
        x, lib.tensor(IGNORED), reduction="sum", label_smoothing=0.1),
    "cross_entropy_probs": lambda lib: lambda x: lib.nn.functional.cross_entropy(
        x, lib.softmax(x * 2, 1), label_smoothing=0.1, weight=lib.tensor([1.0, 2, 3, 4], dtype=lib.float64)),
    "nll_loss": lambda lib: lambda x: lib.nn.functional.nll_loss(x, lib.tensor(IGNORED), weight=lib.tensor(
        [1.0, 2, 3, 4], dtype=lib.float64)),
    "nll_loss_none": lambda lib: lambda x: lib.nn.functional.nll_loss(x, lib.tensor(IDX), reduction="none"),
    "bce": lambda lib: lambda x: lib.nn.functional.binary_cross_entropy(lib.sigmoid(x), lib.sigmoid(x * x),
                                                                         weight=_weights(lib)),
    "poisson": lambda lib: lambda x: lib.nn.functional.poisson_nll_loss(x, x * x, full=True),
    "multi_margin": lambda lib: lambda x: lib.nn.functional.multi_margin_loss(x, lib.tensor(IDX), p=2),
    "multilabel_margin": lambda lib: lambda x: lib.nn.functional.multilabel_margin_loss(
        x, lib.tensor([[1, 2, -1, 0], [0, -1, 1, 1], [3, 2, 1, -1]])),
    # the composed losses: their jvp comes from their operations'
    "mse": lambda lib: lambda x: lib.nn.functional.mse_loss(x, x.flip(0)),
    "l1": lambda lib: lambda x: lib.nn.functional.l1_loss(x, x * 0.5 + 1),
    "smooth_l1": lambda lib: lambda x: lib.nn.functional.smooth_l1_loss(x, x.flip(1), beta=0.5, reduction="none"),
    "huber": lambda lib: lambda x: lib.nn.functional.huber_loss(x * 2, x.flip(0), delta=0.7),
    "kl_div": lambda lib: lambda x: lib.nn.functional.kl_div(lib.log_softmax(x, 1), lib.softmax(x * 2, 1),
                                                             reduction="batchmean"),
    "bce_with_logits": lambda lib: lambda x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.sigmoid(x.flip(0)), pos_weight=lib.tensor([1.0, 2, 3, 4], dtype=lib.float64)),
    "hinge_embedding": lambda lib: lambda x: lib.nn.functional.hinge_embedding_loss(
        x, lib.tensor([[1.0, -1, 1, -1]] * 3, dtype=lib.float64)),
    "soft_margin": lambda lib: lambda x: lib.nn.functional.soft_margin_loss(
        x, lib.tensor([[1.0, -1, 1, -1]] * 3, dtype=lib.float64)),
    "gaussian_nll": lambda lib: lambda x: lib.nn.functional.gaussian_nll_loss(x, x.flip(0), x * x + 0.5),
    "margin_ranking": lambda lib: lambda x: lib.nn.functional.margin_ranking_loss(
        x[0], x[1], lib.tensor([1.0, -1, 1, -1], dtype=lib.float64), margin=0.2),
    "cosine_embedding": lambda lib: lambda x: lib.nn.functional.cosine_embedding_loss(
        x, x.flip(1), lib.tensor([1, -1, 1])),
}


NO_TORCH_FORWARD_AD = ("multi_margin", "multilabel_margin")  # torch has neither their jvp nor double backward


@pytest.mark.parametrize("name", list(JVP))
def test_jvp_matches_torch_func(name):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, ours = jvp(JVP[name](gn), (gn.tensor(x),), (gn.tensor(v),))
    t = torch.tensor(x, requires_grad=True)
    if name in NO_TORCH_FORWARD_AD:  # a scalar loss: J v = grad . v
        theirs = (torch.autograd.grad(JVP[name](torch)(t), t)[0] * torch.tensor(v)).sum().detach()
    else:
        _, theirs = torch.func.jvp(JVP[name](torch), (t.detach(),), (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["poisson", "cross_entropy_probs", "bce"])
def test_second_order_matches_torch(name):
    check_second_order(JVP[name](gn), [(3, 4)], torch_fn=JVP[name](torch))


@pytest.mark.parametrize("name", NO_TORCH_FORWARD_AD)
def test_second_order_against_differences(name):
    """H v through create_graph against central differences of the gradient (torch has no double backward)."""
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    f = JVP[name](gn)

    def grad(a, create_graph=False):
        t = gn.tensor(a, requires_grad=True)
        return t, gn.autograd.grad(f(t), t, create_graph=create_graph)[0]

    t, g = grad(x, create_graph=True)
    hv = None  # piecewise linear (multilabel): the gradient is constant, nothing to differentiate
    if g.requires_grad:
        (hv,) = gn.autograd.grad((g * gn.tensor(v)).sum(), t, allow_unused=True)
    h = 1e-6
    expected = (grad(x + h * v)[1].array - grad(x - h * v)[1].array) / (2 * h)
    np.testing.assert_allclose(np.zeros_like(x) if hv is None else hv.array, expected, atol=1e-6)


def test_gaussian_nll_second_order_in_var():
    def f(lib):
        return lambda x, v: lib.nn.functional.gaussian_nll_loss(x, x * 0.5, v * v + 0.1, reduction="sum")

    check_second_order(f(gn), [(3, 4), (3, 4)], torch_fn=f(torch))


# ---- bad input ----------------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = gn.randn(3, 4)
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(x, gn.tensor([0, 1, 2]), p=3)
    with pytest.raises(IndexError, match="multi_margin_loss: target index 4 is out of range for 4 classes"):
        F.multi_margin_loss(x, gn.tensor([0, 1, 4]))
    with pytest.raises(TypeError, match="multi_margin_loss: target must hold integer class indices"):
        F.multi_margin_loss(x, gn.ones(3))
    with pytest.raises(IndexError, match="multilabel_margin_loss: target index 7 is out of range"):
        F.multilabel_margin_loss(x, gn.tensor([[7, -1, 0, 0]] * 3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, -gn.ones(3, 4))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(3, 2\) is of incorrect size"):
        F.gaussian_nll_loss(x, x, gn.ones(3, 2))
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match=r"soft_margin_loss: input shape \(3, 4\) and target shape \(3,\) differ"):
        F.soft_margin_loss(x, gn.ones(3))
    with pytest.raises(ValueError, match="poisson_nll_loss: reduction='avg' is not valid"):
        F.poisson_nll_loss(x, x, reduction="avg")
