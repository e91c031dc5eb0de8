"""The training loop of the image-classification recipes, written out so that it can be read.

Per batch: optional augmentation, forward, cross-entropy, backward; every `grad_accum` batches an
optional gradient clip, the optimizer step and the scheduler step. After each epoch: evaluation on the
test set, a metrics record, the 'last' checkpoint and, when accuracy improves, the 'best' one.

Resuming is exact: the checkpoint stores the loader generator's state at the start of the epoch and
the number of batches done, so a resumed run draws the same shuffle, skips the batches already seen,
and continues with the same model, optimizer, scheduler and random state as if never stopped.
Ctrl-C (KeyboardInterrupt) saves such a checkpoint before leaving.
"""
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
from .metrics import RunningAverage, confusion_matrix
from .progress import Progress


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    predictions: np.ndarray
    targets: np.ndarray
    seconds: float


@dataclass
class FitResult:
    epochs_done: int
    steps: int
    test: EvalResult
    best_accuracy: float
    epoch_seconds: list = field(default_factory=list)
    images_per_second: float = 0.0
    interrupted: bool = False


def evaluate(model, loader):
    """Mean cross-entropy and accuracy of `model` over `loader`, in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    start = time.perf_counter()
    loss, preds, targets = RunningAverage(), [], []
    with no_grad():
        for x, y in loader:
            logits = model(x)
            loss.update(F.cross_entropy(logits, y).item(), len(y))
            preds.append(logits.array.argmax(1))
            targets.append(y.array)
    model.train(was_training)
    preds, targets = np.concatenate(preds), np.concatenate(targets)
    return EvalResult(loss.value, float((preds == targets).mean()), preds, targets, time.perf_counter() - start)


def fit(model, optimizer, train_loader, test_loader, *, epochs, run_dir, scheduler=None, augment=None,
        grad_accum=1, clip_grad_norm=None, config=None, resume=None, stop_after_steps=None, log_every=50):
    """Train `model`; write metrics, checkpoints ('last', 'best') under `run_dir`; return a FitResult.

    `train_loader.generator` must be the glassnet Generator that shuffles the data (for exact resume).
    `stop_after_steps` simulates Ctrl-C after that many optimizer steps (used by the tests).
    """
    os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
    last_path = os.path.join(run_dir, "checkpoints", "last.safetensors")
    best_path = os.path.join(run_dir, "checkpoints", "best.safetensors")
    log = MetricsLog(os.path.join(run_dir, "metrics.jsonl"))
    generator = train_loader.generator
    epoch, skip, step, best = 0, 0, 0, 0.0
    if resume:
        state = restore(load_checkpoint(resume), model, optimizer, scheduler)
        epoch, skip, step, best = state["epoch"], state["batch"], state["step"], state.get("best_accuracy", 0.0)
        if state["rng"]["loader_epoch_start"] is not None:
            generator.set_state(state["rng"]["loader_epoch_start"])
        log.truncate_after(step)

    def checkpoint(path, batch, epoch_state, rng_state=None):
        save_checkpoint(path, model, optimizer, scheduler, epoch=epoch, batch=batch, step=step, config=config,
                        loader_epoch_state=epoch_state, rng_state=rng_state, best_accuracy=best)

    result = FitResult(epoch, step, None, best)
    model.train()
    optimizer.zero_grad()
    while epoch < epochs:
        epoch_state = generator.get_state()
        batches = iter(train_loader)
        for _ in range(skip):  # resumed mid-epoch: the same shuffle, minus the batches already done
            next(batches)
        progress = Progress(len(train_loader), f"epoch {epoch + 1}/{epochs}", initial=skip)
        loss_avg, acc_avg = RunningAverage(), RunningAverage()
        start = time.perf_counter()
        batch = skip
        # the last point where model, optimizer and random state agree (after an optimizer step):
        # an interruption goes back there, dropping a half-accumulated gradient
        safe_batch, safe_rng = skip, default_generator.get_state()
        try:
            for x, y in batches:
                if augment is not None:
                    x = augment(x)
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                (loss / grad_accum if grad_accum > 1 else loss).backward()
                batch += 1
                if batch % grad_accum == 0 or batch == len(train_loader):
                    if clip_grad_norm:
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    optimizer.step()
                    optimizer.zero_grad()
                    if scheduler is not None:
                        scheduler.step()
                    step += 1
                    safe_batch, safe_rng = batch, default_generator.get_state()
                acc = float((logits.array.argmax(1) == y.array).mean())
                loss_avg.update(loss.item(), len(y))
                acc_avg.update(acc, len(y))
                progress.update(len(y), loss=loss_avg.value, acc=acc_avg.value)
                if step % log_every == 0 and batch % grad_accum == 0:
                    log.write(split="train", epoch=epoch + 1, step=step, loss=loss_avg.value,
                              accuracy=acc_avg.value, lr=optimizer.param_groups[0]["lr"])
                if stop_after_steps is not None and step >= stop_after_steps:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            progress.close()
            checkpoint(last_path, safe_batch, epoch_state, safe_rng)
            print(f"\ninterrupted at epoch {epoch + 1}, batch {safe_batch}: saved {last_path}; "
                  f"continue with --resume {run_dir}")
            result.interrupted, result.steps, result.epochs_done = True, step, epoch
            return result
        progress.close()
        result.epoch_seconds.append(time.perf_counter() - start)
        result.images_per_second = progress.images_per_second
        epoch, skip = epoch + 1, 0
        test = evaluate(model, test_loader)
        log.write(split="test", epoch=epoch, step=step, loss=test.loss, accuracy=test.accuracy,
                  seconds=result.epoch_seconds[-1], images_per_second=result.images_per_second)
        print(f"epoch {epoch}: train loss {loss_avg.value:.4f} acc {100 * acc_avg.value:.2f}% | "
              f"test loss {test.loss:.4f} acc {100 * test.accuracy:.2f}% | {result.epoch_seconds[-1]:.1f} s, "
              f"{result.images_per_second:.0f} img/s")
        if test.accuracy > best:
            best = test.accuracy
            checkpoint(best_path, 0, generator.get_state())
        checkpoint(last_path, 0, generator.get_state())
        result.test, result.best_accuracy = test, best
    result.epochs_done, result.steps = epoch, step
    if result.test is None:
        result.test = evaluate(model, test_loader)
    return result


def confusion(result, num_classes):
    return confusion_matrix(result.predictions, result.targets, num_classes)
