"""Multi-head self-attention with Linformer or Performer attention inside (glassnet/ops/efficient_attention.py),
called as MultiheadAttention is, so that either can stand in a Transformer encoder layer:

    layer = nn.TransformerEncoderLayer(128, 4, 256, batch_first=True,
                                       attention=nn.PerformerSelfAttention(128, 4, batch_first=True))

Both project x with one Linear to queries, keys and values (`in_proj`, (3E, E)), attend per head and project
back (`out_proj`). Neither builds an attention matrix of the sequence's size, so neither returns weights; they
take a key padding mask, and the Performer also a causal one. Attention dropout is not applied (the layer's
dropout after attention still is).
"""
import math

import numpy as np

from ...ops.efficient_attention import (default_num_features, linformer_attention, orthogonal_random_features,
                                        performer_attention)
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["LinformerSelfAttention", "PerformerSelfAttention"]


def _padding(name, mask):
    """A key padding mask as bool (True: padding): bool masks as given, float masks (what a Transformer layer
    passes on) True where they are -inf; other float values (added scores) cannot be expressed here."""
    if mask is None:
        return None
    a = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if a.dtype == np.bool_:
        return a
    if not np.isin(a, (0, -np.inf)).all():
        raise ValueError(f"{name}: a float key_padding_mask must hold only 0 and -inf (no added scores here)")
    return a == -np.inf


class _EfficientSelfAttention(Module):
    def __init__(self, embed_dim, num_heads, bias, batch_first):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"{type(self).__name__}: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.batch_first = batch_first
        self.in_proj = Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=False, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, None), shapes as MultiheadAttention's: (L, N, E), or (N, L, E) with batch_first."""
        name = type(self).__name__
        if key is not query or value is not query:
            raise ValueError(f"{name}: self-attention only: key and value must be the query tensor itself")
        if need_weights:
            raise ValueError(f"{name}: builds no attention matrix, so it has no weights to return "
                             f"(need_weights=False)")
        if query.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ValueError(f"{name}: expected a batched input (*, *, {self.embed_dim}), got {tuple(query.shape)}")
        causal = self._causal(attn_mask, is_causal)
        x = query if self.batch_first else query.transpose(0, 1)
        N, L, E = x.shape
        H, D = self.num_heads, self.head_dim
        q, k, v = self.in_proj(x).split(E, dim=2)  # each (N, L, E)
        q, k, v = (t.reshape(N, L, H, D).transpose(1, 2) for t in (q, k, v))  # (N, H, L, D)
        y = self._attend(q, k, v, _padding(name, key_padding_mask), causal)  # (N, H, L, D)
        y = self.out_proj(y.transpose(1, 2).reshape(N, L, E))
        return (y if self.batch_first else y.transpose(0, 1)), None

    def _causal(self, attn_mask, is_causal):
        if attn_mask is not None and not is_causal:
            raise ValueError(f"{type(self).__name__}: takes no attn_mask (only a key padding mask, and "
                             f"is_causal where it can be causal)")
        return bool(is_causal)


class LinformerSelfAttention(_EfficientSelfAttention):
    """Multi-head self-attention whose keys and values are projected along the sequence onto `proj_dim` rows
    (Linformer). seq_len: the longest sequence; shorter ones use the first columns of the projections.

    Parameters: in_proj, out_proj, e_proj and f_proj (proj_dim, seq_len), shared by the heads (the paper's
    head-wise sharing), initialised N(0, 1/proj_dim) as the paper's random projections.
    """

    def __init__(self, embed_dim, num_heads, seq_len, proj_dim=64, bias=True, batch_first=False):
        super().__init__(embed_dim, num_heads, bias, batch_first)
        if seq_len < 1 or proj_dim < 1:
            raise ValueError(f"LinformerSelfAttention: seq_len and proj_dim must be positive, got {seq_len}, "
                             f"{proj_dim}")
        self.seq_len, self.proj_dim = seq_len, proj_dim
        self.e_proj = Parameter(np.empty((proj_dim, seq_len), np.float32))
        self.f_proj = Parameter(np.empty((proj_dim, seq_len), np.float32))
        for p in (self.e_proj, self.f_proj):
            init.normal_(p, 0.0, 1 / math.sqrt(proj_dim))

    def _causal(self, attn_mask, is_causal):
        if is_causal:
            raise ValueError("LinformerSelfAttention: cannot be causal (each projected key mixes every position, "
                             "the future included); use PerformerSelfAttention or full attention")
        return super()._causal(attn_mask, is_causal)

    def _attend(self, q, k, v, padding, causal):
        L = q.shape[2]
        if L > self.seq_len:
            raise ValueError(f"LinformerSelfAttention: sequence of {L} positions, longer than seq_len={self.seq_len}")
        e, f = (self.e_proj, self.f_proj) if L == self.seq_len else (self.e_proj[:, :L], self.f_proj[:, :L])
        return linformer_attention(q, k, v, e, f, key_padding_mask=padding)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, seq_len={self.seq_len}, "
                f"proj_dim={self.proj_dim}")


class PerformerSelfAttention(_EfficientSelfAttention):
    """Multi-head self-attention by FAVOR+ random features (Performer): linear in the sequence length, causal
    or not. Buffer `features` (num_features, head_dim): orthogonal random directions, shared by the heads,
    drawn once (`redraw_features` draws new ones).
    """

    def __init__(self, embed_dim, num_heads, num_features=None, bias=True, batch_first=False, chunk_size=64):
        super().__init__(embed_dim, num_heads, bias, batch_first)
        self.num_features = num_features or default_num_features(self.head_dim)
        self.chunk_size = chunk_size
        self.register_buffer("features", orthogonal_random_features(self.num_features, self.head_dim))

    def redraw_features(self, generator=None):
        """Draw new random features (from `generator`, default glassnet's default generator)."""
        self.features.array[...] = orthogonal_random_features(self.num_features, self.head_dim, generator).array

    def _attend(self, q, k, v, padding, causal):
        return performer_attention(q, k, v, self.features, causal=causal, key_padding_mask=padding,
                                   chunk_size=self.chunk_size)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, num_features={self.num_features}"
