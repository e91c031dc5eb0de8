"""`Embedding`: a learnable lookup table from integer ids to vectors (torch keeps it in sparse.py)."""
import numbers

import numpy as np

from ... import dtypes
from ...tensor import Tensor
from .. import init
from ..functional import embedding
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding"]


def _check_size(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"Embedding: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`; input (*) integer ids -> (*, embedding_dim).

    weight (num_embeddings, embedding_dim) ~ N(0, 1), with the padding_idx row set to zero (that row also
    gets no gradient, so it stays a fixed "padding" vector). `_weight` uses a given table instead (not
    re-initialised); `_freeze=True` makes it not require grad. max_norm, norm_type and
    scale_grad_by_freq as in `glassnet.nn.functional.embedding`; sparse gradients are not supported.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings="
                                 f"{self.num_embeddings} (expected in [{-self.num_embeddings}, "
                                 f"{self.num_embeddings - 1}])")
            padding_idx = int(padding_idx) % self.num_embeddings
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported by glassnet (use sparse=False)")
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
            if dtype.kind != "f":
                raise TypeError(f"Embedding: dtype must be a floating point type, got {dtype}")
            self.weight = Parameter(np.empty(shape, dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            data = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if tuple(data.shape) != shape:
                raise ValueError(f"Embedding: _weight has shape {tuple(data.shape)}, expected {shape} "
                                 "(num_embeddings, embedding_dim)")
            self.weight = Parameter(data, requires_grad=not _freeze)

    def reset_parameters(self):
        """weight ~ N(0, 1); the padding_idx row (if any) is zero."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is `embeddings` (a 2-D Tensor, shared, not copied); with `freeze`
        (the default) the table is not trained."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            shape = getattr(embeddings, "shape", None)
            raise ValueError(f"Embedding.from_pretrained: embeddings must be a 2-D Tensor, got shape {shape}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings, _freeze=freeze)
