"""Transformer layers, stacks and nn.Transformer against torch with identical weights; causality;
positional encodings (sinusoidal, learned, rotary)."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F
from helpers_nn import compare_module, numpy_state

E = 8


def _wrapped(g_module, t_module, call):
    """Module pairs whose forward is `call(inner, *inputs)` (so masks can be passed by keyword)."""
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


def _perturb(t_module, seed=0):
    """Non-trivial weights everywhere (LayerNorm weights != 1, biases != 0), deterministically."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in t_module.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.2)
    return t_module


def _compare(g, t, call, inputs, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about nested tensors / mismatched mask types
        return compare_module(*_wrapped(g, t, call), inputs, rtol=2e-5, atol=2e-6, grad_rtol=2e-4, grad_atol=2e-5,
                              **kw)


_rng = np.random.default_rng(11)
KPM_SRC = np.zeros((3, 5), bool)
KPM_SRC[0, 3:] = True
KPM_SRC[2, 4] = True
KPM_TGT = np.zeros((3, 4), bool)
KPM_TGT[1, 3] = True
CAUSAL4 = np.triu(np.ones((4, 4), bool), 1)
CAUSAL5 = np.triu(np.ones((5, 5), bool), 1)


# ---- layers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_parity(norm_first, activation):
    kw = dict(d_model=E, nhead=2, dim_feedforward=16, dropout=0.1, activation=activation, norm_first=norm_first)
    t = _perturb(torch.nn.TransformerEncoderLayer(**kw)).eval()
    g = nn.TransformerEncoderLayer(**kw).eval()
    _compare(g, t, lambda m, x: m(x), [(5, 3, E)])
    _compare(g, t, lambda m, x, a, k: m(x, src_mask=a, src_key_padding_mask=k), [(5, 3, E), CAUSAL5, KPM_SRC])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_parity(norm_first, activation):
    kw = dict(d_model=E, nhead=2, dim_feedforward=16, dropout=0.1, activation=activation, norm_first=norm_first)
    t = _perturb(torch.nn.TransformerDecoderLayer(**kw)).eval()
    g = nn.TransformerDecoderLayer(**kw).eval()
    _compare(g, t, lambda m, x, mem: m(x, mem), [(4, 3, E), (5, 3, E)])
    _compare(g, t, lambda m, x, mem, a, k1, k2: m(x, mem, tgt_mask=a, tgt_key_padding_mask=k1,
                                                   memory_key_padding_mask=k2, tgt_is_causal=True),
             [(4, 3, E), (5, 3, E), CAUSAL4, KPM_TGT, KPM_SRC])


def test_layers_batch_first_float_masks_no_bias():
    kw = dict(d_model=E, nhead=4, dim_feedforward=12, batch_first=True, bias=False, layer_norm_eps=1e-3)
    t = _perturb(torch.nn.TransformerEncoderLayer(**kw)).eval()
    g = nn.TransformerEncoderLayer(**kw).eval()
    src_mask = _rng.standard_normal((5, 5)).astype(np.float32)
    _compare(g, t, lambda m, x, a: m(x, src_mask=a), [(3, 5, E), src_mask])  # also d(loss)/d(float mask)
    t = _perturb(torch.nn.TransformerDecoderLayer(**kw)).eval()
    g = nn.TransformerDecoderLayer(**kw).eval()
    mem_mask = _rng.standard_normal((4, 5)).astype(np.float32)
    _compare(g, t, lambda m, x, mem, a: m(x, mem, memory_mask=a), [(3, 4, E), (3, 5, E), mem_mask])


def test_layers_unbatched_and_train_mode_without_dropout():
    kw = dict(d_model=E, nhead=2, dim_feedforward=16, dropout=0.0)
    t = _perturb(torch.nn.TransformerEncoderLayer(**kw)).train()
    g = nn.TransformerEncoderLayer(**kw).train()
    _compare(g, t, lambda m, x: m(x), [(5, E)])
    t = _perturb(torch.nn.TransformerDecoderLayer(**kw)).train()
    g = nn.TransformerDecoderLayer(**kw).train()
    _compare(g, t, lambda m, x, mem, k: m(x, mem, memory_key_padding_mask=k), [(4, E), (5, E), KPM_SRC[0]])


def test_layer_callable_activation():
    kw = dict(d_model=E, nhead=2, dim_feedforward=16)
    t = _perturb(torch.nn.TransformerEncoderLayer(**kw, activation=torch.nn.functional.silu)).eval()
    g = nn.TransformerEncoderLayer(**kw, activation=F.silu).eval()
    _compare(g, t, lambda m, x: m(x), [(5, 2, E)])
    t = _perturb(torch.nn.TransformerEncoderLayer(**kw, activation=torch.nn.GELU())).eval()
    g = nn.TransformerEncoderLayer(**kw, activation=nn.GELU()).eval()
    assert g.activation_relu_or_gelu == 2 and "activation" in dict(g.named_children())
    _compare(g, t, lambda m, x: m(x), [(5, 2, E)])
    with pytest.raises(ValueError, match="relu/gelu"):
        nn.TransformerEncoderLayer(E, 2, activation="tanh")


# ---- stacks and the whole Transformer -----------------------------------------------------------------
def test_encoder_decoder_stacks_parity():
    kw = dict(d_model=E, nhead=2, dim_feedforward=16)
    t = _perturb(torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**kw), 2,
                                             norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)).eval()
    g = nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), 2, norm=nn.LayerNorm(E)).eval()
    assert list(g.state_dict()) == list(t.state_dict())
    _compare(g, t, lambda m, x, a, k: m(x, mask=a, src_key_padding_mask=k), [(5, 3, E), CAUSAL5, KPM_SRC])
    t = _perturb(torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**kw), 3)).eval()
    g = nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), 3).eval()
    assert list(g.state_dict()) == list(t.state_dict())
    _compare(g, t, lambda m, x, mem, a: m(x, mem, tgt_mask=a), [(4, 3, E), (5, 3, E), CAUSAL4])


