"""A GRU that counts: it reads brackets and predicts the nesting depth after each one.

The hidden states, drawn as a heatmap over the sequence, show units that track the depth.
Run: python docs/examples/rnn.py   (writes docs/images/rnn_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn, optim, viz

from _common import IMAGES, run  # docs/examples/_common.py

MAX_DEPTH = 4


def brackets(n, length, rng):
    """n random sequences of '(' (token 0) and ')' (token 1) that never close more than they opened,
    never nest deeper than MAX_DEPTH, and the depth after each token (the targets, 0..MAX_DEPTH)."""
    tokens = np.zeros((n, length), np.int64)
    depth = np.zeros((n, length), np.int64)
    d = np.zeros(n, np.int64)
    for t in range(length):  # one vectorised step per position
        close = np.where(d == 0, False, np.where(d == MAX_DEPTH, True, rng.random(n) < 0.5))
        d = d + np.where(close, -1, 1)
        tokens[:, t], depth[:, t] = close, d
    return gn.tensor(tokens), gn.tensor(depth)


class DepthCounter(nn.Module):
    """token -> embedding (8) -> GRU (hidden 16) -> linear -> depth logits at every step."""

    def __init__(self, hidden=16):
        super().__init__()
        self.embed = nn.Embedding(2, 8)
        self.gru = nn.GRU(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, MAX_DEPTH + 1)

    def forward(self, tokens):
        states, _ = self.gru(self.embed(tokens))  # (N, T, hidden): the hidden state after each token
        return self.head(states), states


def main(out_dir=IMAGES, small=False):
    """Train on random bracket sequences; plot curves and the hidden states of one test sequence."""
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    length = 12 if small else 24
    model = DepthCounter()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    records = []
    steps = 40 if small else 400
    for step in range(steps):
        tokens, depth = brackets(64, length, rng)
        logits, _ = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, MAX_DEPTH + 1), depth.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracy = float((logits.array.argmax(-1) == depth.array).mean())
        records.append(dict(split="train", step=step, loss=loss.item(), accuracy=accuracy))
    tokens, depth = brackets(500, length, rng)
    with gn.no_grad():
        logits, states = model(tokens)
    test_accuracy = float((logits.array.argmax(-1) == depth.array).mean())
    records.append(dict(split="test", step=steps, loss=F.cross_entropy(
        logits.reshape(-1, MAX_DEPTH + 1), depth.reshape(-1)).item(), accuracy=test_accuracy))
    print(f"{steps} steps: per-token depth accuracy on new sequences {100 * test_accuracy:.1f}%")

    labels = [f"{'()'[t]}{d}" for t, d in zip(tokens.array[0], depth.array[0])]  # the bracket and its depth
    viz.plot_curves(records, os.path.join(out_dir, "rnn_curves.png"))
    viz.plot_hidden_states(states[0], labels, os.path.join(out_dir, "rnn_hidden_states.png"),
                           title="GRU hidden states (columns: bracket and depth after it)")
    # the unit most correlated with the depth, over all test tokens
    h = states.array.reshape(-1, states.shape[-1])
    corr = [abs(np.corrcoef(h[:, k], depth.array.reshape(-1))[0, 1]) for k in range(h.shape[1])]
    best = int(np.argmax(corr))
    print(f"hidden unit {best} follows the depth: |correlation| {corr[best]:.3f}")
    return dict(test_accuracy=test_accuracy, steps=steps, final_loss=records[-2]["loss"], depth_unit=best,
                depth_correlation=float(corr[best]))


if __name__ == "__main__":
    run(main)
