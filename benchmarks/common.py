"""The benchmark harness: glassnet against PyTorch, timed so that neither pays for the other.

How one comparison is timed (`compare`):

  1. warm-up: each framework runs one block, which also sizes its blocks: as many consecutive steps as
     fill at least --block-seconds (0.3 s);
  2. interleaved: --blocks (7) blocks per framework, alternating glassnet, PyTorch, glassnet, ...;
  3. alone: after a pause in which the other framework's BLAS/OpenMP threads stop spinning and park,
     all of glassnet's blocks back to back; then the same for PyTorch.

Each block gives a time per step (wall clock, and the process's CPU time); a row reports the median over
the blocks, their spread (min-max) and the ratio glassnet / PyTorch, interleaved and alone. When a
framework's alone and interleaved medians differ by more than 15%, a WARNING is printed: the two
disturb each other (or the machine is busy) and the figures are not to be published.

Thread counts: a BLAS library reads its thread count once, when it loads, so each thread count runs in
its own process. Without --threads a script is the parent: it prints the machine's load, runs itself
with --threads 2 (the headline) and then --threads 1, and ends with a verdict: publishable only when
the 1-minute load before the run was at most --max-load (0.5) and no WARNING was printed. With
--threads N the script runs once with N threads for both frameworks (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and torch.set_num_threads); if the environment says otherwise,
it restarts itself with the right variables before anything measures.

Peak memory: `peak_memory_mib` runs one framework's few training steps in a child process of its own
and reads the peak resident memory above the memory after set-up (VmHWM, which unlike ru_maxrss is not
inherited from the parent across exec).

A script: builds its parser with `parser(__doc__)`, adds its options, and calls `main(parser, run)`,
where `run(args)` calls `compare(...)` per case and `report(...)` per table.
"""
import argparse
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CHILD_MARK = "GLASSNET_BENCH_CHILD"  # set by the parent in its children's environment
HEADLINE_THREADS = (2, 1)
DISAGREEMENT = 0.15  # alone vs interleaved, relative
PAUSE_SECONDS = 1.0  # idle time before a framework is timed alone


def _threads_in_argv(argv):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return None


def _pin_threads():
    """With --threads N, make sure the BLAS and OpenMP libraries load with N threads (restarting this
    process with the variables set if needed: they are read only when a library loads)."""
    n = _threads_in_argv(sys.argv)
    if n is None:
        return
    if any(os.environ.get(name) != str(n) for name in THREAD_VARIABLES):
        os.environ.update({name: str(n) for name in THREAD_VARIABLES})
        os.execv(sys.executable, [sys.executable] + sys.argv)
    import torch

    torch.set_num_threads(n)


_pin_threads()
WARNINGS = []  # the interference WARNINGs printed by this process


# ---- measuring -------------------------------------------------------------------------------------
@dataclass
class Series:
    """Blocks of consecutive steps of one framework: seconds per step, wall and CPU, one per block."""

    wall: list
    cpu: list
    steps: int  # steps per block

    @property
    def median(self):
        return statistics.median(self.wall)

    @property
    def cpu_median(self):
        return statistics.median(self.cpu)


@dataclass
class Comparison:
    name: str
    ours: Series  # interleaved
    theirs: Series
    ours_alone: Series
    theirs_alone: Series
    per: int = 1  # items (tokens, images) per step: times are reported per item

    @property
    def ratio(self):
        return self.ours.median / self.theirs.median

    @property
    def ratio_alone(self):
        return self.ours_alone.median / self.theirs_alone.median


def _block(fn, steps):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def _warm_up(fn, seconds):
    """Run fn for at least `seconds`, in chunks of 1, 2, 4, ... steps (doubling while a chunk lasts under
    10 ms); return the steps per block that fill `seconds` at the fastest chunk's pace (so that a
    disturbed warm-up makes later blocks longer, never shorter than `seconds` on a quiet machine)."""
    fn()  # the first call allocates, fills caches, builds the optimizer state
    start, chunk, fastest = time.perf_counter(), 1, math.inf
    while time.perf_counter() - start < seconds or fastest == math.inf:
        took = _block(fn, chunk)[0]
        fastest = min(fastest, took)
        if took * chunk < 0.01:
            chunk *= 2
    return max(1, math.ceil(seconds / fastest))


