"""Mean average precision of detections, the PASCAL VOC way (all-point interpolation).

For each class, every predicted box of that class in every image, highest score first, is matched to
the ground-truth box of that class in its image with which it has the largest IoU: if that IoU is at
least `iou_threshold` and the ground truth is not yet taken, the prediction is a true positive and
takes it; otherwise it is a false positive (a second detection of a taken object counts against).
After the k best predictions

    precision_k = TP_k / k,    recall_k = TP_k / (number of ground-truth boxes of the class)

The interpolated precision at recall r is the best precision reached at any recall >= r, and AP is
the area under that stepped curve, summed at every point where recall changes (no 11-point sampling):

    AP = sum_k (recall_k - recall_{k-1}) * max_{j >= k} precision_j

mAP is the mean of AP over the classes that have ground truth (a class with no ground-truth box has
no recall and is left out; its false positives still lower no other class's AP).
"""
import numpy as np

from ..models.boxes import box_iou

__all__ = ["average_precision", "precision_recall", "average_precision_per_class", "mean_average_precision"]


def average_precision(recall, precision):
    """Area under the all-point interpolated precision-recall curve (recall ascending, as produced by
    going down a ranked list)."""
    r = np.concatenate([[0.0], np.asarray(recall, np.float64), [1.0]])
    p = np.concatenate([[0.0], np.asarray(precision, np.float64), [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the best precision at this recall or any higher one
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def _field(entry, key, i, what):
    if key not in entry:
        raise KeyError(f"mean_average_precision: {what} {i} has no {key!r} (has {sorted(entry)})")
    value = entry[key]
    return np.asarray(getattr(value, "array", value))


def _class_ranking(predictions, targets, cls):
    """The predictions of class `cls` over all images, best first: (image index, box, score) lists, and
    the ground truths of the class per image."""
    found, truths = [], []
    for i, (pred, target) in enumerate(zip(predictions, targets)):
        mine = _field(pred, "labels", i, "prediction") == cls
        boxes, scores = _field(pred, "boxes", i, "prediction")[mine], _field(pred, "scores", i, "prediction")[mine]
        found += [(i, box, score) for box, score in zip(boxes, scores)]
        truths.append(_field(target, "boxes", i, "target")[_field(target, "labels", i, "target") == cls])
    found.sort(key=lambda f: -f[2])  # stable: equal scores keep image order
    return found, truths


def precision_recall(predictions, targets, cls, iou_threshold=0.5):
    """(recall, precision) after each of the class's predictions, best score first, over all images; None
    when the class has no ground-truth box. Inputs as for `average_precision_per_class`."""
    found, truths = _class_ranking(predictions, targets, cls)
    n_truths = sum(len(t) for t in truths)
    if n_truths == 0:
        return None
    taken = [np.zeros(len(t), bool) for t in truths]
    hits = np.zeros(len(found))
    for k, (i, box, _) in enumerate(found):
        if len(truths[i]) == 0:
            continue
        overlaps = box_iou(box[None], truths[i])[0]
        best = int(overlaps.argmax())
        if overlaps[best] >= iou_threshold and not taken[i][best]:
            taken[i][best], hits[k] = True, 1.0
    tp = np.cumsum(hits)
    return tp / n_truths, tp / np.arange(1, len(found) + 1)


def average_precision_per_class(predictions, targets, iou_threshold=0.5):
    """{class: AP} for every class with at least one ground-truth box.

    predictions: one dict per image with "boxes" (K, 4) as (x1, y1, x2, y2), "scores" (K,), "labels" (K,);
    targets: one dict per image with "boxes" (M, 4) and "labels" (M,) (arrays or Tensors)."""
    if len(predictions) != len(targets):
        raise ValueError(f"mean_average_precision: {len(predictions)} predictions but {len(targets)} targets; "
                         "expected one of each per image")
    classes = sorted({int(c) for i, t in enumerate(targets) for c in _field(t, "labels", i, "target")})
    return {c: average_precision(*precision_recall(predictions, targets, c, iou_threshold)) for c in classes}


def mean_average_precision(predictions, targets, iou_threshold=0.5):
    """The mean of `average_precision_per_class` (NaN when there is no ground truth at all)."""
    per_class = average_precision_per_class(predictions, targets, iou_threshold)
    return float(np.mean(list(per_class.values()))) if per_class else float("nan")
