"""Models: GPT (shapes, gradients, PyTorch weights, KV cache, causality, sampling), the encoder-decoder
Transformer, the BERT-style encoder with its masking rule, and the ViT."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.nn import functional as TF

import glassnet as gn
from glassnet import nn
from glassnet.models import GPT, BertForMaskedLM, Seq2SeqTransformer, ViT, mask_tokens, patchify, sample_next_token


def _all_params_get_gradient(model, loss):
    model.zero_grad()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert p.grad.shape == p.shape
        assert np.abs(p.grad.array).max() > 0, f"{name} got an all-zero gradient"


# ---- GPT ------------------------------------------------------------------------------------------
def small_gpt(seed=0, **kw):
    gn.manual_seed(seed)
    options = dict(vocab_size=23, block_size=16, n_layer=2, n_head=2, n_embd=16)
    options.update(kw)
    return GPT(**options)


def test_gpt_shapes_loss_and_gradients():
    model = small_gpt()
    idx = gn.randint(0, 23, (3, 16))
    logits, loss = model(idx)
    assert logits.shape == (3, 16, 23) and loss is None
    logits, loss = model(idx, gn.randint(0, 23, (3, 16)))
    assert loss.shape == () and abs(loss.item() - math.log(23)) < 0.1  # small init: near uniform
    _all_params_get_gradient(model, loss)
    assert model.lm_head.weight is model.transformer.wte.weight  # tied
    keys = list(model.state_dict())
    assert "transformer.wte.weight" in keys and "lm_head.weight" in keys
    assert "transformer.h.1.attn.c_attn.weight" in keys and "transformer.h.0.mlp.c_proj.bias" in keys
    n_unique = sum(p.numel() for p in model.parameters())
    assert model.get_num_params(False) == n_unique
    assert model.get_num_params() == n_unique - 16 * 16


def test_gpt_init_follows_gpt2():
    model = small_gpt(n_layer=8, n_embd=64, block_size=64, vocab_size=200)
    w = model.transformer.h[0].mlp.c_fc.weight.array
    proj = np.concatenate([b.attn.c_proj.weight.array.ravel() for b in model.transformer.h])
    assert abs(w.std() - 0.02) < 0.002
    assert abs(proj.std() - 0.02 / math.sqrt(16)) < 0.0006
    assert np.all(model.transformer.h[0].attn.c_attn.bias.array == 0)
    assert abs(model.transformer.wte.weight.array.std() - 0.02) < 0.002


def test_gpt_ignores_minus_100_targets():
    model = small_gpt()
    idx = gn.randint(0, 23, (2, 8))
    y = idx.array.copy()
    y[:, :4] = -100
    logits, loss = model(idx, gn.tensor(y))
    kept = logits.array[:, 4:].reshape(-1, 23)
    logp = kept - np.log(np.exp(kept).sum(-1, keepdims=True))
    ref = -logp[np.arange(len(kept)), y[:, 4:].ravel()].mean()
    assert abs(loss.item() - ref) < 1e-5


def test_gpt_is_causal():
    model = small_gpt()
    idx = gn.randint(0, 23, (2, 12))
    base = model(idx)[0].array
    for t in (0, 5, 11):
        changed = idx.array.copy()
        changed[:, t] = (changed[:, t] + 1) % 23
        out = model(gn.tensor(changed))[0].array
        np.testing.assert_array_equal(out[:, :t], base[:, :t])  # earlier positions exactly unchanged
        assert np.abs(out[:, t:] - base[:, t:]).max() > 1e-4


def test_kv_cache_gives_the_same_logits():
    model = small_gpt().eval()
    idx = gn.randint(0, 23, (2, 10))
    full = model.lm_head(model.hidden(idx)).array
    from glassnet.models.gpt import KVCache

    cache = KVCache(model.n_layer)
    parts = [model.lm_head(model.hidden(idx[:, :4], cache)).array]  # a prompt, then one token at a time,
    parts.append(model.lm_head(model.hidden(idx[:, 4:7], cache)).array)  # then several at once
    for t in range(7, 10):
        parts.append(model.lm_head(model.hidden(idx[:, t:t + 1], cache)).array)
    np.testing.assert_allclose(np.concatenate(parts, 1), full, rtol=1e-5, atol=1e-5)
    assert cache.length == 10


@pytest.mark.parametrize("options", [dict(), dict(top_k=5), dict(top_p=0.9, temperature=0.8), dict(temperature=0)])
def test_cached_generation_equals_uncached(options):
    model = small_gpt(seed=1).eval()
    prompt = gn.randint(0, 23, (3, 5))
    # 30 new tokens: past block_size=16, so the cropped-context path is exercised too
    a = model.generate(prompt, 30, generator=gn.Generator(7), use_cache=True, **options)
    b = model.generate(prompt, 30, generator=gn.Generator(7), use_cache=False, **options)
    assert a.shape == (3, 35) and a.dtype == np.int64
    np.testing.assert_array_equal(a.array, b.array)
    np.testing.assert_array_equal(a.array[:, :5], prompt.array)


@pytest.mark.parametrize("prompt_len", [5, 20])  # 20 > block_size: the prompt itself is cropped
def test_streamed_tokens_equal_uncached_generation(prompt_len):
    model = small_gpt(seed=2).eval()
    prompt = gn.randint(0, 23, (3, prompt_len))
    stream = model.stream(prompt, 30, top_k=10, generator=gn.Generator(3))
    first = next(stream)
    assert first.shape == (3,) and first.dtype == np.int64
    assert gn.is_grad_enabled()  # the stream's no_grad does not outlive a step
    streamed = np.stack([first] + list(stream), 1)
    reference = model.generate(prompt, 30, top_k=10, generator=gn.Generator(3), use_cache=False)
    np.testing.assert_array_equal(streamed, reference.array[:, prompt_len:])


def test_stream_forwards_one_token_per_step_until_the_window_slides(monkeypatch):
    model = small_gpt(seed=3).eval()  # block_size 16
    lengths = []
    hidden = model.hidden
    monkeypatch.setattr(model, "hidden", lambda idx, cache=None: lengths.append(idx.shape[1]) or hidden(idx, cache))
    tokens = list(model.stream(gn.randint(0, 23, (2, 5)), 20, generator=gn.Generator(0)))
    assert len(tokens) == 20
    # the prompt (5), then one token at a time up to a full window (16), then the whole window per token
    assert lengths == [5] + [1] * 11 + [16] * 8


def test_stream_checks_its_arguments_at_the_call():
    model = small_gpt()
    with pytest.raises(ValueError, match="GPT.generate: idx"):
        model.stream(gn.zeros(1, 4), 3)  # floats, not token ids
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.stream(gn.zeros(1, 4, dtype=gn.int64), -1)


def test_sampling_rules():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 20000))
    g = gn.Generator(0)
    counts = np.bincount(sample_next_token(logits, generator=g), minlength=4) / 20000
    np.testing.assert_allclose(counts, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    top2 = np.bincount(sample_next_token(logits, top_k=2, generator=g), minlength=4) / 20000
    np.testing.assert_allclose(top2, [0.625, 0.375, 0, 0], atol=0.015)
    nucleus = np.bincount(sample_next_token(logits, top_p=0.7, generator=g), minlength=4) / 20000
    np.testing.assert_allclose(nucleus, [0.625, 0.375, 0, 0], atol=0.015)  # 0.5 < 0.7 <= 0.8
    assert (sample_next_token(logits, top_p=0.4, generator=g) == 0).all()
    assert (sample_next_token(logits, temperature=0) == 0).all()
    cold = np.bincount(sample_next_token(logits, temperature=0.5, generator=g), minlength=4) / 20000
    p = np.array([0.5, 0.3, 0.15, 0.05]) ** 2
    np.testing.assert_allclose(cold, p / p.sum(), atol=0.015)


def test_generate_rejects_bad_arguments():
    model = small_gpt()
    with pytest.raises(ValueError, match="GPT.generate"):
        model.generate(gn.zeros(2, dtype=gn.int64), 3)
    with pytest.raises(ValueError, match="block size"):
        model(gn.zeros(1, 17, dtype=gn.int64))
    with pytest.raises(ValueError, match="idx must be an integer"):
        model(gn.zeros(1, 4))
    with pytest.raises(ValueError, match="divisible"):
        GPT(10, 8, 1, 3, 16)


class TorchBlock(tnn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.C, self.H = C, H
        self.ln_1 = tnn.LayerNorm(C)
        self.attn = tnn.Module()
        self.attn.c_attn, self.attn.c_proj = tnn.Linear(C, 3 * C), tnn.Linear(C, C)
        self.ln_2 = tnn.LayerNorm(C)
        self.mlp = tnn.Module()
        self.mlp.c_fc, self.mlp.c_proj = tnn.Linear(C, 4 * C), tnn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (z.view(B, T, self.H, C // self.H).transpose(1, 2) for z in (q, k, v))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(TF.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class TorchGPT(tnn.Module):
    """The same architecture written in PyTorch, with the same parameter names."""

    def __init__(self, V, T, L, H, C):
        super().__init__()
        self.transformer = tnn.ModuleDict(dict(wte=tnn.Embedding(V, C), wpe=tnn.Embedding(T, C),
                                               h=tnn.ModuleList([TorchBlock(C, H) for _ in range(L)]),
                                               ln_f=tnn.LayerNorm(C)))
        self.lm_head = tnn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, TF.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def test_gpt_loads_pytorch_weights_and_matches_it():
    torch.manual_seed(0)
    ref = TorchGPT(29, 12, 2, 4, 32)
    with torch.no_grad():  # non-trivial LayerNorm parameters and biases
        for name, p in ref.named_parameters():
            if "ln" in name or "bias" in name:
                p.add_(0.1 * torch.randn_like(p))
    model = GPT(29, 12, 2, 4, 32)
    assert list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 29, (3, 12)), rng.integers(0, 29, (3, 12))
    t_logits, t_loss = ref(torch.from_numpy(x), torch.from_numpy(y))
    g_logits, g_loss = model(gn.tensor(x), gn.tensor(y))
    np.testing.assert_allclose(g_logits.array, t_logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert abs(g_loss.item() - t_loss.item()) < 1e-5
    t_loss.backward()
    g_loss.backward()
    t_grads = dict(ref.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.array, t_grads[name].grad.numpy(), rtol=1e-3, atol=2e-6, err_msg=name)


def test_gpt_state_dict_round_trip_keeps_tying(tmp_path):
    model = small_gpt(seed=3)
    gn.save(model.state_dict(), tmp_path / "gpt.safetensors")
    other = small_gpt(seed=4)
    other.load_state_dict(gn.load(tmp_path / "gpt.safetensors"))
    assert other.lm_head.weight is other.transformer.wte.weight
    idx = gn.randint(0, 23, (2, 6))
    np.testing.assert_array_equal(other(idx)[0].array, model(idx)[0].array)


def test_gpt_dropout_only_in_training():
    model = small_gpt(dropout=0.5)
    idx = gn.randint(0, 23, (2, 8))
    model.eval()
    np.testing.assert_array_equal(model(idx)[0].array, model(idx)[0].array)
    model.train()
    assert np.abs(model(idx)[0].array - model(idx)[0].array).max() > 0


# ---- encoder-decoder Transformer ------------------------------------------------------------------
def small_seq2seq(seed=0, dropout=0.0):
    gn.manual_seed(seed)
    return Seq2SeqTransformer(20, 25, d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                              dim_feedforward=64, dropout=dropout, max_len=16)


def test_seq2seq_shapes_and_gradients():
    model = small_seq2seq()
    src = gn.tensor([[5, 6, 7, 8], [9, 4, 0, 0]])
    tgt = gn.tensor([[1, 5, 6], [1, 7, 0]])
    logits = model(src, tgt)
    assert logits.shape == (2, 3, 25)
    loss = gn.nn.functional.cross_entropy(logits.reshape(-1, 25), gn.tensor([5, 6, 2, 7, 2, -100]))
    model.zero_grad()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name


def test_seq2seq_padding_and_causality():
    model = small_seq2seq().eval()
    src = gn.tensor([[5, 6, 7]])
    padded = gn.tensor([[5, 6, 7, 0, 0]])
    tgt = gn.tensor([[1, 8, 9, 10]])
    out = model(src, tgt).array
    np.testing.assert_allclose(model(padded, tgt).array, out, rtol=1e-5, atol=1e-5)  # padding is invisible
    later = gn.tensor([[1, 8, 11, 12]])
    np.testing.assert_allclose(model(src, later).array[:, :2], out[:, :2], rtol=1e-6, atol=1e-6)  # causal


def test_seq2seq_greedy_decode_and_cross_attention():
    model = small_seq2seq().eval()
    src = gn.tensor([[5, 6, 7, 8], [9, 4, 0, 0]])
    out = model.greedy_decode(src, bos=1, eos=2, max_len=6)
    assert out.shape[0] == 2 and out.shape[1] <= 6 and out.dtype == np.int64
    # greedy: each token is the argmax given the previous ones
    tgt = np.concatenate([np.ones((2, 1), np.int64), out], 1)
    logits = model(src, gn.tensor(tgt[:, :-1])).array
    done = np.cumsum(out == 2, 1) - (out == 2) > 0  # positions after an eos are padding
    assert (logits.argmax(-1) == out)[~done].all()
    weights = model.cross_attention(src, gn.tensor([[1, 5, 6], [1, 7, 8]]))
    assert len(weights) == 2 and weights[0].shape == (2, 4, 3, 4)
    np.testing.assert_allclose(weights[1].sum(-1), 1, atol=1e-5)
    assert np.all(weights[0][1, :, :, 2:] == 0)  # no attention on the source padding
    mean = model.cross_attention(src, gn.tensor([[1, 5, 6], [1, 7, 8]]), average_heads=True)
    np.testing.assert_allclose(mean[0], weights[0].mean(1), rtol=1e-5, atol=1e-7)
    assert not model.transformer.decoder.layers[0].multihead_attn._forward_hooks  # hooks removed


# ---- BERT -----------------------------------------------------------------------------------------
def test_mask_tokens_rule():
    ids = np.random.default_rng(0).integers(5, 50, (200, 100))
    ids[:, -10:] = 0  # padding: never chosen
    inputs, labels = mask_tokens(ids, mask_id=4, vocab_size=50, special_ids=(0, 1, 2, 3, 4), generator=gn.Generator(0),
                                 random_low=5)
    chosen = labels.array != -100
    assert not chosen[:, -10:].any()
    assert abs(chosen[:, :-10].mean() - 0.15) < 0.01
    np.testing.assert_array_equal(labels.array[chosen], ids[chosen])
    masked = inputs.array[chosen] == 4
    unchanged = inputs.array[chosen] == ids[chosen]
    assert abs(masked.mean() - 0.8) < 0.02
    assert abs(unchanged.mean() - 0.1 - 0.1 / 45) < 0.02  # kept, plus random draws that hit the same id
    np.testing.assert_array_equal(inputs.array[~chosen], ids[~chosen])
    assert inputs.array.min() >= 0 and inputs.array.max() < 50


def test_bert_shapes_gradients_and_tiny_overfit():
    gn.manual_seed(0)
    model = BertForMaskedLM(30, max_len=12, dim=32, depth=2, heads=4, mlp_dim=64, dropout=0.0)
    ids = gn.randint(5, 30, (8, 12))
    inputs, labels = mask_tokens(ids, mask_id=4, vocab_size=30, special_ids=(0, 1, 2, 3, 4), prob=0.3,
                                 generator=gn.Generator(1), random_low=5)
    logits, loss = model(inputs, labels)
    assert logits.shape == (8, 12, 30)
    _all_params_get_gradient(model, loss)
    assert model.decoder.weight is model.bert.tok_embed.weight
    optimizer = gn.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    first = loss.item()
    for _ in range(100):
        _, loss = model(inputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert first > 3.0 and loss.item() < 0.1  # it memorises the masked tokens of 8 sequences


# ---- ViT ------------------------------------------------------------------------------------------
def test_patchify_equals_a_strided_convolution():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((5, 3, 4, 4)).astype(np.float32)
    conv = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=4)  # (2, 5, 2, 2)
    ours = patchify(gn.tensor(x), 4).array @ w.reshape(5, -1).T  # (2, 4, 5)
    np.testing.assert_allclose(ours, conv.numpy().reshape(2, 5, 4).transpose(0, 2, 1), rtol=1e-5, atol=1e-5)


def test_vit_shapes_gradients_and_tiny_overfit():
    gn.manual_seed(0)
    model = ViT(image_size=8, patch_size=4, in_channels=1, num_classes=3, dim=16, depth=2, heads=2, mlp_dim=32)
    x, y = gn.randn(6, 1, 8, 8), gn.tensor([0, 1, 2, 0, 1, 2])
    logits = model(x)
    assert logits.shape == (6, 3)
    loss = gn.nn.functional.cross_entropy(logits, y)
    _all_params_get_gradient(model, loss)
    optimizer = gn.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        loss = gn.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    with pytest.raises(ValueError, match="ViT: expected images"):
        model(gn.randn(2, 1, 9, 9))
    with pytest.raises(ValueError, match="multiple"):
        ViT(10, 4, 1, 2, 8, 1, 2, 8)
    assert isinstance(model.encoder.layers[0], nn.TransformerEncoderLayer) and model.encoder.layers[0].norm_first
