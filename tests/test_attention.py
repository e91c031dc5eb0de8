"""scaled_dot_product_attention, MultiheadAttention and rotary embeddings against torch and the formulas."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F
from helpers_nn import compare_module, numpy_state
from parity import Case, Const, run_case


# ---- scaled_dot_product_attention: parity table ------------------------------------------------------
def sdpa_case(name, inputs, mask=None, **kw):
    """Inputs: q, k, v shapes, then optionally a mask (Const for bool, a shape for a differentiable float mask)."""
    if mask is None:
        return Case(name, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw), inputs,
                    torch_fn=lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kw))
    return Case(name, lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw),
                inputs + [mask],
                torch_fn=lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw))


def bool_mask(shape, p=0.3):
    return Const(lambda rng: rng.random(shape) > p)


def masked_rows(shape):
    """A bool mask with row 1 entirely False (fully masked: torch gives zeros) and a random rest."""
    def make(rng):
        m = rng.random(shape) > 0.4
        m[..., 1, :] = False
        m[..., 0, 0] = True
        return m
    return Const(make)


SDPA_CASES = [
    sdpa_case("self_4d", [(2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4)]),
    sdpa_case("cross_L_ne_S_Ev", [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)]),
    sdpa_case("unbatched_2d", [(4, 6), (5, 6), (5, 3)]),
    sdpa_case("3d", [(2, 4, 6), (2, 5, 6), (2, 5, 3)]),
    sdpa_case("broadcast_batch_heads", [(2, 3, 4, 6), (1, 3, 5, 6), (2, 1, 5, 3)]),
    sdpa_case("broadcast_rank", [(2, 4, 6), (5, 6), (3, 1, 5, 2)]),
    sdpa_case("scale", [(2, 2, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], scale=0.7),
    sdpa_case("causal_square", [(2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 3)], is_causal=True),
    sdpa_case("causal_L_lt_S", [(2, 2, 3, 4), (2, 2, 6, 4), (2, 2, 6, 3)], is_causal=True),
    sdpa_case("causal_L_gt_S", [(2, 2, 6, 4), (2, 2, 3, 4), (2, 2, 3, 3)], is_causal=True),
    sdpa_case("causal_scale", [(1, 2, 5, 4), (1, 2, 5, 4), (1, 2, 5, 4)], is_causal=True, scale=0.3),
    sdpa_case("bool_mask_2d", [(2, 2, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], bool_mask((4, 5))),
    sdpa_case("bool_mask_per_head", [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)], bool_mask((3, 4, 5))),
    sdpa_case("bool_mask_full", [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)], bool_mask((2, 3, 4, 5))),
    sdpa_case("bool_mask_key_padding", [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)], bool_mask((2, 1, 1, 5), 0.2)),
    sdpa_case("bool_mask_fully_masked_row", [(2, 2, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], masked_rows((2, 1, 4, 5))),
    sdpa_case("float_mask_2d", [(2, 2, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], (4, 5)),
    sdpa_case("float_mask_broadcast", [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)], (2, 1, 4, 1)),
    sdpa_case("float_mask_full_scale", [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)], (2, 3, 4, 5), scale=1.3),
    sdpa_case("gqa", [(2, 6, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], enable_gqa=True),
    sdpa_case("gqa_mask_per_head", [(2, 4, 4, 6), (2, 2, 5, 6), (2, 2, 5, 3)], bool_mask((4, 4, 5)), enable_gqa=True),
    sdpa_case("gqa_causal", [(1, 4, 5, 6), (1, 1, 5, 6), (1, 1, 5, 3)], is_causal=True, enable_gqa=True),
]


@pytest.mark.parametrize("case", SDPA_CASES, ids=str)
def test_sdpa_parity(case):
    run_case(case)


def _float_mask_with_inf(rng):
    m = rng.standard_normal((2, 1, 4, 5))
    m[0, 0, 2, :] = -np.inf  # a fully masked row through the float mask
    m[1, 0, :, 3] = -np.inf
    return m.astype(np.float32)


def test_sdpa_float_mask_with_inf_matches_torch():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in [(2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 3)])
    m = _float_mask_with_inf(rng)
    g = [gn.tensor(a, requires_grad=True) for a in (q, k, v)]
    t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    go = F.scaled_dot_product_attention(*g, attn_mask=gn.tensor(m))
    to = TF.scaled_dot_product_attention(*t, attn_mask=torch.from_numpy(m))
    np.testing.assert_allclose(go.array, to.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(go.array[0, :, 2] == 0)
    w = rng.standard_normal(go.shape).astype(np.float32)
    (go * gn.tensor(w)).sum().backward()
    (to * torch.from_numpy(w)).sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_allclose(a.grad.array, b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_sdpa_matches_formula_float64():
    """The fused node against softmax(q k^T * scale + mask) v written with plain glassnet ops."""
    rng = np.random.default_rng(0)
    q, k, v = (gn.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 4, 3), (2, 6, 3), (2, 6, 5)])
    mask = gn.tensor(rng.standard_normal((4, 6)))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    ref = ((q @ k.mT) / math.sqrt(3) + mask).softmax(-1) @ v
    np.testing.assert_allclose(out.array, ref.array, rtol=1e-12, atol=1e-12)
    g1 = gn.autograd.grad(out.sum(), [q, k, v])
    g2 = gn.autograd.grad(ref.sum(), [q, k, v])
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.array, b.array, rtol=1e-10, atol=1e-12)


def test_sdpa_dtype_and_empty_source():
    q = gn.randn(1, 2, 3, 4, dtype=gn.float64)
    k, v = gn.randn(1, 2, 0, 4, dtype=gn.float64), gn.randn(1, 2, 0, 5, dtype=gn.float64)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (1, 2, 3, 5) and out.dtype == np.float64
    assert np.all(out.array == 0)  # nothing to attend to: torch gives zeros


# ---- dropout ------------------------------------------------------------------------------------------
def test_sdpa_dropout_seeded_and_gradcheck():
    rng = np.random.default_rng(1)
    shapes = [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 2)]
    q, k, v = (gn.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)

    def fn(q, k, v):
        gn.manual_seed(7)  # the same dropout mask on every call
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    a, b = fn(q, k, v), fn(q, k, v)
    np.testing.assert_array_equal(a.array, b.array)
    no_drop = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(a.array, no_drop.array)
    gn.manual_seed(8)
    assert not np.allclose(F.scaled_dot_product_attention(q, k, v, dropout_p=0.4).array, a.array)
    assert gn.autograd.gradcheck(fn, [q, k, v])


def test_sdpa_dropout_statistics():
    """With dropout the returned weights are P * keep / (1 - p), keep ~ Bernoulli(1 - p)."""
    mha = nn.MultiheadAttention(8, 2, dropout=0.25)
    x = gn.randn(6, 40, 8)
    mha.eval()
    _, w_eval = mha(x, x, x, average_attn_weights=False)
    mha.train()
    gn.manual_seed(3)
    _, w_train = mha(x, x, x, average_attn_weights=False)
    ratio = w_train.array / w_eval.array
    kept = ratio > 0
    np.testing.assert_allclose(ratio[kept], 1 / 0.75, rtol=1e-5)
    assert abs(kept.mean() - 0.75) < 0.03
    x2 = F.scaled_dot_product_attention(gn.randn(3, 4), gn.randn(5, 4), gn.randn(5, 2), dropout_p=1.0)
    assert np.all(x2.array == 0)


@pytest.mark.parametrize("args, kwargs, err, match", [
    (((2, 3, 4), (2, 5, 6), (2, 5, 6)), {}, ValueError, "same last dimension"),
    (((2, 3, 4), (2, 5, 4), (2, 6, 6)), {}, ValueError, "same sequence length"),
    (((4,), (4,), (4,)), {}, ValueError, "at least 2 dimensions"),
    (((2, 3, 4), (3, 5, 4), (3, 5, 4)), {}, ValueError, "cannot be broadcast"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"dropout_p": 1.5}, ValueError, "between 0 and 1"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((3, 5), bool), "is_causal": True}, ValueError,
     "is_causal"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((3, 4), bool)}, ValueError, "cannot be broadcast"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((4, 3, 5), bool)}, ValueError, "cannot be broadcast"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), {"attn_mask": np.ones((3, 5), np.int64)}, TypeError, "bool or"),
    (((2, 6, 3, 4), (2, 4, 5, 4), (2, 4, 5, 4)), {"enable_gqa": True}, ValueError, "heads"),
])
def test_sdpa_errors(args, kwargs, err, match):
    q, k, v = (gn.randn(*s) for s in args)
    kwargs = {key: gn.tensor(val) if isinstance(val, np.ndarray) else val for key, val in kwargs.items()}
    with pytest.raises(err, match=match):
        F.scaled_dot_product_attention(q, k, v, **kwargs)


def test_sdpa_dtype_errors():
    with pytest.raises(TypeError, match="same floating dtype"):
        F.scaled_dot_product_attention(gn.randn(3, 4), gn.randn(5, 4, dtype=gn.float64), gn.randn(5, 4))
    with pytest.raises(TypeError, match="scale"):
        F.scaled_dot_product_attention(gn.randn(3, 4), gn.randn(5, 4), gn.randn(5, 4), scale="big")
    with pytest.raises(TypeError):  # scale is keyword-only, as in torch
        F.scaled_dot_product_attention(gn.randn(3, 4), gn.randn(5, 4), gn.randn(5, 4), None, 0.0, False, 0.5)


# ---- MultiheadAttention -------------------------------------------------------------------------------
def _wrapped(g_module, t_module, call):
    """Module pairs whose forward is `call(inner, *inputs)`; parameter names get the prefix "m."."""
    class G(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = g_module

        def forward(self, *args):
            return call(self.m, *args)

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = t_module

        def forward(self, *args):
            return call(self.m, *args)

    return G(), T()


def _mha_pair(seed=0, **kw):
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(**kw)
    with torch.no_grad():  # non-zero biases, so that their gradients and effects are checked too
        for name, p in t.named_parameters():
            if "bias" in name:
                p.normal_()
    return nn.MultiheadAttention(**kw), t


E = 8
_rng = np.random.default_rng(5)
KPM = np.zeros((3, 4), bool)
KPM[0, 2:] = True
KPM[2, 0] = True
CAUSAL5 = np.triu(np.ones((5, 5), bool), 1)
FLOAT_MASK = _rng.standard_normal((5, 4)).astype(np.float32)
FLOAT_MASK_3D = _rng.standard_normal((6, 5, 4)).astype(np.float32)

MHA_CASES = [
    ("self", {}, [(5, 3, E)], lambda m, x: m(x, x, x)),
    ("self_no_weights", {}, [(5, 3, E)], lambda m, x: m(x, x, x, need_weights=False)[0]),
    ("cross_key_is_value", {}, [(5, 3, E), (4, 3, E)], lambda m, x, y: m(x, y, y)),
    ("cross_separate", {}, [(5, 3, E), (4, 3, E), (4, 3, E)], lambda m, x, y, z: m(x, y, z)),
    ("per_head_weights", {"num_heads": 4}, [(5, 3, E), (4, 3, E)],
     lambda m, x, y: m(x, y, y, average_attn_weights=False)),
    ("kdim_vdim", {"kdim": 5, "vdim": 3}, [(5, 3, E), (4, 3, 5), (4, 3, 3)], lambda m, x, y, z: m(x, y, z)),
    ("kdim_vdim_batch_first", {"kdim": 5, "vdim": 3, "batch_first": True}, [(3, 5, E), (3, 4, 5), (3, 4, 3)],
     lambda m, x, y, z: m(x, y, z, need_weights=False)[0]),
    ("batch_first_self", {"batch_first": True}, [(3, 5, E)], lambda m, x: m(x, x, x)),
    ("no_bias", {"bias": False}, [(5, 3, E), (4, 3, E)], lambda m, x, y: m(x, y, y)),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True}, [(5, 3, E), (4, 3, E)],
     lambda m, x, y: m(x, y, y)),
    ("key_padding_mask", {}, [(5, 3, E), (4, 3, E), KPM], lambda m, x, y, k: m(x, y, y, key_padding_mask=k)),
    ("key_padding_mask_sdpa_path", {}, [(5, 3, E), (4, 3, E), KPM],
     lambda m, x, y, k: m(x, y, y, key_padding_mask=k, need_weights=False)[0]),
    ("float_key_padding_mask", {}, [(5, 3, E), (4, 3, E), _rng.standard_normal((3, 4)).astype(np.float32)],
     lambda m, x, y, k: m(x, y, y, key_padding_mask=k)),
    ("bool_attn_mask_causal", {}, [(5, 3, E), CAUSAL5], lambda m, x, a: m(x, x, x, attn_mask=a)),
    ("is_causal_hint", {}, [(5, 3, E), CAUSAL5],
     lambda m, x, a: m(x, x, x, attn_mask=a, is_causal=True, need_weights=False)[0]),
    ("is_causal_hint_with_weights", {}, [(5, 3, E), CAUSAL5], lambda m, x, a: m(x, x, x, attn_mask=a, is_causal=True)),
    ("float_attn_mask_2d_grad", {}, [(5, 3, E), (4, 3, E), FLOAT_MASK], lambda m, x, y, a: m(x, y, y, attn_mask=a)),
    ("float_attn_mask_3d", {}, [(5, 3, E), (4, 3, E), FLOAT_MASK_3D],
     lambda m, x, y, a: m(x, y, y, attn_mask=a, need_weights=False)[0]),
    ("both_masks_bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True},
     [(5, 3, E), (4, 3, E), KPM, np.triu(np.ones((5, 4), bool), 2)],
     lambda m, x, y, k, a: m(x, y, y, key_padding_mask=k, attn_mask=a, average_attn_weights=False)),
    ("unbatched", {}, [(5, E), (4, E), KPM[0]], lambda m, x, y, k: m(x, y, y, key_padding_mask=k)),
    ("unbatched_batch_first_3d_mask", {"batch_first": True, "num_heads": 4},
     [(5, E), (4, E), _rng.random((4, 5, 4)) > 0.7], lambda m, x, y, a: m(x, y, y, attn_mask=a)),
    ("unbatched_self", {}, [(5, E)], lambda m, x: m(x, x, x, average_attn_weights=False)),
]


@pytest.mark.parametrize("name, kw, inputs, call", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_parity(name, kw, inputs, call):
    kw = {"embed_dim": E, "num_heads": 2, **kw}
    g, t = _mha_pair(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "mismatched key_padding_mask and attn_mask" warning
        compare_module(*_wrapped(g, t, call), inputs)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_multihead_attention_float64_gradcheck():
    gn.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3, dtype=gn.float64)
    kpm = gn.tensor(np.array([[False, True, False], [False, False, False]]))
    mask = gn.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    q = gn.randn(4, 2, 4, dtype=gn.float64, requires_grad=True)
    k = gn.randn(3, 2, 3, dtype=gn.float64, requires_grad=True)
    v = gn.randn(3, 2, 4, dtype=gn.float64, requires_grad=True)
    for need in (True, False):
        def fn(q, k, v):
            out, weights = m(q, k, v, key_padding_mask=kpm, attn_mask=mask, need_weights=need,
                             average_attn_weights=False)
            return (out, weights) if need else out

        assert gn.autograd.gradcheck(fn, [q, k, v])


def test_multihead_attention_train_mode_without_dropout_matches_torch():
    g, t = _mha_pair(embed_dim=E, num_heads=2)
    compare_module(*_wrapped(g.train(), t.train(), lambda m, x, y: m(x, y, y)), [(5, 3, E), (4, 3, E)])


@pytest.mark.parametrize("kw", [{}, {"kdim": 5, "vdim": 3}, {"bias": False}, {"add_bias_kv": True},
                                {"kdim": 4, "bias": False, "add_bias_kv": True}])
def test_multihead_attention_state_dict_and_init(kw):
    g = nn.MultiheadAttention(E, 2, **kw)
    t = torch.nn.MultiheadAttention(E, 2, **kw)
    assert list(g.state_dict()) == list(t.state_dict())
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    for key, value in numpy_state(t).items():
        assert g.state_dict()[key].shape == value.shape
    g.load_state_dict(numpy_state(t))
    if g.in_proj_bias is not None:
        assert np.all(g.in_proj_bias.array == 0) and np.all(g.out_proj.bias.array == 0)


def test_multihead_attention_default_init_statistics():
    m = nn.MultiheadAttention(64, 4)
    w = m.in_proj_weight.array
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.all(m.in_proj_bias.array == 0) and np.all(m.out_proj.bias.array == 0)
    assert m.head_dim == 16 and m._qkv_same_embed_dim
    assert m.bias_k is None and m.bias_v is None


def test_multihead_attention_fully_masked_rows_as_torch():
    """A fully padded batch element: NaN with need_weights (plain softmax), zeros without (as torch)."""
    g, t = _mha_pair(embed_dim=E, num_heads=2)
    g.load_state_dict(numpy_state(t))
    x = np.random.default_rng(0).standard_normal((3, 2, E)).astype(np.float32)
    kpm = np.zeros((2, 3), bool)
    kpm[1] = True
    for need in (True, False):
        go, gw = g(gn.tensor(x), gn.tensor(x), gn.tensor(x), key_padding_mask=gn.tensor(kpm), need_weights=need)
        to, tw = t(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(kpm),
                   need_weights=need)
        np.testing.assert_allclose(go.array, to.detach().numpy(), rtol=1e-5, atol=1e-6)  # NaN == NaN here
        assert np.isnan(go.array[:, 1]).all() == need
        if need:
            np.testing.assert_allclose(gw.array, tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(E, 2)
    x = gn.randn(5, 3, E)
    with pytest.raises(ValueError, match="2D or batched 3D"):
        m(gn.randn(2, 5, 3, E), x, x)
    with pytest.raises(ValueError, match="last dimension 8"):
        m(gn.randn(5, 3, 6), x, x)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="attn_mask"):
        m(x, x, x, attn_mask=gn.zeros(5, 4))
    with pytest.raises(ValueError, match="attn_mask"):
        m(x, x, x, attn_mask=gn.zeros(5, 5, 5))
    with pytest.raises(ValueError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=gn.zeros(3, 4, dtype=gn.bool))
    with pytest.raises(TypeError, match="only bool and floating"):
        m(x, x, x, key_padding_mask=gn.zeros(3, 5, dtype=gn.int64))
    with pytest.raises(ValueError, match="batch sizes"):
        m(x, gn.randn(5, 2, E), gn.randn(5, 2, E))


# ---- rotary embeddings (functional) -------------------------------------------------------------------
def _torch_rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


ROPE_CASES = [
    Case("apply_rotary_emb", lambda x, c, s: F.apply_rotary_emb(x, c, s), [(2, 3, 5, 6), (5, 6), (5, 6)],
         torch_fn=lambda x, c, s: x * c + _torch_rotate_half(x) * s),
    Case("apply_rotary_emb_const_tables", lambda x, c, s: F.apply_rotary_emb(x, c, s),
         [(4, 8), Const(lambda r: r.standard_normal((4, 8))), Const(lambda r: r.standard_normal((4, 8)))],
         torch_fn=lambda x, c, s: x * c + _torch_rotate_half(x) * s),
    Case("rotate_half", lambda x: F.rotate_half(x), [(3, 6)], torch_fn=_torch_rotate_half),
]


@pytest.mark.parametrize("case", ROPE_CASES, ids=str)
def test_rotary_parity(case):
    run_case(case)


def test_rotary_second_order():
    x = gn.randn(3, 4, dtype=gn.float64, requires_grad=True)
    cos = gn.randn(3, 4, dtype=gn.float64, requires_grad=True)
    sin = gn.randn(3, 4, dtype=gn.float64, requires_grad=True)
    (gx,) = gn.autograd.grad((F.apply_rotary_emb(x, cos, sin) ** 2).sum(), [x], create_graph=True)
    gc, gs = gn.autograd.grad(gx.sum(), [cos, sin])
    xt, ct, st = (torch.tensor(a.array, requires_grad=True) for a in (x, cos, sin))
    (gxt,) = torch.autograd.grad(((xt * ct + _torch_rotate_half(xt) * st) ** 2).sum(), [xt], create_graph=True)
    gct, gst = torch.autograd.grad(gxt.sum(), [ct, st])
    np.testing.assert_allclose(gx.array, gxt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gc.array, gct.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gs.array, gst.numpy(), rtol=1e-10, atol=1e-12)


def test_rotary_errors():
    with pytest.raises(ValueError, match="even"):
        F.apply_rotary_emb(gn.randn(3, 5), gn.randn(3, 5), gn.randn(3, 5))
    with pytest.raises(ValueError, match="broadcast"):
        F.apply_rotary_emb(gn.randn(3, 4), gn.randn(4, 4), gn.randn(3, 4))
    with pytest.raises(TypeError, match="dtype"):
        F.apply_rotary_emb(gn.randn(3, 4), gn.randn(3, 4, dtype=gn.float64), gn.randn(3, 4))