def test_encoder_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(E, 2, dim_feedforward=16)
    enc = nn.TransformerEncoder(layer, 3)
    params = [dict(l.named_parameters()) for l in enc.layers]
    assert params[0]["linear1.weight"] is not params[1]["linear1.weight"]
    assert not np.shares_memory(params[0]["linear1.weight"].array, layer.linear1.weight.array)
    np.testing.assert_array_equal(params[0]["linear1.weight"].array, params[2]["linear1.weight"].array)
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))
    clone = copy.deepcopy(enc)
    assert list(clone.state_dict()) == list(enc.state_dict())


@pytest.mark.parametrize("norm_first, batch_first, activation", [(False, False, "relu"), (True, True, "gelu")])
def test_transformer_parity(norm_first, batch_first, activation):
    kw = dict(d_model=E, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.1,
              activation=activation, batch_first=batch_first, norm_first=norm_first)
    t = _perturb(_torch_transformer(**kw)).eval()
    g = nn.Transformer(**kw).eval()
    assert list(g.state_dict()) == list(t.state_dict())
    g.load_state_dict(numpy_state(t))  # strict: the keys must match exactly
    src, tgt = ((3, 5, E), (3, 4, E)) if batch_first else ((5, 3, E), (4, 3, E))

    def call(m, s, tg, kpm_s, kpm_t):
        return m(s, tg, tgt_mask=m.generate_square_subsequent_mask(4), src_key_padding_mask=kpm_s,
                 tgt_key_padding_mask=kpm_t, memory_key_padding_mask=kpm_s)

    _compare(g, t, call, [src, tgt, KPM_SRC, KPM_TGT])
    _compare(g, t, lambda m, s, tg: m(s, tg), [src, tgt])


def _torch_transformer(**kw):
    torch.manual_seed(0)  # the same initial weights whatever ran before (some draws need a looser tolerance)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "enable_nested_tensor is True, but ..."
        return torch.nn.Transformer(**kw)


