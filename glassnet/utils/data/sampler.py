"""Samplers: the order in which a DataLoader visits the indices of a map-style dataset.

Random samplers draw from `generator` when one is given, else from glassnet's default generator at
the start of each pass, so `glassnet.manual_seed(s)` reproduces the order of every epoch.
"""
from itertools import islice

import numpy as np

from ...random import rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{where}: {name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _check_bool(value, name, where):
    if not isinstance(value, bool):
        raise ValueError(f"{where}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class Sampler:
    """Base class: subclasses define `__iter__` (yielding indices) and usually `__len__`."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices of `data_source`.

    Without replacement each pass is a permutation (when `num_samples` exceeds the dataset size, whole
    permutations are concatenated, the last one cut short). With `replacement=True`, `num_samples`
    independent uniform draws.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_bool(replacement, "replacement", "RandomSampler")
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self):
        n, k, g = len(self.data_source), self.num_samples, rng(self.generator)
        if n == 0:
            return iter(())
        return self._draws_with_replacement(g, n, k) if self.replacement else self._permutations(g, n, k)

    @staticmethod
    def _draws_with_replacement(g, n, k, chunk=1 << 15):
        """k uniform draws from [0, n), made a chunk at a time as they are consumed (k may be huge,
        e.g. minGPT's trainer asks for 10**10 and stops when it likes)."""
        while k > 0:
            take = min(chunk, k)
            yield from g.integers(0, n, size=take).tolist()
            k -= take

    @staticmethod
    def _permutations(g, n, k):
        """Whole permutations of range(n) one after another, the last one cut short at k indices."""
        while k > 0:
            yield from g.permutation(n)[: min(n, k)].tolist()
            k -= n

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given `indices` in a random order (a fresh permutation each pass)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = rng(self.generator).permutation(len(self.indices)).tolist()
        return (self.indices[i] for i in order)

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices in [0, len(weights)) drawn with probability proportional to `weights`."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _check_bool(replacement, "replacement", "WeightedRandomSampler")
        w = np.asarray(weights.array if hasattr(weights, "grad_fn") else weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"WeightedRandomSampler: weights should be a non-empty 1-D sequence, got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement "
                             f"from {np.count_nonzero(w)} non-zero weights")
        self.weights = w
        self.generator = generator

    def __iter__(self):
        p = self.weights / self.weights.sum()
        draw = rng(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(draw.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter unless `drop_last`)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _check_bool(drop_last, "drop_last", "BatchSampler")

    def __iter__(self):
        it, size = iter(self.sampler), self.batch_size
        while True:
            batch = list(islice(it, size))
            if not batch or (self.drop_last and len(batch) < size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
