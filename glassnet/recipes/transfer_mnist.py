"""transfer-mnist: transfer learning, from the digits 0-4 to the digits 5-9 with ten labelled images a digit.

    glassnet train transfer-mnist         ResNet-8 (16-32-64 channels) pretrained for 2 epochs, then 5 seeds

Training (checkpointed and resumable like every recipe) pretrains a CIFAR-style ResNet (glassnet.models.CifarResNet,
5 outputs) on the MNIST training images of the digits 0-4 only, with AdamW, a one-cycle learning rate and random
shifts and rotations; its test accuracy is on the test images of 0-4. The network never sees a 5, 6, 7, 8 or 9.

The report then asks what those weights are worth for a new task with very few labels. For each of --seeds seeds
it draws --shots (10) training images of each of the digits 5-9 (50 labelled images, labels 5-9 becoming 0-4) and
builds a classifier of 5-9 from them in four ways, each tested on ALL test images of 5-9 (4,861):

    linear_probe    the pretrained network frozen, its classifier dropped: each image becomes its 64 pooled
                    features (after global average pooling). A linear classifier (a fresh 64 -> 5 layer, started
                    at zero) is fitted to the 50 feature vectors by full-batch L-BFGS to convergence, minimising
                    cross-entropy + --probe-l2 / 2 * |W|^2: a convex problem with one answer; no augmentation, no
                    learning rate, no steps to choose. Only the choice of the 50 images varies with the seed.
    head_only       the "head" is the last stage (layer3, pretrained weights) and a fresh fc (64 -> 5); all
                    below it (conv1, bn1, layer1, layer2) is frozen (`Frozen`: no gradients, batch norm on its
                    pretrained running statistics). The head is trained by gradient descent like a network:
                    --finetune-steps AdamW steps on the 50 images at --finetune-lr (cosine-decayed), each step
                    on a fresh random augmentation of them.
    whole_network   then everything is unfrozen and the head-only model trains --finetune-steps more steps,
                    every layer at the smaller rate --whole-lr-scale * --finetune-lr (0.1x). The head already
                    fits the 50 images; the small rate adapts the pretrained layers to the new digits without
                    carrying them far from what pretraining found (50 images would happily overwrite it).
    from_scratch    the same network with random weights, every layer at --finetune-lr, --finetune-steps steps
                    with the same augmentation: what the 50 images give without pretraining.

summary.json gets <method>_accuracy (mean over the seeds), <method>_accuracy_std (standard deviation over the
seeds, ddof 1), accuracy_per_seed ({method: [...]}) and transfer_test_images; plots/transfer.png draws the four
methods as bars (means) with a dot for each seed. test_accuracy is the pretrained network's, on 0-4.
"""
import copy
import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import nn, optim
from ..models import CifarResNet
from ..nn import functional as F
from ..nn.utils import evaluating
from ..random import Generator, manual_seed
from ..tensor import Tensor
from ..train import EpochBatches, Experiment
from ..train.evaluation import classification_loss, classify
from ..utils.data import DataLoader, TensorDataset
from . import Recipe, register
from .config import TrainingConfig, data_dir_flag, flag, positive, unit_interval
from .mnist import augmenter, load_split

PRETRAIN_DIGITS, NEW_DIGITS = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
METHODS = ("linear_probe", "head_only", "whole_network", "from_scratch")
BELOW_THE_HEAD = ("conv1", "bn1", "layer1", "layer2")  # what the head-only fine-tuning freezes


@dataclass
class TransferConfig(TrainingConfig):
    epochs: int = flag(2, "pretraining passes over the training images of the digits 0-4", positive)
    batch_size: int = flag(128, "images per pretraining step", positive)
    lr: float = flag(4e-3, "peak learning rate of the pretraining's one-cycle schedule", positive)
    weight_decay: float = flag(5e-4, "AdamW weight decay (pretraining and fine-tuning)")
    blocks: int = flag(1, "BasicBlocks in each of the three stages (1: ResNet-8, 3: ResNet-20)", positive)
    width: int = flag(16, "channels of the first stage (the next two have 2x and 4x)", positive)
    augment: bool = flag(True, "random shifts and small rotations of the training images (both phases)")
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = flag(0, "use only the first N training images (0: all): pretraining on their 0-4, the labelled "
                         "images drawn from their 5-9")
    test_limit: int = flag(0, "test on only the first N test images (0: all)")
    shots: int = flag(10, "labelled training images of each digit 5-9", positive)
    seeds: int = flag(5, "repetitions of the transfer experiment, each with its own labelled images", positive)
    finetune_steps: int = flag(100, "steps of each fine-tuning (head only, then whole network; from scratch), "
                                    "each on all the labelled images", positive)
    finetune_lr: float = flag(1e-2, "AdamW learning rate of the head-only and from-scratch training, cosine-decayed "
                                    "to 0", positive)
    whole_lr_scale: float = flag(0.1, "learning rate of the whole-network stage, as a fraction of --finetune-lr",
                                 unit_interval)
    probe_l2: float = flag(1e-3, "L2 penalty of the linear probe's weights")
    pictures: bool = flag(True, "draw the four accuracies at the end")


