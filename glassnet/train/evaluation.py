"""Losses for the training loop and the evaluations of the recipes, each evaluation in eval mode,
without a graph and with a progress bar.

A loss function takes (model, batch) and returns a scalar loss Tensor, or (loss, {name: value}) with
other per-batch figures (a classifier's accuracy) that the loop averages alongside the loss.
"""
import functools
import inspect
from dataclasses import dataclass

import numpy as np

from ..nn import functional as F
from ..nn.utils import evaluating
from .metrics import RunningAverage
from .progress import progress_bar

__all__ = ["lm_loss", "seq2seq_loss", "classification_loss", "mean_loss", "classify", "Classified"]


def lm_loss(model, batch):
    """batch = (x, y): a model returning (logits, loss) gives its loss, one returning logits (..., V)
    gives the mean cross-entropy with y (-100 targets ignored)."""
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


def seq2seq_loss(model, batch):
    """batch = (source, decoder input, decoder target): mean cross-entropy of the decoder's predictions."""
    src, tgt_in, tgt_out = batch
    logits = model(src, tgt_in)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))


def classification_loss(model, batch, augment=None):
    """batch = (images, labels): cross-entropy of the logits, and the batch's accuracy."""
    x, y = batch
    logits = model(augment(x) if augment is not None else x)
    accuracy = float((logits.array.argmax(1) == y.array).mean())
    return F.cross_entropy(logits, y), {"accuracy": accuracy}


def mean_loss(model, batches, iters, loss=lm_loss, desc="eval"):
    """Mean of loss(model, batch) over `iters` batches from batches()."""
    total = 0.0
    with evaluating(model):
        for _ in progress_bar(range(iters), desc):
            total += loss(model, batches()).item()
    return total / iters


@dataclass
class Classified:
    loss: float
    accuracy: float
    predictions: np.ndarray
    targets: np.ndarray


def classify(model, loader, desc="test"):
    """Mean cross-entropy, accuracy and the predicted classes of `model` over `loader`."""
    loss, preds, targets = RunningAverage(), [], []
    with evaluating(model):
        for x, y in progress_bar(loader, desc, total=len(loader)):
            logits = model(x)
            loss.update(F.cross_entropy(logits, y).item(), len(y))
            preds.append(logits.array.argmax(1))
            targets.append(y.array)
    preds, targets = np.concatenate(preds), np.concatenate(targets)
    return Classified(loss.value, float((preds == targets).mean()), preds, targets)
