"""`MultiheadAttention`, with torch.nn.MultiheadAttention's parameters, masks and outputs.

Per head h (head_dim = embed_dim / num_heads):
    Q_h = query W_q,h^T + b_q,h,   K_h = key W_k,h^T + b_k,h,   V_h = value W_v,h^T + b_v,h
    head_h = softmax(Q_h K_h^T / sqrt(head_dim) + mask) V_h
    output = concat(head_1, ..., head_H) W_o^T + b_o
The attention itself is the fused `scaled_dot_product_attention` node of glassnet.ops.attention.

Mask conventions (PyTorch's for this module, the opposite of scaled_dot_product_attention's): in a
bool `key_padding_mask` or `attn_mask`, True means "masked out"; float masks are added to the scores.
"""
import numbers
import warnings

import numpy as np

from ... import dtypes
from ...ops.attention import _attention
from ...ops.indexing import cat, pad
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


def _canonical_mask(mask, name, dtype, other=None, other_name=""):
    """A mask as an additive float tensor of `dtype`: bool True -> -inf, False -> 0; float masks unchanged.

    Warns (as PyTorch) when `other` (the other mask) has a different dtype.
    """
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got {mask.dtype}")
    if other is not None and isinstance(other, Tensor) and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask.array, np.array(-np.inf, dtype), np.array(0, dtype)))
    return mask


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017), as torch.nn.MultiheadAttention.

    Parameters (state_dict keys as PyTorch): `in_proj_weight` (3E, E) when kdim == vdim == E, else
    `q_proj_weight` (E, E), `k_proj_weight` (E, kdim), `v_proj_weight` (E, vdim); `in_proj_bias` (3E,)
    if bias; `out_proj` a Linear(E, E); `bias_k`, `bias_v` (1, 1, E) if add_bias_kv. Init:
    xavier_uniform_ on the projections, zero biases, xavier_normal_ on bias_k / bias_v.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights). Shapes (batch_first=False):
    query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> output (L, N, E); with batch_first
    (N, L, E) etc.; unbatched (L, E), (S, kdim), (S, vdim) -> (L, E). key_padding_mask (N, S) or (S,);
    attn_mask (L, S) or (N * num_heads, L, S). weights: (N, L, S) averaged over heads, or
    (N, num_heads, L, S), or None when need_weights=False. Dropout (p=dropout) acts on the attention
    weights in training mode only.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {v!r}")
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout probability has to be between 0 and 1, got {dropout!r}")
        super().__init__()
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"MultiheadAttention: dtype must be a floating point type, got {dtype}")
        self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        E = self.embed_dim
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ---- forward ------------------------------------------------------------------------------------
    def _check_shapes(self, query, key, value, key_padding_mask, attn_mask):
        """PyTorch's shape rules; returns whether the input is batched."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor (shape {query.shape})")
        batched = query.ndim == 3
        what = "batched (3-D)" if batched else "unbatched (2-D)"
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: for {what} query, expected key and value to be {query.ndim}-D, "
                             f"got shapes {key.shape} and {value.shape}")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise ValueError(f"MultiheadAttention: for {what} query, expected key_padding_mask to be None or "
                             f"{query.ndim - 1}-D, got shape {key_padding_mask.shape}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: expected attn_mask to be None, 2-D or 3-D, got shape "
                             f"{attn_mask.shape}")
        for name, t, n in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != n:
                raise ValueError(f"MultiheadAttention: expected {name} with last dimension {n}, got shape {t.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiheadAttention: key's sequence and batch dims {key.shape[:-1]} do not match "
                             f"value's {value.shape[:-1]}")
        if batched:
            b = 0 if self.batch_first else 1
            if key.shape[b] != query.shape[b]:
                raise ValueError(f"MultiheadAttention: query {query.shape} and key {key.shape} have different "
                                 f"batch sizes (batch_first={self.batch_first})")
        return batched

    def _project(self, query, key, value):
        """The input projections: one GEMM for self-attention, two when key is value, else three."""
        from ..functional import linear

        E = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if not self._qkv_same_embed_dim:
            return (linear(query, self.q_proj_weight, bq), linear(key, self.k_proj_weight, bk),
                    linear(value, self.v_proj_weight, bv))
        if query is key and key is value:
            qkv = linear(query, w, b)
            return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        q = linear(query, w[:E], bq)
        if key is value:
            kv = linear(key, w[E:], None if b is None else b[E:])
            return q, kv[..., :E], kv[..., E:]
        return q, linear(key, w[E:2 * E], bk), linear(value, w[2 * E:], bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, attention weights or None); see the class docstring for shapes and masks."""
        batched = self._check_shapes(query, key, value, key_padding_mask, attn_mask)
        dtype = query.dtype
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype, attn_mask, "attn_mask")
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask` to create this mask.")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # the hint: let the fused kernel build the causal mask itself
        else:
            attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
            is_causal = False

        if not batched:  # (L, E) -> one batch element in the layout of this module
            axis = 0 if self.batch_first else 1
            same_qk, same_kv = query is key, key is value  # keep identities: they pick the fused projections
            query = query.unsqueeze(axis)
            key = query if same_qk else key.unsqueeze(axis)
            value = key if same_kv else value.unsqueeze(axis)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        seq_axis = 1 if self.batch_first else 0
        N = query.shape[1 - seq_axis]
        L, S = query.shape[seq_axis], key.shape[seq_axis]
        H, D = self.num_heads, self.head_dim

        q, k, v = self._project(query, key, value)
        if attn_mask is not None:
            expected = (L, S) if attn_mask.ndim == 2 else (N * H, L, S)
            if attn_mask.shape != expected:
                raise ValueError(f"MultiheadAttention: the shape of the {attn_mask.ndim}D attn_mask is "
                                 f"{attn_mask.shape}, but should be {expected}")
            if attn_mask.ndim == 3:  # row b * H + h belongs to batch element b, head h
                attn_mask = attn_mask.reshape(N, H, L, S)
        if key_padding_mask is not None and key_padding_mask.shape != (N, S):
            raise ValueError(f"MultiheadAttention: expected key_padding_mask of shape {(N, S)} (batch, source "
                             f"length), got {key_padding_mask.shape}")

        if self.bias_k is not None:  # one more key/value position, the learned bias_k / bias_v
            shape = (1, N, self.embed_dim) if seq_axis == 0 else (N, 1, self.embed_dim)
            k = cat([k, self.bias_k.expand(*shape)], seq_axis)
            v = cat([v, self.bias_v.expand(*shape)], seq_axis)
            attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))

        # (seq, N, E) or (N, seq, E) -> (N, H, seq, D)
        order = (1, 2, 0, 3) if seq_axis == 0 else (0, 2, 1, 3)
        q = q.reshape(*q.shape[:2], H, D).permute(*order)
        k = k.reshape(*k.shape[:2], H, D).permute(*order)
        v = v.reshape(*v.shape[:2], H, D).permute(*order)
        if self.add_zero_attn:  # one more key/value position of zeros
            zeros = Tensor._make(np.zeros((N, H, 1, D), dtype))
            k = cat([k, zeros], 2)
            v = cat([v, zeros], 2)
            attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
        if key_padding_mask is not None:
            kpm = key_padding_mask.reshape(N, 1, 1, key_padding_mask.shape[-1])
            attn_mask = kpm if attn_mask is None else attn_mask + kpm

        p = self.dropout if self.training else 0.0
        result = _attention(q, k, v, attn_mask, p, is_causal, safe=not need_weights, weights=need_weights,
                            op="MultiheadAttention")
        out, weights = result if need_weights else (result, None)
        # (N, H, L, D) -> (L, N, H, D) or (N, L, H, D) -> (..., E), then the output projection
        out = out.permute(*((2, 0, 1, 3) if seq_axis == 0 else (0, 2, 1, 3)))
        out = self.out_proj(out.reshape(*out.shape[:2], self.embed_dim))
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out = out.squeeze(1 - seq_axis)
            weights = None if weights is None else weights.squeeze(0)
        return out, weights
