"""Linformer and Performer attention (glassnet/ops/efficient_attention.py): float64 gradcheck of the written-out
backwards, float32 parity with the same computation written in PyTorch, the Performer's estimate of softmax
attention, the modules in a Transformer encoder layer, GPT with attention='performer', and bad inputs."""
import math

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.models import GPT
from parity import Case, Const, run_case


def _features(m, d):
    return Const(lambda rng: F.orthogonal_random_features(m, d, gn.Generator(int(rng.integers(1 << 30))),
                                                          dtype=np.float64).array)


def _padding(B, S, pad):
    """(B, S) bool, True at the last `pad` positions of the first sequence."""
    mask = np.zeros((B, S), bool)
    mask[0, S - pad:] = True
    return mask


def torch_linformer(q, k, v, e, f, mask=None):
    if mask is not None:
        keep = (~torch.from_numpy(mask)).to(k.dtype).reshape(mask.shape[0], *([1] * (k.ndim - 3)), -1, 1)
        k, v = k * keep, v * keep
    return torch.nn.functional.scaled_dot_product_attention(q, e @ k, f @ v)


def torch_performer(q, k, v, w, causal=False, mask=None):
    """FAVOR+ written as the quadratic form it equals: W = phi(q) phi(k)^T (masked), O = W v / rowsum(W)."""
    c = q.shape[-1] ** -0.25

    def phi(x, per_row):
        x = x * c
        u = x @ w.T - 0.5 * (x * x).sum(-1, keepdim=True)
        u = u - (u.amax(-1, keepdim=True) if per_row else u.amax((-2, -1), keepdim=True)).detach()
        return torch.exp(u) / math.sqrt(w.shape[0])

    W = phi(q, True) @ phi(k, False).transpose(-1, -2)
    L, S = W.shape[-2:]
    if causal:
        W = W * torch.ones(L, S, dtype=W.dtype).tril(S - L)
    if mask is not None:
        W = W * (~torch.from_numpy(mask)).to(W.dtype).reshape(mask.shape[0], *([1] * (W.ndim - 2)), S)
    return (W @ v) / W.sum(-1, keepdim=True)


def _cases():
    cases = []
    for (B, H, L, d, p), pad in [((2, 2, 7, 4, 3), 0), ((2, 3, 9, 4, 5), 3), ((3, 1, 6, 2, 6), 0)]:
        mask = _padding(B, L, pad) if pad else None
        qkv = [(B, H, L, d)] * 3
        cases.append(Case(f"linformer_{B}x{H}x{L}x{d}_p{p}_pad{pad}",
                          lambda q, k, v, e, f, mask=mask: F.linformer_attention(q, k, v, e, f, mask),
                          qkv + [(p, L), (p, L)],
                          torch_fn=lambda q, k, v, e, f, mask=mask: torch_linformer(q, k, v, e, f, mask)))
    cases.append(Case("linformer_3d", lambda q, k, v, e, f: F.linformer_attention(q, k, v, e, f),
                      [(2, 5, 3), (2, 5, 3), (2, 5, 4), (2, 5), (2, 5)], torch_fn=torch_linformer))
    shapes = [((2, 2, 9, 9, 4, 6), False, 0, 4), ((2, 2, 9, 9, 4, 6), True, 0, 4), ((2, 2, 10, 10, 4, 5), True, 3, 3),
              ((1, 2, 4, 11, 3, 7), True, 0, 2), ((2, 1, 5, 8, 4, 8), False, 2, 64)]
    for (B, H, L, S, d, m), causal, pad, chunk in shapes:
        mask = _padding(B, S, pad) if pad else None
        cases.append(Case(f"performer_{B}x{H}x{L}x{S}x{d}_m{m}_c{int(causal)}_pad{pad}_chunk{chunk}",
                          lambda q, k, v, w, c=causal, mask=mask, chunk=chunk:
                          F.performer_attention(q, k, v, w, c, mask, chunk),
                          [(B, H, L, d), (B, H, S, d), (B, H, S, d + 1), _features(m, d)],
                          torch_fn=lambda q, k, v, w, c=causal, mask=mask: torch_performer(q, k, v, w, c, mask),
                          domain="unit", rtol=1e-4, atol=1e-5, grad_rtol=1e-3, grad_atol=1e-4))
    return cases


