"""MNIST training steps, glassnet against PyTorch: the PyTorch MNIST example CNN (batch 64) and an MLP
784-512-512-10 (batch 128). Step time (same run, alternating, 2 threads) and peak memory (each framework
in its own child process, peak resident memory above the baseline after imports and model creation).

Run: python benchmarks/bench_mnist_step.py
"""
import json
import resource
import subprocess
import sys

import numpy as np

STEPS_FOR_MEMORY = 5


def models(lib):
    nn = lib.nn

    class ExampleNet(nn.Module):
        """The network of PyTorch's MNIST example: conv 32 3x3, conv 64 3x3, max-pool 2, dropout, fc 9216-128-10."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv2(self.conv1(x).relu()).relu()
            x = self.dropout1(lib.nn.functional.max_pool2d(x, 2)).flatten(1)
            return self.fc2(self.dropout2(self.fc1(x).relu()))

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                        nn.Linear(512, 10))
    return {"cnn": (ExampleNet(), 64, lambda p: lib.optim.Adadelta(p, lr=1.0)),
            "mlp": (mlp, 128, lambda p: lib.optim.Adam(p, lr=1e-3))}


def make_step(lib, name):
    model, batch, make_opt = models(lib)[name]
    opt = make_opt(model.parameters())
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def _lib(name):
    if name == "torch":
        import torch

        torch.set_num_threads(2)
        return torch
    import glassnet

    return glassnet


def child(lib_name, model_name):
    """Peak resident memory (MiB) added by a few training steps, printed as JSON."""
    step = make_step(_lib(lib_name), model_name)
    base = _rss_mib()
    for _ in range(STEPS_FOR_MEMORY):
        step()
    print(json.dumps({"peak_mib": _status_mib("VmHWM") - base}))


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _status_mib(field):
    """A memory figure of this process from /proc (VmHWM, unlike ru_maxrss, is not inherited across exec)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def main():
    import torch

    import glassnet
    from common import compare, report

    rows, memory = [], []
    for name in ("cnn", "mlp"):
        ours, theirs = compare(make_step(glassnet, name), make_step(torch, name), repeats=5, min_time=0.3)
        label = {"cnn": "PyTorch MNIST example CNN, batch 64", "mlp": "MLP 784-512-512-10, batch 128"}[name]
        rows.append((label, ours, theirs))
        mem = []
        for lib in ("glassnet", "torch"):
            out = subprocess.run([sys.executable, __file__, "--child", lib, name], capture_output=True, text=True,
                                 check=True).stdout
            mem.append(json.loads(out.strip().splitlines()[-1])["peak_mib"])
        memory.append((label, *mem))
    report("training step (forward, backward, optimizer)", rows)
    print("\npeak memory added by training steps (MiB, resident, each framework in its own process)")
    print("| case | glassnet | torch |")
    print("| --- | ---: | ---: |")
    for label, a, b in memory:
        print(f"| {label} | {a:.0f} | {b:.0f} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        import os

        os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
        child(sys.argv[2], sys.argv[3])
    else:
        main()
