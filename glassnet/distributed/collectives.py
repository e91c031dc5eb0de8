"""The process group and the collective operations, on MPI (mpi4py).

A collective is a call that every rank makes together:

    all_reduce(t)      every rank ends with the elementwise sum (or max, min, product, mean) of all ranks' t
    broadcast(t, src)  every rank ends with rank src's t
    all_gather(ts, t)  every rank ends with the list of all ranks' t
    barrier()          no rank leaves before every rank has arrived

Each works in place on the tensors' arrays, as in torch.distributed, and can run asynchronously
(`async_op=True` returns a `Work` whose `wait()` finishes it), which is what lets data-parallel training
start the all-reduce of one bucket of gradients while the backward computes the next.

A rank that waits longer than the group's timeout for the others (one of them was killed, or crashed)
stops the whole job with a message saying so, instead of hanging forever.
"""
import enum
import os
import sys
import time
from datetime import timedelta

import numpy as np

__all__ = ["ReduceOp", "Work", "is_available", "init_process_group", "is_initialized", "destroy_process_group",
           "get_rank", "get_world_size", "all_reduce", "broadcast", "all_gather", "barrier"]

_DEFAULT_TIMEOUT = timedelta(minutes=5)
_group = None  # the default process group once initialised


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class _Group:
    def __init__(self, comm, timeout):
        self.comm, self.timeout = comm, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("glassnet.distributed needs MPI: pip install 'glassnet[distributed]' (mpi4py and the "
                           "MPICH wheels), then start the processes with mpirun -n N ...") from None
    return MPI


def is_available():
    """Whether mpi4py (and so MPI) can be imported."""
    try:
        _mpi()
    except RuntimeError:
        return False
    return True


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, **unused):
    """Join the process group of the processes started by an MPI launcher (mpirun/mpiexec/srun).

    backend: "mpi" (the only one; PyTorch's "gloo" and "nccl" are refused with a message). world_size and
    rank, when given, must agree with what the launcher says. timeout (a timedelta, default 5 minutes,
    or GLASSNET_DIST_TIMEOUT seconds): how long a collective waits for the other ranks.
    """
    global _group
    if backend not in (None, "mpi"):
        raise ValueError(f"init_process_group: glassnet runs on MPI; backend {backend!r} is not available "
                         "(use backend='mpi' and start the processes with mpirun)")
    if _group is not None:
        raise RuntimeError("init_process_group: the default process group is already initialised")
    comm = _mpi().COMM_WORLD
    if timeout is None:
        seconds = os.environ.get("GLASSNET_DIST_TIMEOUT")
        timeout = timedelta(seconds=float(seconds)) if seconds else _DEFAULT_TIMEOUT
    group = _Group(comm, timeout)
    if world_size not in (-1, None) and world_size != group.size:
        raise ValueError(f"init_process_group: world_size={world_size}, but the launcher started {group.size} "
                         "processes")
    if rank not in (-1, None) and rank != group.rank:
        raise ValueError(f"init_process_group: rank={rank}, but the launcher says this process is {group.rank}")
    _group = group


def is_initialized():
    return _group is not None


def destroy_process_group(group=None):
    global _group
    _group = None


def _default():
    if _group is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return _group


def get_rank(group=None):
    return _default().rank


def get_world_size(group=None):
    return _default().size


class Work:
    """A collective under way: `wait()` finishes it (and any step after the transfer), `is_completed()`
    asks without blocking."""

    def __init__(self, request, op_name, finish=None):
        self._request, self._op, self._finish, self._done = request, op_name, finish, False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if self._done:
            return True
        group = _default()
        limit = (timeout or group.timeout).total_seconds()
        start, pause = time.monotonic(), 1e-5
        while not self._request.Test():  # polling also drives MPI's progress
            if time.monotonic() - start > limit:
                _abort(group, f"{self._op}: rank {group.rank} waited {limit:.0f} s for the other ranks; one of "
                              "them has probably stopped (killed or crashed). Stopping the job.")
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)
        self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()


def _abort(group, message):
    """Stop every rank with `message`: an exception could leave the others waiting forever."""
    print(f"glassnet.distributed: error: {message}", file=sys.stderr, flush=True)
    time.sleep(1.0)  # MPI_Abort kills the job at once: give the launcher a moment to pass the message on
    group.comm.Abort(1)


def _buffer(tensor, op):
    """The contiguous array MPI reads and writes, and how to put it back into the tensor afterwards."""
    from ..tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    array = tensor.array
    if array.flags.c_contiguous:
        return array, tensor._bump_version
    work = np.ascontiguousarray(array)

    def write_back():
        tensor.array[...] = work
        tensor._bump_version()

    return work, write_back


def _run(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Replace `tensor` on every rank by the reduction of all ranks' tensors (SUM, AVG, PRODUCT, MAX, MIN)."""
    g = _default()
    MPI = _mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MAX: MPI.MAX,
              ReduceOp.MIN: MPI.MIN}[ReduceOp(op)]
    array, write_back = _buffer(tensor, "all_reduce")

    def finish():
        if ReduceOp(op) is ReduceOp.AVG:
            np.divide(array, g.size, out=array, casting="unsafe")
        write_back()

    request = g.comm.Iallreduce(MPI.IN_PLACE, array, op=mpi_op)
    return _run(Work(request, "all_reduce", finish), async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank `src`'s tensor into `tensor` on every rank."""
    g = _default()
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a group of {g.size}")
    array, write_back = _buffer(tensor, "broadcast")
    request = g.comm.Ibcast(array, root=src)
    return _run(Work(request, "broadcast", write_back), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill `tensor_list` (one tensor per rank, each shaped like `tensor`) with every rank's `tensor`."""
    g = _default()
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for {g.size} ranks")
    for i, t in enumerate(tensor_list):
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {t.dtype} {tuple(t.shape)}, expected "
                             f"{tensor.dtype} {tuple(tensor.shape)}")
    send = np.ascontiguousarray(tensor.array)
    gathered = np.empty((g.size,) + send.shape, send.dtype)

    def finish():
        for t, part in zip(tensor_list, gathered):
            t.array[...] = part
            t._bump_version()

    request = g.comm.Iallgather(send, gathered)
    return _run(Work(request, "all_gather", finish), async_op)


def barrier(group=None, async_op=False):
    """Wait until every rank has called barrier."""
    return _run(Work(_default().comm.Ibarrier(), "barrier"), async_op)
