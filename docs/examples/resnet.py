"""Why skip connections let gradients through: plain and residual networks of the same layers, compared by the
gradient each layer receives at initialisation and by how fast they train.

Run: python docs/examples/resnet.py   (writes docs/images/resnet_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import optim
from glassnet.models import CifarResNet
from glassnet.recipes.resnet_degradation import init_gradient_norms
from glassnet.viz.dense import plot_layer_norms, plot_loss_curves

from _common import IMAGES, mnist_sample, run  # docs/examples/_common.py


def networks(depths, width):
    """plain-d and resnet-d for each depth, each pair from the same seed: the same weights, only the `+ x` differs."""
    nets = {}
    for depth in depths:
        for kind in ("plain", "resnet"):
            gn.manual_seed(depth)
            nets[f"{kind}-{depth}"] = CifarResNet((depth - 2) // 6, 10, 1, widths=(width, 2 * width, 4 * width),
                                                  residual=kind == "resnet")
    return nets


def block_input_gradients(net, x, y):
    """The norm of dLoss/d(input of each residual block), input side first: what reaches each depth.
    A forward pre-hook on each block keeps its input (and asks autograd to keep that tensor's .grad)."""
    inputs = []

    def keep(module, args):
        args[0].retain_grad()
        inputs.append(args[0])

    blocks = [b for layer in (net.layer1, net.layer2, net.layer3) for b in layer]
    handles = [block.register_forward_pre_hook(keep) for block in blocks]
    F.cross_entropy(net(x), y).backward()
    for handle in handles:
        handle.remove()
    net.zero_grad()
    return [float(np.linalg.norm(t.grad.array)) for t in inputs]


def train(nets, x, y, steps, batch=64, lr=0.05):
    """SGD with momentum on the same batches for every network; returns {name: (steps, losses)}."""
    curves = {}
    for name, net in nets.items():
        opt = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        rng, losses = np.random.default_rng(0), []
        for _ in range(steps):
            idx = rng.integers(0, len(y), batch)
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
        curves[name] = (np.arange(10, steps + 1), smooth)
        print(f"{name}: loss {np.mean(losses[:10]):.3f} -> {np.mean(losses[-10:]):.3f}")
    return curves


def main(out_dir=IMAGES, small=False):
    """Gradient norms at initialisation (plain vs residual, shallow vs deep), then a short training of each."""
    depths, width, steps = ((8, 20), 4, 12) if small else ((20, 56), 8, 300)
    x, y = mnist_sample(train=True, limit=512 if small else None)
    x = F.avg_pool2d(x, 2)  # 14x14: the same lesson at a quarter of the cost
    nets = networks(depths, width)
    norms = init_gradient_norms(nets, x[:256], y[:256])
    plot_layer_norms(norms, os.path.join(out_dir, "resnet_gradient_norms.png"))
    deep = max(depths)
    flow = {name: block_input_gradients(nets[name], x[:256], y[:256]) for name in (f"plain-{deep}", f"resnet-{deep}")}
    plot_layer_norms(flow, os.path.join(out_dir, "resnet_block_gradients.png"),
                     title="gradient reaching each block's input, at initialisation",
                     ylabel="||dLoss / d(block input)||", xlabel="residual block (1 = next to the input)")
    curves = train(nets, x, y, steps)
    plot_loss_curves(curves, os.path.join(out_dir, "resnet_training.png"),
                     title="training loss on 14x14 MNIST digits (mean of 10 steps)")
    ratio = {name: v[0] / v[-1] for name, v in norms.items()}  # first layer's gradient over the last layer's
    return dict(first_over_last=ratio, final_loss={k: float(v[1][-1]) for k, v in curves.items()},
                block_gradients=flow, layers={k: len(v) for k, v in norms.items()})


if __name__ == "__main__":
    run(main)
