"""Attention: glassnet's fused scaled_dot_product_attention and MultiheadAttention against PyTorch,
forward + backward.

    python benchmarks/bench_attention.py [--threads N]
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import models
import numpy as np
import torch

import glassnet as gn


def sdpa_fwd_bwd(lib, F, arrays, grad, **kw):
    """A closure: attention forward on fresh leaves, then backward with a fixed upstream gradient."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    g = lib.tensor(grad)

    def run():
        for t in leaves:
            t.grad = None
        F.scaled_dot_product_attention(*leaves, **kw).backward(g)

    return run


def mha_fwd_bwd(lib, module, x):
    xt = lib.tensor(x, requires_grad=True)

    def run():
        module.zero_grad()
        xt.grad = None
        out, _ = module(xt, xt, xt, need_weights=False)
        out.sum().backward()

    return run


def run(args):
    rng = np.random.default_rng(0)
    rows = []
    for (B, H, L, D), causal in [((12, 4, 64, 32), False), ((12, 4, 64, 32), True), ((8, 8, 256, 64), False),
                                 ((8, 8, 256, 64), True), ((4, 8, 512, 64), True)]:
        arrays = [rng.standard_normal((B, H, L, D)).astype(np.float32) for _ in range(3)]
        grad = rng.standard_normal((B, H, L, D)).astype(np.float32)
        name = f"sdpa {(B, H, L, D)}{' causal' if causal else ''} fwd+bwd"
        rows.append(common.compare(name, sdpa_fwd_bwd(gn, gn.nn.functional, arrays, grad, is_causal=causal),
                                   sdpa_fwd_bwd(torch, torch.nn.functional, arrays, grad, is_causal=causal), args))
    common.report("scaled_dot_product_attention (fwd+bwd)", rows)

    rows = []
    for N, L, E, H in [(16, 64, 128, 4), (8, 256, 256, 8)]:
        g = gn.nn.MultiheadAttention(E, H, batch_first=True)
        t = torch.nn.MultiheadAttention(E, H, batch_first=True)
        g.load_state_dict(models.numpy_state(t))
        x = rng.standard_normal((N, L, E)).astype(np.float32)
        rows.append(common.compare(f"MultiheadAttention N={N} L={L} E={E} H={H} fwd+bwd", mha_fwd_bwd(gn, g, x),
                                   mha_fwd_bwd(torch, t, x), args))
    common.report("MultiheadAttention self-attention (fwd+bwd)", rows)


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)
