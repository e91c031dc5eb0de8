"""Fault injection for the resume tests: run a recipe and have it receive SIGINT, SIGTERM or SIGKILL at a chosen
point (inside the k-th optimizer step, loss, evaluation, checkpoint write or metrics write), in a forked child
process, so that a real signal meets the real code."""
import dataclasses
import multiprocessing
import os
import signal
import sys
import tempfile

import numpy as np

import glassnet.serialization as serialization
import glassnet.train.log as log
from glassnet import cli
from glassnet.recipes.config import option_name

POINTS = ("optimizer_step", "loss", "evaluation", "checkpoint_write", "metrics_write")


def cli_args(config):
    """The command-line flags that give `config`."""
    args = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, bool):
            args.append(option_name(f.name) if value else "--no-" + f.name.replace("_", "-"))
        else:
            args += [option_name(f.name), str(value)]
    return args


def signalling(function, signum, k, counter):
    """`function`, sending `signum` to this process at the start of its k-th call (counted in counter[0])."""
    def wrapped(*args, **kwargs):
        counter[0] += 1
        if counter[0] == k:
            os.kill(os.getpid(), signum)
        return function(*args, **kwargs)

    return wrapped


def _half_written_checkpoint(path, data):
    """What a kill in the middle of a checkpoint write leaves: half a temporary file, then death."""
    fd, _ = tempfile.mkstemp(prefix=serialization._TEMP_PREFIX, suffix=serialization._TEMP_SUFFIX,
                             dir=os.path.dirname(os.path.abspath(path)))
    os.write(fd, data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)


def _half_written_record(self, **record):
    """What a kill in the middle of a metrics.jsonl write leaves: half a line, then death."""
    with open(self.path, "a") as f:
        f.write('{"split": "train", "st')
    os.kill(os.getpid(), signal.SIGKILL)


def _inject(recipe, signum, point, k):
    """The recipe (and module functions) changed so that signum arrives at the k-th `point`."""
    counter = [0]
    if point in ("checkpoint_write", "metrics_write"):
        module, name, kill = ((serialization, "_write_atomic", _half_written_checkpoint) if point == "checkpoint_write"
                              else (log.MetricsLog, "write", _half_written_record))
        normal = getattr(module, name)
        setattr(module, name, _nth(normal, kill, k) if signum == signal.SIGKILL else
                signalling(normal, signum, k, counter))
        return recipe

    def build(config):
        exp = recipe.build(config)
        if point == "optimizer_step":
            exp.optimizer.step = signalling(exp.optimizer.step, signum, k, counter)
        elif point == "loss":
            exp.loss = signalling(exp.loss, signum, k, counter)
        else:
            exp.evaluate = signalling(exp.evaluate, signum, k, counter)
        return exp

    return dataclasses.replace(recipe, build=build)


def _nth(normal, fault, k):
    """`normal` for the first k - 1 calls, then `fault`."""
    counter = [0]

    def call(*args, **kwargs):
        counter[0] += 1
        return (fault if counter[0] == k else normal)(*args, **kwargs)

    return call


def _child(recipe, config, run_dir, signum, point, k):
    import glassnet.recipes as recipes

    recipes.RECIPES[recipe.name] = _inject(recipe, signum, point, k)
    code = cli.main(["train", recipe.name, *cli_args(config), "--out", run_dir])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_with_fault(recipe, config, run_dir, signum, point, k):
    """Train in a forked child that gets `signum` at the k-th `point`; returns the child's exit code
    (negative: killed by that signal)."""
    child = multiprocessing.get_context("fork").Process(target=_child, args=(recipe, config, run_dir, signum, point, k))
    child.start()
    child.join()
    return child.exitcode


def trials(count, seed, sizes):
    """`count` (signal, point, k) triples drawn with a seeded generator (the same trials every time): the
    signals in turn, a random point, and k up to how often the point occurs in a whole run (`sizes`)."""
    rng = np.random.default_rng(seed)
    kills = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
    points = sorted(sizes)
    out = []
    for i in range(count):
        point = points[rng.integers(len(points))]
        out.append((kills[i % 3], point, int(rng.integers(1, sizes[point] + 1))))
    return out
