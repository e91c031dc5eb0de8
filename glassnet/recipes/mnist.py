"""MNIST recipes: an MLP (>= 98.2% test accuracy), a CNN (>= 99.2%) and a one-minute CNN on the
embedded sample. Each trains with AdamW and a one-cycle learning rate, then writes curves, a
confusion matrix, the misclassified digits and the first-layer filters.
"""
import dataclasses
import json
import os
from dataclasses import dataclass, field

import numpy as np

from .. import nn, optim
from ..datasets import MNIST
from ..random import Generator, manual_seed
from ..tensor import Tensor
from ..train import plots
from ..train.classifier import evaluate, fit
from ..train.log import read_metrics
from ..train.metrics import confusion_matrix
from ..utils.data import DataLoader, TensorDataset
from . import Recipe, register

MEAN, STD = 0.1307, 0.3081  # of the MNIST training pixels, scaled to [0, 1]


def _flag(default, help):
    return field(default=default, metadata={"help": help})


@dataclass
class MNISTConfig:
    epochs: int = _flag(12, "passes over the training set")
    batch_size: int = _flag(128, "images per optimizer step")
    lr: float = _flag(2e-3, "peak learning rate of the one-cycle schedule")
    weight_decay: float = _flag(1e-4, "AdamW weight decay")
    seed: int = _flag(0, "seed of initialisation, shuffling, dropout and augmentation")
    dropout: float = _flag(0.2, "dropout probability before the last layer(s)")
    augment: bool = _flag(True, "random shifts and small rotations of the training images")
    grad_accum: int = _flag(1, "batches whose gradients are summed before each step")
    clip_grad_norm: float = _flag(0.0, "clip the gradient norm to this value (0: off)")
    data_dir: str = _flag("", "folder with the MNIST files (default: GLASSNET_DATA, cache, download)")
    sample: bool = _flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = _flag(0, "train on only the first N training images (0: all)")


@dataclass
class MLPConfig(MNISTConfig):
    hidden: int = _flag(800, "units in each of the two hidden layers")


@dataclass
class CNNConfig(MNISTConfig):
    epochs: int = _flag(8, "passes over the training set")
    batch_size: int = _flag(64, "images per optimizer step")
    lr: float = _flag(3e-3, "peak learning rate of the one-cycle schedule")
    channels: int = _flag(32, "channels of the first convolution (the second has twice as many)")
    hidden: int = _flag(128, "units of the fully connected layer")


@dataclass
class QuickConfig(CNNConfig):
    epochs: int = _flag(3, "passes over the training set")
    channels: int = _flag(16, "channels of the first convolution (the second has twice as many)")
    sample: bool = _flag(True, "use the small MNIST sample shipped with glassnet (offline)")
    augment: bool = _flag(False, "random shifts and small rotations of the training images")


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
    ds = MNIST(root=config.data_dir or None, train=train, sample=config.sample)
    images, labels = ds.data.array, ds.targets.array
    if train and config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    x = ((images.astype(np.float32) / 255 - MEAN) / STD)[:, None]
    return Tensor(x), Tensor(labels.astype(np.int64))


def loaders(config):
    train_x, train_y = load_split(config, True)
    test_x, test_y = load_split(config, False)
    train = DataLoader(TensorDataset(train_x, train_y), batch_size=config.batch_size, shuffle=True,
                       generator=Generator(config.seed + 1))
    test = DataLoader(TensorDataset(test_x, test_y), batch_size=1000)
    return train, test


def augmenter(config):
    if not config.augment:
        return None
    from ..transforms import RandomAffine

    # pixels shifted in from outside the digit get the normalised value of black
    return RandomAffine(degrees=8, translate=(0.08, 0.08), fill=-MEAN / STD).apply_batch


def _run(name, build):
    def run(config, run_dir, resume=None, **fit_options):
        manual_seed(config.seed)
        model = build(config)
        train_loader, test_loader = loaders(config)
        optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        steps = config.epochs * -(-len(train_loader) // config.grad_accum)
        scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps)
        saved = {"recipe": name, **dataclasses.asdict(config)}
        result = fit(model, optimizer, train_loader, test_loader, epochs=config.epochs, run_dir=run_dir,
                     scheduler=scheduler, augment=augmenter(config), grad_accum=config.grad_accum,
                     clip_grad_norm=config.clip_grad_norm or None, config=saved, resume=resume, **fit_options)
        test = result.test  # None when interrupted before the first evaluation
        summary = {"recipe": name, "test_accuracy": test.accuracy if test else None,
                   "test_loss": test.loss if test else None, "best_test_accuracy": result.best_accuracy,
                   "epochs": result.epochs_done, "steps": result.steps,
                   "seconds_per_epoch": float(np.mean(result.epoch_seconds)) if result.epoch_seconds else 0.0,
                   "images_per_second": result.images_per_second, "run_dir": run_dir,
                   "interrupted": result.interrupted}
        if not result.interrupted:
            _pictures(model, result.test, test_loader, run_dir)
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        return summary

    return run


def _pictures(model, test, test_loader, run_dir):
    """Curves, confusion matrix, misclassified digits and first-layer filters under run_dir/plots."""
    out = os.path.join(run_dir, "plots")
    plots.plot_curves(read_metrics(os.path.join(run_dir, "metrics.jsonl")), os.path.join(out, "curves.png"))
    plots.plot_confusion_matrix(confusion_matrix(test.predictions, test.targets, 10),
                                os.path.join(out, "confusion_matrix.png"))
    wrong = np.flatnonzero(test.predictions != test.targets)[:32]
    images = test_loader.dataset.tensors[0].array[wrong, 0] * STD + MEAN
    plots.plot_image_grid(images, [f"{p} (true {t})" for p, t in zip(test.predictions[wrong], test.targets[wrong])],
                          os.path.join(out, "misclassified.png"), title="misclassified test digits")
    first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    plots.plot_filters(first.weight.array, os.path.join(out, "filters.png"))


def _evaluate(name, build):
    def evaluate_checkpoint(config, state):
        model = build(config)
        model.load_state_dict(state["model"])
        _, test_loader = loaders(config)
        result = evaluate(model, test_loader)
        return {"recipe": name, "test_accuracy": result.accuracy, "test_loss": result.loss,
                "epoch": state["epoch"], "images": len(result.targets)}

    return evaluate_checkpoint


def _recipe(name, description, config, build):
    return register(Recipe(name, description, config, _run(name, build), _evaluate(name, build)))


_recipe("mnist-mlp", "MLP 784-800-800-10 on MNIST: >= 98.2% test accuracy", MLPConfig, mlp)
_recipe("mnist-cnn", "CNN (2 conv-BN-pool stages) on MNIST: >= 99.2% test accuracy", CNNConfig, cnn)
_recipe("mnist-cnn-quick", "small CNN on the embedded 5,000-digit sample, about a minute, offline", QuickConfig,
        cnn)
