"""resnet-degradation: the experiment of the first figure of He et al. (2015), on MNIST.

Four networks train side by side on the same batches with the same optimizer settings and budget:
plain-20, plain-56 (He et al.'s CIFAR networks without shortcuts: 3x3 convolutions, batch norm after
each, ReLU) and resnet-20, resnet-56 (the same layers with identity shortcuts; exactly the same
parameters, see glassnet.models.resnet). The result the paper reports: the deeper plain network trains
*worse* than the shallower one (higher training loss, so not overfitting: "degradation"), while the
deeper ResNet trains at least as well as the shallower one.

To fit a CPU, the digits are average-pooled to 14x14 by default (--image-size 28 keeps them whole) and
every network sees the same 1,200 batches of 64. The learning rate is the paper's 0.1 for batches of 128,
halved for batches of 64, reached after a 200-step linear warmup: at 0.1 (twice the paper's rate per
example) resnet-56 blows up when the rate reaches its peak (its loss jumps back above 2) and never makes
up the lost steps, so it ends behind resnet-20 because of a too-large step, not because its shortcuts
fail. --zero-init-residual starts every residual block as the identity (Goyal et al. 2017), which
makes the deep ResNet start as a shallow one.

The loss the loop reports is the sum of the four networks' losses; each network's gradient is its own
(the sum couples nothing), so this is four separate trainings on identical batches. The run writes
    plots/training_loss.png       the four training-loss curves
    plots/gradient_norms.png      the gradient norm of each layer's weights at initialisation, per network
and summary.json gives each network's final training loss (mean over the last tenth of the steps),
its test accuracy and its initial gradient norms at the first and last layer.
"""
import copy
import os
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..models import CifarResNet
from ..nn import functional as F
from ..random import Generator, manual_seed
from ..tensor import Tensor
from ..train import EpochBatches, Experiment, WarmupCosineLR
from ..train.log import read_metrics
from ..utils.data import DataLoader, TensorDataset
from . import Recipe, register
from .config import StepsConfig, data_dir_flag, flag, positive
from .mnist import load_split
from .resnet_mnist import depth_6n_plus_2


def fourteen_or_28(value):
    return None if value in (14, 28) else "must be 14 or 28"


@dataclass
class DegradationConfig(StepsConfig):
    iters: int = flag(1200, "optimizer steps; every network takes the same batches", positive)
    batch_size: int = flag(64, "images per step", positive)
    lr: float = flag(0.05, "SGD learning rate (momentum 0.9): the paper's 0.1 for batches of 128, halved for 64",
                     positive)
    min_lr: float = flag(0.001, "learning rate at the end of the cosine decay")
    warmup: int = flag(200, "linear warmup steps (a gentle start, which the 56-layer networks need)")
    weight_decay: float = flag(1e-4, "SGD weight decay")
    clip_grad_norm: float = flag(0.0, "clip the gradient norm to this value (0: off; it would couple the networks)")
    eval_every: int = flag(600, "steps between evaluations on the test set", positive)
    shallow: int = flag(20, "depth of the shallow pair (6n + 2)", depth_6n_plus_2)
    deep: int = flag(56, "depth of the deep pair (6n + 2)", depth_6n_plus_2)
    width: int = flag(16, "channels of the first stage (the next two have 2x and 4x)", positive)
    zero_init_residual: bool = flag(False, "start each residual block as the identity (its last batch-norm "
                                           "weight 0); the plain networks keep theirs, they would pass nothing")
    image_size: int = flag(14, "digits average-pooled to 14x14, or left at 28x28", fourteen_or_28)
    data_dir: str = data_dir_flag("the MNIST files")
    sample: bool = flag(False, "use the small MNIST sample shipped with glassnet (offline)")
    limit: int = flag(0, "train on only the first N training images (0: all)")
    test_limit: int = flag(0, "evaluate on only the first N test images (0: all)")
    pictures: bool = flag(True, "draw the training-loss curves and the gradient norms at the end")


