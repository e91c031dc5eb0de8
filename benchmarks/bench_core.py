"""Core operations, forward and backward: glassnet against PyTorch, and the per-operation overhead on a
tiny tensor.

    python benchmarks/bench_core.py [--threads N]
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import numpy as np
import torch

import glassnet as gn


def fwd_bwd(lib, fn, *arrays):
    """A closure running fn forward and backward on fresh leaves holding `arrays`."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]

    def run():
        for t in leaves:
            t.grad = None
        fn(*leaves).sum().backward()

    return run


def run(args):
    def compare(name, ours, theirs):
        return common.compare(name, ours, theirs, args)

    rng = np.random.default_rng(0)
    rows = []
    for n in (64, 256, 1024):
        a, b = rng.standard_normal((2, n, n)).astype(np.float32)
        rows.append(compare(f"matmul {n}x{n} fwd+bwd", fwd_bwd(gn, lambda x, y: x @ y, a, b),
                            fwd_bwd(torch, lambda x, y: x @ y, a, b)))
    x = rng.standard_normal((256, 1024)).astype(np.float32)

    def chain(t):
        return ((t * 2 + 1).exp() * t.sin() - t.abs().sqrt()) / 3

    rows.append(compare("elementwise chain 256x1024 fwd+bwd", fwd_bwd(gn, chain, x), fwd_bwd(torch, chain, x)))
    for name, fn in (("sum+mean", lambda t: t.sum(1) + t.mean(1)), ("softmax(dim=-1)", lambda t: t.softmax(-1) * t),
                     ("var+max(dim=1)", lambda t: t.var(1) + t.amax(1))):
        rows.append(compare(f"{name} 256x1024 fwd+bwd", fwd_bwd(gn, fn, x), fwd_bwd(torch, fn, x)))
    common.report("core operations (fwd+bwd)", rows)

    small = rng.standard_normal((4,)).astype(np.float32)
    tg, tt = gn.tensor(small, requires_grad=True), torch.tensor(small, requires_grad=True)
    overhead = [
        compare("add, forward only, 4 elements", lambda: tg + tg, lambda: tt + tt),
        compare("mul, forward only, no_grad", gn.no_grad()(lambda: tg * tg), torch.no_grad()(lambda: tt * tt)),
        compare("mul + sum, forward and backward", fwd_bwd(gn, lambda t: t * t, small),
                fwd_bwd(torch, lambda t: t * t, small)),
    ]
    common.report("per-operation overhead on a 4-element tensor", overhead, unit="us", per_label="call")


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)