def _series(fn, steps, blocks):
    runs = [_block(fn, steps) for _ in range(blocks)]
    return Series([w for w, _ in runs], [c for _, c in runs], steps)


def compare(name, ours, theirs, args, per=1):
    """Time the zero-argument callables `ours` (glassnet) and `theirs` (PyTorch): interleaved blocks,
    then each alone (see the module docstring). Returns a Comparison; warns on interference."""
    n_ours, n_theirs = _warm_up(ours, args.block_seconds), _warm_up(theirs, args.block_seconds)
    mixed = [(_block(ours, n_ours), _block(theirs, n_theirs)) for _ in range(args.blocks)]
    ours_mixed = Series([o[0] for o, _ in mixed], [o[1] for o, _ in mixed], n_ours)
    theirs_mixed = Series([t[0] for _, t in mixed], [t[1] for _, t in mixed], n_theirs)
    time.sleep(PAUSE_SECONDS)
    ours_alone = _series(ours, n_ours, args.blocks)
    time.sleep(PAUSE_SECONDS)
    theirs_alone = _series(theirs, n_theirs, args.blocks)
    result = Comparison(name, ours_mixed, theirs_mixed, ours_alone, theirs_alone, per)
    for label, mixed_series, alone in (("glassnet", ours_mixed, ours_alone), ("PyTorch", theirs_mixed, theirs_alone)):
        change = mixed_series.median / alone.median - 1
        if abs(change) > DISAGREEMENT:
            warn(f"{name}: {label} interleaved {_ms(mixed_series.median, per)} ms vs alone "
                 f"{_ms(alone.median, per)} ms ({change:+.0%}): they disturb each other or the machine is busy")
    print(f"  {name}: glassnet {_ms(ours_mixed.median, per)} ms, PyTorch {_ms(theirs_mixed.median, per)} ms "
          f"(interleaved), ratio {result.ratio:.2f}", file=sys.stderr, flush=True)
    return result


def warn(message):
    line = f"WARNING: {message}"
    WARNINGS.append(line)
    print(line, flush=True)


def _ms(seconds, per=1, unit="ms"):
    return f"{seconds / per * {'ms': 1e3, 'us': 1e6}[unit]:.{2 if unit == 'ms' else 1}f}"


# ---- reporting -------------------------------------------------------------------------------------
def report(title, rows, unit="ms", per_label="step"):
    """A markdown table of Comparisons: per framework the interleaved median, its spread (min-max over the
    blocks) and the median alone; the ratios glassnet / PyTorch interleaved and alone, and of CPU time
    alone (the process's CPU time: it also counts threads spinning while they wait)."""
    print(f"\n{title}  ({unit} per {per_label}; {_threads()} thread(s))\n")
    print(f"| case | glassnet {unit} | spread | alone | PyTorch {unit} | spread | alone | ratio | ratio alone "
          "| CPU ratio alone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        cells = [r.name]
        for mixed, alone in ((r.ours, r.ours_alone), (r.theirs, r.theirs_alone)):
            cells += [_ms(mixed.median, r.per, unit),
                      f"{_ms(min(mixed.wall), r.per, unit)}-{_ms(max(mixed.wall), r.per, unit)}",
                      _ms(alone.median, r.per, unit)]
        cells += [f"{r.ratio:.2f}", f"{r.ratio_alone:.2f}",
                  f"{r.ours_alone.cpu_median / r.theirs_alone.cpu_median:.2f}"]
        print("| " + " | ".join(cells) + " |")
    steps = ", ".join(f"{r.ours.steps}/{r.theirs.steps}" for r in rows)
    print(f"\nmedians of {len(rows[0].ours.wall) if rows else 0} blocks per framework and mode; steps per block "
          f"(glassnet/PyTorch), row by row: {steps}")


def print_rate(rows, item="token"):
    """Items per second of each row (from the medians alone), for throughputs such as tokens/s."""
    for r in rows:
        print(f"- {r.name}: glassnet {r.per / r.ours_alone.median:,.0f} {item}s/s, "
              f"PyTorch {r.per / r.theirs_alone.median:,.0f} {item}s/s (alone)")


# ---- processes: thread counts, load, memory ----------------------------------------------------------
def parser(doc):
    p = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--threads", type=int, default=None,
                   help="run once with this many threads (default: run with 2, then with 1, each in its own process)")
    p.add_argument("--blocks", type=int, default=7, help="timed blocks per framework and mode (default 7)")
    p.add_argument("--block-seconds", type=float, default=0.3, help="minimum seconds per block (default 0.3)")
    p.add_argument("--max-load", type=float, default=0.5,
                   help="highest 1-minute load before the run for a publishable figure (default 0.5)")
    p.add_argument("--memory-of", nargs=2, metavar=("LIB", "CASE"), help=argparse.SUPPRESS)
    return p


