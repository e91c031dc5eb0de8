"""The training loop of every recipe, written out so that it can be read.

A recipe builds an `Experiment` (the model, the optimizer, where the batches come from, the loss,
the evaluation) and `train` runs it. The loop counts optimizer steps; one step is

    for each of grad_accum micro-batches (fewer at the end of an epoch):
        batch = batches.next()
        loss = loss_fn(model, batch)                  a NaN or infinite loss stops the run here
        (loss / grad_accum).backward()
    clip the gradient norm (optional); optimizer.step(); optimizer.zero_grad(); scheduler.step()

(A game, such as a GAN, gives `Players` as its optimizer: several optimizers take turns on each
batch, each after the backward of its own loss; see glassnet.train.players.)

Every `log_every` steps the mean training loss since the last record goes to metrics.jsonl; every
`eval_every` steps and at the end `evaluate(model)` gives a dict of metrics, logged, and the
'last' checkpoint is written (and 'best' when the monitored metric improves).

Stopping and resuming. Ctrl-C and SIGTERM are deferred to the end of the current step (see
glassnet.train.signals); the loop then writes the 'last' checkpoint and returns. A checkpoint holds
everything that decides what comes next: model (with its buffers), optimizer, scheduler, the batch
source's position, the default generator, the partly filled logging windows. So a run resumed from
any checkpoint ends with the same weights and the same metrics.jsonl as one never stopped. A run can
be extended (more steps than first planned): the learning-rate schedule is not stretched, the extra
steps keep the learning rate it ended with.
"""
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .. import nn
from ..nn.utils import evaluating
from ..random import default_generator
from .checkpoint import save_checkpoint
from .evaluation import lm_loss
from .log import MetricsLog
from .players import Players
from .progress import Progress
from .signals import StopSignals

__all__ = ["Experiment", "train", "LoopResult", "TrainingDiverged"]


def _first_len(batch):
    return len(batch[0]) if isinstance(batch, (tuple, list)) else len(batch)


