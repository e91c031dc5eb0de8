"""batch_norm (2d, training), layer_norm and cross_entropy, forward + backward, glassnet against PyTorch.

    python benchmarks/bench_norm_loss.py [--threads N]
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import numpy as np
import torch

import glassnet as gn
import glassnet.nn.functional as F


def _gn_leaf(a):
    return gn.tensor(a, requires_grad=True)


def _t_leaf(a):
    return torch.tensor(a, requires_grad=True)


def _clear(*leaves):
    for t in leaves:
        t.grad = None


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
        _clear(gx, gw, gb)
        F.batch_norm(gx, rm_g, rv_g, gw, gb, training=True).backward(gup)

    def run_torch():
        _clear(tx, tw, tb)
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
        _clear(gx, gw, gb)
        F.layer_norm(gx, (d,), gw, gb).backward(gup)

    def run_torch():
        _clear(tx, tw, tb)
        torch.nn.functional.layer_norm(tx, (d,), tw, tb).backward(tup)

    return f"layer_norm {shape}", run_gn, run_torch


def case_cross_entropy(rng, n, c):
    x = rng.standard_normal((n, c)).astype(np.float32)
    t = rng.integers(0, c, n)
    gx, gt = _gn_leaf(x), gn.tensor(t)
    tx, tt = _t_leaf(x), torch.tensor(t)

    def run_gn():
        _clear(gx)
        F.cross_entropy(gx, gt).backward()

    def run_torch():
        _clear(tx)
        torch.nn.functional.cross_entropy(tx, tt).backward()

    return f"cross_entropy ({n}, {c})", run_gn, run_torch


def run(args):
    rng = np.random.default_rng(0)
    cases = [case_batch_norm(rng), case_layer_norm(rng), case_cross_entropy(rng, 512, 1000),
             case_cross_entropy(rng, 64 * 50, 65)]
    rows = [common.compare(name, run_gn, run_torch, args) for name, run_gn, run_torch in cases]
    common.report("normalization and loss, forward + backward", rows)


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)
