"""Metrics for classification (accuracy, top-k accuracy, confusion matrix), for sequences (edit distance,
word error rate) and running averages."""
import numpy as np

from ..tensor import Tensor


def _array(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def accuracy(logits, targets):
    """Fraction of rows whose largest logit is at the target class."""
    return topk_accuracy(logits, targets, k=1)


def topk_accuracy(logits, targets, k=5):
    """Fraction of rows whose target class is among the k largest logits."""
    scores, targets = _array(logits), _array(targets)
    if scores.ndim != 2 or targets.shape != scores.shape[:1]:
        raise ValueError(f"topk_accuracy: expected logits (N, C) and targets (N,), got {scores.shape} and {targets.shape}")
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"topk_accuracy: k={k} must be in [1, {scores.shape[1]}]")
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k > 1 else scores.argmax(1)[:, None]
    return float((top == targets[:, None]).any(1).mean()) if len(targets) else 0.0


def confusion_matrix(predictions, targets, num_classes):
    """counts[i, j] = how many examples of class i were predicted as class j."""
    p, t = _array(predictions).astype(np.int64), _array(targets).astype(np.int64)
    if p.shape != t.shape:
        raise ValueError(f"confusion_matrix: predictions {p.shape} and targets {t.shape} differ in shape")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def edit_distance(reference, hypothesis):
    """The fewest insertions, deletions and substitutions that turn `hypothesis` into `reference` (Levenshtein),
    by dynamic programming: d[i][j] = distance between the first i reference and first j hypothesis words."""
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        current = [i]
        for j, guess in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != guess)))
        previous = current
    return previous[-1]


def word_error_rate(references, hypotheses):
    """Sum of the edit distances over the total number of reference words (sequences of words or labels)."""
    if len(references) != len(hypotheses):
        raise ValueError(f"word_error_rate: {len(references)} references but {len(hypotheses)} hypotheses")
    words = sum(len(r) for r in references)
    errors = sum(edit_distance(list(r), list(h)) for r, h in zip(references, hypotheses))
    return errors / words if words else float(errors > 0)


class RunningAverage:
    """The mean of a stream of values, each weighted by a count (for example a batch size)."""

    def __init__(self):
        self.total = 0.0
        self.count = 0

    def update(self, value, count=1):
        self.total += float(value) * count
        self.count += count

    @property
    def value(self):
        return self.total / self.count if self.count else float("nan")
