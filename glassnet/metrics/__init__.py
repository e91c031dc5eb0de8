"""Metrics for dense predictions: mean average precision of detections, intersection over union of
segmentations (classification metrics are in glassnet.train.metrics); for generated digits: the
Fréchet distance and classifier score in a shipped MNIST classifier's eyes.

    from glassnet.metrics import mean_average_precision, mean_iou
"""
from .detection import *  # noqa: F401,F403
from .segmentation import *  # noqa: F401,F403
from .generative import *  # noqa: F401,F403
from . import detection, generative, segmentation

__all__ = detection.__all__ + segmentation.__all__ + generative.__all__
