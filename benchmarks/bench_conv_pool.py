"""Benchmark: conv2d and max_pool2d forward + backward, glassnet vs PyTorch, the same number of threads (2 by default).

    .venv/bin/python benchmarks/bench_conv_pool.py [--repeats 7] [--threads 2]

Each row times one forward and one backward (gradient of sum(y * g) for a fixed random g) with
glassnet and with torch, alternating the two libraries (benchmarks/common.py), and reports the median
over the repeats and the ratio glassnet / torch. A first-layer input (1 or 3 channels) is data and
does not require grad, as in a real network; the other inputs do, so their rows include the input
gradient.
"""
import argparse
import os
import sys

_parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
_parser.add_argument("--repeats", type=int, default=7)
_parser.add_argument("--threads", type=int, default=2, help="threads for OpenBLAS (glassnet) and for torch")
ARGS = _parser.parse_args()
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)  # before numpy loads

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import compare, report  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import glassnet as gn  # noqa: E402
import glassnet.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)

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
    gx, gw, gb = gn.Tensor(x, requires_grad=x_grad), gn.Tensor(w, requires_grad=True), gn.Tensor(b, requires_grad=True)
    tx = torch.tensor(x, requires_grad=x_grad)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    gg, tg = gn.Tensor(g), torch.tensor(g)

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
    gx, tx = gn.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gg, tg = gn.Tensor(g), torch.tensor(g)

    def run_gn():
        gx.grad = None
        F.max_pool2d(gx, 2).backward(gg)

    def run_torch():
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2).backward(tg)

    return run_gn, run_torch


def main(args=ARGS):
    rows = []
    for label, *spec in CONV:
        rows.append((label, *compare(*_conv_runners(*spec), repeats=args.repeats)))
        print(f"{label}: {rows[-1][1] * 1e3:.1f} ms vs {rows[-1][2] * 1e3:.1f} ms", file=sys.stderr, flush=True)
    for label, shape in POOL:
        rows.append((label, *compare(*_pool_runners(shape), repeats=args.repeats)))
    report(f"conv2d / max_pool2d forward + backward, glassnet vs torch ({args.threads} threads, median)", rows)


if __name__ == "__main__":
    main()
