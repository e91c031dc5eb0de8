"""What the generative recipes (denoise-mnist, vae-mnist, gan-mnist, ddpm-mnist) share: MNIST as
pixels in [0, 1], their common flags, the shuffled training batches, an epoch-counting Experiment with
AdamW and a one-cycle learning rate, and the scores of generated digits."""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..datasets import MNIST
from ..metrics.generative import mnist_scores
from ..random import Generator
from ..tensor import Tensor
from ..train import EpochBatches, Experiment
from ..train.progress import progress_bar
from ..utils.data import DataLoader, TensorDataset
from .config import TrainingConfig, data_dir_flag, data_from, flag, positive

__all__ = ["PixelsConfig", "load_pixels", "shuffled_batches", "one_cycle_experiment", "in_batches", "scores",
           "plot_path"]


@dataclass
class PixelsConfig(TrainingConfig):
    """The flags of every generative recipe (each sets its own epochs, batch size and learning rate)."""
    epochs: int = flag(5, "passes over the training set", positive)
    batch_size: int = flag(128, "images per optimizer step", positive)
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = flag(0, "train on only the first N training images (0: all)")
    test_limit: int = flag(0, "evaluate on only the first N test images (0: all 10,000)")
    pictures: bool = flag(True, "draw the recipe's pictures at the end")


def load_pixels(config, train):
    """MNIST images as float32 (N, 1, 28, 28) in [0, 1] (the first config.limit / test_limit of them)."""
    with data_from(config.data_dir) as (root, download):
        images = MNIST(root=root, train=train, sample=config.sample, download=download).data.array
    limit = config.limit if train else config.test_limit
    return Tensor._make((images[:limit or None].astype(np.float32) / 255)[:, None])


def shuffled_batches(config, *tensors):
    """The training tensors in shuffled batches of config.batch_size, epoch after epoch (resumable)."""
    loader = DataLoader(TensorDataset(*tensors), batch_size=config.batch_size, shuffle=True,
                        generator=Generator(config.seed + 1))
    return EpochBatches(loader)


def one_cycle_experiment(config, model, batches, parameters=None, **settings):
    """config.epochs passes over `batches` with AdamW and a one-cycle learning rate peaking at config.lr,
    an evaluation after every epoch."""
    steps_per_epoch = len(batches)
    steps = config.epochs * steps_per_epoch
    optimizer = optim.AdamW(model.parameters() if parameters is None else parameters, lr=config.lr,
                            weight_decay=config.weight_decay)
    return Experiment(model, optimizer, batches, steps=steps, eval_every=steps_per_epoch,
                      scheduler=optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps),
                      clip_grad_norm=config.clip_grad_norm, log_every=50, unit="img", **settings)


def in_batches(images, size, desc):
    """Consecutive slices of `images` (a Tensor) of at most `size`, with a progress bar."""
    starts = range(0, len(images), size)
    return (images[i:i + size] for i in progress_bar(starts, desc, total=len(starts)))


def scores(images):
    """The Fréchet distance and classifier score of generated images (N, 1, 28, 28) in [0, 1]
    (glassnet.metrics.generative), with the number of images they come from."""
    return {**mnist_scores(images), "scored_images": len(images)}


def plot_path(run_dir, name):
    return os.path.join(run_dir, "plots", name)
