"""Core operations: glassnet against PyTorch on the same machine, same run, 2 threads.

Run: python benchmarks/bench_core.py
"""
import numpy as np
import torch

import glassnet as gn
from common import compare, report


def fwd_bwd(lib, fn, *arrays):
    """A closure running fn forward and backward on fresh leaves holding `arrays`."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]

    def run():
        for t in leaves:
            t.grad = None
        fn(*leaves).sum().backward()

    return run


def main():
    rng = np.random.default_rng(0)
    rows = []
    for n in (64, 256, 1024):
        a, b = rng.standard_normal((2, n, n)).astype(np.float32)
        rows.append((f"matmul {n}x{n} fwd+bwd", *compare(fwd_bwd(gn, lambda x, y: x @ y, a, b),
                                                        fwd_bwd(torch, lambda x, y: x @ y, a, b))))
    x = rng.standard_normal((256, 1024)).astype(np.float32)

    def chain(t):
        return ((t * 2 + 1).exp() * t.sin() - t.abs().sqrt()) / 3

    rows.append(("elementwise chain 256x1024 fwd+bwd", *compare(fwd_bwd(gn, chain, x), fwd_bwd(torch, chain, x))))
    rows.append(("sum+mean 256x1024 fwd+bwd", *compare(fwd_bwd(gn, lambda t: t.sum(1) + t.mean(1), x),
                                                      fwd_bwd(torch, lambda t: t.sum(1) + t.mean(1), x))))
    if hasattr(gn, "softmax"):
        rows.append(("softmax(dim=-1) 256x1024 fwd+bwd",
                     *compare(fwd_bwd(gn, lambda t: t.softmax(-1) * t, x),
                              fwd_bwd(torch, lambda t: t.softmax(-1) * t, x))))
        rows.append(("var+max(dim=1) 256x1024 fwd+bwd",
                     *compare(fwd_bwd(gn, lambda t: t.var(1) + t.amax(1), x),
                              fwd_bwd(torch, lambda t: t.var(1) + t.amax(1), x))))
    report("core operations (fwd+bwd)", rows)

    small = rng.standard_normal((4,)).astype(np.float32)
    tg, tt = gn.tensor(small, requires_grad=True), torch.tensor(small, requires_grad=True)
    overhead = [
        ("add, forward only, 4 elements", *compare(lambda: tg + tg, lambda: tt + tt)),
        ("mul, forward only, no_grad", *compare(gn.no_grad()(lambda: tg * tg), torch.no_grad()(lambda: tt * tt))),
    ]
    ours, theirs = compare(fwd_bwd(gn, lambda t: t * t, small), fwd_bwd(torch, lambda t: t * t, small))
    overhead.append(("mul + sum, forward and backward", ours, theirs))
    report("per-operation overhead on a 4-element tensor", overhead, unit="us")


if __name__ == "__main__":
    main()