# ---- the data: 0-4 to pretrain, a few labelled 5-9 to transfer to -------------------------------------
def digits(images, labels, wanted):
    """The images of the digits in `wanted` (consecutive), labelled 0, 1, ... from wanted[0] on."""
    keep = np.isin(labels.array, wanted)
    return Tensor._make(images.array[keep]), Tensor._make(labels.array[keep] - wanted[0])


def few_shot_indices(labels, wanted, shots, generator):
    """`shots` indices of each digit of `wanted` among `labels` (an int array), drawn without replacement."""
    chosen = []
    for digit in wanted:
        pool = np.flatnonzero(labels == digit)
        if len(pool) < shots:
            raise ValueError(f"transfer-mnist: --shots {shots} needs {shots} training images of the digit {digit}, "
                             f"there are {len(pool)} (--limit too small?)")
        chosen.append(np.sort(generator.np.choice(pool, shots, replace=False)))
    return np.concatenate(chosen)


def _test_split(config):
    x, y = load_split(config, False)
    if config.test_limit:
        x, y = x[:config.test_limit], y[:config.test_limit]
    return x, y


# ---- the network and its parts ----------------------------------------------------------------------
def resnet(config, outputs=len(PRETRAIN_DIGITS)):
    w = config.width
    return CifarResNet(config.blocks, num_classes=outputs, in_channels=1, widths=(w, 2 * w, 4 * w))


class Frozen(nn.Module):
    """A pretrained part used as it is: its parameters take no gradient, and it stays in eval mode (batch norm
    on its pretrained running statistics) whatever mode the network around it is put in."""

    def __init__(self, module):
        super().__init__()
        self.module = module.requires_grad_(False).eval()

    def train(self, mode=True):
        self.training = mode
        self.module.eval()
        return self

    def forward(self, x):
        return self.module(x)


def with_fresh_head(pretrained):
    """A copy of the pretrained network whose fc is a new, randomly initialised layer with 5 outputs."""
    net = copy.deepcopy(pretrained)
    net.fc = nn.Linear(net.fc.in_features, len(NEW_DIGITS))
    return net


def pooled_features(pretrained):
    """The pretrained network without its classifier: images -> (N, 4 * width) pooled features."""
    net = copy.deepcopy(pretrained)
    net.fc = nn.Identity()
    return Frozen(net)


# ---- the four ways to a classifier of 5-9 -----------------------------------------------------------
def linear_probe(pretrained, x, y, config):
    """Frozen features, and a linear layer fitted to them by full-batch L-BFGS (strong Wolfe) to convergence."""
    features = pooled_features(pretrained)
    with evaluating(features):
        f = features(x)  # (50, 4 * width), computed once
    probe = nn.Linear(f.shape[1], len(NEW_DIGITS))
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    solver = optim.LBFGS(probe.parameters(), max_iter=1000, tolerance_grad=1e-6, tolerance_change=1e-12,
                         line_search_fn="strong_wolfe")

    def objective():
        solver.zero_grad()
        loss = F.cross_entropy(probe(f), y) + config.probe_l2 / 2 * (probe.weight ** 2).sum()
        loss.backward()
        return loss

    solver.step(objective)
    return nn.Sequential(features, probe)


def head_only(pretrained, x, y, config):
    """The last stage and a fresh fc fine-tuned at the fine-tuning rate; everything before them frozen."""
    net = with_fresh_head(pretrained)
    for name in BELOW_THE_HEAD:
        setattr(net, name, Frozen(getattr(net, name)))
    fine_tune(net, [p for p in net.parameters() if p.requires_grad], config.finetune_lr, x, y, config)
    return net


def whole_network(head_tuned, x, y, config):
    """The head-only model with everything unfrozen, every layer fine-tuned further at a smaller rate."""
    net = copy.deepcopy(head_tuned)
    for name in BELOW_THE_HEAD:
        setattr(net, name, getattr(net, name).module.requires_grad_(True))
    fine_tune(net, list(net.parameters()), config.finetune_lr * config.whole_lr_scale, x, y, config)
    return net


