import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from parity import Case, Const, run_case


def _idx(shape, n_classes, ignore=None):
    """Const of class indices; with `ignore`, about a quarter of them set to that value."""

    def make(rng):
        t = rng.integers(0, n_classes, size=shape)
        if ignore is not None:
            t = np.where(rng.random(shape) < 0.25, ignore, t)
            t.flat[0] = 0 if ignore != 0 else 1  # at least one target counts
        return t

    return Const(make)


def _probs(shape, axis=1):
    def make(rng):
        z = rng.standard_normal(shape)
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    return Const(make)


def _pos(shape):
    return Const(lambda rng: rng.uniform(0.2, 2.0, size=shape))


def _ce_cases():
    cases = []
    layouts = [((6, 5), (6,)), ((3, 4, 2, 3), (3, 2, 3)), ((5,), ())]
    for (xs, ts), red, weighted, ignore, ls in itertools.product(
            layouts, ["mean", "sum", "none"], [False, True], [None, 2], [0.0, 0.2]):
        c = xs[0] if len(xs) == 1 else xs[1]
        if len(xs) == 1 and ignore is not None:
            continue
        name = f"ce_{'x'.join(map(str, xs))}_{red}_w{int(weighted)}_ig{ignore}_ls{ls}"
        kw = dict(reduction=red, label_smoothing=ls)
        if ignore is not None:
            kw["ignore_index"] = ignore
        inputs = [xs, _idx(ts, c, ignore)]
        if weighted:
            inputs.append(_pos((c,)))
            fn = (lambda kw: lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw))(kw)
            tfn = (lambda kw: lambda x, t, w: TF.cross_entropy(x, t, weight=w, **kw))(kw)
        else:
            fn = (lambda kw: lambda x, t: F.cross_entropy(x, t, **kw))(kw)
            tfn = (lambda kw: lambda x, t: TF.cross_entropy(x, t, **kw))(kw)
        cases.append(Case(name, fn, inputs, torch_fn=tfn))
    # class-probability targets: constant, or differentiable (then also the target's gradient)
    for xs, red, weighted, ls, diff_target in itertools.product(
            [(6, 5), (2, 3, 4), (4,)], ["mean", "sum", "none"], [False, True], [0.0, 0.3], [False, True]):
        c = xs[0] if len(xs) == 1 else xs[1]
        axis = 0 if len(xs) == 1 else 1
        name = f"ce_probs_{'x'.join(map(str, xs))}_{red}_w{int(weighted)}_ls{ls}_dt{int(diff_target)}"
        kw = dict(reduction=red, label_smoothing=ls)
        inputs = [xs, xs if diff_target else _probs(xs, axis)]
        if weighted:
            inputs.append(_pos((c,)))
            fn = (lambda kw: lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw))(kw)
            tfn = (lambda kw: lambda x, t, w: TF.cross_entropy(x, t, weight=w, **kw))(kw)
        else:
            fn = (lambda kw: lambda x, t: F.cross_entropy(x, t, **kw))(kw)
            tfn = (lambda kw: lambda x, t: TF.cross_entropy(x, t, **kw))(kw)
        cases.append(Case(name, fn, inputs, torch_fn=tfn))
    return cases


def _nll_cases():
    cases = []
    for (xs, ts), red, weighted, ignore in itertools.product(
            [((6, 5), (6,)), ((2, 4, 3), (2, 3)), ((5,), ())], ["mean", "sum", "none"], [False, True], [None, 1]):
        c = xs[0] if len(xs) == 1 else xs[1]
        if len(xs) == 1 and ignore is not None:
            continue
        kw = dict(reduction=red)
        if ignore is not None:
            kw["ignore_index"] = ignore
        inputs = [xs, _idx(ts, c, ignore)]
        if weighted:
            inputs.append(_pos((c,)))
            fn = (lambda kw: lambda x, t, w: F.nll_loss(x, t, weight=w, **kw))(kw)
            tfn = (lambda kw: lambda x, t, w: TF.nll_loss(x, t, weight=w, **kw))(kw)
        else:
            fn = (lambda kw: lambda x, t: F.nll_loss(x, t, **kw))(kw)
            tfn = (lambda kw: lambda x, t: TF.nll_loss(x, t, **kw))(kw)
        cases.append(Case(f"nll_{'x'.join(map(str, xs))}_{red}_w{int(weighted)}_ig{ignore}", fn, inputs,
                          torch_fn=tfn))
    return cases