@dataclass
class Experiment:
    """What a recipe builds and the loop trains."""
    model: Any
    optimizer: Any
    batches: Any  # a batch source (glassnet.train.batches)
    steps: int  # optimizer steps to train
    loss: Callable = lm_loss  # loss(model, batch) -> loss Tensor, or (loss, {name: per-batch value})
    evaluate: Optional[Callable] = None  # evaluate(model) -> {name: float}; run in eval mode, without a graph
    eval_every: int = 0  # steps between evaluations (0: only at the end)
    scheduler: Any = None  # stepped after each optimizer step
    monitor: Optional[str] = None  # the evaluation metric that picks the 'best' checkpoint
    mode: str = "min"  # ... minimised or maximised
    grad_accum: int = 1
    clip_grad_norm: float = 0.0  # 0: no clipping
    log_every: int = 10
    test: Optional[Callable] = None  # test(model) -> {name: value}: the final test (default: the last evaluation)
    report: Optional[Callable] = None  # report(model, run_dir) -> summary entries; writes examples, pictures
    items: Callable = _first_len  # items(batch): how many images, characters, problems a batch holds
    unit: str = "seq"  # what items are, for the throughput: img, char, tok, seq
    extra: dict = field(default_factory=dict)  # saved in every checkpoint, restored on resume (a vocabulary)

    def __post_init__(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"Experiment: mode must be 'min' or 'max', got {self.mode!r}")
        for name in ("steps", "grad_accum", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Experiment: {name} must be a positive int, got {value!r}")
        if isinstance(self.optimizer, Players) and self.grad_accum != 1:
            raise ValueError(f"Experiment: Players take one batch a step, grad_accum must be 1, got {self.grad_accum}")


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the run stopped before applying that step."""


@dataclass
class LoopResult:
    step: int  # optimizer steps done
    metrics: dict  # the last evaluation
    best: float  # the best value of the monitored metric
    train_loss: float  # mean training loss of the last logging or evaluation period
    seconds: float  # training time of the whole run (evaluations excluded), over all resumes
    rate: float  # items per second of training in this session
    stopped_by: Optional[int] = None  # the signal that stopped the run early, or None
    checkpoint: Optional[str] = None  # the 'last' checkpoint


class _Window:
    """Weighted means of the per-batch figures (loss, accuracy) since it was last emptied."""

    def __init__(self, state=None):
        self.sums, self.weight = dict(state["sums"]) if state else {}, state["weight"] if state else 0

    def add(self, values, weight):
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * weight
        self.weight += weight

    def means(self):
        return {k: s / self.weight for k, s in self.sums.items()} if self.weight else {}

    def state_dict(self):
        return {"sums": dict(self.sums), "weight": self.weight}


def _divergence_message(value, step, last_path, saved_step):
    where = (f"the last good checkpoint is {last_path} (step {saved_step})" if saved_step is not None
             else "no checkpoint had been written yet")
    return (f"the training loss became {value} at step {step}: training stopped there, {where}. A lower "
            f"learning rate or gradient clipping may help")


class _Loop:
    def __init__(self, exp, run_dir, config, stop, desc):
        self.exp, self.config, self.stop, self.desc = exp, config, stop, desc
        folder = os.path.join(run_dir, "checkpoints")
        os.makedirs(folder, exist_ok=True)
        self.last_path = os.path.join(folder, "last.safetensors")
        self.best_path = os.path.join(folder, "best.safetensors")
        self.log = MetricsLog(os.path.join(run_dir, "metrics.jsonl"))
        self.better = (lambda a, b: a < b) if exp.mode == "min" else (lambda a, b: a > b)
        self.step, self.best, self.metrics, self.seconds = 0, math.inf if exp.mode == "min" else -math.inf, {}, 0.0
        self.schedule_steps = exp.steps  # the steps the learning-rate schedule was planned for
        self.log_window, self.eval_window = _Window(), _Window()
        self.recent = {}  # the training means of the last logging or evaluation period
        self.saved_step = None  # the step of the last checkpoint written

    # ---- checkpoints ------------------------------------------------------------------------------
    def state_dict(self):
        return {"step": self.step, "best": self.best, "metrics": self.metrics, "seconds": self.seconds,
                "schedule_steps": self.schedule_steps, "log_window": self.log_window.state_dict(),
                "eval_window": self.eval_window.state_dict(), "recent": self.recent}

    def restore(self, checkpoint):
        exp = self.exp
        exp.model.load_state_dict(checkpoint["model"])
        exp.optimizer.load_state_dict(checkpoint["optimizer"])
        if exp.scheduler is not None:
            exp.scheduler.load_state_dict(checkpoint["scheduler"])
        exp.batches.load_state_dict(checkpoint["batches"])
        default_generator.set_state(checkpoint["rng"])
        loop = checkpoint["loop"]
        self.step, self.best, self.metrics, self.seconds = loop["step"], loop["best"], loop["metrics"], loop["seconds"]
        self.schedule_steps = loop["schedule_steps"]
        self.log_window, self.eval_window = _Window(loop["log_window"]), _Window(loop["eval_window"])
        self.recent = loop["recent"]
        exp.extra.update(checkpoint.get("extra") or {})  # what the recipe keeps across resumes
        self.saved_step = self.step
        self.log.truncate_after(self.step)

    def save(self, path):
        exp = self.exp
        save_checkpoint(path, {
            "config": self.config, "model": exp.model.state_dict(), "optimizer": exp.optimizer.state_dict(),
            "scheduler": exp.scheduler.state_dict() if exp.scheduler is not None else None,
            "batches": exp.batches.state_dict(), "rng": default_generator.get_state(), "loop": self.state_dict(),
            "extra": exp.extra})
        if path == self.last_path:
            self.saved_step = self.step

    # ---- one optimizer step -----------------------------------------------------------------------
    def optimizer_step(self):
        """One step (the gradient step, or the players' turns), then the schedule. Returns (items, means)."""
        exp = self.exp
        window, items = self.players_turns() if isinstance(exp.optimizer, Players) else self.gradient_step()
        if exp.scheduler is not None and self.step < self.schedule_steps:
            exp.scheduler.step()
        self.step += 1
        means = window.means()
        self.log_window.add(means, items)
        self.eval_window.add(means, items)
        return items, means

    def gradient_step(self):
        """Forward and backward over grad_accum micro-batches, then the update. Returns (window, items)."""
        exp, window, items = self.exp, _Window(), 0
        for _ in range(exp.grad_accum):
            batch = exp.batches.next()
            loss, figures = _split(exp.loss(exp.model, batch))
            value = self.checked(loss)
            (loss / exp.grad_accum if exp.grad_accum > 1 else loss).backward()
            n = exp.items(batch)
            window.add({"loss": value, **figures}, n)
            items += n
            if exp.batches.epoch_end:  # an epoch's last step takes the micro-batches that are left
                break
        if exp.clip_grad_norm:
            nn.utils.clip_grad_norm_(exp.model.parameters(), exp.clip_grad_norm)
        exp.optimizer.step()
        exp.optimizer.zero_grad()
        return window, items

    def players_turns(self):
        """Several optimizers taking turns on one batch (glassnet.train.players)."""
        exp, window, figures = self.exp, _Window(), {}
        batch = exp.batches.next()
        for player in exp.optimizer.players:
            loss, more = _split(player.loss(exp.model, batch))
            figures.update({f"{player.name}_loss": self.checked(loss), **more})
            exp.optimizer.zero_grad()
            loss.backward()
            if exp.clip_grad_norm:
                nn.utils.clip_grad_norm_(exp.optimizer.parameters(player), exp.clip_grad_norm)
            player.optimizer.step()
        exp.optimizer.zero_grad()
        window.add(figures, exp.items(batch))
        return window, exp.items(batch)

    def checked(self, loss):
        """The loss's value; TrainingDiverged when it is NaN or infinite."""
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(_divergence_message(value, self.step + 1, self.last_path, self.saved_step))
        return value

    # ---- records ----------------------------------------------------------------------------------
    def _where(self):
        epochs = getattr(self.exp.batches, "epochs", None)
        return {"step": self.step, **({"epoch": round(epochs, 4)} if epochs is not None else {})}

    def log_training(self, lr):
        self.recent = self.log_window.means()
        self.log.write(split="train", **self._where(), **self.recent, lr=lr, seconds=self.seconds)
        self.log_window = _Window()

    def evaluate(self, progress):
        exp = self.exp
        with progress.paused(), evaluating(exp.model):
            began = time.perf_counter()
            self.metrics = {k: float(v) for k, v in exp.evaluate(exp.model).items()}
            seconds = time.perf_counter() - began
        self.recent = self.eval_window.means()
        train = {f"train_{k}": v for k, v in self.recent.items()}
        self.eval_window = _Window()
        self.log.write(split="eval", **self._where(), **self.metrics, **train, eval_seconds=seconds,
                       **{f"{exp.unit}_per_second": progress.rate})
        progress.write(_eval_line(self._where(), train, self.metrics, seconds))
        if exp.monitor in self.metrics and self.better(self.metrics[exp.monitor], self.best):
            self.best = self.metrics[exp.monitor]
            self.save(self.best_path)
        self.save(self.last_path)

    # ---- the loop ---------------------------------------------------------------------------------
    def run(self):
        exp = self.exp
        progress = Progress(exp.steps, self.desc, exp.unit, initial=min(self.step, exp.steps))
        exp.model.train()
        exp.optimizer.zero_grad()
        try:
            while self.step < exp.steps and not self.stop.requested:
                lr = exp.optimizer.param_groups[0]["lr"]
                began = time.perf_counter()
                items, means = self.optimizer_step()
                self.seconds += time.perf_counter() - began
                progress.update(items, **means, lr=lr)
                if self.step % exp.log_every == 0 or self.step == exp.steps:
                    self.log_training(lr)
                if exp.evaluate is not None and (self.step == exp.steps or
                                                 (exp.eval_every and self.step % exp.eval_every == 0)):
                    self.evaluate(progress)
            if self.saved_step != self.step:
                self.save(self.last_path)
        finally:
            progress.close()
        return LoopResult(self.step, self.metrics, self.best, self.recent.get("loss", math.nan), self.seconds,
                          progress.rate, self.stop.requested if self.step < exp.steps else None, self.last_path)


def _split(out):
    return out if isinstance(out, tuple) else (out, {})


def _eval_line(where, train, metrics, seconds):
    head = f"step {where['step']}" + (f" (epoch {where['epoch']:g})" if "epoch" in where else "")
    shown = [f"{k} {_fmt(k, v)}" for k, v in {**train, **metrics}.items()]
    return f"{head}: {', '.join(shown)} | evaluation {seconds:.1f} s"


def _fmt(name, value):
    return f"{100 * value:.2f}%" if ("accuracy" in name or "exact" in name) else f"{value:.4f}"


def train(exp, run_dir, *, config, resume=None, stop=None, desc="train"):
    """Train `exp` for exp.steps optimizer steps (continuing from the checkpoint dict `resume`), writing
    metrics.jsonl and checkpoints/{last,best}.safetensors under run_dir; returns a LoopResult.

    config: the dict saved in every checkpoint ({"recipe": name, ...}). stop: a StopSignals whose
    request ends the run at the next step boundary (default: one installed for this call).
    A NaN or infinite training loss raises TrainingDiverged (nothing of that step is applied or saved).
    """
    loop = _Loop(exp, os.fspath(run_dir), config, stop, desc)
    if resume is not None:
        loop.restore(resume)
    if stop is not None:
        return loop.run()
    with StopSignals() as loop.stop:
        return loop.run()
