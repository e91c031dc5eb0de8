"""Run under mpiexec by tests/test_distributed.py: `mpiexec -n 2 python distributed_worker.py SCENARIO OUT`."""
import os
import signal
import sys

import numpy as np

import glassnet as gn
import glassnet.distributed as dist
from glassnet.utils.data import DataLoader, TensorDataset

STEPS, PER_RANK_BATCH = 12, 8


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS * PER_RANK_BATCH * 2, 6)).astype(np.float32)
    y = (x[:, 0] - 2 * x[:, 1] > 0).astype(np.int64)
    return TensorDataset(gn.tensor(x), gn.tensor(y))


def model():
    gn.manual_seed(0)
    return gn.nn.Sequential(gn.nn.Linear(6, 16), gn.nn.LayerNorm(16), gn.nn.ReLU(), gn.nn.Linear(16, 2))


def train(net, loader):
    opt = gn.optim.Adam(net.parameters(), lr=0.01)
    for x, y in loader:
        opt.zero_grad()
        gn.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net


def collectives(out):
    rank, size = dist.get_rank(), dist.get_world_size()
    t = gn.full((3,), float(rank + 1))
    dist.all_reduce(t)
    assert t.tolist() == [3.0] * 3, t
    t = gn.full((2,), float(rank + 1))
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert t.tolist() == [1.5, 1.5], t
    t = gn.tensor([float(rank), 5.0 - rank])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    assert t.tolist() == [1.0, 5.0], t
    b = gn.arange(4.0) if rank == 0 else gn.zeros(4)
    work = dist.broadcast(b, src=0, async_op=True)
    work.wait()
    assert b.tolist() == [0, 1, 2, 3], b
    parts = [gn.zeros(2) for _ in range(size)]
    dist.all_gather(parts, gn.full((2,), float(rank)))
    assert [p.tolist() for p in parts] == [[0, 0], [1, 1]], parts
    dist.barrier()
    if rank == 0:
        open(out, "w").write("ok")


def equivalence(out):
    net = dist.DistributedDataParallel(model(), bucket_cap_mb=0.0002)  # several buckets
    assert len(net._buckets) > 1
    sampler = dist.DistributedSampler(data(), shuffle=False)
    train(net, DataLoader(data(), batch_size=PER_RANK_BATCH, sampler=sampler))
    if dist.get_rank() == 0:
        gn.save(net.module.state_dict(), out)


def killed(out):
    net = dist.DistributedDataParallel(model())
    sampler = dist.DistributedSampler(data(), shuffle=False)
    opt = gn.optim.SGD(net.parameters(), lr=0.1)
    for step, (x, y) in enumerate(DataLoader(data(), batch_size=PER_RANK_BATCH, sampler=sampler)):
        if step == 3 and dist.get_rank() == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        opt.zero_grad()
        gn.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()


def stalled(out):
    """Rank 1 never arrives at the collective (a hung or lost peer): rank 0 must give up after the timeout."""
    import time

    if dist.get_rank() == 1:
        time.sleep(60)
    dist.all_reduce(gn.ones(2))


if __name__ == "__main__":
    dist.init_process_group("mpi")
    {"collectives": collectives, "equivalence": equivalence, "killed": killed, "stalled": stalled}[sys.argv[1]](sys.argv[2])