def _sigmoid_probs(shape):
    return Const(lambda rng: 1 / (1 + np.exp(-rng.standard_normal(shape))))


def _simple_cases():
    cases = []
    for red in ["mean", "sum", "none"]:
        cases += [
            Case(f"mse_{red}", lambda a, b, r=red: F.mse_loss(a, b, reduction=r), [(3, 4), (3, 4)],
                 torch_fn=lambda a, b, r=red: TF.mse_loss(a, b, reduction=r)),
            Case(f"mse_weight_{red}", lambda a, b, w, r=red: F.mse_loss(a, b, reduction=r, weight=w),
                 [(3, 4), (3, 4), _pos((3, 4))],
                 torch_fn=lambda a, b, w, r=red: TF.mse_loss(a, b, reduction=r, weight=w)),
            Case(f"l1_{red}", lambda a, b, r=red: F.l1_loss(a, b, reduction=r), [(2, 3, 4), (2, 3, 4)],
                 torch_fn=lambda a, b, r=red: TF.l1_loss(a, b, reduction=r)),
            Case(f"l1_weight_{red}", lambda a, b, w, r=red: F.l1_loss(a, b, reduction=r, weight=w),
                 [(5,), (5,), _pos((5,))], torch_fn=lambda a, b, w, r=red: TF.l1_loss(a, b, reduction=r, weight=w)),
            Case(f"smooth_l1_{red}", lambda a, b, r=red: F.smooth_l1_loss(a, b, reduction=r, beta=0.7),
                 [(4, 5), (4, 5)], torch_fn=lambda a, b, r=red: TF.smooth_l1_loss(a, b, reduction=r, beta=0.7)),
            Case(f"smooth_l1_beta0_{red}", lambda a, b, r=red: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
                 [(4, 5), (4, 5)], torch_fn=lambda a, b, r=red: TF.smooth_l1_loss(a, b, reduction=r, beta=0.0)),
            Case(f"huber_{red}", lambda a, b, r=red: F.huber_loss(a, b, reduction=r, delta=0.8),
                 [(4, 5), (4, 5)], torch_fn=lambda a, b, r=red: TF.huber_loss(a, b, reduction=r, delta=0.8)),
            Case(f"huber_weight_{red}", lambda a, b, w, r=red: F.huber_loss(a, b, r, 1.3, w),
                 [(4, 5), (4, 5), _pos((4, 5))], torch_fn=lambda a, b, w, r=red: TF.huber_loss(a, b, r, 1.3, w)),
            # input z * 0.45 + 0.5 lies in (0.09, 0.91) for the "unit" domain
            Case(f"bce_{red}", lambda x, y, r=red: F.binary_cross_entropy(x * 0.45 + 0.5, y, reduction=r),
                 [(3, 4), _sigmoid_probs((3, 4))], domain="unit",
                 torch_fn=lambda x, y, r=red: TF.binary_cross_entropy(x * 0.45 + 0.5, y, reduction=r)),
            Case(f"bce_weight_{red}",
                 lambda x, y, w, r=red: F.binary_cross_entropy(x * 0.45 + 0.5, y, weight=w, reduction=r),
                 [(3, 4), _sigmoid_probs((3, 4)), _pos((4,))], domain="unit",
                 torch_fn=lambda x, y, w, r=red: TF.binary_cross_entropy(x * 0.45 + 0.5, y, weight=w, reduction=r)),
            Case(f"bce_logits_{red}", lambda x, y, r=red: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                 [(3, 4), (3, 4)],
                 torch_fn=lambda x, y, r=red: TF.binary_cross_entropy_with_logits(x, y, reduction=r)),
            Case(f"bce_logits_weights_{red}",
                 lambda x, y, w, pw, r=red: F.binary_cross_entropy_with_logits(x, y, w, reduction=r, pos_weight=pw),
                 [(2, 3, 4), (2, 3, 4), _pos((3, 1)), _pos((4,))],
                 torch_fn=lambda x, y, w, pw, r=red: TF.binary_cross_entropy_with_logits(
                     x, y, w, reduction=r, pos_weight=pw)),
            Case(f"margin_ranking_{red}",
                 lambda a, b, t, r=red: F.margin_ranking_loss(a, b, t, margin=0.3, reduction=r),
                 [(6,), (6,), Const(lambda rng: rng.choice([-1.0, 1.0], size=6))],
                 torch_fn=lambda a, b, t, r=red: TF.margin_ranking_loss(a, b, t, margin=0.3, reduction=r)),
            Case(f"cosine_embedding_{red}",
                 lambda a, b, t, r=red: F.cosine_embedding_loss(a, b, t, margin=0.1, reduction=r),
                 [(5, 4), (5, 4), Const(lambda rng: np.array([1, -1, 1, -1, -1]))],
                 torch_fn=lambda a, b, t, r=red: TF.cosine_embedding_loss(a, b, t, margin=0.1, reduction=r)),
            Case(f"triplet_{red}", lambda a, p, n, r=red: F.triplet_margin_loss(a, p, n, margin=2.0, reduction=r),
                 [(5, 4), (5, 4), (5, 4)],
                 torch_fn=lambda a, p, n, r=red: TF.triplet_margin_loss(a, p, n, margin=2.0, reduction=r)),
        ]
    for red in ["mean", "sum", "none", "batchmean"]:
        cases += [
            Case(f"kl_div_{red}", lambda x, t, r=red: F.kl_div(x, t, reduction=r), [(3, 5), _probs((3, 5))],
                 torch_fn=lambda x, t, r=red: TF.kl_div(x, t, reduction=r)),
            Case(f"kl_div_difftarget_{red}", lambda x, t, r=red: F.kl_div(x, t, reduction=r), [(3, 5), (3, 5)],
                 torch_fn=lambda x, t, r=red: TF.kl_div(x, t, reduction=r), domain="positive"),
            Case(f"kl_div_logtarget_{red}", lambda x, t, r=red: F.kl_div(x, t, reduction=r, log_target=True),
                 [(3, 5), (3, 5)], torch_fn=lambda x, t, r=red: TF.kl_div(x, t, reduction=r, log_target=True)),
        ]
    cases += [
        Case("kl_div_zero_target", lambda x, t: F.kl_div(x, t, reduction="sum"),
             [(3, 4), Const(lambda rng: np.where(rng.random((3, 4)) < 0.4, 0.0, rng.random((3, 4))))],
             torch_fn=lambda x, t: TF.kl_div(x, t, reduction="sum")),
        Case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), [(4, 6), (4, 6)],
             torch_fn=lambda a, b: TF.cosine_similarity(a, b)),
        Case("cosine_similarity_broadcast_dim", lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=1e-6),
             [(3, 1, 5), (4, 5)], torch_fn=lambda a, b: TF.cosine_similarity(a, b, dim=-1, eps=1e-6)),
        Case("cosine_embedding_1d", lambda a, b, t: F.cosine_embedding_loss(a, b, t), [(4,), (4,),
             Const(lambda rng: np.array(-1))], torch_fn=lambda a, b, t: TF.cosine_embedding_loss(a, b, t)),
        Case("triplet_swap_p1", lambda a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True),
             [(6, 3), (6, 3), (6, 3)], torch_fn=lambda a, p, n: TF.triplet_margin_loss(a, p, n, p=1, swap=True)),
        Case("triplet_p3_1d", lambda a, p, n: F.triplet_margin_loss(a, p, n, p=3, margin=0.5, reduction="none"),
             [(4,), (4,), (4,)],
             torch_fn=lambda a, p, n: TF.triplet_margin_loss(a, p, n, p=3, margin=0.5, reduction="none")),
        Case("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, keepdim=True), [(3, 5), (3, 5)],
             torch_fn=lambda a, b: TF.pairwise_distance(a, b, keepdim=True)),
        Case("mse_legacy_reduce", lambda a, b: F.mse_loss(a, b, size_average=False), [(3,), (3,)],
             torch_fn=lambda a, b: TF.mse_loss(a, b, size_average=False)),
    ]
    return cases