def test_transformer_unbatched_and_custom_parts():
    kw = dict(d_model=E, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    t = _perturb(_torch_transformer(**kw)).eval()
    g = nn.Transformer(**kw).eval()
    _compare(g, t, lambda m, s, tg: m(s, tg, tgt_mask=m.generate_square_subsequent_mask(4), tgt_is_causal=True),
             [(5, E), (4, E)])
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 2, 16), 1)
    custom = nn.Transformer(E, 2, custom_encoder=enc, num_decoder_layers=1, dim_feedforward=16)
    assert custom.encoder is enc
    assert all(k.startswith(("encoder.layers.0.", "decoder.")) for k in custom.state_dict())


def test_transformer_default_init_and_mask():
    m = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    t = _torch_transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    assert list(m.state_dict()) == list(t.state_dict())
    w = m.encoder.layers[0].linear1.weight.array  # xavier_uniform_ on every matrix
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    np.testing.assert_array_equal(m.encoder.norm.weight.array, 1)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(mask.array, torch.nn.Transformer.generate_square_subsequent_mask(5).numpy())
    assert mask.dtype == np.float32
    with pytest.raises(ValueError, match="d_model"):
        m(gn.randn(5, 2, 8), gn.randn(4, 2, 16))
    with pytest.raises(ValueError, match="batch number"):
        m(gn.randn(5, 2, 16), gn.randn(4, 3, 16))


# ---- causality ----------------------------------------------------------------------------------------
def test_causal_mask_blocks_the_future():
    """With a causal mask, changing token t never changes the outputs at positions < t."""
    gn.manual_seed(0)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, 2, 16, batch_first=True), 2).eval()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 2, 16, batch_first=True, norm_first=True), 2).eval()
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    tgt = gn.randn(2, 6, E)
    mem = gn.randn(2, 5, E)
    base_dec = dec(tgt, mem, tgt_mask=mask).array
    base_enc = enc(tgt, mask=mask).array
    base_enc_hint = enc(tgt, mask=mask, is_causal=True).array
    np.testing.assert_allclose(base_enc_hint, base_enc, rtol=1e-5, atol=1e-6)
    for t in (1, 3, 5):
        changed = gn.tensor(tgt.array.copy())
        changed.array[:, t] += 5 * np.random.default_rng(t).standard_normal((2, E)).astype(np.float32)
        out_dec = dec(changed, mem, tgt_mask=mask).array
        out_enc = enc(changed, mask=mask).array
        np.testing.assert_allclose(out_dec[:, :t], base_dec[:, :t], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out_enc[:, :t], base_enc[:, :t], rtol=1e-6, atol=1e-6)
        assert not np.allclose(out_dec[:, t], base_dec[:, t])  # the changed position itself does change
    # and through gradients: d(output at position 2) / d(input at positions > 2) is exactly zero
    # (a weighted sum: the plain sum of a LayerNorm output has a zero gradient, only rounding noise)
    x = gn.tensor(tgt.array, requires_grad=True)
    w = gn.tensor(np.random.default_rng(7).standard_normal(E).astype(np.float32))
    (dec(x, mem, tgt_mask=mask)[:, 2] * w).sum().backward()
    assert np.all(x.grad.array[:, 3:] == 0) and np.any(x.grad.array[:, :3] != 0)
    # sdpa's is_causal gives the same guarantee
    q = gn.randn(1, 2, 6, 4, requires_grad=True)
    F.scaled_dot_product_attention(q, q, q, is_causal=True)[..., 1, :].sum().backward()
    assert np.all(q.grad.array[..., 2:, :] == 0)


def test_dropout_is_active_in_training_only():
    layer = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.3)
    x = gn.randn(5, 2, E)
    layer.eval()
    np.testing.assert_array_equal(layer(x).array, layer(x).array)
    layer.train()
    gn.manual_seed(1)
    a = layer(x).array
    gn.manual_seed(1)
    np.testing.assert_array_equal(layer(x).array, a)  # seeded: reproducible
    assert not np.allclose(layer(x).array, a)