def _threads():
    return int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count()


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _command():
    return "python " + shlex.join([os.path.relpath(sys.argv[0])] + sys.argv[1:])


def _header():
    import numpy
    import torch

    print(f"date: {datetime.datetime.now().isoformat(timespec='minutes')}")
    print(f"command: {_command()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"NumPy {numpy.__version__}, PyTorch {torch.__version__}")


def _verdict(load_before, max_load, warnings):
    problems = []
    if load_before > max_load:
        problems.append(f"the 1-minute load before the run was {load_before:.2f} > {max_load}: the machine "
                        "was busy")
    if warnings:
        problems.append(f"{warnings} WARNING(s) above")
    if problems:
        print("\nverdict: NOT publishable (" + "; ".join(problems) + "): indicative figures only")
    else:
        print(f"\nverdict: publishable (load before {load_before:.2f} <= {max_load}; alone and interleaved "
              f"agree within {DISAGREEMENT:.0%})")


def _run_children(args):
    """The parent: this script once per thread count, each in its own process."""
    _header()
    load_before = os.getloadavg()[0]
    print(f"load before: {_load()}")
    if load_before > args.max_load:
        print(f"WARNING: the 1-minute load is {load_before:.2f} before anything of ours runs: the machine is "
              "shared, the figures below are indicative and not to be published", flush=True)
    warnings = 0
    for n in HEADLINE_THREADS:
        print(f"\n## {n} thread{'s' if n > 1 else ''}\n", flush=True)
        env = {**os.environ, CHILD_MARK: "1", **{name: str(n) for name in THREAD_VARIABLES}}
        child = subprocess.Popen([sys.executable, sys.argv[0], *sys.argv[1:], "--threads", str(n)], env=env,
                                 stdout=subprocess.PIPE, text=True, bufsize=1)
        for line in child.stdout:
            print(line, end="", flush=True)
            warnings += line.startswith("WARNING")
        if child.wait():
            raise SystemExit(f"the {n}-thread run failed (exit status {child.returncode})")
    print(f"\nload after: {_load()} (our own run counts in it)")
    _verdict(load_before, args.max_load, warnings)


def main(parser, run, build_step=None):
    """Run a benchmark script: as the parent of one process per thread count (no --threads), as one
    of them (--threads N), or as a peak-memory child (--memory-of LIB CASE, through build_step)."""
    args = parser.parse_args()
    if args.memory_of:
        _memory_child(build_step(*args.memory_of))
        return
    if args.threads is None:
        _run_children(args)
        return
    child = os.environ.get(CHILD_MARK) == "1"
    if not child:
        _header()
    load_before = os.getloadavg()[0]
    print(f"threads: {args.threads} (glassnet's BLAS and PyTorch); load before: {_load()}", flush=True)
    if not child and load_before > args.max_load:
        print(f"WARNING: the 1-minute load is {load_before:.2f} before the run: the machine is shared, figures "
              "are indicative only", flush=True)
    run(args)
    print(f"\nload after: {_load()}")
    if not child:
        _verdict(load_before, args.max_load, len(WARNINGS))


STEPS_FOR_MEMORY = 5


def peak_memory_mib(lib, case, threads):
    """Peak resident memory (MiB) added by STEPS_FOR_MEMORY training steps of `case` in `lib`
    ("glassnet" or "torch"), measured in a child process of this script."""
    out = subprocess.run([sys.executable, sys.argv[0], "--memory-of", lib, case, "--threads", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_mib"]


def _memory_child(step):
    base = _status_mib("VmRSS")
    for _ in range(STEPS_FOR_MEMORY):
        step()
    print(json.dumps({"peak_mib": _status_mib("VmHWM") - base}))


def _status_mib(field):
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024
