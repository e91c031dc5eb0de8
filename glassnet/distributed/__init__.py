"""Data-parallel training across processes and machines, on MPI (mpi4py), with torch.distributed's API.

    mpirun -n 4 python train.py            # or: mpirun -n 4 glassnet train mnist-cnn --distributed

    import glassnet.distributed as dist
    dist.init_process_group("mpi")
    model = dist.DistributedDataParallel(model)     # same start on every rank, gradients averaged
    sampler = dist.DistributedSampler(dataset)      # each rank reads its own share of every epoch

Each process (a "rank") holds a full copy of the model and trains on its own slice of each batch; after
every backward the gradients are averaged across ranks (an all-reduce), so every optimizer step is the
same on every rank and the copies never drift apart. With per-rank batch B on n ranks this is one
training run with batch n*B.

MPI is the existing distributed engine underneath: `mpirun` (or any MPI launcher, or a batch system's)
starts the processes on one or many machines and tells each its rank; MPI moves the bytes (shared memory
between processes of one machine, the network between machines). Install it with
`pip install glassnet[distributed]` (mpi4py and the MPICH wheels). See docs/distributed.md for how it
scales: bucket sizes, bandwidth and the cost of a ring all-reduce.
"""
from .collectives import (  # noqa: F401
    ReduceOp, Work, all_gather, all_reduce, barrier, broadcast, destroy_process_group, get_rank, get_world_size,
    init_process_group, is_available, is_initialized,
)
from .data_parallel import DistributedDataParallel  # noqa: F401
from .sampler import DistributedSampler  # noqa: F401
