"""GPT: a decoder-only Transformer language model in the GPT-2 layout (Radford et al. 2019).

    idx (B, T) token ids
      -> token embedding wte + learned position embedding wpe, dropout
      -> n_layer pre-norm blocks:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
             attn: causal multi-head self-attention (scaled_dot_product_attention, is_causal=True)
             mlp:  Linear(C, 4C) -> GELU (GPT-2's tanh approximation) -> Linear(4C, C)
      -> ln_f -> lm_head (its weight IS wte's weight: weight tying) -> logits (B, T, vocab_size)

Parameter names follow the usual GPT-2 checkpoints (transformer.wte, transformer.h.0.attn.c_attn, ...,
lm_head), so a PyTorch model written with the same names loads with load_state_dict.
Initialisation as GPT-2: every Linear and Embedding weight ~ N(0, 0.02), biases 0, and the two
projections that write into the residual stream (attn.c_proj, mlp.c_proj) ~ N(0, 0.02 / sqrt(2 n_layer)).

`stream` samples autoregressively with temperature, top-k and top-p (nucleus) filtering and yields each
new token as it is drawn; `generate` collects them. Both use a key/value cache: each new token attends
to the stored keys and values of the earlier ones instead of recomputing the whole context.
"""
import math

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import functional as F
from ..ops.efficient_attention import default_num_features, orthogonal_random_features
from ..ops.indexing import cat
from ..random import rng
from ..tensor import Tensor

__all__ = ["GPT", "KVCache", "sample_next_token"]