# ---- positional encodings -----------------------------------------------------------------------------
def test_sinusoidal_positional_encoding():
    d, n = 7, 12  # odd d_model: 4 sine and 3 cosine columns
    pe = nn.SinusoidalPositionalEncoding(d, max_len=n)
    expected = np.zeros((n, d))
    for pos in range(n):
        for j in range(d):
            angle = pos / 10000 ** (2 * (j // 2) / d)
            expected[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(pe.pe.array, expected, rtol=1e-6, atol=1e-7)
    assert list(pe.state_dict()) == []  # deterministic: not saved
    x = gn.randn(5, 3, d, requires_grad=True)
    y = pe(x, offset=2)
    np.testing.assert_allclose(y.array, x.array + expected[2:7, None].astype(np.float32), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, 1)
    xb = gn.randn(3, 5, d)
    np.testing.assert_allclose(nn.SinusoidalPositionalEncoding(d, n, batch_first=True)(xb).array,
                               xb.array + expected[None, :5].astype(np.float32), rtol=1e-6)
    x2 = gn.randn(4, d)
    np.testing.assert_allclose(pe(x2).array, x2.array + expected[:4].astype(np.float32), rtol=1e-6)
    with pytest.raises(ValueError, match="max_len"):
        pe(gn.randn(13, 1, d))
    with pytest.raises(ValueError, match="expected input"):
        pe(gn.randn(5, 3, d + 1))


def test_learned_positional_embedding():
    gn.manual_seed(0)
    lp = nn.LearnedPositionalEmbedding(10, 4, batch_first=True)
    assert list(lp.state_dict()) == ["weight"] and lp.weight.shape == (10, 4)
    x = gn.randn(2, 3, 4, requires_grad=True)
    y = lp(x, offset=5)
    np.testing.assert_allclose(y.array, x.array + lp.weight.array[None, 5:8], rtol=1e-6)
    y.sum().backward()
    expected = np.zeros((10, 4), np.float32)
    expected[5:8] = 2  # two batch elements
    np.testing.assert_array_equal(lp.weight.grad.array, expected)
    with pytest.raises(ValueError, match="max_len"):
        lp(x, offset=8)


def test_rotary_embedding_tables_and_relative_property():
    dim = 8
    rope = nn.RotaryEmbedding(dim)
    cos, sin = rope(6, offset=1)
    assert cos.shape == (6, dim) and cos.dtype == np.float32
    theta = 10000.0 ** (-np.arange(0, dim, 2) / dim)
    angles = np.arange(1, 7)[:, None] * theta
    np.testing.assert_allclose(cos.array[:, : dim // 2], np.cos(angles), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cos.array[:, dim // 2:], np.cos(angles), rtol=1e-6, atol=1e-7)  # half-split
    np.testing.assert_allclose(sin.array[:, dim // 2:], np.sin(angles), rtol=1e-6, atol=1e-7)
    cos_p, _ = rope(gn.tensor(np.array([1, 2, 3, 4, 5, 6])))
    np.testing.assert_array_equal(cos_p.array, cos.array)

    rng = np.random.default_rng(0)
    q = gn.tensor(rng.standard_normal((1, dim)))
    k = gn.tensor(rng.standard_normal((1, dim)))

    def score(m, n):
        return float((rope.rotate(q, offset=m) * rope.rotate(k, offset=n)).sum().item())

    for m, n in [(0, 0), (3, 1), (1, 7), (50, 20)]:
        for shift in (1, 9, 123):
            assert score(m, n) == pytest.approx(score(m + shift, n + shift), rel=1e-9, abs=1e-12)
    assert score(3, 1) != pytest.approx(score(1, 3), rel=1e-3)  # depends on m - n, not just |m - n|
    # a rotation keeps norms, and position 0 is the identity
    x = gn.tensor(rng.standard_normal((2, 5, dim)))
    rx = rope.rotate(x)
    np.testing.assert_allclose(np.linalg.norm(rx.array, axis=-1), np.linalg.norm(x.array, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(rx.array[:, 0], x.array[:, 0], rtol=1e-12)
    # pairing: feature i and i + dim/2 form one 2-D rotation
    e0 = np.zeros((1, dim))
    e0[0, 0] = 1
    r = rope.rotate(gn.tensor(e0), offset=1).array[0]
    np.testing.assert_allclose(r[[0, dim // 2]], [math.cos(1.0), math.sin(1.0)], rtol=1e-12)
    assert np.count_nonzero(r) == 2
    with pytest.raises(ValueError, match="even"):
        nn.RotaryEmbedding(7)