@pytest.mark.parametrize("case", _cases(), ids=str)
def test_parity_and_gradcheck(case):
    run_case(case)


def test_performer_estimates_softmax_attention():
    """With many random features FAVOR+ approaches exact attention; with few it is a rougher estimate."""
    rng = np.random.default_rng(0)
    q, k, v = (gn.tensor(rng.standard_normal((2, 2, 40, 8)) * 0.7) for _ in range(3))
    for causal in (False, True):
        exact = torch.nn.functional.scaled_dot_product_attention(
            *(torch.tensor(t.array) for t in (q, k, v)), is_causal=causal).numpy()
        errors = [np.abs(F.performer_attention(q, k, v, F.orthogonal_random_features(m, 8, gn.Generator(1),
                                                                                     dtype=np.float64),
                                               causal).array - exact).mean() for m in (8, 2048)]
        assert errors[1] < 0.03 and errors[1] < errors[0] / 2, errors


def test_orthogonal_random_features():
    w = F.orthogonal_random_features(10, 4, gn.Generator(3)).array
    assert w.shape == (10, 4) and w.dtype == np.float32
    block = w[:4] / np.linalg.norm(w[:4], axis=1, keepdims=True)
    np.testing.assert_allclose(block @ block.T, np.eye(4), atol=1e-5)  # rows of a block are orthogonal
    assert not np.allclose(w[:4], w[4:8])


def test_causal_chunks_agree():
    rng = np.random.default_rng(1)
    q, k, v = (gn.tensor(rng.standard_normal((1, 2, 50, 4))) for _ in range(3))
    w = F.orthogonal_random_features(12, 4, dtype=np.float64)
    outs = [F.performer_attention(q, k, v, w, True, chunk_size=c).array for c in (1, 7, 50, 64)]
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-10)


@pytest.mark.parametrize("make", [lambda: gn.nn.LinformerSelfAttention(16, 2, seq_len=12, proj_dim=4, batch_first=True),
                                  lambda: gn.nn.PerformerSelfAttention(16, 2, batch_first=True)])
def test_modules_in_an_encoder_layer(make):
    gn.manual_seed(0)
    layer = gn.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, attention=make())
    encoder = gn.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    x = gn.randn(3, 10, 16, requires_grad=True)
    padding = gn.tensor(np.arange(10)[None, :] >= np.array([10, 7, 4])[:, None])  # True at padding
    out = encoder(x, src_key_padding_mask=padding)
    assert out.shape == (3, 10, 16)
    out.sum().backward()
    assert all(p.grad is not None and np.abs(p.grad.array).sum() > 0 for p in encoder.parameters())
    # what sits at padding positions changes nothing at the others
    changed = x.array.copy()
    changed[1, 7:] += 5
    again = encoder(gn.tensor(changed), src_key_padding_mask=padding)
    np.testing.assert_allclose(again.array[1, :7], out.array[1, :7], rtol=1e-4, atol=1e-5)
    assert "self_attn.in_proj.weight" in layer.state_dict()


def test_performer_encoder_layer_is_causal_when_asked():
    gn.manual_seed(0)
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                          attention=gn.nn.PerformerSelfAttention(8, 2, batch_first=True))
    x = gn.randn(1, 6, 8)
    mask = gn.nn.Transformer.generate_square_subsequent_mask(6)
    out = layer(x, src_mask=mask, is_causal=True).array
    later = x.array.copy()
    later[0, 4:] = 0  # the future changes ...
    np.testing.assert_allclose(layer(gn.tensor(later), src_mask=mask, is_causal=True).array[0, :4], out[0, :4],
                               rtol=1e-5, atol=1e-6)  # ... the past does not see it


