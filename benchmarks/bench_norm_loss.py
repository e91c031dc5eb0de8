"""Forward+backward timings of batch_norm (2d, training), layer_norm and cross_entropy, glassnet vs PyTorch.

Both run in the same process on the same float32 data, alternating glassnet and torch call by call,
torch limited to 2 threads; each row is the median (and the minimum) of the repeats. Not a test:

    .venv/bin/python benchmarks/bench_norm_loss.py [--repeats 15]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import glassnet as gn  # noqa: E402
import glassnet.nn.functional as F  # noqa: E402


def _gn_leaf(a):
    return gn.Tensor(a, requires_grad=True)


def _t_leaf(a):
    return torch.tensor(a, requires_grad=True)


def case_batch_norm(rng, shape=(64, 32, 26, 26)):
    x = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    w, b = np.ones(c, np.float32), np.zeros(c, np.float32)
    up = rng.standard_normal(shape).astype(np.float32)
    rm_g, rv_g = gn.zeros(c), gn.ones(c)
    rm_t, rv_t = torch.zeros(c), torch.ones(c)
    gx, gw, gb, gup = _gn_leaf(x), _gn_leaf(w), _gn_leaf(b), gn.tensor(up)
    tx, tw, tb, tup = _t_leaf(x), _t_leaf(w), _t_leaf(b), torch.tensor(up)

    def run_gn():
        F.batch_norm(gx, rm_g, rv_g, gw, gb, training=True).backward(gup)

    def run_torch():
        torch.nn.functional.batch_norm(tx, rm_t, rv_t, tw, tb, training=True).backward(tup)

    return f"batch_norm train {shape}", run_gn, run_torch


def case_layer_norm(rng, shape=(64, 64, 512)):
    x = rng.standard_normal(shape).astype(np.float32)
    d = shape[-1]
    w, b = np.ones(d, np.float32), np.zeros(d, np.float32)
    up = rng.standard_normal(shape).astype(np.float32)
    gx, gw, gb, gup = _gn_leaf(x), _gn_leaf(w), _gn_leaf(b), gn.tensor(up)
    tx, tw, tb, tup = _t_leaf(x), _t_leaf(w), _t_leaf(b), torch.tensor(up)

    def run_gn():
        F.layer_norm(gx, (d,), gw, gb).backward(gup)

    def run_torch():
        torch.nn.functional.layer_norm(tx, (d,), tw, tb).backward(tup)

    return f"layer_norm {shape}", run_gn, run_torch


def case_cross_entropy(rng, n, c):
    x = rng.standard_normal((n, c)).astype(np.float32)
    t = rng.integers(0, c, n)
    gx, gt = _gn_leaf(x), gn.tensor(t)
    tx, tt = _t_leaf(x), torch.tensor(t)

    def run_gn():
        F.cross_entropy(gx, gt).backward()

    def run_torch():
        torch.nn.functional.cross_entropy(tx, tt).backward()

    return f"cross_entropy ({n}, {c})", run_gn, run_torch


def bench(run_gn, run_torch, repeats):
    run_gn()
    run_torch()  # warm up
    t_gn, t_torch = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_gn()
        t1 = time.perf_counter()
        run_torch()
        t2 = time.perf_counter()
        t_gn.append(t1 - t0)
        t_torch.append(t2 - t1)
    return (np.median(t_gn) * 1e3, np.median(t_torch) * 1e3, np.min(t_gn) * 1e3, np.min(t_torch) * 1e3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    cases = [case_batch_norm(rng), case_layer_norm(rng), case_cross_entropy(rng, 512, 1000),
             case_cross_entropy(rng, 64 * 50, 65)]
    print(f"medians of {args.repeats} (and minimums, less sensitive to a busy machine)")
    print(f"{'forward+backward':36s} {'glassnet ms':>12s} {'torch ms':>10s} {'ratio':>7s}   "
          f"{'min gn':>8s} {'min torch':>9s} {'ratio':>7s}")
    for name, run_gn, run_torch in cases:
        g, t, g_min, t_min = bench(run_gn, run_torch, args.repeats)
        print(f"{name:36s} {g:12.2f} {t:10.2f} {g / t:7.2f}   {g_min:8.2f} {t_min:9.2f} {g_min / t_min:7.2f}")


if __name__ == "__main__":
    main()
