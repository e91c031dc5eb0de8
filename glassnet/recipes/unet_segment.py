"""unet-segment: a U-Net labels every pixel of canvases of MNIST digits (background or which digit);
mean IoU over the 11 classes >= 0.85 on the test canvases (digits of the MNIST test set only).

    glassnet train unet-segment

The canvases (glassnet.datasets.MultiDigitCanvas, 64x64, 1-4 digits of 18-34 pixels) are drawn once
from the seed; training ones hold only MNIST training digits. Per-pixel cross-entropy, AdamW and a
one-cycle learning rate; the mean IoU of the test canvases after every epoch (and the foreground IoU:
digit against background, whichever digit); at the end the IoU of each class and a picture of inputs,
predicted and true class maps.
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim, transforms as T
from ..datasets import NUM_CANVAS_CLASSES, MultiDigitCanvas
from ..metrics import ConfusionMeter
from ..models import UNet
from ..nn import functional as F
from ..nn.utils import evaluating
from ..random import Generator
from ..train import EpochBatches, Experiment
from ..train.progress import progress_bar
from ..utils.data import DataLoader
from . import Recipe, register
from .config import TrainingConfig, data_dir_flag, data_from, flag, positive


@dataclass
class CanvasConfig(TrainingConfig):
    """The canvases of the dense-prediction recipes."""
    train_canvases: int = flag(10000, "training canvases (MNIST training digits)", positive)
    test_canvases: int = flag(1000, "test canvases (MNIST test digits)", positive)
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "take the digits from the small MNIST sample shipped with glassnet (offline)")
    pictures: bool = flag(True, "draw predictions on test canvases at the end")


@dataclass
class SegmentConfig(CanvasConfig):
    epochs: int = flag(6, "passes over the training canvases", positive)
    batch_size: int = flag(32, "canvases per optimizer step", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    width: int = flag(8, "channels at full resolution (doubled at each level down)", positive)
    levels: int = flag(3, "poolings between the full resolution and the bottleneck", positive)


def canvases(config, train, count):
    """The training or test canvases of a config, images as float (1, 64, 64) in [0, 1]."""
    with data_from(config.data_dir) as (root, download):
        return MultiDigitCanvas(train=train, num_canvases=count, seed=config.seed, root=root, download=download,
                                sample=config.sample, transform=T.ToTensor())


def canvas_batches(config, data):
    """Shuffled training batches, resumable (the loader has its own generator)."""
    loader = DataLoader(data, batch_size=config.batch_size, shuffle=True, generator=Generator(config.seed + 1))
    return EpochBatches(loader)


def one_cycle_adamw(model, config, steps):
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return optimizer, optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps)


def pixel_loss(model, batch):
    images, target = batch
    return F.cross_entropy(model(images), target["mask"])


def foreground_iou(confusion):
    """IoU of "some digit" against the background, whichever digit: where the digits are, not which."""
    cm = np.asarray(confusion)
    found, missed, invented = cm[1:, 1:].sum(), cm[1:, 0].sum(), cm[0, 1:].sum()
    return float(found / max(found + missed + invented, 1))


class _SegmentationTest:
    """Mean IoU over the test canvases; per-class IoU and the pictures at the end."""

    def __init__(self, data, config):
        self.data, self.config = data, config
        self.loader = DataLoader(data, batch_size=100)

    def _confusion(self, model):
        meter = ConfusionMeter(NUM_CANVAS_CLASSES)
        for images, target in progress_bar(self.loader, "test", total=len(self.loader)):
            meter.update(model(images).array.argmax(1), target["mask"])
        return meter

    def evaluate(self, model):
        meter = self._confusion(model)
        return {"test_mean_iou": meter.mean_iou(), "test_foreground_iou": foreground_iou(meter.counts),
                "test_pixel_accuracy": meter.pixel_accuracy()}

    def test(self, model):
        meter = self._confusion(model)
        names = MultiDigitCanvas.classes
        return {"test_mean_iou": meter.mean_iou(), "test_foreground_iou": foreground_iou(meter.counts),
                "test_pixel_accuracy": meter.pixel_accuracy(),
                "test_iou_per_class": {n: round(float(v), 4) for n, v in zip(names, meter.iou())},
                "test_canvases": len(self.data)}

    def pictures(self, model, run_dir):
        if not self.config.pictures:
            return {}
        from ..viz.dense import plot_segmentation

        images, target = self.data.__getbatch__(np.arange(8))
        with evaluating(model):
            predicted = model(images).array.argmax(1)
        path = os.path.join(run_dir, "plots", "segmentation.png")
        plot_segmentation(images.array, predicted, target["mask"].array, path, MultiDigitCanvas.classes,
                          title="U-Net on test canvases")
        return {"plots": [path]}


def build(config):
    train_set, test_set = canvases(config, True, config.train_canvases), canvases(config, False, config.test_canvases)
    model = UNet(1, NUM_CANVAS_CLASSES, tuple(config.width * 2 ** i for i in range(config.levels + 1)))
    batches = canvas_batches(config, train_set)
    steps_per_epoch = -(-len(batches) // config.grad_accum)
    optimizer, scheduler = one_cycle_adamw(model, config, config.epochs * steps_per_epoch)
    test = _SegmentationTest(test_set, config)
    return Experiment(model, optimizer, batches, steps=config.epochs * steps_per_epoch, loss=pixel_loss,
                      evaluate=test.evaluate, eval_every=steps_per_epoch, scheduler=scheduler, monitor="test_mean_iou",
                      mode="max", grad_accum=config.grad_accum, clip_grad_norm=config.clip_grad_norm, test=test.test,
                      report=test.pictures, unit="img")


register(Recipe("unet-segment", "U-Net labelling each pixel of canvases of MNIST digits: mean IoU >= 0.85 over "
                "11 classes", SegmentConfig, build))
