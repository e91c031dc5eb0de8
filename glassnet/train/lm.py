"""The training loop of the sequence recipes (language models, toy tasks, character RNNs), written out
so that it can be read.

It counts optimizer steps ("iterations"), not epochs. Each iteration:

    lr = lr_at(step)                          set on every parameter group (e.g. warmup + cosine)
    for each of grad_accum micro-batches:
        batch = batch_fn()                    draws from glassnet's default generator
        loss = step_fn(model, batch)          a scalar Tensor
        (loss / grad_accum).backward()
    clip the gradient norm (optional); optimizer.step(); optimizer.zero_grad()

Every `eval_every` iterations and at the end, `evaluate(model)` returns a dict of metrics (for
example {"val_loss": 1.93}); they are logged, the 'last' checkpoint is written and, when the
`monitor`ed metric improves, the 'best' one. Training losses are logged every `log_every` steps.

Resuming is exact: a checkpoint holds the model, the optimizer, the step and the default generator's
state, and everything random in the loop (the batches, dropout) draws from that generator, so a
resumed run continues as if never stopped. Ctrl-C (KeyboardInterrupt) saves such a checkpoint, at the
last completed step, before leaving.

    result = train_loop(model, optimizer, batch_fn=lambda: random_windows(data, 64, 12),
                        iters=2000, run_dir="runs/gpt", lr_at=partial(cosine_lr, lr=1e-3, min_lr=1e-4,
                        warmup=100, total=2000), evaluate=my_eval, eval_every=250, clip_grad_norm=1.0)
"""
import functools
import inspect
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import functional as F
from ..random import default_generator
from .checkpoint import load_checkpoint, restore, save_checkpoint
from .log import MetricsLog
from .progress import Progress

__all__ = ["cosine_lr", "lm_step", "estimate_loss", "train_loop", "LoopResult", "plot_lm_curves"]


def cosine_lr(step, *, lr, min_lr=0.0, warmup=0, total):
    """Linear warmup from lr/warmup to lr over `warmup` steps, then a half cosine from lr down to min_lr
    at step `total` (and min_lr after it)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= total:
        return min_lr
    progress = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def lm_step(model, batch):
    """The default step: batch = (x, y); a model returning (logits, loss) gives its loss, one returning
    logits (..., V) gives the mean cross-entropy with y (-100 targets ignored)."""
    x, y = batch
    out = model(x, y) if _takes_targets(type(model)) else model(x)
    if isinstance(out, tuple):
        return out[1]
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


@functools.lru_cache(maxsize=None)
def _takes_targets(model_class):
    """Whether the model's forward has a `targets` argument (as GPT's)."""
    try:
        return "targets" in inspect.signature(model_class.forward).parameters
    except (TypeError, ValueError):
        return False


def estimate_loss(model, batch_fn, iters, step_fn=lm_step):
    """Mean of step_fn's loss over `iters` batches from batch_fn(), in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for _ in range(iters):
            total += step_fn(model, batch_fn()).item()
    model.train(was_training)
    return total / iters


@dataclass
class LoopResult:
    step: int  # optimizer steps done
    metrics: dict  # the last evaluation
    best: float  # the best value of the monitored metric
    train_loss: float  # mean training loss of the last logging window
    seconds: float  # wall time of this call's training (evaluation included)
    interrupted: bool = False
    history: list = field(default_factory=list)  # every evaluation of this call, with its step


