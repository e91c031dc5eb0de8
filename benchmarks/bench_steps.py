"""The four training steps of issue 10, glassnet against the same model in PyTorch, same weights.

    python benchmarks/bench_steps.py                  # all four, 2 threads then 1, peak memory
    python benchmarks/bench_steps.py --case gpt --threads 2 --no-memory   # one case, quickly

Each model is written once with the public API the two frameworks share (benchmarks/models.py):

    mlp   MLP 784-512-512-10, batch 128, cross-entropy, SGD lr 0.01 momentum 0.9
    lstm  embedding 65 -> 64, 2-layer LSTM 128 (batch first), linear to 65 characters, T=50, batch 50,
          cross-entropy, Adam lr 2e-3
    cnn   the PyTorch MNIST example CNN (conv 32 3x3, conv 64 3x3, ReLU, max-pool 2, dropout .25,
          fc 9216-128, dropout .5, fc 10, log_softmax + nll_loss), batch 64, Adam lr 1e-3
    gpt   GPT 4 layers x 4 heads x 128, T=64, batch 12, vocabulary 65, exact GELU (F.gelu's default),
          no biases, weight tying, AdamW lr 1e-3 betas (0.9, 0.99), weight decay 0.1 on the matrices
          (gpt-shakespeare's settings, with the exact GELU)

A step is zero_grad, forward, loss, backward, optimizer step, on one fixed random batch. The PyTorch
model's weights are copied into glassnet's, and before timing the two losses on that batch (eval mode,
so that dropout does not differ) must agree to 1e-4. Peak memory: each framework's few steps in a
process of its own (common.peak_memory_mib).
"""
from dataclasses import dataclass

import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import models
import numpy as np
import torch

import glassnet


@dataclass
class Case:
    label: str
    build: object  # lib -> model
    batch: object  # rng -> (inputs, targets) NumPy arrays
    loss: object  # (lib, model, inputs, targets) -> scalar loss
    optimizer: object  # (lib, model) -> optimizer


def _cross_entropy(lib, model, x, y):
    logits = model(x)
    return lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def _images(batch):
    return lambda rng: (rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch))


def _chars(batch, length):
    return lambda rng: (rng.integers(0, models.VOCAB, (batch, length)), rng.integers(0, models.VOCAB, (batch, length)))


CASES = {
    "mlp": Case("MLP 784-512-512-10, batch 128, SGD momentum", models.mlp, _images(128), _cross_entropy,
                lambda lib, m: lib.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)),
    "lstm": Case("2-layer LSTM 128, embedding 64, T=50, batch 50, Adam", models.char_rnn, _chars(50, 50),
                 _cross_entropy, lambda lib, m: lib.optim.Adam(m.parameters(), lr=2e-3)),
    "cnn": Case("PyTorch MNIST example CNN, batch 64, Adam", models.example_cnn, _images(64),
                lambda lib, m, x, y: lib.nn.functional.nll_loss(m(x), y),
                lambda lib, m: lib.optim.Adam(m.parameters(), lr=1e-3)),
    "gpt": Case("GPT 4x4x128, T=64, batch 12, exact GELU, AdamW", models.gpt, _chars(12, 64),
                lambda lib, m, x, y: m(x, y)[1],
                lambda lib, m: lib.optim.AdamW(models.decay_groups(m, 0.1), lr=1e-3, betas=(0.9, 0.99))),
}
LIBS = {"glassnet": glassnet, "torch": torch}


def make_step(lib, case, model):
    """The training step closure on one fixed batch, and the eval-mode loss of that batch before training."""
    x, y = (lib.tensor(a) for a in case.batch(np.random.default_rng(0)))
    optimizer = case.optimizer(lib, model)
    model.eval()
    with lib.no_grad():
        first_loss = case.loss(lib, model, x, y).item()
    model.train()

    def step():
        optimizer.zero_grad()
        case.loss(lib, model, x, y).backward()
        optimizer.step()

    return step, first_loss


def build_step(lib_name, name):
    """One framework's step of a case (for the peak-memory child process)."""
    lib = LIBS[lib_name]
    return make_step(lib, CASES[name], CASES[name].build(lib))[0]


def paired_steps(name):
    """glassnet's and PyTorch's steps of a case, from the same weights; checks their first losses agree."""
    case = CASES[name]
    torch.manual_seed(0)
    theirs = case.build(torch)
    ours = case.build(glassnet)
    ours.load_state_dict(models.numpy_state(theirs))
    ours_step, ours_loss = make_step(glassnet, case, ours)
    theirs_step, theirs_loss = make_step(torch, case, theirs)
    if abs(ours_loss - theirs_loss) > 1e-4 * max(1.0, abs(theirs_loss)):
        raise SystemExit(f"{name}: the first losses differ: glassnet {ours_loss:.6f}, PyTorch {theirs_loss:.6f}")
    return ours_step, theirs_step


def run(args):
    rows = [common.compare(CASES[name].label, *paired_steps(name), args) for name in args.case]
    common.report("training step (zero_grad, forward, loss, backward, optimizer step)", rows)
    if args.no_memory:
        return
    print("\npeak memory added by 5 training steps (MiB resident, each framework in its own process)\n")
    print("| case | glassnet | PyTorch | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in args.case:
        ours, theirs = (common.peak_memory_mib(lib, name, args.threads) for lib in ("glassnet", "torch"))
        print(f"| {CASES[name].label} | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f} |", flush=True)


if __name__ == "__main__":
    parser = common.parser(__doc__)
    parser.add_argument("--case", nargs="+", choices=list(CASES), default=list(CASES),
                        help="cases to run (default: all)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurements")
    common.main(parser, run, build_step)
