"""detect-digits: a single-stage detector (CenterNet-style: glassnet.models.CenterNet) finds and names every
digit on canvases of MNIST digits; mAP@0.5 >= 0.90 on the test canvases (MNIST test digits only).

    glassnet train detect-digits

Boxes are the tight boxes of each digit's pixels; mAP is the PASCAL VOC one (all-point interpolated
precision-recall per digit class, mean over the 10 classes; glassnet.metrics). AdamW and a one-cycle
learning rate; mAP@0.5 and mAP@0.75 after every epoch; at the end, the AP of each class and a picture
of predicted boxes with labels and scores over the true ones. detr-digits trains DETR on the same data.
"""
import os
from dataclasses import dataclass

import numpy as np

from ..metrics import average_precision_per_class, mean_average_precision
from ..models import CenterNet
from ..train import Experiment
from ..train.progress import progress_bar
from ..utils.data import DataLoader
from . import Recipe, register
from .config import flag, positive, unit_interval
from .unet_segment import CanvasConfig, canvas_batches, canvases, one_cycle_adamw


@dataclass
class DetectConfig(CanvasConfig):
    epochs: int = flag(8, "passes over the training canvases", positive)
    batch_size: int = flag(32, "canvases per optimizer step", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    width: int = flag(16, "channels of the first backbone stage (the next two have 2x and 4x)", positive)
    score_threshold: float = flag(0.05, "lowest score of a detection kept for the mAP", unit_interval)
    nms_iou: float = flag(0.5, "non-maximum suppression: drop a box overlapping a better one by more", unit_interval)


class DetectionTest:
    """mAP of `detect(model, images)` (one {"boxes", "scores", "labels"} dict per image) on the test canvases."""

    def __init__(self, data, config, detect):
        self.data, self.config, self.detect = data, config, detect
        self.loader = DataLoader(data, batch_size=100)
        self.truth = [dict(zip(("boxes", "labels"), data.targets_of(i))) for i in range(len(data))]

    def _detections(self, model):
        found = []
        for images, _ in progress_bar(self.loader, "test", total=len(self.loader)):
            found += self.detect(model, images)
        return found

    def evaluate(self, model):
        found = self._detections(model)
        return {"test_map50": mean_average_precision(found, self.truth, 0.5),
                "test_map75": mean_average_precision(found, self.truth, 0.75)}

    def test(self, model):
        found = self._detections(model)
        per_class = average_precision_per_class(found, self.truth, 0.5)
        return {"test_map50": float(np.mean(list(per_class.values()))),
                "test_map75": mean_average_precision(found, self.truth, 0.75),
                "test_ap50_per_class": {str(c): round(ap, 4) for c, ap in per_class.items()},
                "test_canvases": len(self.data)}

    def pictures(self, model, run_dir):
        if not self.config.pictures:
            return {}
        from ..viz.dense import plot_detections

        images, _ = self.data.__getbatch__(np.arange(8))
        path = os.path.join(run_dir, "plots", "detections.png")
        plot_detections(images.array, self.detect(model, images), self.truth[:8], path,
                        title=f"{type(model).__name__} on test canvases")
        return {"plots": [path]}


def detection_experiment(config, model, loss, detect):
    """The Experiment of a detection recipe: AdamW + one-cycle over config.epochs, mAP after each epoch."""
    train_set, test_set = canvases(config, True, config.train_canvases), canvases(config, False, config.test_canvases)
    batches = canvas_batches(config, train_set)
    steps_per_epoch = -(-len(batches) // config.grad_accum)
    optimizer, scheduler = one_cycle_adamw(model, config, config.epochs * steps_per_epoch)
    test = DetectionTest(test_set, config, detect)
    return Experiment(model, optimizer, batches, steps=config.epochs * steps_per_epoch, loss=loss,
                      evaluate=test.evaluate, eval_every=steps_per_epoch, scheduler=scheduler, monitor="test_map50",
                      mode="max", grad_accum=config.grad_accum, clip_grad_norm=config.clip_grad_norm, test=test.test,
                      report=test.pictures, unit="img")


def centernet_loss(model, batch):
    images, target = batch
    return model.loss(model(images), target["boxes"], target["labels"])


def build(config):
    w = config.width
    model = CenterNet(10, 1, (w, 2 * w, 4 * w))

    def detect(model, images):
        return model.detect(images, config.score_threshold, config.nms_iou)

    return detection_experiment(config, model, centernet_loss, detect)


register(Recipe("detect-digits", "single-stage (CenterNet-style) detector of MNIST digits on canvases, NMS in "
                "NumPy: mAP@0.5 >= 0.90", DetectConfig, build))