def _networks(config):
    """{name: network}: plain-shallow, resnet-shallow, plain-deep, resnet-deep. Both networks of a depth
    are drawn from the same seed, so plain-d and resnet-d start from exactly the same weights (but for
    the last batch-norm weight of each block with zero_init_residual)."""
    w, nets = config.width, {}
    for depth in (config.shallow, config.deep):
        for kind in ("plain", "resnet"):
            manual_seed(config.seed + depth)
            nets[f"{kind}{depth}"] = CifarResNet((depth - 2) // 6, 10, 1, widths=(w, 2 * w, 4 * w),
                                                 residual=kind == "resnet",
                                                 zero_init_residual=config.zero_init_residual and kind == "resnet")
    manual_seed(config.seed)
    return nets


def _split(config, train):
    """MNIST images (N, 1, s, s), normalised, at the configured size, and their labels."""
    x, y = load_split(config, train)
    if not train and config.test_limit:
        x, y = x[:config.test_limit], y[:config.test_limit]
    if config.image_size == 14:
        x = F.avg_pool2d(x, 2)
    return TensorDataset(Tensor._make(np.ascontiguousarray(x.array)), y)


def side_by_side_loss(model, batch):
    """The sum of the networks' cross-entropies on the same batch, and each one's loss as a figure."""
    x, y = batch
    losses = {name: F.cross_entropy(net(x), y) for name, net in model.items()}
    return sum(losses.values()), {f"loss_{name}": loss.item() for name, loss in losses.items()}


def init_gradient_norms(nets, x, y):
    """{name: [L2 norm of the weight gradient of each conv / linear layer, input side first]} of a
    copy of each network at its initial weights, for one batch (batch norm in training mode)."""
    norms = {}
    for name, net in nets.items():
        probe = copy.deepcopy(net)
        F.cross_entropy(probe(x), y).backward()
        norms[name] = [float(np.linalg.norm(m.weight.grad.array)) for m in probe.modules()
                       if isinstance(m, (nn.Conv2d, nn.Linear))]
    return norms


class _Comparison:
    """Test accuracy of each network during training; the pictures and numbers at the end."""

    def __init__(self, config, test_set, init_norms):
        self.config, self.init_norms = config, init_norms
        self.loader = DataLoader(test_set, batch_size=500)

    def evaluate(self, model):
        correct, total = dict.fromkeys(model.keys(), 0), 0
        for x, y in self.loader:
            for name, net in model.items():
                correct[name] += int((net(x).array.argmax(1) == y.array).sum())
            total += len(y)
        return {f"test_accuracy_{name}": c / total for name, c in correct.items()}

    def report(self, model, run_dir):
        records = [r for r in read_metrics(os.path.join(run_dir, "metrics.jsonl")) if r["split"] == "train"]
        curves = {name: ([r["step"] for r in records], [r[f"loss_{name}"] for r in records]) for name in model.keys()}
        tail = max(1, len(records) // 10)
        out = {"final_train_loss": {name: float(np.mean(v[-tail:])) for name, (_, v) in curves.items()},
               "init_grad_norm_first_last": {name: [v[0], v[-1]] for name, v in self.init_norms.items()}}
        if self.config.pictures:
            from ..viz.dense import plot_layer_norms, plot_loss_curves

            paths = [os.path.join(run_dir, "plots", name) for name in ("training_loss.png", "gradient_norms.png")]
            plot_loss_curves(curves, paths[0], title=f"MNIST {self.config.image_size}x{self.config.image_size}: "
                                                     "plain vs residual networks")
            plot_layer_norms(self.init_norms, paths[1])
            out["plots"] = paths
        return out


def build(config):
    nets = _networks(config)
    model = nn.ModuleDict(nets)
    train_set = _split(config, True)
    probe_x, probe_y = train_set.tensors[0][:256], train_set.tensors[1][:256]
    comparison = _Comparison(config, _split(config, False), init_gradient_norms(nets, probe_x, probe_y))
    loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, drop_last=True,
                        generator=Generator(config.seed + 1))
    optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    scheduler = WarmupCosineLR(optimizer, total=config.iters, warmup=config.warmup, min_lr=config.min_lr)
    return Experiment(model, optimizer, EpochBatches(loader), steps=config.iters, loss=side_by_side_loss,
                      evaluate=comparison.evaluate, eval_every=config.eval_every, scheduler=scheduler,
                      log_every=10, report=comparison.report, unit="img")


register(Recipe("resnet-degradation", "plain-20/56 vs resnet-20/56 on MNIST: the deeper plain net trains worse, "
                "the deeper ResNet does not (He et al. 2015, figure 1)", DegradationConfig, build))