CASES = _ce_cases() + _nll_cases() + _simple_cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


# ---- numerical stability -------------------------------------------------------------------------

@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy_extreme_logits(ls):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [5.0, -1e4, 1e4]], np.float32)
    t = np.array([1, 1, 0])
    g = gn.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    out = F.cross_entropy(g, gn.tensor(t), label_smoothing=ls)
    ref = TF.cross_entropy(tt, torch.tensor(t), label_smoothing=ls)
    out.backward()
    ref.backward()
    assert np.isfinite(out.item()) and np.isfinite(g.grad.array).all()
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(g.grad.array, tt.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_bce_with_logits_extreme():
    x = np.array([1e4, -1e4, 50.0, -50.0, 0.0], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5], np.float32)
    pw = np.array([2.0], np.float32)
    g = gn.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(g, gn.tensor(y), pos_weight=gn.tensor(pw), reduction="sum")
    ref = TF.binary_cross_entropy_with_logits(tt, torch.tensor(y), pos_weight=torch.tensor(pw), reduction="sum")
    out.backward()
    ref.backward()
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(g.grad.array, tt.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_bce_log_clamp():
    x = np.array([0.0, 1.0, 0.5], np.float32)
    y = np.array([1.0, 0.0, 1.0], np.float32)
    g = gn.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    out = F.binary_cross_entropy(g, gn.tensor(y), reduction="none")
    ref = TF.binary_cross_entropy(tt, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(g.grad.array, tt.grad.numpy(), rtol=1e-6)


def test_bce_target_gradient():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    gx, gy = gn.tensor(x, requires_grad=True), gn.tensor(y, requires_grad=True)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    F.binary_cross_entropy(gx, gy).backward()
    TF.binary_cross_entropy(tx, ty).backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gy.grad.array, ty.grad.numpy(), rtol=1e-10)
    gn.autograd.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                          [gn.tensor(x, requires_grad=True), gn.tensor(y, requires_grad=True)])


