"""Recipe configurations: dataclasses whose fields are the flags of `glassnet train <recipe>`.

A field is declared with `flag(default, help, check)`; `check` says which values are allowed (by
default a number must be >= 0). The same check runs when the command line is parsed (the error names
the flag: `argument --epochs: must be a positive integer, got -1`) and when a recipe is run from
Python (`check_config`). The shared groups of fields live here once, and a recipe's config holds
only what differs, as in a nanoGPT config file:

    @dataclass
    class SortConfig(ToyGPTConfig):
        length: int = flag(8, "numbers per sequence", positive)
"""
import contextlib
import dataclasses
import math
import os
from dataclasses import dataclass, field

__all__ = ["flag", "positive", "non_negative", "probability", "unit_interval", "one_of", "folder", "check_value",
           "check_config", "option_name", "TrainingConfig", "StepsConfig", "AdamWConfig", "ProblemsConfig",
           "data_dir_flag", "data_from", "LENGTH_FIELDS"]

LENGTH_FIELDS = ("epochs", "iters")  # how long a recipe trains: passes over the data, or optimizer steps


# ---- what a value may be: each check returns None, or what is wrong ----------------------------------
def positive(value):
    return None if value > 0 else ("must be a positive integer" if isinstance(value, int) else "must be > 0")


def non_negative(value):
    return None if value >= 0 else "must be >= 0"


def probability(value):
    return None if 0 <= value < 1 else "must be in [0, 1)"


def unit_interval(value):
    return None if 0 <= value <= 1 else "must be in [0, 1]"


def one_of(*choices):
    def check(value):
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def folder(value):
    return None if not value or os.path.isdir(value) else "no such folder"


def flag(default, help, check=None):
    """A config field: its default, the help text of its flag, and the check of its values."""
    return field(default=default, metadata={"help": help, "check": check})


def data_dir_flag(what):
    return flag("", f"folder with {what}; nothing else is looked at when given (when not given: $GLASSNET_DATA, the "
                    f"cache, a download)", folder)


def option_name(name):
    return "--" + name.replace("_", "-")


def check_value(f, value):
    """None when `value` suits the config field `f`, else what is wrong with it."""
    kind = type(f.default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return f"must be {'a' if kind is not int else 'an'} {kind.__name__}"
    if kind is float and not math.isfinite(value):
        return "must be a finite number"
    check = f.metadata.get("check") or (non_negative if kind in (int, float) else None)
    return check(value) if check is not None else None


def check_config(config):
    """Raise ValueError naming the flag of the first field whose value is not allowed."""
    for f in dataclasses.fields(config):
        problem = check_value(f, getattr(config, f.name))
        if problem:
            raise ValueError(f"{option_name(f.name)}: {problem}, got {getattr(config, f.name)!r}")


@contextlib.contextmanager
def data_from(data_dir):
    """Within: with a `data_dir`, data sets see only that folder ($GLASSNET_DATA set aside, the cache
    pointed at it). Recipes also pass download=False then, so a wrong folder is an error, not a
    silent fallback. Yields (root, download) for the data set."""
    if not data_dir:
        yield None, True
        return
    saved = {k: os.environ.get(k) for k in ("GLASSNET_DATA", "GLASSNET_CACHE")}
    os.environ.pop("GLASSNET_DATA", None)
    os.environ["GLASSNET_CACHE"] = data_dir
    try:
        yield data_dir, False
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---- the shared groups of fields ---------------------------------------------------------------------
@dataclass
class TrainingConfig:
    """What every recipe has."""
    batch_size: int = flag(64, "examples per optimizer step", positive)
    lr: float = flag(1e-3, "peak learning rate", positive)
    weight_decay: float = flag(0.0, "weight decay")
    clip_grad_norm: float = flag(0.0, "clip the gradient norm to this value (0: off)")
    grad_accum: int = flag(1, "batches whose gradients are summed before each step", positive)
    seed: int = flag(0, "seed of initialisation, data order, dropout and sampling")


@dataclass
class StepsConfig(TrainingConfig):
    """Recipes that count optimizer steps, with a warmup + cosine learning rate (glassnet.train.schedules)."""
    iters: int = flag(1000, "optimizer steps", positive)
    min_lr: float = flag(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = flag(100, "linear warmup steps")
    clip_grad_norm: float = flag(1.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = flag(250, "steps between evaluations", positive)


@dataclass
class AdamWConfig(StepsConfig):
    """AdamW with weight decay on the matrices only."""
    weight_decay: float = flag(0.01, "AdamW weight decay (matrices only)")
    beta1: float = flag(0.9, "AdamW beta1", probability)
    beta2: float = flag(0.99, "AdamW beta2", probability)


@dataclass
class ProblemsConfig:
    """Recipes tested on held-out problems of a toy task."""
    eval_problems: int = flag(500, "held-out problems at the intermediate evaluations", positive)
    test_problems: int = flag(2000, "held-out problems of the final test", positive)
