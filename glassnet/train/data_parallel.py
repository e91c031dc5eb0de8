"""A recipe trained by several processes: `mpirun -n N glassnet train <recipe> --distributed`.

Every rank builds the same experiment from the same seed, so every rank's batch source yields the same
global batches in the same order (and resumes exactly as a single process does). Each rank trains on
its share of every batch, rows [r*B/N, (r+1)*B/N) of each tensor in the batch, and
`DistributedDataParallel` averages the gradients across ranks after each backward. The loss of a
share is weighted by N * (share size) / B, so that the averaged gradient is the gradient of the whole
batch's mean loss even when B is not a multiple of N: the run follows the same trajectory as the
single-process run with the recipe's batch size (batch norm's statistics aside, which are per share).

Rank 0 writes the run folder, the progress bar and the summary; the other ranks train silently into a
scratch folder that is removed at the end. Recipes whose batches are not tuples of tensors sharing their
first dimension (a whole graph, carried recurrent state) are refused with a message.
"""
import os
import sys

from ..distributed import DistributedDataParallel, get_rank, get_world_size, init_process_group, is_initialized
from ..tensor import Tensor

__all__ = ["distribute", "RankShare"]


class RankShare:
    """A batch source's batches, cut to this rank's rows (see the module docstring)."""

    def __init__(self, source, rank, world):
        self.source, self.rank, self.world = source, rank, world
        self.weight = 1.0  # N * share / B of the batch just returned

    def next(self):
        batch = self.source.next()
        if not isinstance(batch, (tuple, list)) or not any(isinstance(t, Tensor) and t.ndim for t in batch):
            raise ValueError("--distributed: this recipe's batches are not tuples of tensors that can be split along "
                             "their first dimension; train it in one process")
        n = next(t.shape[0] for t in batch if isinstance(t, Tensor) and t.ndim)
        if n < self.world:
            raise ValueError(f"--distributed: a batch of {n} examples cannot be shared by {self.world} processes")
        lo, hi = self.rank * n // self.world, (self.rank + 1) * n // self.world
        self.weight = self.world * (hi - lo) / n
        return type(batch)(t[lo:hi] if isinstance(t, Tensor) and t.ndim and t.shape[0] == n else t for t in batch)

    @property
    def epoch_end(self):
        return self.source.epoch_end

    def __getattr__(self, name):  # epochs, __len__ and the like of the wrapped source
        return getattr(self.source, name)

    def __len__(self):
        return len(self.source)

    def state_dict(self):
        return self.source.state_dict()

    def load_state_dict(self, state):
        self.source.load_state_dict(state)


def distribute(exp):
    """Make `exp` train this rank's share (see the module docstring); returns True on the writing rank (0)."""
    if not is_initialized():
        init_process_group("mpi")
    rank, world = get_rank(), get_world_size()
    if getattr(exp.optimizer, "players", None) is not None:
        raise ValueError("--distributed: recipes whose optimizers take turns (a GAN) train in one process")
    share = RankShare(exp.batches, rank, world)
    loss_fn = exp.loss

    def weighted_loss(model, batch):
        out = loss_fn(model, batch)
        loss, figures = out if isinstance(out, tuple) else (out, None)
        loss = loss * share.weight if share.weight != 1.0 else loss
        return (loss, figures) if figures is not None else loss

    exp.batches, exp.loss = share, weighted_loss
    DistributedDataParallel(exp.model)  # rank 0's weights everywhere; its hooks on the parameters average gradients
    if rank != 0:
        os.environ["TQDM_DISABLE"] = "1"
        sys.stdout = open(os.devnull, "w")
    return rank == 0
