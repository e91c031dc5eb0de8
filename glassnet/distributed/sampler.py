"""`DistributedSampler`: each rank reads its own share of every epoch (torch.utils.data's semantics)."""
import math

import numpy as np

from ..utils.data.sampler import Sampler
from .collectives import get_rank, get_world_size

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of `dataset` for one rank: the epoch's order (a permutation seeded by seed + epoch when
    shuffling, else 0..n-1), padded by repeating its start so that it divides evenly (or cut, with
    drop_last), then every num_replicas-th index starting at `rank`. All ranks draw the same
    permutation, so together they cover the epoch once. Call `set_epoch(e)` before each epoch."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.num_replicas = get_world_size() if num_replicas is None else int(num_replicas)
        self.rank = get_rank() if rank is None else int(rank)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {self.rank}, rank should be in the interval "
                             f"[0, {self.num_replicas - 1}]")
        self.dataset, self.shuffle, self.seed, self.drop_last, self.epoch = dataset, shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.Generator(np.random.PCG64(self.seed + self.epoch)).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:
            order = np.resize(order, self.total_size)  # repeats the start of the order
        order = order[: self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = int(epoch)
