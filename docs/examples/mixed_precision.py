"""Mixed precision, the numerics: float16 gradients underflow without loss scaling, and match float32 with it.

    python docs/examples/mixed_precision.py            # real MNIST (GLASSNET_DATA), a few minutes
    python docs/examples/mixed_precision.py --small    # the embedded sample, seconds

The same autoencoder (784-512-512-784, ReLU) is trained three times from the same initial weights on the
same batches, with a per-pixel mean squared error: its gradient at the output is 2 (y - x) / (N * 784),
a few times 1e-6, which float16 can only hold as a subnormal (below 6.1e-5 it keeps fewer bits; below
6e-8 it is zero), and which the backward makes smaller layer by layer.
  1. float32;
  2. autocast float16, no loss scaling: many gradients round to zero;
  3. autocast float16 with GradScaler: the loss is multiplied by S ~ 2^16 before the backward and the
     gradients divided by S before the step, so they live in float16's range.
It reports each run's loss curve, the share of the gradient entries that are exactly zero where the
backward enters the network (float32: none; float16 without scaling: those below float16's range), the memory the backward keeps for one step (traced NumPy allocations) and the time per step.
"""
import argparse
import os
import time
import tracemalloc

import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F

MODES = ("float32", "float16, no scaling", "float16 + GradScaler")


def images(small):
    from glassnet.datasets import MNIST

    ds = MNIST(train=True, sample=small)
    return ds.data.array.reshape(len(ds), -1).astype(np.float32) / 255


def autoencoder():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 784))


def train(mode, data, initial, steps, batch, lr):
    """Losses, the gradient arriving at the network's output (every 10th step, as float32 magnitudes), the
    share of its entries that are exactly zero there (mean over steps), and seconds per step."""
    model = autoencoder()
    model.load_state_dict(initial)
    opt = gn.optim.Adam(model.parameters(), lr=lr)
    scaler = gn.amp.GradScaler(enabled=mode == MODES[2])
    order = np.random.default_rng(0).permutation(len(data))
    losses, grads, zeros, began = [], [], [], time.perf_counter()

    def look(g):
        zeros.append(float((g.array == 0).mean()))
        if len(zeros) % 10 == 1:
            grads.append(np.abs(g.array.astype(np.float32)).ravel() / scaler.get_scale())

    for step in range(steps):
        x = gn.tensor(data[order[(step * batch) % len(data):][:batch]])
        opt.zero_grad()
        with gn.autocast(enabled=mode != MODES[0]):
            out = model(x)  # float16 inside autocast
            out.register_hook(look)
            loss = F.mse_loss(out.float(), x)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    return losses, np.concatenate(grads), float(np.mean(zeros)), (time.perf_counter() - began) / steps


def float16_losses(magnitudes, scale=1.0):
    """Shares of gradient entries (true magnitudes) that float16 stores as zero (< 2^-24 after scaling) and
    with reduced precision (subnormal: < 2^-14)."""
    scaled = magnitudes * scale
    return float(np.mean(scaled < 2.0**-25)), float(np.mean(scaled < 2.0**-14))


def step_memory(mode, data, initial, batch):
    """MiB that the forward leaves for the backward (the activations the graph keeps), and the peak of the
    whole step (forward and backward, temporaries included), from traced NumPy allocations."""
    model = autoencoder()
    model.load_state_dict(initial)
    x = gn.tensor(np.resize(data, (batch, data.shape[1])))
    tracemalloc.start()
    with gn.autocast(enabled=mode != MODES[0]):
        loss = F.mse_loss(model(x).float(), x)
    kept = tracemalloc.get_traced_memory()[0]
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return kept / 2**20, peak / 2**20


def plot(results, magnitudes, scale, path):
    from glassnet.viz._figure import finish, new_figure

    fig = new_figure((11, 3.8))
    left, right = fig.subplots(1, 2)
    for mode, (losses, _, zero, _) in results.items():
        left.plot(losses, label=f"{mode} ({100 * zero:.0f}% zero output gradients)")
    left.set(xlabel="step", ylabel="training loss (per-pixel MSE)", yscale="log", title="the three runs")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    logs = np.log10(magnitudes[magnitudes > 0])
    right.hist(logs, bins=80, color="0.5", label="float32 gradients at the output")
    right.hist(logs + np.log10(scale), bins=80, alpha=0.6, label=f"the same, times the loss scale {scale:g}")
    right.axvspan(logs.min() - 1, np.log10(2.0**-24), color="red", alpha=0.15, label="float16: zero")
    right.axvspan(np.log10(2.0**-24), np.log10(2.0**-14), color="orange", alpha=0.15, label="float16: subnormal")
    right.set(xlabel="log10 |gradient|", ylabel="entries", title="where float16 can hold them")
    right.legend(fontsize=8)
    return finish(fig, path)


def main(out_dir=os.path.join(os.path.dirname(__file__), "..", "images"), small=False):
    data = images(small)
    gn.manual_seed(0)
    initial = autoencoder().state_dict()
    steps, batch = (40, 256) if small else (150, 1024)
    results = {m: train(m, data, initial, steps, batch, lr=1e-3) for m in MODES}
    memory_batch = 1024 if small else 4096  # large enough that the activations outweigh the float16 weight copies
    memory = {m: step_memory(m, data, initial, memory_batch) for m in (MODES[0], MODES[2])}
    magnitudes, scale = results[MODES[0]][1], 2.0**16
    underflow = {"no scaling": float16_losses(magnitudes), "scaled": float16_losses(magnitudes, scale)}
    os.makedirs(out_dir, exist_ok=True)
    plot(results, magnitudes, scale, os.path.join(out_dir, "mixed_precision.png"))
    for mode, (losses, _, zero, seconds) in results.items():
        print(f"{mode:>22}: final loss {np.mean(losses[-10:]):.5f}, zero output gradients {100 * zero:5.1f}%, "
              f"{1000 * seconds:.0f} ms/step")
    for name, (zero, sub) in underflow.items():
        print(f"float32 output gradients, {name}: {100 * zero:.1f}% would be zero in float16, {100 * sub:.1f}% "
              "subnormal (fewer bits)")
    for mode, (kept, peak) in memory.items():
        print(f"{mode:>22}, batch {memory_batch}: the forward keeps {kept:.1f} MiB for the backward; the step's "
              f"peak is {peak:.1f} MiB")
    return {"results": results, "memory": memory, "underflow": underflow}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the embedded MNIST sample, a few seconds")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "images"))
    args = parser.parse_args()
    main(args.out, args.small)