def test_cross_entropy_all_ignored_is_nan():
    x = gn.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    out = F.cross_entropy(x, gn.tensor([-100, -100]))
    assert np.isnan(out.item())
    assert np.isnan(TF.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])).item())


# ---- higher-order gradients through the fused ops ------------------------------------------------

def _double_backward(lib, fn, arrays):
    """grad of sum(d fn / d x0 * v) with respect to every input: second derivatives."""
    if lib is gn:
        xs = [gn.tensor(a, requires_grad=True) for a in arrays]
        (g,) = gn.autograd.grad(fn(*xs), [xs[0]], create_graph=True)
        v = gn.tensor(np.linspace(-1, 1, g.numel()).reshape(g.shape).astype(arrays[0].dtype))
        (g * v).sum().backward()
        return [x.grad.array for x in xs]
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    (g,) = torch.autograd.grad(fn(*xs), [xs[0]], create_graph=True)
    v = torch.tensor(np.linspace(-1, 1, g.numel()).reshape(g.shape).astype(arrays[0].dtype))
    (g * v).sum().backward()
    return [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("kind", ["index", "probs"])
def test_cross_entropy_second_order(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    w = rng.uniform(0.5, 2, 5)
    if kind == "index":
        t = np.array([0, 3, 2, 4])
        got = _double_backward(gn, lambda a: F.cross_entropy(a, gn.tensor(t), weight=gn.tensor(w),
                                                             label_smoothing=0.1), [x])
        ref = _double_backward(torch, lambda a: TF.cross_entropy(a, torch.tensor(t), weight=torch.tensor(w),
                                                                 label_smoothing=0.1), [x])
    else:
        q = rng.random((4, 5))
        got = _double_backward(gn, lambda a, b: F.cross_entropy(a, b, reduction="sum", label_smoothing=0.2), [x, q])
        ref = _double_backward(torch, lambda a, b: TF.cross_entropy(a, b, reduction="sum", label_smoothing=0.2),
                               [x, q])
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


def test_nll_and_bce_second_order():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    t = np.array([1, 0, 3])
    for lib, f, tensor in ((gn, F, gn.tensor), (torch, TF, torch.tensor)):
        out = _double_backward(lib, lambda a: f.nll_loss(a * a.exp(), tensor(t), reduction="sum"), [x])
        if lib is gn:
            got = out
        else:
            np.testing.assert_allclose(got[0], out[0], rtol=1e-7, atol=1e-10)
    p = 1 / (1 + np.exp(-x))
    y = rng.random((3, 4))
    got = _double_backward(gn, lambda a, b: F.binary_cross_entropy(a, b), [p, y])
    ref = _double_backward(torch, lambda a, b: TF.binary_cross_entropy(a, b), [p, y])
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


# ---- errors -------------------------------------------------------------------------------------

def test_errors_name_the_problem():
    x = gn.randn(4, 3)
    with pytest.raises(ValueError, match=r"mse_loss.*\(4, 3\).*\(4, 1\)"):
        F.mse_loss(x, gn.randn(4, 1))
    with pytest.raises(ValueError, match=r"l1_loss.*\(4, 3\).*\(3,\)"):
        F.l1_loss(x, gn.randn(3))
    with pytest.raises(IndexError, match=r"index 3 is out of range for 3 classes"):
        F.cross_entropy(x, gn.tensor([0, 1, 3, 2]))
    with pytest.raises(IndexError, match=r"index -2 is out of range"):
        F.nll_loss(x, gn.tensor([0, 1, -2, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(3,\)"):
        F.cross_entropy(x, gn.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy: class-probability target"):
        F.cross_entropy(x, gn.randn(4, 4))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\)"):
        F.cross_entropy(x, gn.tensor([0, 1, 2, 2]), weight=gn.ones(2))
    with pytest.raises(ValueError, match="reduction='avg' is not valid"):
        F.cross_entropy(x, gn.tensor([0, 1, 2, 2]), reduction="avg")
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(x, gn.rand(4, 3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target size \(4,\)"):
        F.binary_cross_entropy_with_logits(gn.randn(4, 1), gn.rand(4))
    with pytest.raises(ValueError, match="kl_div"):
        F.kl_div(x, gn.rand(3))
    with pytest.raises(ValueError, match="margin_ranking_loss"):
        F.margin_ranking_loss(gn.randn(3), gn.randn(3), gn.ones(1))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, gn.tensor([0, 1, 2, 2]), label_smoothing=1.5)


# ---- modules ------------------------------------------------------------------------------------

def _rand(rng, shape, kind="real"):
    x = rng.standard_normal(shape)
    if kind == "prob":
        x = 1 / (1 + np.exp(-x))
    return x.astype(np.float32)


MODULES = [
    ("MSELoss", {}, [(4, 3), (4, 3)]),
    ("L1Loss", {"reduction": "sum"}, [(4, 3), (4, 3)]),
    ("SmoothL1Loss", {"beta": 0.5}, [(4, 3), (4, 3)]),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}, [(4, 3), (4, 3)]),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}, [(6, 4), "idx4"]),
    ("CrossEntropyLoss", {"weight": "w4"}, [(6, 4, 2), "idx4x2"]),
    ("NLLLoss", {"weight": "w4", "reduction": "sum"}, [(6, 4), "idx4"]),
    ("BCELoss", {"weight": "w3"}, [("prob", (4, 3)), ("prob", (4, 3))]),
    ("BCEWithLogitsLoss", {"pos_weight": "w3"}, [(4, 3), ("prob", (4, 3))]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [(4, 3), (4, 3)]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [(4, 3), (4, 3), "sign4"]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, [(4, 3), (4, 3), (4, 3)]),
    ("MarginRankingLoss", {"margin": 0.1, "reduction": "none"}, [(5,), (5,), "sign5"]),
    ("CosineSimilarity", {"dim": 0}, [(4, 3), (4, 3)]),
]


@pytest.mark.parametrize("name,kw,specs", MODULES, ids=[m[0] + str(i) for i, m in enumerate(MODULES)])
def test_loss_modules_match_torch(name, kw, specs):
    rng = np.random.default_rng(5)
    consts = {"w4": rng.uniform(0.5, 2, 4).astype(np.float32), "w3": rng.uniform(0.5, 2, 3).astype(np.float32)}
    g_kw = {k: gn.tensor(consts[v]) if v in ("w3", "w4") else v for k, v in kw.items()}
    t_kw = {k: torch.tensor(consts[v]) if v in ("w3", "w4") else v for k, v in kw.items()}
    g_mod, t_mod = getattr(gn.nn, name)(**g_kw), getattr(torch.nn, name)(**t_kw)
    assert repr(g_mod) == repr(t_mod)
    assert list(g_mod.state_dict()) == list(t_mod.state_dict())
    g_args, t_args, leaves = [], [], []
    for spec in specs:
        if spec == "idx4":
            a = rng.integers(0, 4, 6)
        elif spec == "idx4x2":
            a = rng.integers(0, 4, (6, 2))
        elif isinstance(spec, str) and spec.startswith("sign"):
            a = rng.choice([-1.0, 1.0], int(spec[4:])).astype(np.float32)
        else:
            a = _rand(rng, spec[1], "prob") if spec[0] == "prob" else _rand(rng, spec)
        g = gn.tensor(a, requires_grad=a.dtype.kind == "f" and not str(spec).startswith("sign"))
        t = torch.tensor(a, requires_grad=g.requires_grad)
        g_args.append(g)
        t_args.append(t)
        if g.requires_grad:
            leaves.append((g, t))
    g_out, t_out = g_mod(*g_args), t_mod(*t_args)
    np.testing.assert_allclose(g_out.array, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    g_out.sum().backward()
    t_out.sum().backward()
    for g, t in leaves:
        np.testing.assert_allclose(g.grad.array, t.grad.numpy(), rtol=1e-4, atol=1e-5)
