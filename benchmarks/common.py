"""Timing glassnet against PyTorch in the same process: alternating runs, median of repeats, 2 threads."""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(2)


def _once(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def compare(ours, theirs, repeats=7, min_time=0.05):
    """Median seconds per call of `ours` and `theirs`, measured alternately after a warm-up."""
    ours(), theirs()
    single = max(_once(ours, 1), _once(theirs, 1), 1e-7)
    number = max(1, int(min_time / single))
    a, b = [], []
    for _ in range(repeats):
        a.append(_once(ours, number))
        b.append(_once(theirs, number))
    return statistics.median(a), statistics.median(b)


def report(title, rows, unit="ms"):
    """Print a table of (case, glassnet seconds, torch seconds) with the ratio glassnet/torch."""
    scale = {"ms": 1e3, "us": 1e6}[unit]
    print(f"\n{title}")
    print(f"| case | glassnet ({unit}) | torch ({unit}) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours * scale:.3f} | {theirs * scale:.3f} | {ours / theirs:.2f} |")
