"""Position information for attention models: sinusoidal and learned absolute encodings, and rotary
embeddings (RoPE). These have no torch.nn counterpart; their conventions are stated on each class.

Sequence layout follows MultiheadAttention: with batch_first=False (the default) inputs are (L, N, E),
with batch_first=True (N, L, E); a 2-D input is unbatched (L, E).
"""
import numbers

import numpy as np

from ... import dtypes
from ...ops.attention import apply_rotary_emb
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .dropout import Dropout
from .module import Module

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "RotaryEmbedding", "apply_rotary_emb"]


def _positive_int(name, what, v):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
    return int(v)


def _positions(name, x, d_model, max_len, offset, batch_first):
    """The sequence axis of x and the range of positions it covers, with checks."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ValueError(f"{name}: expected input (L, N, {d_model}), (N, L, {d_model}) with batch_first, or "
                         f"unbatched (L, {d_model}); got shape {x.shape}")
    if not isinstance(offset, numbers.Integral) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"{name}: offset must be a non-negative int, got {offset!r}")
    axis = 1 if (batch_first and x.ndim == 3) else 0
    L = x.shape[axis]
    if offset + L > max_len:
        raise ValueError(f"{name}: positions {offset}..{offset + L - 1} exceed max_len={max_len} "
                         f"(input shape {x.shape})")
    return axis, L


def _along(table, axis, ndim):
    """A (L, E) table shaped to broadcast against an input whose sequence axis is `axis`."""
    return table.unsqueeze(1) if (ndim == 3 and axis == 0) else table


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset : offset + L], then dropout (Vaswani et al. 2017, section 3.5).

    PE[pos, 2i] = sin(pos / base^(2i / d_model)),  PE[pos, 2i + 1] = cos(pos / base^(2i / d_model)).
    The table is a non-persistent buffer `pe` of shape (max_len, d_model) (deterministic, so not in
    the state_dict). forward(x, offset=0): x (L, N, d_model), (N, L, d_model) with batch_first, or
    (L, d_model); `offset` shifts the positions (for incremental decoding).
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, base=10000.0, dtype=None):
        super().__init__()
        name = "SinusoidalPositionalEncoding"
        self.d_model = _positive_int(name, "d_model", d_model)
        self.max_len = _positive_int(name, "max_len", max_len)
        self.batch_first = batch_first
        self.base = float(base)
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        pos = np.arange(self.max_len, dtype=np.float64)[:, None]
        freq = self.base ** (-np.arange(0, self.d_model, 2, dtype=np.float64) / self.d_model)  # ceil(d/2)
        pe = np.empty((self.max_len, self.d_model), np.float64)
        pe[:, 0::2] = np.sin(pos * freq)
        pe[:, 1::2] = np.cos(pos * freq[: self.d_model // 2])
        self.register_buffer("pe", Tensor._make(pe.astype(dtype)), persistent=False)
        self.dropout = Dropout(dropout)

    def forward(self, x, offset=0):
        axis, L = _positions("SinusoidalPositionalEncoding", x, self.d_model, self.max_len, offset, self.batch_first)
        table = Tensor._make(self.pe.array[offset:offset + L])
        return self.dropout(x + _along(table, axis, x.ndim))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """x + weight[offset : offset + L]: one learned vector per position (as in BERT and GPT-2).

    Parameter `weight` (max_len, d_model), initialised N(0, 1) like nn.Embedding (re-initialise with
    init.normal_(..., std=0.02) for GPT-2's choice). forward(x, offset=0) with x as in
    SinusoidalPositionalEncoding; only the rows used receive gradient.
    """

    def __init__(self, max_len, d_model, batch_first=False, dtype=None):
        super().__init__()
        name = "LearnedPositionalEmbedding"
        self.max_len = _positive_int(name, "max_len", max_len)
        self.d_model = _positive_int(name, "d_model", d_model)
        self.batch_first = batch_first
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(np.empty((self.max_len, self.d_model), dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, x, offset=0):
        axis, L = _positions("LearnedPositionalEmbedding", x, self.d_model, self.max_len, offset, self.batch_first)
        return x + _along(self.weight[offset:offset + L], axis, x.ndim)

    def extra_repr(self):
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"


class RotaryEmbedding(Module):
    """Rotary position embedding tables (RoPE, Su et al. 2021, "RoFormer").

    theta_i = base^(-2i / dim) for i < dim / 2. At position m, feature pair (i, i + dim/2) (the
    HALF-SPLIT convention of GPT-NeoX and LLaMA in Hugging Face, not the interleaved (2i, 2i + 1) of
    the paper) is rotated by the angle m * theta_i:
        cos[m] = [cos(m theta_0..), cos(m theta_0..)],  sin[m] likewise,   both (L, dim);
        rope(x)[m] = x[m] * cos[m] + rotate_half(x[m]) * sin[m],  rotate_half([x1, x2]) = [-x2, x1].
    Since rotations compose, <rope(q)[m], rope(k)[n]> depends on the positions only through m - n.

    forward(seq_len, offset=0) or forward(positions) (an int tensor (L,)) -> (cos, sin), each (L, dim),
    computed in float64 and returned in `dtype` (default: the default dtype). `rotate(x, offset=0)`
    applies it to x (..., L, dim), e.g. queries and keys (N, H, L, head_dim) before attention.
    No parameters and no state_dict entries.
    """

    def __init__(self, dim, base=10000.0):
        super().__init__()
        self.dim = _positive_int("RotaryEmbedding", "dim", dim)
        if self.dim % 2:
            raise ValueError(f"RotaryEmbedding: dim must be even (features are rotated in pairs), got {dim}")
        if not isinstance(base, numbers.Real) or base <= 0:
            raise ValueError(f"RotaryEmbedding: base must be a positive number, got {base!r}")
        self.base = float(base)
        self.inv_freq = self.base ** (-np.arange(0, self.dim, 2, dtype=np.float64) / self.dim)  # (dim/2,) float64

    def forward(self, seq_len, offset=0, dtype=None):
        if isinstance(seq_len, Tensor):
            if seq_len.dtype.kind not in "iu" or seq_len.ndim != 1:
                raise ValueError(f"RotaryEmbedding: positions must be a 1-D integer tensor, got {seq_len.dtype} "
                                 f"of shape {seq_len.shape}")
            pos = seq_len.array.astype(np.float64) + offset
        else:
            if not isinstance(seq_len, numbers.Integral) or isinstance(seq_len, bool) or seq_len < 0:
                raise ValueError(f"RotaryEmbedding: seq_len must be a non-negative int or a tensor of positions, "
                                 f"got {seq_len!r}")
            pos = np.arange(offset, offset + int(seq_len), dtype=np.float64)
        angles = pos[:, None] * self.inv_freq  # (L, dim/2)
        angles = np.concatenate((angles, angles), axis=-1)  # both halves of a pair share the angle
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        return Tensor._make(np.cos(angles).astype(dtype)), Tensor._make(np.sin(angles).astype(dtype))

    def rotate(self, x, offset=0):
        """apply_rotary_emb(x, *self(L, offset)) for x (..., L, dim)."""
        if not isinstance(x, Tensor) or x.ndim < 2 or x.shape[-1] != self.dim:
            raise ValueError(f"RotaryEmbedding.rotate: expected a tensor (..., L, {self.dim}), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        cos, sin = self(x.shape[-2], offset, dtype=x.dtype)
        return apply_rotary_emb(x, cos, sin)

    def extra_repr(self):
        return f"dim={self.dim}, base={self.base:g}"
