"""ResNets: torchvision's resnet18/34/50 (state-dict keys and shapes, outputs and every gradient against
the same network built from torch.nn pieces with torchvision's module names), the CIFAR resnet20/32/56
of He et al. 2015 and their plain (shortcut-free) twins."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.nn import functional as TF

import glassnet as gn
from glassnet.models import resnet
from helpers_nn import compare_module, copy_torch_to_gn


# ---- the oracle: torchvision's ResNet written with torch.nn, module for module ----------------------
class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, residual=True):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample, self.residual = downsample, residual

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            setattr(self, f"layer{i + 1}", self._make_layer(block, planes, blocks, 1 if i == 0 else 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, out, 1, stride, bias=False), tnn.BatchNorm2d(out))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        return tnn.Sequential(*layers, *[block(out, planes) for _ in range(1, blocks)])

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchPadShortcut(tnn.Module):
    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        return TF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, self.extra))


class TorchCifarResNet(tnn.Module):
    def __init__(self, n, in_channels, num_classes, residual):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU()
        blocks, c = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            shortcut = TorchPadShortcut(width - c) if residual and stride == 2 else None
            first = TorchBasicBlock(c, width, stride, shortcut, residual)
            blocks.append(tnn.Sequential(first, *[TorchBasicBlock(width, width, residual=residual)
                                                  for _ in range(n - 1)]))
            c = width
        self.layer1, self.layer2, self.layer3 = blocks
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---- torchvision's published resnet18 state dict: every key, in order, with its shape -------------------
def _bn(prefix, c):
    return [(f"{prefix}.weight", (c,)), (f"{prefix}.bias", (c,)), (f"{prefix}.running_mean", (c,)),
            (f"{prefix}.running_var", (c,)), (f"{prefix}.num_batches_tracked", ())]


def _resnet18_keys():
    keys = [("conv1.weight", (64, 3, 7, 7))] + _bn("bn1", 64)
    inplanes = 64
    for layer, planes in zip((1, 2, 3, 4), (64, 128, 256, 512)):
        for b in (0, 1):
            p, cin = f"layer{layer}.{b}", inplanes if b == 0 else planes
            keys += [(f"{p}.conv1.weight", (planes, cin, 3, 3))] + _bn(f"{p}.bn1", planes)
            keys += [(f"{p}.conv2.weight", (planes, planes, 3, 3))] + _bn(f"{p}.bn2", planes)
            if b == 0 and layer > 1:
                keys += [(f"{p}.downsample.0.weight", (planes, inplanes, 1, 1))] + _bn(f"{p}.downsample.1", planes)
        inplanes = planes
    return keys + [("fc.weight", (1000, 512)), ("fc.bias", (1000,))]


RESNET18_KEYS = _resnet18_keys()


def test_resnet18_state_dict_is_torchvisions():
    assert len(RESNET18_KEYS) == 122  # 62 parameters + 60 batch-norm buffers, as torchvision's resnet18
    state = resnet.resnet18().state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == RESNET18_KEYS
    assert sum(p.numel() for p in resnet.resnet18().parameters()) == 11_689_512


@pytest.mark.parametrize("build, n_keys, n_params, numel, some_keys", [
    (resnet.resnet34, 218, 110, 21_797_672, {"layer3.5.conv2.weight": (256, 256, 3, 3),
                                             "layer4.0.downsample.0.weight": (512, 256, 1, 1)}),
    (resnet.resnet50, 320, 161, 25_557_032, {"layer1.0.downsample.0.weight": (256, 64, 1, 1),
                                             "layer2.0.conv2.weight": (128, 128, 3, 3),
                                             "layer4.2.conv3.weight": (2048, 512, 1, 1),
                                             "layer4.2.bn3.running_var": (2048,), "fc.weight": (1000, 2048)}),
])
def test_resnet34_50_key_counts_and_shapes(build, n_keys, n_params, numel, some_keys):
    model = build()
    state = model.state_dict()
    assert len(state) == n_keys and len(list(model.parameters())) == n_params
    assert sum(p.numel() for p in model.parameters()) == numel
    for key, shape in some_keys.items():
        assert tuple(state[key].shape) == shape, key


@pytest.mark.parametrize("train", [True, False])
def test_resnet18_matches_torch_outputs_and_every_gradient(train):
    torch.manual_seed(0)
    gn_model, torch_model = resnet.resnet18(num_classes=7), TorchResNet(TorchBasicBlock, [2, 2, 2, 2], 7)
    gn_model.train(train), torch_model.train(train)
    compare_module(gn_model, torch_model, [(2, 3, 40, 40)], dtype=np.float64, rtol=1e-9, atol=1e-10,
                   grad_rtol=1e-8, grad_atol=1e-9)


def test_resnet50_matches_torch_outputs_and_every_gradient():
    torch.manual_seed(0)
    gn_model, torch_model = resnet.resnet50(num_classes=5), TorchResNet(TorchBottleneck, [3, 4, 6, 3], 5)
    compare_module(gn_model, torch_model, [(2, 3, 48, 48)], dtype=np.float64, rtol=1e-9, atol=1e-10,
                   grad_rtol=1e-8, grad_atol=1e-9)


def test_resnet18_float32_agrees_with_torch():
    torch.manual_seed(1)
    gn_model, torch_model = resnet.resnet18(num_classes=10), TorchResNet(TorchBasicBlock, [2, 2, 2, 2], 10)
    gn_model.eval(), torch_model.eval()
    compare_module(gn_model, torch_model, [(2, 3, 48, 48)], rtol=1e-4, atol=1e-5, grad_rtol=1e-3, grad_atol=1e-4)


@pytest.mark.parametrize("residual", [True, False])
def test_cifar_resnet20_and_plain20_match_torch(residual):
    torch.manual_seed(2)
    build = resnet.resnet20 if residual else resnet.plain20
    gn_model, torch_model = build(in_channels=1), TorchCifarResNet(3, 1, 10, residual)
    compare_module(gn_model, torch_model, [(3, 1, 12, 12)], dtype=np.float64, rtol=1e-9, atol=1e-10,
                   grad_rtol=1e-8, grad_atol=1e-9)


def test_cifar_sizes_are_the_papers_and_plain_nets_have_the_same_parameters():
    for depth, millions in ((20, 0.27), (32, 0.46), (56, 0.85)):
        res, plain = getattr(resnet, f"resnet{depth}")(), getattr(resnet, f"plain{depth}")()
        n_res = sum(p.numel() for p in res.parameters())
        assert round(n_res / 1e6, 2) == millions  # table 6 of He et al. 2015
        assert [(k, v.shape) for k, v in res.state_dict().items()] == \
               [(k, v.shape) for k, v in plain.state_dict().items()]
        n_convs = sum(isinstance(m, gn.nn.Conv2d) for m in res.modules())
        assert n_convs + 1 == depth  # 6n + 1 convolutions and the linear layer


def test_plain_network_has_no_shortcut():
    """Zero every block's last batch norm: a ResNet's blocks become the identity, a plain net's block
    outputs become constant (relu of zero), so its logits no longer depend on the input."""
    x = gn.randn(4, 1, 16, 16)
    outs = {}
    for build in (resnet.resnet20, resnet.plain20):
        gn.manual_seed(0)
        model = build(in_channels=1, zero_init_residual=True).eval()
        outs[build.__name__] = model(x).array
    assert np.ptp(outs["plain20"], axis=0).max() == 0
    assert np.ptp(outs["resnet20"], axis=0).max() > 1e-3


def test_zero_init_residual_makes_every_block_the_identity():
    gn.manual_seed(0)
    model = resnet.resnet18(num_classes=3, zero_init_residual=True).eval()
    assert all(float(abs(b.bn2.weight.array).max()) == 0 for b in model.layer2)
    x = gn.relu(gn.randn(2, 64, 8, 8))
    np.testing.assert_array_equal(model.layer1(x).array, x.array)
    assert float(abs(resnet.resnet50(zero_init_residual=True).layer3[1].bn3.weight.array).max()) == 0


def test_init_is_torchvisions():
    gn.manual_seed(0)
    model = resnet.resnet18()
    w = model.layer3[0].conv2.weight.array  # fan_out = 256 * 9: std sqrt(2 / fan_out)
    assert abs(w.std() - np.sqrt(2 / (256 * 9))) < 0.02 * np.sqrt(2 / (256 * 9))
    assert np.all(model.layer3[0].bn2.weight.array == 1) and np.all(model.layer3[0].bn2.bias.array == 0)


def test_torchvision_checkpoint_loads_unchanged():
    torch.manual_seed(3)
    torch_model = TorchResNet(TorchBottleneck, [3, 4, 6, 3], 1000).eval()
    gn_model = copy_torch_to_gn(torch_model, resnet.resnet50()).eval()  # strict load by torchvision's keys
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gn_model(gn.tensor(x)).array, expected, rtol=1e-4, atol=1e-4)


def test_every_parameter_gets_a_gradient():
    gn.manual_seed(0)
    model = resnet.resnet56(in_channels=1)
    loss = gn.nn.functional.cross_entropy(model(gn.randn(4, 1, 12, 12)), gn.tensor(np.array([0, 1, 2, 3])))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        resnet._cifar(21, True)
    with pytest.raises(ValueError, match="ResNet: layers"):
        resnet.ResNet(resnet.BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match="BasicBlock: only groups=1"):
        resnet.BasicBlock(64, 64, groups=2)
    with pytest.raises(ValueError, match="CifarResNet: .*widths"):
        resnet.CifarResNet(3, widths=(16, 32))
