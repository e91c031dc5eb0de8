"""Datasets: the map-style `Dataset`, `IterableDataset`, and ways to combine and split them.

A map-style dataset answers `dataset[i]` and `len(dataset)`. An iterable dataset is a stream: only
`iter(dataset)`. Both follow torch.utils.data.

Fast path (a glassnet extension): a dataset that holds whole arrays may define
`__getbatch__(indices)`, returning the already-collated batch for a 1-D int64 index array. The
`DataLoader` calls it instead of fetching and stacking the items one by one whenever it uses the
default collate function, which makes a pass over 60,000 MNIST images cost milliseconds instead of
seconds. `TensorDataset`, `Subset` (when its dataset has it) and the MNIST datasets define it. The
PyTorch hook `__getitems__(indices)` (returns a list of samples, then collated) is honoured too.
"""
import bisect
import math
import warnings

import numpy as np

from ...random import rng
from ...tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` and usually `__len__()`.

    `a + b` concatenates two datasets into a `ConcatDataset`.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream of samples: subclasses define `__iter__()`.

    The DataLoader batches consecutive samples of the stream; samplers and shuffling do not apply.
    `a + b` chains two iterable datasets into a `ChainDataset`.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


def _index_array(indices, length, where):
    """`indices` as a 1-D int64 array, negatives wrapped, each checked against `length`."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu" and idx.size:
        raise TypeError(f"{where}: indices must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.int64, copy=False).reshape(-1)
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = idx[(idx < -length) | (idx >= length)][0]
        raise IndexError(f"{where}: index {bad} is out of range for a dataset of size {length}")
    return np.where(idx < 0, idx + length, idx)


class TensorDataset(Dataset):
    """Samples are slices along the first dimension of the given tensors (or NumPy arrays).

    `dataset[i]` is `(tensors[0][i], tensors[1][i], ...)`. All tensors must have the same size in
    dimension 0. Batches are fetched with one fancy-index per tensor (`__getbatch__`).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        converted = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._make(t)
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} must be a Tensor or NumPy array, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; it needs a first dimension to index")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors, dimension 0 sizes are {sizes}")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] if t.requires_grad else Tensor._make(t.array[index]) for t in self.tensors)

    def __getbatch__(self, indices):
        idx = _index_array(indices, len(self), "TensorDataset")
        if any(t.requires_grad for t in self.tensors):
            return [t[Tensor._make(idx)] if t.requires_grad else Tensor._make(t.array[idx]) for t in self.tensors]
        return [Tensor._make(t.array[idx]) for t in self.tensors]

    def __len__(self):
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Zips datasets of equal length: positional (`StackDataset(a, b)`, samples are tuples) or keyword
    (`StackDataset(x=a, y=b)`, samples are dicts)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give datasets either as positional or as keyword arguments, not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset is required")
        self.datasets = args if args else kwargs
        parts = args if args else tuple(kwargs.values())
        lengths = [len(d) for d in parts]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths are {lengths}")
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """The datasets one after another: index `i` falls in the first dataset whose cumulative size exceeds it."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of size {n}")
            idx = n + idx
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of size {n}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (the streaming counterpart of ConcatDataset)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: only supports IterableDataset, got {type(d).__name__}")

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        mapped = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self):
        return len(self.indices)

    @property
    def __getbatch__(self):
        """The batch fast path, present exactly when the wrapped dataset has one."""
        if not callable(getattr(self.dataset, "__getbatch__", None)):
            raise AttributeError(f"{type(self.dataset).__name__} has no __getbatch__")
        return self._getbatch

    def _getbatch(self, indices):
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] is not self.indices or len(cached[1]) != len(self.indices):
            cached = (self.indices, np.asarray(self.indices, dtype=np.int64).reshape(-1))
            self._index_cache = cached  # converting a long index list once, not once per batch
        own = cached[1]
        idx = _index_array(indices, len(own), "Subset")
        return self.dataset.__getbatch__(own[idx])


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are either counts summing to `len(dataset)`, or fractions summing to 1: each split then
    gets `floor(fraction * len(dataset))` items and the remainder is dealt one by one to the splits in
    order. The permutation is drawn from `generator` (default: glassnet's default generator).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and any(isinstance(x, float) for x in lengths):
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, expected a value in [0, 1]")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this results in an empty dataset",
                              stacklevel=2)
        lengths = counts
    for i, c in enumerate(lengths):
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"random_split: length at index {i} is {c!r}, expected a non-negative int or fractions "
                             "summing to 1")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths {sum(lengths)} does not equal the length of the "
                         f"input dataset {n}")
    perm = rng(generator).permutation(n).tolist()
    subsets, offset = [], 0
    for c in lengths:
        subsets.append(Subset(dataset, perm[offset:offset + c]))
        offset += c
    return subsets
