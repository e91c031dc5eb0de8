"""Checkpoints: everything needed to continue a run exactly, in one safetensors file written atomically.

A checkpoint holds the model's and optimizer's state dicts, the scheduler's state, the position in
training (epoch, batch within the epoch, global step), the random generators' states and the run's
config. Tensors are stored as tensors; the rest is JSON metadata (see glassnet.serialization).
"""
from ..random import default_generator
from ..serialization import load, save


def save_checkpoint(path, model, optimizer=None, scheduler=None, *, epoch=0, batch=0, step=0, config=None,
                    loader_epoch_state=None, rng_state=None, **extra):
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "batch": batch,
        "step": step,
        "rng": {"default": rng_state or default_generator.get_state(), "loader_epoch_start": loader_epoch_state},
        "config": config or {},
        **extra,
    }
    save(state, path)
    return path


def load_checkpoint(path):
    """The saved structure: a dict with 'model', 'optimizer', 'scheduler', 'epoch', 'rng', 'config', ..."""
    state = load(path)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"load_checkpoint: {path} is not a glassnet checkpoint (no 'model' entry)")
    return state


def restore(state, model, optimizer=None, scheduler=None):
    """Load a checkpoint's states into the model, optimizer, scheduler and the default generator."""
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    default_generator.set_state(state["rng"]["default"])
    return state
