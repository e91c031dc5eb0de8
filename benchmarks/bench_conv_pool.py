"""conv2d and max_pool2d, forward + backward, glassnet against PyTorch.

    python benchmarks/bench_conv_pool.py [--threads N]

Each row times one forward and one backward (the gradient of sum(y * g) for a fixed random g). A
first-layer input (1 or 3 channels) is data and does not require grad, as in a real network; the other
inputs do, so their rows include the input gradient.
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import numpy as np
import torch

import glassnet as gn
import glassnet.nn.functional as F

CONV = [  # (label, input shape, out channels, kernel, padding)
    ("MNIST conv1 64x1x28x28 -> 32 3x3", (64, 1, 28, 28), 32, 3, 0),
    ("MNIST conv2 64x32x26x26 -> 64 3x3", (64, 32, 26, 26), 64, 3, 0),
    ("CIFAR conv1 128x3x32x32 -> 64 3x3 p1", (128, 3, 32, 32), 64, 3, 1),
    ("CIFAR conv2 128x64x32x32 -> 64 3x3 p1", (128, 64, 32, 32), 64, 3, 1),
]
POOL = [
    ("MNIST max_pool2d 2x2 64x64x24x24", (64, 64, 24, 24)),
    ("CIFAR max_pool2d 2x2 128x64x32x32", (128, 64, 32, 32)),
]


def _conv_runners(shape, out_channels, k, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((out_channels, shape[1], k, k)) * 0.1).astype(np.float32)
    b = np.zeros(out_channels, np.float32)
    x_grad = shape[1] > 3
    out_shape = (shape[0], out_channels, shape[2] + 2 * padding - k + 1, shape[3] + 2 * padding - k + 1)
    g = rng.standard_normal(out_shape).astype(np.float32)
    gx, gw, gb = gn.tensor(x, requires_grad=x_grad), gn.tensor(w, requires_grad=True), gn.tensor(b, requires_grad=True)
    tx = torch.tensor(x, requires_grad=x_grad)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    gg, tg = gn.tensor(g), torch.tensor(g)

    def run_gn():
        gw.grad = gb.grad = gx.grad = None
        F.conv2d(gx, gw, gb, padding=padding).backward(gg)

    def run_torch():
        tw.grad = tb.grad = tx.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=padding).backward(tg)

    return run_gn, run_torch


def _pool_runners(shape):
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)  # after a ReLU: many ties at 0
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(np.float32)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gg, tg = gn.tensor(g), torch.tensor(g)

    def run_gn():
        gx.grad = None
        F.max_pool2d(gx, 2).backward(gg)

    def run_torch():
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2).backward(tg)

    return run_gn, run_torch


def run(args):
    rows = [common.compare(label, *_conv_runners(*spec), args) for label, *spec in CONV]
    rows += [common.compare(label, *_pool_runners(shape), args) for label, shape in POOL]
    common.report("conv2d / max_pool2d forward + backward", rows)


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)
