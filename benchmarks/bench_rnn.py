"""Recurrent character models beside the LSTM of bench_steps.py: GRU and RNN training steps, and the
forward pass alone (no graph) of all three, glassnet against PyTorch, same weights.

    python benchmarks/bench_rnn.py [--threads N]

The model (benchmarks/models.py char_rnn): embedding 65 -> 64, 2-layer recurrent stack of width 128
(batch first), linear to 65 characters; a batch of 50 sequences of 50 characters. A training step:
zero_grad, forward, cross-entropy, backward, Adam step.
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import models
import numpy as np
import torch

import glassnet as gn

BATCH, SEQ = 50, 50


def _pair(cell):
    torch.manual_seed(0)
    theirs = models.char_rnn(torch, cell)
    ours = models.char_rnn(gn, cell)
    ours.load_state_dict(models.numpy_state(theirs))
    return ours, theirs


def _train_step(lib, model, x, y):
    optimizer = lib.optim.Adam(model.parameters(), lr=2e-3)

    def step():
        optimizer.zero_grad()
        logits = model(x)
        lib.nn.functional.cross_entropy(logits.reshape(-1, models.VOCAB), y.reshape(-1)).backward()
        optimizer.step()

    return step


def _forward(lib, model, x):
    def forward():
        with lib.no_grad():
            model(x)

    return forward


def run(args):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, models.VOCAB, (2, BATCH, SEQ))
    tensors = {gn: (gn.tensor(x), gn.tensor(y)), torch: (torch.from_numpy(x), torch.from_numpy(y))}
    rows = []
    for cell in ("GRU", "RNN"):
        ours, theirs = _pair(cell)
        rows.append(common.compare(f"{cell} training step (B={BATCH}, T={SEQ}, H=128, 2 layers, Adam)",
                                   _train_step(gn, ours, *tensors[gn]), _train_step(torch, theirs, *tensors[torch]),
                                   args))
    for cell in ("LSTM", "GRU", "RNN"):
        ours, theirs = _pair(cell)
        rows.append(common.compare(f"{cell} forward only, no graph", _forward(gn, ours, tensors[gn][0]),
                                   _forward(torch, theirs, tensors[torch][0]), args))
    common.report("recurrent character models: embedding -> 2-layer RNN -> linear", rows)


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)