def test_gpt_with_performer_attention():
    gn.manual_seed(0)
    model = GPT(11, 16, 2, 2, 16, attention="performer").eval()
    assert "transformer.h.0.attn.features" in model.state_dict()
    idx = gn.tensor(np.random.default_rng(0).integers(0, 11, (2, 12)))
    logits, loss = model(idx, idx)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    # the key/value cache continues a sequence exactly as a forward over the whole of it
    cache = gn.models.KVCache(2)
    with gn.no_grad():
        first = model.hidden(idx[:, :7], cache)
        rest = model.hidden(idx[:, 7:], cache)
    full = model.hidden(idx).array
    np.testing.assert_allclose(np.concatenate([first.array, rest.array], 1), full, rtol=1e-4, atol=1e-5)
    cached = model.generate(idx[:, :3], 5, temperature=0, use_cache=True).array
    assert (cached == model.generate(idx[:, :3], 5, temperature=0, use_cache=False).array).all()


def test_gpt_full_attention_state_dict_unchanged():
    assert not any("features" in k for k in GPT(11, 16, 1, 2, 16).state_dict())


def _t(*shape, dtype=np.float32):
    return gn.tensor(np.ones(shape, dtype))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.linformer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4), _t(3, 6), _t(3, 6)), ValueError,
     "S = 5 keys"),
    (lambda: F.linformer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4), _t(3, 5), _t(2, 5)), ValueError,
     "one shape"),
    (lambda: F.linformer_attention(_t(5, 4), _t(5, 4), _t(5, 4), _t(3, 5), _t(3, 5)), ValueError, "(B, L, d)"),
    (lambda: F.performer_attention(_t(2, 5, 4), _t(2, 5, 3), _t(2, 5, 4), _t(8, 4)), ValueError, "do not fit"),
    (lambda: F.performer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4), _t(8, 3)), ValueError, "d = 4"),
    (lambda: F.performer_attention(_t(2, 6, 4), _t(2, 5, 4), _t(2, 5, 4), _t(8, 4), causal=True), ValueError,
     "at least as many keys"),
    (lambda: F.performer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4), _t(8, 4), chunk_size=0), ValueError,
     "chunk_size"),
    (lambda: F.performer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4), _t(8, 4),
                                   key_padding_mask=np.zeros((2, 4), bool)), ValueError, "(B, S) = (2, 5)"),
    (lambda: F.performer_attention(_t(2, 5, 4), _t(2, 5, 4), _t(2, 5, 4, dtype=np.float64), _t(8, 4)), TypeError,
     "one dtype"),
    (lambda: F.orthogonal_random_features(0, 4), ValueError, "positive ints"),
    (lambda: GPT(11, 16, 1, 2, 16, attention="linformer"), ValueError, "cannot be causal"),
    (lambda: gn.nn.LinformerSelfAttention(8, 2, 6, batch_first=True)(_t(1, 7, 8), _t(1, 7, 8), _t(1, 7, 8)),
     ValueError, "self-attention only"),
    (lambda: gn.nn.TransformerEncoderLayer(8, 2, attention="performer"), TypeError, "must be a Module"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_module_errors():
    lin = gn.nn.LinformerSelfAttention(8, 2, 6, batch_first=True)
    x = _t(1, 7, 8)
    with pytest.raises(ValueError, match="longer than seq_len=6"):
        lin(x, x, x)
    x = _t(1, 6, 8)
    with pytest.raises(ValueError, match="cannot be causal"):
        lin(x, x, x, is_causal=True, attn_mask=gn.nn.Transformer.generate_square_subsequent_mask(6))
    with pytest.raises(ValueError, match="no weights"):
        gn.nn.PerformerSelfAttention(8, 2, batch_first=True)(x, x, x, need_weights=True)
    with pytest.raises(ValueError, match="takes no attn_mask"):
        gn.nn.PerformerSelfAttention(8, 2, batch_first=True)(x, x, x, attn_mask=_t(6, 6))
