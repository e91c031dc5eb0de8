"""Checkpoints: everything needed to continue a run exactly, in one safetensors file.

A checkpoint (written by glassnet.train.loop) is a dict with

    format      "glassnet.checkpoint"
    config      the run's configuration, {"recipe": name, field: value, ...}
    model       the model's state dict (parameters and buffers, BatchNorm's counters included)
    optimizer   the optimizer's state dict;  scheduler: the learning-rate scheduler's (or None)
    batches     the batch source's state (epoch and batch, or a stream's position and carried state)
    rng         glassnet's default generator state (batches, dropout, augmentation draw from it)
    loop        step, best value so far, last evaluation, the partly filled logging windows, the
                steps planned by the schedule and the steps to train
    extra       what the recipe adds (the vocabulary of a text model)

Files are written atomically and carry a SHA-256 of their content (glassnet.serialization); a damaged
one is refused with a CheckpointError that names it and the run's other checkpoints that still load.
"""
import os

from ..serialization import DamagedFileError, load, save

__all__ = ["CheckpointError", "checkpoint_file", "load_checkpoint", "save_checkpoint", "FORMAT"]

FORMAT = "glassnet.checkpoint"
NAMES = ("last", "best")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: damaged, of another kind, or not fitting the model."""


def checkpoint_file(path, prefer=NAMES):
    """`path` itself when it is a file; for a run folder its checkpoints/<name>.safetensors, the first
    of `prefer` that exists. Raises FileNotFoundError when there is none."""
    path = os.fspath(path)
    if os.path.isdir(path):
        for name in prefer:
            candidate = os.path.join(path, "checkpoints", f"{name}.safetensors")
            if os.path.isfile(candidate):
                return candidate
        raise FileNotFoundError(f"{path} has no checkpoint (looked for checkpoints/"
                                f"{{{','.join(prefer)}}}.safetensors)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such run folder or checkpoint file: {path}")
    return path


def save_checkpoint(path, state):
    save({"format": FORMAT, **state}, path)
    return path


def load_checkpoint(path):
    """The checkpoint at `path` (a file), verified: a CheckpointError says what is wrong and which other
    checkpoints of the run still load."""
    path = os.fspath(path)
    try:
        state = load(path)
    except DamagedFileError as e:
        raise CheckpointError(f"{e}.{_alternatives(path)}") from None
    if not (isinstance(state, dict) and state.get("format") == FORMAT and isinstance(state.get("config"), dict)):
        raise CheckpointError(f"{path} is not a glassnet training checkpoint (a plain state dict loads with "
                              f"glassnet.load)")
    return state


def _alternatives(path):
    """A sentence naming the other checkpoints in path's folder that load, with their steps."""
    folder = os.path.dirname(os.path.abspath(path))
    found = []
    for name in sorted(os.listdir(folder)):
        other = os.path.join(os.path.dirname(path), name)
        if name.endswith(".safetensors") and not name.startswith(".") and os.path.abspath(other) != \
                os.path.abspath(path):
            try:
                found.append(f"{other} (step {load(other)['loop']['step']})")
            except (DamagedFileError, KeyError, TypeError):
                continue
    if not found:
        return " No other checkpoint of this run loads; the run has to start again."
    return f" Use another checkpoint of this run instead (give its path): {', '.join(found)}."
