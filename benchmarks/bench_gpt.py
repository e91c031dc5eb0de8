"""GPT training step, glassnet against the same model in PyTorch, with the gpt-shakespeare settings:
4 layers, 4 heads, width 128, context 64, batch 12, vocabulary 65, AdamW, gradient clipping at 1.0.

    cd benchmarks && ../.venv/bin/python bench_gpt.py

Each step: forward with loss, backward, clip_grad_norm_, AdamW step, zero_grad. Weights are copied
from the torch model into glassnet's so both compute the same thing.
"""
import math
import sys

import numpy as np
import torch
import torch.nn as tnn
from torch.nn import functional as TF

from common import compare, report  # noqa: E402  (sets the thread counts first)

import glassnet as gn  # noqa: E402
from glassnet.models import GPT  # noqa: E402

V, T, B, L, H, C = 65, 64, 12, 4, 4, 128


class TorchBlock(tnn.Module):
    """The same pre-norm block as glassnet.models.gpt.Block, with the same parameter names."""

    def __init__(self):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(C)
        self.attn = tnn.Module()
        self.attn.c_attn = tnn.Linear(C, 3 * C)
        self.attn.c_proj = tnn.Linear(C, C)
        self.ln_2 = tnn.LayerNorm(C)
        self.mlp = tnn.Module()
        self.mlp.c_fc = tnn.Linear(C, 4 * C)
        self.mlp.c_proj = tnn.Linear(4 * C, C)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(TF.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class TorchGPT(tnn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = tnn.ModuleDict(dict(wte=tnn.Embedding(V, C), wpe=tnn.Embedding(T, C),
                                               h=tnn.ModuleList([TorchBlock() for _ in range(L)]),
                                               ln_f=tnn.LayerNorm(C)))
        self.lm_head = tnn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, TF.cross_entropy(logits.view(-1, V), targets.reshape(-1))


def optimizer_groups(params):
    params = list(params)
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def main():
    torch.manual_seed(0)
    ref = TorchGPT()
    ours = GPT(V, T, L, H, C)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    t_opt = torch.optim.AdamW(optimizer_groups(ref.parameters()), lr=1e-3, betas=(0.9, 0.99))
    g_opt = gn.optim.AdamW(optimizer_groups(ours.parameters()), lr=1e-3, betas=(0.9, 0.99))
    rng = np.random.default_rng(0)
    x_np, y_np = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
    tx, ty = torch.from_numpy(x_np), torch.from_numpy(y_np)
    gx, gy = gn.tensor(x_np), gn.tensor(y_np)

    def step_ours():
        _, loss = ours(gx, gy)
        loss.backward()
        gn.nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
        g_opt.step()
        g_opt.zero_grad()

    def step_torch():
        _, loss = ref(tx, ty)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
        t_opt.step()
        t_opt.zero_grad()

    def forward_ours():
        with gn.no_grad():
            ours(gx, gy)

    def forward_torch():
        with torch.no_grad():
            ref(tx, ty)

    # the first losses agree (same weights, same batch)
    l_ours, l_torch = ours(gx, gy)[1].item(), ref(tx, ty)[1].item()
    assert math.isclose(l_ours, l_torch, rel_tol=1e-4), (l_ours, l_torch)
    rows = [("forward (no grad), B=12 T=64", *compare(forward_ours, forward_torch)),
            ("training step (fwd+bwd+clip+AdamW)", *compare(step_ours, step_torch, repeats=5))]
    report(f"GPT {L} layers, {H} heads, width {C}, context {T}, batch {B} (gpt-shakespeare settings)", rows)
    ratio = rows[-1][1] / rows[-1][2]
    print(f"\n2000 iterations would take about {2000 * rows[-1][1]:.0f} s (glassnet) and "
          f"{2000 * rows[-1][2]:.0f} s (torch); ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
