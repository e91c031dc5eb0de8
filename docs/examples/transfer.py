"""Transfer learning: what carries over from the digits 0-4 to 5-9, and why the whole network is fine-tuned at a
smaller learning rate. A ResNet-8 pretrained on the digits 0-4 of the MNIST sample shipped with glassnet, then
the methods of the recipe transfer-mnist (glassnet.recipes.transfer_mnist) on ten labelled images of each of 5-9.

Run: python docs/examples/transfer.py   (writes docs/images/transfer_*.png; a few minutes on one core)
"""
import copy
import dataclasses
import os
import tempfile

import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.random import Generator
from glassnet.recipes.transfer_mnist import (NEW_DIGITS, TransferConfig, build, digits, few_shot_indices,
                                             from_scratch, head_only, linear_probe, resnet, whole_network)
from glassnet.train import train
from glassnet.train.evaluation import classify
from glassnet.utils.data import DataLoader, TensorDataset
from glassnet.viz.comparison import plot_runs_per_method

from _common import IMAGES, mnist_sample, run  # docs/examples/_common.py


def pretrain(config):
    """The recipe's pretraining on the digits 0-4 (its Experiment, run by the one training loop)."""
    exp = build(config)
    with tempfile.TemporaryDirectory() as folder:
        result = train(exp, folder, config={"recipe": "transfer-mnist"}, desc="pretrain on 0-4")
    print(f"pretrained: {100 * result.metrics['test_accuracy']:.1f}% on the test digits 0-4")
    return exp.model.eval(), result.metrics["test_accuracy"]


def labelled_sets(seeds, shots):
    """[(seed, images, labels 0-4)]: `shots` training images of each of 5-9 for each seed."""
    x, y = mnist_sample(train=True)
    sets = []
    for seed in seeds:
        index = few_shot_indices(y.array, NEW_DIGITS, shots, Generator(seed))
        sets.append((seed, gn.tensor(x.array[index]), gn.tensor(y.array[index] - NEW_DIGITS[0])))
    return sets


def up_to(net, stage):
    """The network up to its stage `stage` (1, 2 or 3), then pooled: the later stages become identities."""
    net = copy.deepcopy(net)
    for later in range(stage + 1, 4):
        setattr(net, f"layer{later}", nn.Identity())
    return net


def probe_by_depth(pretrained, untrained, labelled, test, config):
    """Linear-probe accuracy on 5-9 of the pooled features after each stage, pretrained and untrained weights."""
    results = {}
    for stage in (1, 2, 3):
        for name, net in (("untrained", untrained), ("pretrained", pretrained)):
            results[f"layer{stage}\n{name}"] = [
                classify(linear_probe(up_to(net, stage), x, y, config), test, desc="probe").accuracy
                for _, x, y in labelled]
    return results


def moved(net, pretrained):
    """How far the convolutions moved from the pretrained weights: |W - W0| / |W0| over all of them."""
    now, before = net.state_dict(), pretrained.state_dict()
    keys = [k for k in before if k.endswith("weight") and before[k].ndim == 4]
    change = sum(float(((now[k].array - before[k].array) ** 2).sum()) for k in keys)
    return float(np.sqrt(change / sum(float((before[k].array ** 2).sum()) for k in keys)))


def lr_sweep(pretrained, labelled, test, config, scales):
    """The whole-network stage at each learning-rate scale, after the same head-only stage: test accuracy and
    how far the convolutions moved; with the head-only and from-scratch accuracies beside them."""
    out = {"accuracy": {s: [] for s in scales}, "moved": {s: [] for s in scales}, "head_only": [],
           "from_scratch": []}
    for seed, x, y in labelled:
        gn.manual_seed(seed)
        head = head_only(pretrained, x, y, config)
        out["head_only"].append(classify(head, test, desc="head only").accuracy)
        for scale in scales:
            gn.manual_seed(seed)
            whole = whole_network(head, x, y, dataclasses.replace(config, whole_lr_scale=scale))
            out["accuracy"][scale].append(classify(whole, test, desc=f"whole x{scale}").accuracy)
            out["moved"][scale].append(moved(whole, pretrained))
        gn.manual_seed(seed)
        out["from_scratch"].append(classify(from_scratch(x, y, config), test, desc="from scratch").accuracy)
    return out


def plot_sweep(sweep, config, path):
    from glassnet.viz._figure import finish, new_figure

    scales = list(sweep["accuracy"])
    lrs = [config.finetune_lr * s for s in scales]
    fig = new_figure((10, 3.8))
    acc, far = fig.subplots(1, 2)
    for lr, s in zip(lrs, scales):
        acc.plot([lr] * len(sweep["accuracy"][s]), 100 * np.array(sweep["accuracy"][s]), "o", color="C2", alpha=0.5)
        far.plot([lr] * len(sweep["moved"][s]), sweep["moved"][s], "o", color="C2", alpha=0.5)
    acc.plot(lrs, [100 * np.mean(sweep["accuracy"][s]) for s in scales], "-", color="C2", label="whole network")
    for key, colour in (("head_only", "C1"), ("from_scratch", "C3")):
        acc.axhline(100 * np.mean(sweep[key]), ls="--", color=colour, label=key.replace("_", " "))
    far.plot(lrs, [np.mean(sweep["moved"][s]) for s in scales], "-", color="C2")
    acc.set(xscale="log", xlabel="learning rate of the whole-network stage", ylabel="test accuracy on 5-9 (%)",
            title="accuracy after the whole-network stage")
    far.set(xscale="log", xlabel="learning rate of the whole-network stage", ylabel="|W - W0| / |W0|",
            title="how far the convolutions moved from pretraining")
    acc.legend()
    for ax in (acc, far):
        ax.grid(alpha=0.3)
    return finish(fig, path)


def main(out_dir=IMAGES, small=False):
    """Pretrain on 0-4; probe each depth's features on 5-9; fine-tune the whole network at several learning rates."""
    config = TransferConfig(sample=True, width=4 if small else 16, epochs=1 if small else 3, batch_size=64,
                            lr=1e-2, finetune_steps=5 if small else 100)
    seeds, scales = ((1000,), (0.1, 1.0)) if small else ((1000, 2000, 3000), (0.01, 0.1, 1.0))
    gn.manual_seed(config.seed)
    untrained = resnet(config).eval()
    pretrained, pretrain_accuracy = pretrain(config)
    test_x, test_y = mnist_sample(train=False)
    test = DataLoader(TensorDataset(*digits(test_x, test_y, NEW_DIGITS)), batch_size=500)
    labelled = labelled_sets(seeds, config.shots)
    by_depth = probe_by_depth(pretrained, untrained, labelled, test, config)
    plot_runs_per_method(by_depth, os.path.join(out_dir, "transfer_probe_depth.png"),
                         title="linear probe on 5-9 of each stage's pooled features", ylabel="test accuracy on 5-9",
                         colors=["0.55", "C0"] * 3)
    sweep = lr_sweep(pretrained, labelled, test, config, scales)
    plot_sweep(sweep, config, os.path.join(out_dir, "transfer_learning_rate.png"))
    for key, values in {**by_depth, **{f"whole x{s}": v for s, v in sweep["accuracy"].items()},
                        "head only": sweep["head_only"], "from scratch": sweep["from_scratch"]}.items():
        print(f"{key.replace(chr(10), ' '):24s} {100 * np.mean(values):5.1f}%")
    return dict(pretrain_accuracy=pretrain_accuracy, probe_by_depth=by_depth, sweep=sweep)


if __name__ == "__main__":
    run(main)
