"""MNIST recipes: an MLP (>= 98.2% test accuracy), a CNN (>= 99.2%) and a one-minute CNN on the
embedded sample. Each trains with AdamW and a one-cycle learning rate, evaluates on the test set after
every epoch, then draws a confusion matrix, the misclassified digits and the first-layer filters.
`image_classifier` makes such a recipe for any model of 28x28 digits (vit-mnist uses it).
"""
import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import nn, optim
from ..datasets import MNIST
from ..random import Generator
from ..tensor import Tensor
from ..train import EpochBatches, Experiment
from ..train.evaluation import classification_loss, classify
from ..train.metrics import confusion_matrix
from ..utils.data import DataLoader, TensorDataset
from . import Recipe, register
from .config import TrainingConfig, data_dir_flag, data_from, flag, positive, probability

MEAN, STD = 0.1307, 0.3081  # of the MNIST training pixels, scaled to [0, 1]


@dataclass
class MNISTConfig(TrainingConfig):
    epochs: int = flag(12, "passes over the training set", positive)
    batch_size: int = flag(128, "images per optimizer step", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    dropout: float = flag(0.2, "dropout probability before the last layer(s)", probability)
    augment: bool = flag(True, "random shifts and small rotations of the training images")
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = flag(0, "train on only the first N training images (0: all)")
    pictures: bool = flag(True, "draw the confusion matrix, the misclassified digits and the filters at the end")


@dataclass
class MLPConfig(MNISTConfig):
    hidden: int = flag(800, "units in each of the two hidden layers", positive)


@dataclass
class CNNConfig(MNISTConfig):
    epochs: int = flag(8, "passes over the training set", positive)
    batch_size: int = flag(64, "images per optimizer step", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    channels: int = flag(32, "channels of the first convolution (the second has twice as many)", positive)
    hidden: int = flag(128, "units of the fully connected layer", positive)


@dataclass
class QuickConfig(CNNConfig):
    epochs: int = flag(3, "passes over the training set", positive)
    channels: int = flag(16, "channels of the first convolution (the second has twice as many)", positive)
    sample: bool = flag(True, "use the small MNIST sample shipped with glassnet (offline)")
    augment: bool = flag(False, "random shifts and small rotations of the training images")


def mlp(config):
    """784 -> hidden -> hidden -> 10 with ReLU and dropout."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, 10),
    )


def cnn(config):
    """Two conv-BN-ReLU-maxpool stages (28 -> 14 -> 7), then a hidden fully connected layer."""
    c = config.channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * c * 7 * 7, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, 10),
    )


def load_split(config, train):
    """Images normalised to zero mean and unit variance, (N, 1, 28, 28) float32, and int64 labels."""
    with data_from(config.data_dir) as (root, download):
        ds = MNIST(root=root, train=train, sample=config.sample, download=download)
    images, labels = ds.data.array, ds.targets.array
    if train and config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    x = ((images.astype(np.float32) / 255 - MEAN) / STD)[:, None]
    return Tensor._make(x), Tensor._make(labels.astype(np.int64))


def loaders(config):
    train = DataLoader(TensorDataset(*load_split(config, True)), batch_size=config.batch_size, shuffle=True,
                       generator=Generator(config.seed + 1))
    test = DataLoader(TensorDataset(*load_split(config, False)), batch_size=1000)
    return train, test


def augmenter(config):
    if not config.augment:
        return None
    from ..transforms import RandomAffine

    # pixels shifted in from outside the digit get the normalised value of black
    return RandomAffine(degrees=8, translate=(0.08, 0.08), fill=-MEAN / STD).apply_batch


class _TestSet:
    """The test-set evaluation after each epoch; keeps the last predictions for the pictures."""

    def __init__(self, loader):
        self.loader, self.last = loader, None

    def evaluate(self, model):
        self.last = classify(model, self.loader)
        return {"test_loss": self.last.loss, "test_accuracy": self.last.accuracy}

    def pictures(self, model, run_dir):
        """Confusion matrix, misclassified digits and first-layer filters under run_dir/plots."""
        from ..viz.plots import plot_confusion_matrix, plot_filters, plot_image_grid

        test = self.last or classify(model, self.loader)
        out = os.path.join(run_dir, "plots")
        paths = [os.path.join(out, name) for name in ("confusion_matrix.png", "misclassified.png", "filters.png")]
        plot_confusion_matrix(confusion_matrix(test.predictions, test.targets, 10), paths[0])
        wrong = np.flatnonzero(test.predictions != test.targets)[:32]
        images = self.loader.dataset.tensors[0].array[wrong, 0] * STD + MEAN
        captions = [f"{p} (true {t})" for p, t in zip(test.predictions[wrong], test.targets[wrong])]
        plot_image_grid(images, captions, paths[1], title="misclassified test digits")
        first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
        plot_filters(first.weight.array, paths[2])
        return {"test_images": len(test.targets), "plots": paths}


def _experiment(config, model):
    train_loader, test_loader = loaders(config)
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(train_loader) // config.grad_accum)
    steps = config.epochs * steps_per_epoch
    test = _TestSet(test_loader)
    return Experiment(model, optimizer, EpochBatches(train_loader), steps=steps,
                      loss=partial(classification_loss, augment=augmenter(config)), evaluate=test.evaluate,
                      eval_every=steps_per_epoch,
                      scheduler=optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps),
                      monitor="test_accuracy", mode="max", grad_accum=config.grad_accum,
                      clip_grad_norm=config.clip_grad_norm, log_every=50,
                      report=test.pictures if config.pictures else None, unit="img")


def image_classifier(name, description, config, model):
    """Register a recipe training model(config) on MNIST digits with the loop above."""
    return register(Recipe(name, description, config, lambda c: _experiment(c, model(c))))


image_classifier("mnist-mlp", "MLP 784-800-800-10 on MNIST: >= 98.2% test accuracy", MLPConfig, mlp)
image_classifier("mnist-cnn", "CNN (2 conv-BN-pool stages) on MNIST: >= 99.2% test accuracy", CNNConfig, cnn)
image_classifier("mnist-cnn-quick", "small CNN on the embedded 5,000-digit sample, about a minute, offline",
                 QuickConfig, cnn)
