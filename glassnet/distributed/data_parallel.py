"""`DistributedDataParallel`: one model copy per rank, gradients averaged after every backward.

    model = DistributedDataParallel(model, bucket_cap_mb=25)
    loss_fn(model(x_of_this_rank), y_of_this_rank).backward()   # .grad is now the mean over all ranks
    optimizer.step()                                            # the same step on every rank

At construction every parameter and buffer is broadcast from rank 0, so all copies start equal.

Gradients are averaged in buckets. Parameters are grouped, in reverse order of registration (roughly
the order in which the backward finishes them), into buckets of about `bucket_cap_mb` megabytes. A hook
on each parameter fires as soon as the backward has written its `.grad` (see the engine); when every
parameter of a bucket is done, the bucket's gradients are copied into one flat buffer and a
non-blocking all-reduce (sum) starts, while the backward goes on computing the gradients of earlier
layers. When the backward ends, a callback waits for the remaining all-reduces, divides by the number
of ranks and copies the means back into each `.grad`. One all-reduce per bucket instead of one per
parameter pays the per-message latency a few times instead of hundreds; overlapping it with the
backward hides part of the transfer time (how much depends on the MPI library making progress in the
background: glassnet also polls the pending requests at every hook).

`no_sync()` skips the averaging (gradient accumulation over several micro-batches: only the last
backward, outside `no_sync`, averages the accumulated gradients). In training mode, buffers (batch
norm's running statistics) are broadcast from rank 0 before each forward, as in PyTorch.
"""
import contextlib

import numpy as np

from ..autograd import engine
from ..nn.modules.module import Module
from ..tensor import Tensor
from .collectives import all_reduce, broadcast, get_world_size

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters of one dtype whose gradients travel together in one flat buffer."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.buffer = np.zeros(sum(self.sizes), params[0].dtype)
        self.ready, self.work = set(), None

    def launch(self):
        offset = 0
        for p, n in zip(self.params, self.sizes):
            part = self.buffer[offset:offset + n]
            if p.grad is None:
                part[...] = 0  # unused in this backward (on this rank)
            else:
                part[...] = p.grad.array.reshape(-1)
            offset += n
        self.work = all_reduce(Tensor._make(self.buffer), async_op=True)

    def finish(self, world_size):
        self.work.wait()
        self.buffer /= world_size
        offset = 0
        for p, n in zip(self.params, self.sizes):
            mean = self.buffer[offset:offset + n].reshape(p.shape)
            if p.grad is not None:
                p.grad.array[...] = mean
            elif np.any(mean):  # used on another rank only
                p.grad = Tensor._make(mean.copy())
            offset += n
        self.ready, self.work = set(), None


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 bucket_cap_mb=25, find_unused_parameters=False, gradient_as_bucket_view=False, **unused):
        super().__init__()
        if device_ids not in (None, [], ["cpu"]):
            raise RuntimeError(f"DistributedDataParallel: device_ids={device_ids!r}, but glassnet runs on the CPU; "
                               "leave device_ids out")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.world_size = get_world_size()
        self._sync = True
        self._callback_queued = False
        self._next_bucket = 0
        for t in list(module.parameters()) + list(module.buffers()):
            broadcast(t, src=0)
        self._buckets = self._make_buckets([p for p in module.parameters() if p.requires_grad],
                                           int(bucket_cap_mb * 2**20))
        self._bucket_of = {}
        for bucket in self._buckets:
            for p in bucket.params:
                self._bucket_of[id(p)] = bucket
                p.register_post_accumulate_grad_hook(self._grad_ready)

    @staticmethod
    def _make_buckets(params, cap_bytes):
        buckets, current, size = [], [], 0
        for p in reversed(params):
            if current and (size + p.array.nbytes > cap_bytes or p.dtype != current[0].dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += p.array.nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training:
            for b in self.module.buffers():
                broadcast(b, src=0)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside accumulate gradients locally, without averaging them across ranks."""
        self._sync, previous = False, self._sync
        try:
            yield
        finally:
            self._sync = previous

    def _grad_ready(self, param):
        if not self._sync:
            return
        if not self._callback_queued:
            engine.queue_callback(self._finish_backward)
            self._callback_queued = True
        self._bucket_of[id(param)].ready.add(id(param))
        self._launch_ready_buckets()
        for b in self._buckets:  # let MPI move the earlier buckets along
            if b.work is not None:
                b.work.is_completed()

    def _launch_ready_buckets(self, everything=False):
        """Start the all-reduces of the complete buckets, strictly in bucket order: every rank must issue
        its collectives in the same order, whatever order its hooks fire in."""
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if not everything and len(bucket.ready) < len(bucket.params):
                return
            bucket.launch()
            self._next_bucket += 1

    def _finish_backward(self):
        self._callback_queued = False
        self._launch_ready_buckets(everything=True)  # buckets with parameters unused in this backward
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.finish(self.world_size)
