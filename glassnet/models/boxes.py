"""Boxes as NumPy arrays: overlap and non-maximum suppression (torchvision.ops' names and conventions).

A box is (x1, y1, x2, y2) in pixel coordinates with x1 < x2 and y1 < y2, its area (x2 - x1) * (y2 - y1):
continuous coordinates, no "+ 1".
"""
import numpy as np

from ..ops.indexing import stack

__all__ = ["box_area", "box_iou", "nms", "batched_nms", "box_cxcywh_to_xyxy", "box_xyxy_to_cxcywh"]


def _boxes(boxes, fn, name="boxes"):
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{fn}: {name} must have shape (K, 4) as (x1, y1, x2, y2), got {b.shape}")
    return b


def box_area(boxes):
    """(K, 4) -> (K,) areas."""
    b = _boxes(boxes, "box_area")
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(boxes1, boxes2):
    """(K, 4), (M, 4) -> (K, M): intersection over union of every pair (0 where both areas are 0)."""
    a, b = _boxes(boxes1, "box_iou", "boxes1"), _boxes(boxes2, "box_iou", "boxes2")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])  # (K, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(-1)  # (K, M)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression: indices of the boxes kept, highest score first.

    Take the highest-scoring box left, keep it, drop every remaining box that overlaps it with IoU >
    iou_threshold; repeat until none is left. Equal scores keep their input order.
    """
    b = _boxes(boxes, "nms")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (len(b),):
        raise ValueError(f"nms: scores must have shape ({len(b)},) to match the boxes, got {s.shape}")
    order = np.argsort(-s, kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[box_iou(b[best:best + 1], b[order])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, iou_threshold):
    """NMS within each label separately (a box never suppresses one of another class); indices kept,
    highest score first."""
    b = _boxes(boxes, "batched_nms")
    labels = np.asarray(labels)
    if len(b) == 0:
        return np.zeros(0, np.int64)
    # shift each class's boxes to a region of their own, so boxes of different classes never overlap
    offset = labels.astype(np.float64)[:, None] * (b.max() - b.min() + 1)
    return nms(b + offset, scores, iou_threshold)


def box_cxcywh_to_xyxy(boxes):
    """(..., 4) centre x, centre y, width, height -> x1, y1, x2, y2 (works on Tensors and arrays)."""
    cx, cy, w, h = (boxes[..., i] for i in range(4))
    return _stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def box_xyxy_to_cxcywh(boxes):
    """(..., 4) x1, y1, x2, y2 -> centre x, centre y, width, height (works on Tensors and arrays)."""
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    return _stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def _stack(columns):
    return np.stack(columns, -1) if isinstance(columns[0], np.ndarray) else stack(columns, -1)
