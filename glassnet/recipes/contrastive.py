"""What the contrastive recipes (simclr-mnist, siamese-mnist, clip-mnist) share: MNIST digits in [0, 1] with
their labels, an epoch-counting Experiment with AdamW and a one-cycle learning rate, embeddings of many
images, the linear probe on frozen features and nearest-neighbour retrieval."""
import os
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..autograd import enable_grad
from ..datasets import MNIST
from ..nn.utils import evaluating
from ..random import Generator, default_generator, manual_seed
from ..tensor import Tensor
from ..train import EpochBatches, Experiment
from ..train.progress import progress_bar
from ..utils.data import DataLoader, TensorDataset
from .config import TrainingConfig, data_dir_flag, data_from, flag, positive

DIGITS = [f"digit {d}" for d in range(10)]  # class names of the pictures

__all__ = ["DIGITS", "DigitsConfig", "load_digits", "shuffled_batches", "one_cycle_experiment", "embed", "linear_probe",
           "built_with_seed", "plot_path"]


@dataclass
class DigitsConfig(TrainingConfig):
    """The flags of every contrastive recipe (each sets its own epochs, batch size and learning rate)."""
    epochs: int = flag(5, "passes over the training set", positive)
    batch_size: int = flag(256, "images per optimizer step", positive)
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = flag(0, "train on only the first N training images (0: all)")
    test_limit: int = flag(0, "evaluate on only the first N test images (0: all 10,000)")
    pictures: bool = flag(True, "draw the recipe's pictures at the end")


def load_digits(config, train):
    """(images (N, 1, 28, 28) float32 in [0, 1] as a Tensor, labels (N,) int64 as an array): the first
    config.limit training or config.test_limit test digits (all with 0)."""
    with data_from(config.data_dir) as (root, download):
        ds = MNIST(root=root, train=train, sample=config.sample, download=download)
    n = (config.limit if train else config.test_limit) or None
    images = ds.data.array[:n].astype(np.float32)[:, None] / 255
    return Tensor._make(images), ds.targets.array[:n].astype(np.int64)


def shuffled_batches(config, *tensors):
    """The training tensors in shuffled batches of config.batch_size, epoch after epoch (resumable); the last
    incomplete batch is dropped (a contrastive loss wants full batches of negatives)."""
    loader = DataLoader(TensorDataset(*tensors), batch_size=config.batch_size, shuffle=True, drop_last=True,
                        generator=Generator(config.seed + 1))
    return EpochBatches(loader)


def one_cycle_experiment(config, model, batches, **settings):
    """config.epochs passes over `batches`, AdamW (weight decay on matrices and kernels only: not on biases,
    norm parameters or a learned temperature) with a one-cycle learning rate peaking at config.lr, an
    evaluation after every epoch."""
    steps_per_epoch = len(batches)
    steps = config.epochs * steps_per_epoch
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    optimizer = optim.AdamW(groups, lr=config.lr)
    return Experiment(model, optimizer, batches, steps=steps, eval_every=steps_per_epoch,
                      scheduler=optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps),
                      clip_grad_norm=config.clip_grad_norm, log_every=20, unit="img", **settings)


def embed(fn, model, images, batch=1000, desc="embedding"):
    """fn(model, images[i:i + batch]) for all images, in eval mode without a graph -> one (N, D) array."""
    with evaluating(model):
        parts = [fn(model, images[i:i + batch]).array for i in progress_bar(range(0, len(images), batch), desc)]
    return np.concatenate(parts)


def linear_probe(train_x, train_y, test_x, test_y, epochs=30, lr=1e-2, batch_size=256, seed=0):
    """A linear classifier (softmax regression) trained on fixed features, the usual measure of a learned
    representation: features standardised with the training mean and std, Adam with a cosine decay over
    `epochs`, batches drawn from Generator(seed). Returns the train and test accuracies."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    classes = int(max(train_y.max(), test_y.max())) + 1
    with _seeded(seed):
        probe = nn.Linear(train_x.shape[1], classes)
    optimizer = optim.Adam(probe.parameters(), lr=lr, weight_decay=1e-5)
    steps = epochs * -(-len(train_x) // batch_size)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    order_rng, x, y = np.random.default_rng(seed), Tensor._make(train_x.astype(np.float32)), Tensor._make(train_y)
    with enable_grad():  # also when called from an evaluation, which runs without a graph
        for _ in progress_bar(range(epochs), "linear probe", unit="epoch"):
            order = order_rng.permutation(len(train_x))
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                loss = nn.functional.cross_entropy(probe(x[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()

    def accuracy(features, labels):
        with evaluating(probe):
            return float((probe(Tensor._make(features.astype(np.float32))).array.argmax(1) == labels).mean())

    return {"train_accuracy": accuracy(train_x, train_y), "test_accuracy": accuracy(test_x, test_y)}


class _seeded:
    """Within: glassnet's default generator seeded with `seed`; its state before is restored after (a model
    built here does not change the draws of the run around it)."""

    def __init__(self, seed):
        self.seed = seed

    def __enter__(self):
        self.saved = default_generator.get_state()
        manual_seed(self.seed)

    def __exit__(self, *exc):
        default_generator.set_state(self.saved)


def built_with_seed(build, seed):
    """build() with the default generator seeded by `seed`, leaving the run's own draws untouched."""
    with _seeded(seed):
        return build()


def plot_path(run_dir, name):
    return os.path.join(run_dir, "plots", name)
