"""Batches of similar lengths, for sequences that are padded to the longest of their batch."""
import numpy as np

__all__ = ["BucketBatchSampler"]


class BucketBatchSampler:
    """A batch sampler (DataLoader(batch_sampler=...)) whose batches hold sequences of similar lengths.

    Each epoch: shuffle the indices, cut them into pools of `pool` batches, sort each pool by length, cut
    it into batches of `batch_size`, and shuffle all the batches. Little padding is wasted, and the order
    is still random. Draws from `generator` (a glassnet Generator; give the same one to the DataLoader so
    that a checkpoint saves its state, see glassnet.train.batches.EpochBatches).
    """

    def __init__(self, lengths, batch_size, generator, pool=32):
        self.lengths = np.asarray(lengths)
        if self.lengths.ndim != 1 or self.lengths.size == 0:
            raise ValueError(f"BucketBatchSampler: lengths must be a non-empty 1-D sequence, got shape "
                             f"{self.lengths.shape}")
        if batch_size < 1 or pool < 1:
            raise ValueError(f"BucketBatchSampler: batch_size and pool must be positive, got {batch_size}, {pool}")
        self.batch_size, self.generator, self.pool = batch_size, generator, pool

    def __len__(self):
        size = self.pool * self.batch_size  # indices per pool; only the last pool may be smaller
        return self.lengths.size // size * self.pool + -(-(self.lengths.size % size) // self.batch_size)

    def _pools(self, order):
        size = self.pool * self.batch_size
        return [order[i:i + size] for i in range(0, order.size, size)]

    def __iter__(self):
        rng = self.generator.np
        batches = []
        for chunk in self._pools(rng.permutation(self.lengths.size)):
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size].tolist() for i in range(0, chunk.size, self.batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]