def from_scratch(x, y, config):
    """The same network with fresh random weights, every layer at the fine-tuning rate."""
    net = resnet(config, len(NEW_DIGITS))
    fine_tune(net, list(net.parameters()), config.finetune_lr, x, y, config)
    return net


def fine_tune(net, params, lr, x, y, config):
    """config.finetune_steps AdamW steps on all the labelled images (x, y), augmented afresh at every step,
    the learning rate decaying from lr to 0 along a cosine."""
    optimizer = optim.AdamW(params, lr=lr, weight_decay=config.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, config.finetune_steps)
    augment = augmenter(config)
    net.train()
    for _ in range(config.finetune_steps):
        loss, _ = classification_loss(net, (x, y), augment)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    net.eval()


def classifiers(pretrained, x, y, config, seed):
    """{method: a classifier of 5-9 built from the labelled images (x, y)}, for each of METHODS. Each method
    starts from glassnet's generator seeded with `seed` (its fresh layers' weights, its augmentation); the
    whole-network stage continues the head-only model."""
    manual_seed(seed)
    probe = linear_probe(pretrained, x, y, config)
    manual_seed(seed)
    head = head_only(pretrained, x, y, config)
    whole = whole_network(head, x, y, config)
    manual_seed(seed)
    scratch = from_scratch(x, y, config)
    return dict(zip(METHODS, (probe, head, whole, scratch)))


class _Transfer:
    """The report: every method on every seed's labelled images, tested on the test images of 5-9."""

    def __init__(self, config, train_images, train_labels, test_images, test_labels):
        self.config = config
        self.train_images, self.train_labels = train_images, train_labels.array
        self.test = DataLoader(TensorDataset(*digits(test_images, test_labels, NEW_DIGITS)), batch_size=1000)

    def labelled(self, seed):
        """The seed's labelled images of 5-9 (shots of each, from the training split) and their labels 0-4."""
        index = few_shot_indices(self.train_labels, NEW_DIGITS, self.config.shots, Generator(seed))
        x = Tensor._make(self.train_images.array[index])
        return x, Tensor._make(self.train_labels[index] - NEW_DIGITS[0])

    def accuracies(self, pretrained):
        """{method: [test accuracy on 5-9 for each seed]}."""
        runs = {method: [] for method in METHODS}
        for i in range(self.config.seeds):
            seed = self.config.seed + 1000 * (i + 1)
            for method, model in classifiers(pretrained, *self.labelled(seed), self.config, seed).items():
                runs[method].append(classify(model, self.test, desc=method).accuracy)
        return runs

    def report(self, model, run_dir):
        runs = self.accuracies(model)
        out = {"transfer_test_images": len(self.test.dataset)}
        for method, values in runs.items():
            out[f"{method}_accuracy"] = float(np.mean(values))
            out[f"{method}_accuracy_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out["accuracy_per_seed"] = runs
        if self.config.pictures:
            from ..viz.comparison import plot_runs_per_method

            path = os.path.join(run_dir, "plots", "transfer.png")
            c = self.config
            plot_runs_per_method(runs, path, title=f"digits 5-9 from {c.shots} labelled images each "
                                                   f"({c.seeds} seeds), tested on {len(self.test.dataset)} images",
                                 ylabel="test accuracy on 5-9")
            out["plots"] = [path]
        return out


def build(config):
    train_images, train_labels = load_split(config, True)
    test_images, test_labels = _test_split(config)
    pretrain = DataLoader(TensorDataset(*digits(train_images, train_labels, PRETRAIN_DIGITS)),
                          batch_size=config.batch_size, shuffle=True, generator=Generator(config.seed + 1))
    pretrain_test = DataLoader(TensorDataset(*digits(test_images, test_labels, PRETRAIN_DIGITS)), batch_size=1000)
    transfer = _Transfer(config, train_images, train_labels, test_images, test_labels)
    model = resnet(config)
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(pretrain) // config.grad_accum)
    steps = config.epochs * steps_per_epoch

    def evaluate(net):
        result = classify(net, pretrain_test)
        return {"test_loss": result.loss, "test_accuracy": result.accuracy}

    return Experiment(model, optimizer, EpochBatches(pretrain), steps=steps,
                      loss=partial(classification_loss, augment=augmenter(config)), evaluate=evaluate,
                      eval_every=steps_per_epoch,
                      scheduler=optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps),
                      monitor="test_accuracy", mode="max", grad_accum=config.grad_accum,
                      clip_grad_norm=config.clip_grad_norm, log_every=50, report=transfer.report, unit="img")


register(Recipe("transfer-mnist", "ResNet-8 pretrained on digits 0-4, transferred to 5-9 from 10 labelled images "
                "a digit: linear probe, head only, whole network, from scratch", TransferConfig, build))
