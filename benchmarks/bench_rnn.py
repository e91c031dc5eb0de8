"""Recurrent language-model training steps: glassnet against PyTorch in the same run, 2 threads.

One step = embedding -> 2-layer recurrent stack -> linear -> cross-entropy -> backward -> Adam step, on
a batch of 50 sequences of 50 tokens from a 65-symbol vocabulary (a character-level model), embedding 64,
hidden 128. Both models start from the same weights. Also the forward alone (no grad) for the LSTM.

Run: python benchmarks/bench_rnn.py   (2 threads; OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 for one thread)
"""
import os

import numpy as np
import torch

import glassnet as gn
from common import compare, report

THREADS = int(os.environ["OMP_NUM_THREADS"])  # common.py defaults it to 2
torch.set_num_threads(THREADS)

VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 65, 64, 128, 2, 50, 50


def build(lib, kind):
    nn = lib.nn
    rnn_cls = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}[kind]

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.rnn = rnn_cls(EMBED, HIDDEN, num_layers=LAYERS)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            out = self.rnn(self.embed(tokens))[0]  # (T, B, H)
            return self.head(out)

    return CharModel()


def numpy_state(module):
    return {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v.array).copy()
            for k, v in module.state_dict().items()}


def training_step(lib, model, tokens, targets):
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    cross_entropy = lib.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        logits = model(tokens)
        loss = cross_entropy(logits.reshape(SEQ * BATCH, VOCAB), targets.reshape(SEQ * BATCH))
        loss.backward()
        opt.step()

    return step


def main():
    rng = np.random.default_rng(0)
    data = rng.integers(0, VOCAB, (SEQ + 1, BATCH))
    rows = []
    for kind in ("LSTM", "GRU", "RNN"):
        tm = build(torch, kind)
        gm = build(gn, kind)
        gm.load_state_dict(numpy_state(tm))
        g_step = training_step(gn, gm, gn.tensor(data[:-1]), gn.tensor(data[1:]))
        t_step = training_step(torch, tm, torch.from_numpy(data[:-1]), torch.from_numpy(data[1:]))
        rows.append((f"{kind} train step (T={SEQ}, B={BATCH}, H={HIDDEN}, {LAYERS} layers)",
                     *compare(g_step, t_step, repeats=5)))
        if kind == "LSTM":
            gx, tx = gn.tensor(data[:-1]), torch.from_numpy(data[:-1])
            with gn.no_grad(), torch.no_grad():
                rows.append((f"{kind} forward only, no grad", *compare(lambda: gm(gx), lambda: tm(tx), repeats=5)))
    report(f"recurrent language model, embedding -> 2-layer RNN -> linear -> cross-entropy -> Adam "
           f"({THREADS} thread{'s' if THREADS > 1 else ''})", rows)


if __name__ == "__main__":
    main()
