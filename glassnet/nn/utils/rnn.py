"""Variable-length sequences for the recurrent layers: padding and packing, as torch.nn.utils.rnn.

A batch of sequences of different lengths is either *padded*, one (T, B, *) tensor (or (B, T, *) with
batch_first) with each sequence's steps past its length filled with padding_value, or *packed*: a
`PackedSequence` whose `data` holds only the real steps, time-major, sequences sorted by decreasing length:

    data rows: step 0 of every sequence, then step 1 of those at least 2 long, ...   (sum(lengths), *)
    batch_sizes[t]: how many sequences have a step t                               (T,), int64
    sorted_indices: the original index of each sorted sequence (None when the batch was given sorted);
    unsorted_indices: its inverse.

nn.RNN, nn.LSTM and nn.GRU accept a PackedSequence and return one; their final states then come from each
sequence's own last step. Every conversion here is made of differentiable operations.
"""
from collections import namedtuple

import numpy as np

from ... import ops
from ...ops.indexing import getitem
from ...ops.inplace import index_put
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence", "invert_permutation"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices): see the module docstring. Made by
    pack_padded_sequence / pack_sequence, not usually by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required (make one with pack_padded_sequence)")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with `data.to(...)` (dtype or the CPU device)."""
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def lengths(self):
        """Each sequence's length, in sorted order (an int64 array)."""
        sizes = self.batch_sizes.array
        return (np.arange(int(sizes[0]))[:, None] < sizes[None, :]).sum(1)


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    inverse = np.empty_like(permutation.array)
    inverse[permutation.array] = np.arange(permutation.array.size)
    return Tensor._make(inverse)


def _lengths_array(lengths, batch, op):
    array = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{op}: lengths must be a 1-D sequence of ints, got {lengths!r}")
    if array.size != batch:
        raise ValueError(f"{op}: got {array.size} lengths for a batch of {batch} sequences")
    if array.size and array.min() <= 0:
        raise ValueError(f"{op}: every length must be positive (no empty sequences), got {array.tolist()}")
    return array.astype(np.int64)


def _packed_rows(lengths):
    """(time index, batch index) of each packed row for sorted `lengths`, and the batch sizes."""
    steps = int(lengths[0]) if lengths.size else 0
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(1)
    t = np.repeat(np.arange(steps), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes]) if steps else np.zeros(0, np.int64)
    return t, b, batch_sizes.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of `lengths`.

    With enforce_sorted the lengths must be decreasing; otherwise the batch is sorted here and the order
    kept in sorted_indices / unsorted_indices.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have a time and a batch dimension, got shape {tuple(input.shape)}")
    x = ops.transpose(input, 0, 1) if batch_first else input  # (T, B, *)
    lengths = _lengths_array(lengths, x.shape[1], op)
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               f"True, got {lengths.tolist()}. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement")
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._make(order.astype(np.int64))
        lengths = lengths[order]
        x = getitem(x, (slice(None), order))
    if lengths.size and lengths[0] > x.shape[0]:
        raise ValueError(f"{op}: a length of {int(lengths[0])} exceeds the {x.shape[0]} steps of the input")
    t, b, batch_sizes = _packed_rows(lengths)
    return PackedSequence(getitem(x, (t, b)), Tensor._make(batch_sizes), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the original order."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    lengths = sequence.lengths()
    t, b, batch_sizes = _packed_rows(lengths)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{op}: Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data = sequence.data
    blank = Tensor._make(np.full((steps, len(lengths)) + tuple(data.shape[1:]), padding_value, data.dtype))
    padded = index_put(blank, (t, b), data)
    if sequence.unsorted_indices is not None:
        padded = getitem(padded, (slice(None), sequence.unsorted_indices.array))
        lengths = lengths[sequence.unsorted_indices.array]
    if batch_first:
        padded = ops.transpose(padded, 0, 1)
    return padded, Tensor._make(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into one (max L, B, *) tensor ((B, max L, *) with batch_first), each padded
    on `padding_side` ('right' or 'left') with padding_value."""
    from ...ops.indexing import pad

    op = "pad_sequence"
    if padding_side not in ("right", "left"):
        raise ValueError(f"{op}: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"{op}: received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor) or s.ndim == 0:
            raise TypeError(f"{op}: sequence {i} must be a Tensor with a time dimension, got {s!r}")
        if s.shape[1:] != sequences[0].shape[1:]:
            raise ValueError(f"{op}: sequence {i} has shape {tuple(s.shape)}; all must share the trailing shape "
                             f"{tuple(sequences[0].shape[1:])}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        widths = (0, 0) * (s.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(pad(s, widths, value=padding_value) if extra else s)
    return ops.stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *): pad_sequence, then pack_padded_sequence."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) inside a padded batch."""
    x = padded_sequences if batch_first else ops.transpose(padded_sequences, 0, 1)
    lengths = _lengths_array(lengths, x.shape[0], "unpad_sequence")
    return [x[i, :int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) inside a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
