"""Metrics for dense predictions: mean average precision of detections, intersection over union of
segmentations (classification metrics are in glassnet.train.metrics).

    from glassnet.metrics import mean_average_precision, mean_iou
"""
from .detection import *  # noqa: F401,F403
from .segmentation import *  # noqa: F401,F403
from . import detection, segmentation

__all__ = detection.__all__ + segmentation.__all__