class KVCache:
    """The keys and values of the tokens seen so far, per layer: each (B, nh, T_past, hs)."""

    def __init__(self, n_layer):
        self.keys = [None] * n_layer
        self.values = [None] * n_layer

    @property
    def length(self):
        """How many positions are stored (0 when empty)."""
        return self.layer_length(0)

    def clear(self):
        """Forget every stored position."""
        self.keys = [None] * len(self.keys)
        self.values = [None] * len(self.values)

    def layer_length(self, layer):
        return 0 if self.keys[layer] is None else self.keys[layer].shape[2]

    def append(self, layer, k, v):
        """Add the new positions' k, v (B, nh, T, hs) for `layer`; return all keys and values so far."""
        if self.keys[layer] is not None:
            k = cat([self.keys[layer], k], 2)
            v = cat([self.values[layer], v], 2)
        self.keys[layer], self.values[layer] = k, v
        return k, v


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t only sees positions <= t.

    c_attn: Linear(C, 3C) gives queries, keys and values in one product; c_proj: Linear(C, C).
    attention "performer": FAVOR+ random-feature attention (F.performer_attention, linear in T) with the
    buffer `features` (m, hs) in place of exact softmax attention (no attention dropout then).
    """

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True, attention="full"):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd={n_embd} must be divisible by n_head={n_head}")
        self.n_head, self.n_embd, self.dropout, self.attention = n_head, n_embd, dropout, attention
        if attention == "performer":
            hs = n_embd // n_head
            self.register_buffer("features", orthogonal_random_features(default_num_features(hs), hs))
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x, kv_cache=None, layer=0):
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # each (B, T, C)
        q = q.reshape(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.reshape(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.reshape(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if kv_cache is not None:
            past = kv_cache.layer_length(layer)
            k, v = kv_cache.append(layer, k, v)  # (B, nh, past + T, hs)
        p = self.dropout if self.training else 0.0
        if self.attention == "performer":  # the T queries are the last T of the past + T positions
            y = F.performer_attention(q, k, v, self.features, causal=True)
        elif past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        elif T == 1:  # the newest token sees every position
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        else:
            # new query i sits at position past + i and may see keys 0 ... past + i
            mask = np.arange(past + T)[None, :] <= past + np.arange(T)[:, None]  # (T, past + T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor._make(mask), dropout_p=p)
        # (B, nh, T, hs) -> (B, T, nh, hs) -> (B, T, C): the heads side by side again
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Linear(C, 4C) -> GELU (tanh approximation, as GPT-2) -> Linear(4C, C) -> dropout."""

    def __init__(self, n_embd, dropout=0.0, bias=True):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-norm Transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True, attention="full"):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias, attention)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x, kv_cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), kv_cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only Transformer language model (see the module docstring).

    vocab_size: number of token ids; block_size: the longest context (learned positions);
    n_layer, n_head, n_embd: depth, heads per attention, width; dropout: on embeddings, attention
    weights and residual branches (training mode only); bias: biases in Linear and LayerNorm;
    attention: "full" (softmax attention) or "performer" (linear in T; see CausalSelfAttention).

    forward(idx, targets=None) -> (logits (B, T, vocab_size), loss or None): loss is the mean
    cross-entropy of logits against targets (B, T); targets equal to -100 are ignored.
    """

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0, bias=True, attention="full"):
        super().__init__()
        if attention not in ("full", "performer"):
            raise ValueError(f"GPT: attention must be 'full' or 'performer', got {attention!r}" + (
                " (Linformer mixes every position into each projected key, the future included: it cannot be "
                "causal)" if attention == "linformer" else ""))
        for name, v in (("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
                        ("n_head", n_head), ("n_embd", n_embd)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"GPT: {name} must be a positive int, got {v!r}")
        self.vocab_size, self.block_size = int(vocab_size), int(block_size)
        self.n_layer, self.n_head, self.n_embd = int(n_layer), int(n_head), int(n_embd)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block(n_embd, n_head, dropout, bias, attention) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd, bias=bias),
        ))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying: one matrix, two uses
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # the residual projections, scaled for depth
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def get_num_params(self, non_embedding=True):
        """Number of parameters (the tied embedding counted once); without the position embedding
        when non_embedding (the token embedding is also the output layer, so it stays counted)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def hidden(self, idx, kv_cache=None):
        """The final normalised hidden states (B, T, n_embd) of the tokens idx (B, T); with a cache,
        idx continues the tokens already stored there."""
        if not isinstance(idx, Tensor) or idx.ndim != 2 or idx.dtype.kind not in "iu":
            raise ValueError(f"GPT: idx must be an integer Tensor (B, T), got "
                             f"{getattr(idx, 'dtype', type(idx).__name__)} {getattr(idx, 'shape', '')}")
        B, T = idx.shape
        past = kv_cache.length if kv_cache is not None else 0
        if past + T > self.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {past + T}, block size is only "
                             f"{self.block_size}")
        pos = Tensor._make(np.arange(past, past + T, dtype=np.int64))  # (T,)
        tok_emb = self.transformer.wte(idx)  # (B, T, C)
        pos_emb = self.transformer.wpe(pos)  # (T, C)
        x = self.transformer.drop(tok_emb + pos_emb)
        for i, block in enumerate(self.transformer.h):
            x = block(x, kv_cache, i)
        return self.transformer.ln_f(x)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.hidden(idx))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            if targets.shape != idx.shape:
                raise ValueError(f"GPT: targets {targets.shape} must have the shape of idx {idx.shape}")
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def crop_block_size(self, block_size):
        """Shrink the context to a smaller block_size (keeps the first position embeddings)."""
        if not 0 < block_size <= self.block_size:
            raise ValueError(f"GPT.crop_block_size: need 0 < block_size <= {self.block_size}, got {block_size}")
        self.block_size = block_size
        wpe = self.transformer.wpe
        wpe.weight = nn.Parameter(wpe.weight.array[:block_size].copy())
        wpe.num_embeddings = block_size

    def configure_optimizers(self, weight_decay, learning_rate, betas=(0.9, 0.95), eps=1e-8):
        """AdamW with weight decay on the matrices (2-D and up: Linear weights, embeddings) and none on
        biases and LayerNorm parameters."""
        from .. import optim

        params = list(self.parameters())
        groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
        return optim.AdamW(groups, lr=learning_rate, betas=betas, eps=eps)

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None,
                 use_cache=True):
        """Continue each row of idx (B, T) by max_new_tokens sampled tokens; returns (B, T + max_new_tokens).

        temperature scales the logits (0 picks the most likely token: greedy); top_k keeps the k most
        likely tokens; top_p keeps the smallest set of most likely tokens whose probability reaches
        top_p. Draws come from `generator` (default: glassnet's default generator). With use_cache,
        keys and values of earlier positions are reused; the result is the same as without (only
        faster). Contexts longer than block_size are cropped to the last block_size tokens (and the
        cache rebuilt, the positions having shifted). Runs without a graph; dropout follows the
        module's mode (call .eval() first for deterministic sampling). The tokens come from `stream`.
        """
        new = list(self.stream(idx, max_new_tokens, temperature, top_k, top_p, generator, use_cache))
        return Tensor._make(np.concatenate([idx.array.astype(np.int64)] + [t[:, None] for t in new], 1))

    def stream(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None,
               use_cache=True):
        """Yield the max_new_tokens new tokens that continue idx (B, T), one (B,) int64 NumPy array per step,
        each as soon as it is drawn (the arguments as in `generate`, which collects them).

        With use_cache, each new token costs one forward of that one token against the cached keys and
        values, until the context fills block_size: from then on the oldest token drops out at every
        step, every position shifts, and the cache is rebuilt from the cropped context (a forward of
        block_size tokens per new token, as without the cache). Arguments are checked at the call;
        the work happens as the tokens are taken, each forward without a graph.
        """
        if not isinstance(idx, Tensor) or idx.ndim != 2 or idx.shape[1] == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"GPT.generate: idx must be a non-empty integer Tensor (B, T), got "
                             f"{getattr(idx, 'dtype', type(idx).__name__)} {getattr(idx, 'shape', '')}")
        if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
        context = idx.array[:, -self.block_size:].astype(np.int64)  # (B, <= block_size)
        return self._stream(context, int(max_new_tokens), temperature, top_k, top_p, generator, use_cache)

    def _stream(self, context, max_new_tokens, temperature, top_k, top_p, generator, use_cache):
        cache = KVCache(self.n_layer) if use_cache else None
        for _ in range(max_new_tokens):
            with no_grad():  # not held across the yield: the caller's own code keeps its grad mode
                logits = self._next_logits(context, cache)  # (B, vocab_size)
            nxt = sample_next_token(logits, temperature, top_k, top_p, generator)  # (B,)
            kept = context[:, max(0, context.shape[1] - self.block_size + 1):]
            context = np.concatenate([kept, nxt[:, None]], 1)  # the last block_size tokens
            yield nxt

    def _next_logits(self, context, cache):
        """Logits of the token after context (B, T <= block_size); `cache` (or None) holds the keys and
        values of all but context's last token, or must be (re)filled from the whole context."""
        if cache is None:
            h = self.hidden(Tensor._make(context))
        elif cache.length == 0 or cache.length != context.shape[1] - 1:  # first call, or the window slid
            cache.clear()
            h = self.hidden(Tensor._make(context), cache)
        else:
            h = self.hidden(Tensor._make(context[:, -1:]), cache)  # only the newest token
        return self.lm_head(h[:, -1, :]).array


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """One token id per row of logits (B, V) (a NumPy array), as in GPT.generate; returns (B,) int64."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"sample_next_token: temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(-1).astype(np.int64)
    logits = logits / temperature
    V = logits.shape[-1]
    if top_k is not None:
        if not 1 <= top_k:
            raise ValueError(f"sample_next_token: top_k must be >= 1, got {top_k}")
        k = min(int(top_k), V)
        kth = np.partition(logits, V - k, axis=-1)[:, V - k : V - k + 1]  # the k-th largest of each row
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"sample_next_token: top_p must be in (0, 1], got {top_p}")
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_p = np.take_along_axis(probs, order, -1)
        before = np.cumsum(sorted_p, -1) - sorted_p  # probability of the more likely tokens
        drop_sorted = before >= top_p  # the most likely token is always kept
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, -1)
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(-1, keepdims=True)
    u = rng(generator).random(len(probs))
    cdf = np.cumsum(probs, -1)
    return np.minimum((cdf < u[:, None] * cdf[:, -1:]).sum(-1), V - 1).astype(np.int64)
