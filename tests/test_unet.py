"""U-Net: the same network built from torch.nn pieces gives the same logits and every gradient."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
from glassnet.models import UNet
from helpers_nn import compare_module


def torch_double_conv(c_in, c):
    return tnn.Sequential(tnn.Conv2d(c_in, c, 3, padding=1, bias=False), tnn.BatchNorm2d(c), tnn.ReLU(),
                          tnn.Conv2d(c, c, 3, padding=1, bias=False), tnn.BatchNorm2d(c), tnn.ReLU())


class TorchUNet(tnn.Module):
    def __init__(self, in_channels, num_classes, channels):
        super().__init__()
        *levels, deepest = channels
        self.encoder = tnn.ModuleList([torch_double_conv(a, b) for a, b in zip([in_channels] + levels, levels)])
        self.pool = tnn.MaxPool2d(2)
        self.bottleneck = torch_double_conv(levels[-1], deepest)
        self.up = tnn.ModuleList([tnn.ConvTranspose2d(a, b, 2, 2) for a, b in zip(channels[::-1], levels[::-1])])
        self.decoder = tnn.ModuleList([torch_double_conv(2 * c, c) for c in levels[::-1]])
        self.head = tnn.Conv2d(levels[0], num_classes, 1)

    def forward(self, x):
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.up, self.decoder, reversed(skips)):
            x = block(torch.cat([skip, up(x)], 1))
        return self.head(x)


@pytest.mark.parametrize("train", [True, False])
def test_unet_matches_torch(train):
    torch.manual_seed(0)
    channels = [4, 6, 8, 10]
    gn_model, torch_model = UNet(2, 5, channels), TorchUNet(2, 5, channels)
    gn_model.train(train), torch_model.train(train)
    outs, _ = compare_module(gn_model, torch_model, [(2, 2, 16, 24)], dtype=np.float64, rtol=1e-9, atol=1e-10,
                             grad_rtol=1e-8, grad_atol=1e-9)
    assert outs[0].shape == (2, 5, 16, 24)


def test_unet_keys_and_every_parameter_learns():
    gn.manual_seed(0)
    model = UNet(1, 11, (8, 16, 32))
    keys = list(model.state_dict())
    assert keys[0] == "encoder.0.0.weight" and "up.1.weight" in keys and keys[-1] == "head.bias"
    assert model.up[0].weight.shape == (32, 16, 2, 2) and model.decoder[1][0].weight.shape == (8, 16, 3, 3)
    loss = gn.nn.functional.cross_entropy(model(gn.randn(2, 1, 8, 8)), gn.randint(0, 11, (2, 8, 8)))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name


def test_unet_names_bad_input():
    model = UNet(1, 3, (4, 8, 16))
    with pytest.raises(ValueError, match=r"UNet: expected images \(N, 1, H, W\) with H and W multiples of 4"):
        model(gn.randn(1, 1, 10, 8))
    with pytest.raises(ValueError, match="UNet: channels needs at least 2 levels"):
        UNet(1, 3, (4,))
