"""Embedding lookup (also in glassnet.nn.functional): rows of a weight table picked by integer indices."""
import builtins
import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["embedding"]


def _scatter_rows(dy, idx, num_rows, padding_idx, scale_grad_by_freq):
    """dW (num_rows, D): row r = sum of the rows of dy (flattened to (N, D)) whose index is r.

    Repeated indices accumulate: the indices are sorted, and each run of equal indices is summed in
    one `np.add.reduceat` (several times faster than np.add.at on rows). The padding row gets nothing,
    and with `scale_grad_by_freq` each row's sum is divided by how often its index occurs in `idx`.
    """
    d = dy.shape[-1]
    flat = idx.reshape(-1)
    dw = np.zeros((num_rows, d), dy.dtype)
    if flat.size == 0:
        return dw
    rows = dy.reshape(flat.size, d)
    order = np.argsort(flat, kind="stable")
    keys = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sums = np.add.reduceat(rows[order], starts, axis=0)
    if scale_grad_by_freq:
        counts = np.diff(np.append(starts, flat.size)).astype(dy.dtype)
        sums /= counts[:, None]
    dw[keys[starts]] = sums
    if padding_idx is not None:
        dw[padding_idx] = 0
    return dw


class Embedding(Function):
    """y[..., :] = W[idx[...], :]  for idx (*) integers in [0, V), W (V, D) -> y (*, D).

    Backward (a scatter-add; indices are not differentiable):
      dW[r] = c_r * sum_{positions p with idx[p] = r} dy[p]      (V, D)
    where c_r = 1, or 1 / count(r) with scale_grad_by_freq, and dW[padding_idx] = 0.
    The backward is itself a Function (EmbeddingBackward), so second-order gradients work.
    Forward mode: dy = dW[idx] (the lookup is linear in W).
    """

    def forward(self, weight, idx, padding_idx=None, scale_grad_by_freq=False):
        self.padding_idx = padding_idx
        self.scale_grad_by_freq = scale_grad_by_freq
        return np.take(weight, idx, axis=0)

    def backward(self, dy):
        idx = self.inputs[1]
        dw = EmbeddingBackward.apply(dy, idx, num_rows=self.inputs[0].shape[0], padding_idx=self.padding_idx,
                                     scale_grad_by_freq=self.scale_grad_by_freq)
        return dw, None

    def jvp(self, dw, didx):  # linear in W (indices have no tangent): dy = dW[idx]
        return None if dw is None else np.take(dw, self.inputs[1].array, axis=0)


class EmbeddingBackward(Function):
    """dW = scatter_add(dy, idx) as above: dy (*, D), idx (*) -> dW (V, D).

    It is linear in dy; its own backward is the lookup again: d(dy)[p] = ddW[idx[p]] (zero where
    idx[p] = padding_idx). The 1 / count factor of scale_grad_by_freq is left out there, as PyTorch
    does: the scaled dW is not the derivative of anything, and a second derivative usually reaches W
    through this lookup, whose backward (Embedding's) applies the factor once already; so the
    derivative of dW with respect to W matches finite differences of dW (checked by gradcheck).
    """

    def forward(self, dy, idx, num_rows, padding_idx=None, scale_grad_by_freq=False):
        self.padding_idx = padding_idx
        self.scale_grad_by_freq = scale_grad_by_freq
        return _scatter_rows(dy, idx, num_rows, padding_idx, scale_grad_by_freq)

    def backward(self, ddw):
        from .indexing import index_select
        from .shape import reshape

        idx = self.inputs[1].reshape(-1)
        picked = index_select(ddw, 0, idx)
        if self.padding_idx is not None:
            keep = idx.array != self.padding_idx
            picked = picked * Tensor._make(keep[:, None].astype(ddw.dtype))
        return reshape(picked, self.inputs[0].shape), None

    def jvp(self, ddy, didx):  # linear in dy: the same scatter of the tangent
        if ddy is None:
            return None
        return _scatter_rows(ddy, self.inputs[1].array, self._outputs[0].shape[0], self.padding_idx,
                             self.scale_grad_by_freq)


def _renorm_(weight, idx, max_norm, norm_type):
    """In place, outside the graph: rows of `weight` used by `idx` whose p-norm exceeds max_norm are
    scaled to norm max_norm (factor max_norm / (norm + 1e-7)), as torch.embedding_renorm_."""
    rows = np.unique(idx)
    w = weight.array
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        with no_grad():
            w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of `weight` (num_embeddings, embedding_dim) at the integer indices `input` (any shape);
    returns (*input.shape, embedding_dim).

    padding_idx: that row receives no gradient. max_norm: rows used here whose `norm_type`-norm exceeds it
    are rescaled in place to norm max_norm first. scale_grad_by_freq: each row's gradient is divided by how
    often its index occurs in `input`. sparse gradients are not supported.
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"Embedding: weight must be a Tensor, got {type(weight).__name__}")
    if not isinstance(input, Tensor):
        raise TypeError(f"Embedding: input must be a Tensor of indices, got {type(input).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"Embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if input.dtype.kind not in "iu":
        raise TypeError(f"Embedding: expected an integer (int64 or int32) index tensor, got dtype {input.dtype}")
    if sparse:
        raise NotImplementedError("Embedding: sparse gradients are not supported by glassnet (use sparse=False)")
    num = weight.shape[0]
    if padding_idx is not None:
        if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, builtins.bool):
            raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
        if not -num <= padding_idx < num:
            raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings={num} "
                             f"(expected in [{-num}, {num - 1}])")
        padding_idx = int(padding_idx) % num
    idx = input.array
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= num:
            bad = int(lo) if lo < 0 else int(hi)
            raise IndexError(f"Embedding: index {bad} is out of range for num_embeddings={num} "
                             f"(expected 0 <= index < {num}), with weight of shape {weight.shape}")
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), norm_type)
    return Embedding.apply(weight, input, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))
