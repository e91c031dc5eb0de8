"""Bags of embeddings (also in glassnet.nn.functional): the sum, mean or max of the embeddings of each bag of
ids, without materialising a padded batch.

    bags: input (B, N) (each row a bag), or input (M,) cut by offsets (B,) (bag b = input[offsets[b]:offsets[b+1]];
          with include_last_offset, offsets (B + 1,) ending with M)
    y[b] = sum_{i in bag b} w_i E[input_i]       mode "sum" (w: per_sample_weights, else 1)
         = that sum / |bag b|                      mode "mean"
         = max_{i in bag b} E[input_i]             mode "max" (elementwise)
Ids equal to padding_idx are left out of their bag (and of its count); an empty bag gives zeros. Composed of
`embedding` (the row lookup, with max_norm) and an index_add / scatter_reduce over bag numbers, so its
derivatives come from those operations.
"""
import numpy as np

from ..tensor import Tensor
from .embedding import embedding
from .indexing import getitem
from .scatter import index_add, scatter_reduce
from .shape import reshape

__all__ = ["embedding_bag"]


def _bags(op, input, offsets, include_last_offset):
    """(positions in the flattened input of the ids that belong to a bag, their bag numbers, number of bags)."""
    ids = input.array
    if input.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer ids, got dtype {input.dtype}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is treated as a mini-batch "
                             "of fixed length sequences")
        return np.arange(ids.size), np.repeat(np.arange(ids.shape[0]), ids.shape[1]), ids.shape[0]
    if input.ndim != 1:
        raise ValueError(f"{op}: input has to be 1D or 2D, got shape {tuple(input.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None (needed with a 1D input)")
    starts = np.asarray(offsets.array if isinstance(offsets, Tensor) else offsets).astype(np.int64).reshape(-1)
    if starts.size == 0 or starts[0] != 0:
        raise ValueError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                         f"from position 0, got offsets {starts.tolist()}")
    if np.any(np.diff(starts) < 0) or starts[-1] > ids.size:
        raise ValueError(f"{op}: offsets must be non-decreasing and at most the input length {ids.size}, got "
                         f"{starts.tolist()}")
    if include_last_offset and starts[-1] != ids.size:  # PyTorch's result then depends on the dtype
        raise ValueError(f"{op}: with include_last_offset the last offset must be the number of ids {ids.size}, got "
                         f"{int(starts[-1])}")
    bags = len(starts) - 1 if include_last_offset else len(starts)
    bag_of = np.searchsorted(starts[1:], np.arange(ids.size), side="right")
    return np.arange(ids.size), bag_of, bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum, mean or max of the embeddings of each bag (see the module docstring) -> (B, embedding_dim)."""
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse:
        raise NotImplementedError(f"{op}: sparse gradients are not supported by glassnet (use sparse=False)")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"{op}: per_sample_weights was not None. per_sample_weights is only supported for "
                         f"mode='sum' (got mode={mode!r})")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"{op}: per_sample_weights of shape {tuple(per_sample_weights.shape)} must have the "
                         f"input's shape {tuple(input.shape)}")
    positions, bag_of, bags = _bags(op, input, offsets, include_last_offset)
    ids = input.array.reshape(-1)[positions]
    if padding_idx is not None:
        keep = ids != padding_idx % weight.shape[0]
        positions, ids, bag_of = positions[keep], ids[keep], bag_of[keep]
    rows = embedding(Tensor._make(ids), weight, None, max_norm, norm_type, scale_grad_by_freq)  # (K, D)
    out = Tensor._make(np.zeros((bags, weight.shape[1]), weight.dtype))
    if mode == "max":
        index = Tensor._make(np.repeat(bag_of[:, None], weight.shape[1], axis=1))
        return scatter_reduce(out, 0, index, rows, "amax", include_self=False)
    if per_sample_weights is not None:
        rows = rows * reshape(getitem(reshape(per_sample_weights, (-1,)), positions), (-1, 1))
    total = index_add(out, 0, Tensor._make(bag_of), rows)
    if mode == "sum":
        return total
    counts = np.bincount(bag_of, minlength=bags).astype(weight.dtype)
    return total / Tensor._make(np.maximum(counts, 1)[:, None])