def train_loop(model, optimizer, *, batch_fn, iters, run_dir, step_fn=lm_step, evaluate=None, eval_every=250,
               lr_at=None, grad_accum=1, clip_grad_norm=None, monitor="val_loss", mode="min", config=None,
               resume=None, log_every=10, stop_after_steps=None, batch_items=None, desc="train"):
    """Train for `iters` optimizer steps; write metrics.jsonl and checkpoints/{last,best}.safetensors
    under run_dir; return a LoopResult.

    batch_fn() -> batch; step_fn(model, batch) -> scalar loss Tensor; evaluate(model) -> dict of
    floats (may be None: no evaluation); lr_at(step) -> learning rate (None: leave the optimizer's).
    monitor / mode: the evaluation metric that picks the 'best' checkpoint, minimised or maximised.
    batch_items(batch) -> int: how many examples a batch holds, for the throughput (default: len of
    the batch's first element). stop_after_steps simulates Ctrl-C after that many steps (for tests).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"train_loop: mode must be 'min' or 'max', got {mode!r}")
    if not (isinstance(grad_accum, int) and grad_accum >= 1):
        raise ValueError(f"train_loop: grad_accum must be a positive int, got {grad_accum!r}")
    os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
    last_path = os.path.join(run_dir, "checkpoints", "last.safetensors")
    best_path = os.path.join(run_dir, "checkpoints", "best.safetensors")
    log = MetricsLog(os.path.join(run_dir, "metrics.jsonl"))
    better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
    step, best, metrics = 0, math.inf if mode == "min" else -math.inf, {}
    window, window_n = 0.0, 0  # sum and count of the training losses since the last log record
    if resume:
        state = restore(load_checkpoint(resume), model, optimizer)
        step, best, metrics = state["step"], state.get("best", best), state.get("metrics") or {}
        window, window_n = state.get("train_window", (0.0, 0))  # the partly filled logging window
        log.truncate_after(step)
    if batch_items is None:
        batch_items = lambda b: len(b[0]) if isinstance(b, (tuple, list)) else len(b)  # noqa: E731

    def checkpoint(path, rng_state=None):
        save_checkpoint(path, model, optimizer, step=step, config=config, rng_state=rng_state, best=best,
                        metrics=metrics, train_window=[window, window_n])

    def run_evaluation():
        nonlocal best, metrics
        start = time.perf_counter()
        metrics = {k: float(v) for k, v in evaluate(model).items()}
        log.write(split="eval", step=step, seconds=time.perf_counter() - start, **metrics)
        result.history.append({"step": step, **metrics})
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        progress.bar.write(f"step {step}: {shown}")
        if monitor in metrics and better(metrics[monitor], best):
            best = metrics[monitor]
            checkpoint(best_path)
        checkpoint(last_path)

    result = LoopResult(step, metrics, best, float("nan"), 0.0)
    progress = Progress(iters, desc, initial=step)
    start = time.perf_counter()
    safe_rng = default_generator.get_state()  # the random state right after the last completed step
    model.train()
    optimizer.zero_grad()
    try:
        while step < iters:
            lr = lr_at(step) if lr_at is not None else optimizer.param_groups[0]["lr"]
            if lr_at is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr
            loss_value, items = 0.0, 0
            for _ in range(grad_accum):
                batch = batch_fn()
                loss = step_fn(model, batch)
                (loss / grad_accum if grad_accum > 1 else loss).backward()
                loss_value += loss.item() / grad_accum
                items += batch_items(batch)
            if clip_grad_norm:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
            step += 1
            safe_rng = default_generator.get_state()
            window, window_n = window + loss_value, window_n + 1
            progress.update(items, loss=loss_value, lr=lr)
            if step % log_every == 0 or step == iters:
                result.train_loss = window / window_n
                log.write(split="train", step=step, loss=result.train_loss, lr=lr,
                          seconds=time.perf_counter() - start)
                window, window_n = 0.0, 0
            if evaluate is not None and (step % eval_every == 0 or step == iters):
                run_evaluation()
            elif step == iters:
                checkpoint(last_path)
            if stop_after_steps is not None and step >= stop_after_steps and step < iters:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        progress.close()
        checkpoint(last_path, safe_rng)
        print(f"\ninterrupted at step {step}: saved {last_path}; continue with --resume {run_dir}")
        result.interrupted = True
    progress.close()
    if window_n:
        result.train_loss = window / window_n
    result.step, result.metrics, result.best = step, metrics, best
    result.seconds = time.perf_counter() - start
    return result


def plot_lm_curves(records, path=None, title="training"):
    """Training loss and every evaluation metric against the step, from a metrics log's records.
    Returns the matplotlib figure; writes it to `path` when given."""
    from ..viz._figure import finish, new_figure

    train = [r for r in records if r.get("split") == "train"]
    evals = [r for r in records if r.get("split") == "eval"]
    keys = [k for k in (evals[0] if evals else {}) if k not in ("split", "step", "seconds")]
    losses = [k for k in keys if "loss" in k]
    others = [k for k in keys if "loss" not in k]
    fig = new_figure((10 if others else 5.5, 3.8))
    axes = fig.subplots(1, 2 if others else 1, squeeze=False)
    ax = axes[0, 0]
    if train:
        ax.plot([r["step"] for r in train], [r["loss"] for r in train], "-", alpha=0.6, label="train (running)")
    for k in losses:
        ax.plot([r["step"] for r in evals], [r[k] for r in evals], "o-", label=k)
    ax.set(xlabel="step", ylabel="loss", title=title)
    if train and min(r["loss"] for r in train) > 0:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    if others:
        ax = axes[0, 1]
        for k in others:
            values = np.array([r[k] for r in evals], dtype=float)
            scale = 100 if values.size and values.max() <= 1 else 1
            ax.plot([r["step"] for r in evals], scale * values, "o-", label=k + (" (%)" if scale == 100 else ""))
        ax.set(xlabel="step", title="evaluation")
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)
