"""A two-layer attention model that reverses a sequence of digits, and the attention maps it learns.

To put the digit from position T-1-i at position i, the model must look up a position: its
attention maps become anti-diagonals. Run: python docs/examples/transformer.py
(writes docs/images/transformer_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn, optim, viz

from _common import IMAGES, run  # docs/examples/_common.py


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x)); keeps its last weights."""

    def __init__(self, d, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.weights = None

    def forward(self, x):
        h = self.norm1(x)
        out, self.weights = self.attn(h, h, h, need_weights=True, average_attn_weights=False)  # (N, H, T, T)
        x = x + out
        return x + self.mlp(self.norm2(x))


class Reverser(nn.Module):
    """digits -> token + position embeddings -> blocks -> a digit at every position."""

    def __init__(self, length, d=32, heads=2, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(10, d)
        self.positions = nn.Parameter(gn.randn(length, d) * 0.5)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.head = nn.Linear(d, 10)

    def forward(self, digits):
        x = self.tokens(digits) + self.positions
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def main(out_dir=IMAGES, small=False):
    """Train on random digit strings; plot curves and every layer's and head's attention for one input."""
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    length, steps = (5, 25) if small else (8, 300)
    model = Reverser(length)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    records = []
    for step in range(steps):
        digits = gn.tensor(rng.integers(0, 10, (64, length)))
        target = digits.flip([1])
        logits = model(digits)
        loss = F.cross_entropy(logits.reshape(-1, 10), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        records.append(dict(split="train", step=step, loss=loss.item(),
                            accuracy=float((logits.array.argmax(-1) == target.array).mean())))
    digits = gn.tensor(rng.integers(0, 10, (500, length)))
    with gn.no_grad():
        logits = model(digits)
    exact = float((logits.array.argmax(-1) == digits.array[:, ::-1]).all(1).mean())
    print(f"{steps} steps: {100 * exact:.1f}% of new strings reversed exactly")

    weights = np.stack([b.weights.array[0] for b in model.blocks])  # (layers, heads, T, T) for string 0
    src = [str(d) for d in digits.array[0]]
    out = [str(d) for d in logits.array[0].argmax(-1)]
    viz.plot_curves(records, os.path.join(out_dir, "transformer_curves.png"))
    viz.plot_attention(weights, src, out, os.path.join(out_dir, "transformer_attention.png"),
                       title="attention: rows = output positions, columns = input digits")
    mirror = float(np.mean([weights[:, :, i, length - 1 - i].max() for i in range(length)]))
    return dict(exact_match=exact, steps=steps, final_loss=loss.item(), weights_shape=weights.shape,
                mirror_attention=mirror)


if __name__ == "__main__":
    run(main)
