"""Intersection over union for semantic segmentation, accumulated over a whole data set.

For class c, with every pixel of every image counted once:

    IoU_c = |predicted c and truly c| / |predicted c or truly c| = TP_c / (TP_c + FP_c + FN_c)

and the mean IoU is the mean over the classes that occur (in the predictions or the ground truth);
a class that occurs in neither has no IoU and is left out of the mean.
"""
import numpy as np

from ..train.metrics import confusion_matrix

__all__ = ["iou_per_class", "mean_iou", "ConfusionMeter"]


def iou_per_class(confusion):
    """(C, C) confusion counts (rows: true class, columns: predicted) -> (C,) IoU, NaN for absent classes."""
    cm = np.asarray(confusion, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"iou_per_class: expected a square confusion matrix, got shape {cm.shape}")
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp  # TP + FP + FN
    return np.divide(tp, union, out=np.full(len(tp), np.nan), where=union > 0)


def _class_maps(predictions, targets, num_classes, fn):
    p, t = (np.asarray(getattr(x, "array", x)) for x in (predictions, targets))
    if p.shape != t.shape:
        raise ValueError(f"{fn}: predictions {p.shape} and targets {t.shape} differ in shape")
    for name, a in (("predictions", p), ("targets", t)):
        if a.size and (a.dtype.kind not in "iu" or a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{fn}: {name} must be integer classes in [0, {num_classes}), got dtype {a.dtype}, "
                             f"range [{a.min()}, {a.max()}]")
    return p.ravel(), t.ravel()


def mean_iou(predictions, targets, num_classes):
    """Mean IoU of integer class maps `predictions` and `targets` (same shape, any number of images)."""
    meter = ConfusionMeter(num_classes)
    meter.update(predictions, targets)
    return meter.mean_iou()


class ConfusionMeter:
    """Confusion counts summed batch after batch: update(predictions, targets), then iou() / mean_iou()."""

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.counts = np.zeros((num_classes, num_classes), np.int64)

    def update(self, predictions, targets):
        p, t = _class_maps(predictions, targets, self.num_classes, "ConfusionMeter.update")
        self.counts += confusion_matrix(p, t, self.num_classes)

    def iou(self):
        return iou_per_class(self.counts)

    def mean_iou(self):
        return float(np.nanmean(self.iou()))

    def pixel_accuracy(self):
        return float(np.trace(self.counts) / max(self.counts.sum(), 1))
