"""Residual networks (He et al. 2015, "Deep Residual Learning for Image Recognition").

A residual block learns a correction F(x) to its input and adds the input back:

    out = relu(F(x) + shortcut(x))

so the gradient reaching x is the gradient through F *plus* the gradient that arrives at out,
unchanged, through the `+`. However deep the stack, there is a path from the loss to every layer
that multiplies by nothing but the ReLUs' 0/1 masks; a plain network (the same layers without the
`+ shortcut(x)`) has only the path through every layer's weights and normalisations.

Two families:

- ImageNet ResNets as in torchvision, with the same module names and state-dict keys (`conv1`, `bn1`,
  `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`, ...) so that its checkpoints load unchanged:
  `resnet18`, `resnet34` (BasicBlock) and `resnet50` (Bottleneck), the stride of a bottleneck on its
  3x3 convolution ("ResNet v1.5"), as torchvision has it.
- The CIFAR ResNets of the paper's section 4.2: a 3x3 convolution to 16 channels, three stages of n
  blocks with 16, 32 and 64 channels (the first block of stages 2 and 3 halves the resolution), global
  average pooling and a linear layer: 6n + 2 layers, `resnet20/32/56` for n = 3, 5, 9. The shortcut
  that changes shape is the paper's option A (subsample by 2 and pad the new channels with zeros: no
  parameters), so `plain20/32/56`, the same networks without shortcuts, have exactly the same
  parameters.
"""
from .. import nn
from ..nn import functional as F
from ..ops.indexing import pad

__all__ = ["BasicBlock", "Bottleneck", "ZeroPadShortcut", "ResNet", "CifarResNet", "resnet18", "resnet34",
           "resnet50", "resnet20", "resnet32", "resnet56", "plain20", "plain32", "plain56"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding that keeps the size (at stride 1); no bias, a batch norm follows."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=dilation, groups=groups, bias=False,
                     dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution: a per-pixel linear map of the channels; no bias."""
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    inplanes -> planes channels; `stride` 2 on conv1 halves the resolution, and `downsample` (a module)
    then brings x to the output's shape. residual=False drops the shortcut: a block of a plain network.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None, *, residual=True):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock: only groups=1 and base_width=64 are supported, got groups={groups}, "
                             f"base_width={base_width}")
        if dilation > 1:
            raise ValueError(f"BasicBlock: dilation > 1 is not supported, got dilation={dilation}")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand: relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)).

    The 3x3 convolution, the expensive one, runs on `width` = planes channels while the block's input
    and output have 4 * planes: at 256 channels in and out, the three convolutions of a bottleneck cost
    about 70k multiply-adds per pixel where two 3x3 convolutions at 256 channels would cost 1.18M, so
    the network can be deeper for the same compute. The stride sits on the 3x3 convolution.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None, *, residual=True):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


def _init_weights(model, zero_init_residual):
    """torchvision's initialisation: He-normal convolutions (fan_out), batch norms at weight 1, bias 0;
    zero_init_residual sets each block's last batch-norm weight to 0, so every block starts as the
    identity (the Linear layer keeps PyTorch's default)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


class ResNet(nn.Module):
    """torchvision's ImageNet ResNet: forward(images (N, 3, H, W)) -> logits (N, num_classes).

    conv1 (7x7, stride 2) -> bn1 -> relu -> maxpool (3x3, stride 2) -> layer1..layer4 (64, 128, 256,
    512 planes; layers 2-4 start at stride 2) -> avgpool (to 1x1) -> flatten -> fc.
    block: BasicBlock or Bottleneck; layers: the number of blocks in each of the four stages.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must give the number of blocks of the 4 stages, got {layers!r}")
        if replace_stride_with_dilation not in (None, [False] * 3, (False,) * 3):
            raise ValueError("ResNet: replace_stride_with_dilation is not supported, got "
                             f"{replace_stride_with_dilation!r}")
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       self._norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, self.dilation,
                        self._norm_layer)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                         dilation=self.dilation, norm_layer=self._norm_layer) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512 * expansion, H/32, W/32)
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(*, num_classes=1000, **kwargs):
    """ResNet-18: BasicBlocks [2, 2, 2, 2], 11.7M parameters at 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(*, num_classes=1000, **kwargs):
    """ResNet-34: BasicBlocks [3, 4, 6, 3], 21.8M parameters at 1000 classes."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(*, num_classes=1000, **kwargs):
    """ResNet-50: Bottlenecks [3, 4, 6, 3], 25.6M parameters at 1000 classes."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


class ZeroPadShortcut(nn.Module):
    """The paper's shortcut option A: x[:, :, ::stride, ::stride] with `extra_channels` zero channels
    appended, (N, C, H, W) -> (N, C + extra_channels, H/stride, W/stride). No parameters."""

    def __init__(self, stride, extra_channels):
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x):
        s = self.stride
        return pad(x[:, :, ::s, ::s], (0, 0, 0, 0, 0, self.extra_channels))

    def extra_repr(self):
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


class CifarResNet(nn.Module):
    """He et al.'s CIFAR network: forward(images (N, in_channels, H, W)) -> logits (N, num_classes).

    conv1 (3x3 to widths[0]) -> bn1 -> relu -> layer1, layer2, layer3 (n BasicBlocks each, with widths[i]
    channels; layer2 and layer3 start at stride 2) -> global average pooling -> fc. 6n + 2 weighted layers.
    residual=False gives the plain network of the same depth (and the same parameters).
    """

    def __init__(self, n, num_classes=10, in_channels=3, widths=(16, 32, 64), residual=True,
                 zero_init_residual=False):
        super().__init__()
        if n < 1 or len(widths) != 3:
            raise ValueError(f"CifarResNet: needs n >= 1 blocks per stage and 3 widths, got n={n}, widths={widths}")
        self.n, self.residual, self.inplanes = n, residual, widths[0]
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(widths[0], n, 1)
        self.layer2 = self._make_layer(widths[1], n, 2)
        self.layer3 = self._make_layer(widths[2], n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[2], num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if self.residual and (stride != 1 or self.inplanes != planes):
            downsample = ZeroPadShortcut(stride, planes - self.inplanes)
        layers = [BasicBlock(self.inplanes, planes, stride, downsample, residual=self.residual)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, residual=self.residual) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))  # (N, w0, H, W)
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, w2, H/4, W/4)
        return self.fc(self.avgpool(x).flatten(1))


def _cifar(depth, residual):
    if (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet: depth must be 6n + 2, got {depth}")

    def build(*, num_classes=10, in_channels=3, **kwargs):
        return CifarResNet((depth - 2) // 6, num_classes, in_channels, residual=residual, **kwargs)

    kind = "ResNet" if residual else "plain network (no shortcuts)"
    build.__name__ = f"{'resnet' if residual else 'plain'}{depth}"
    build.__doc__ = f"The {depth}-layer CIFAR {kind} of He et al. 2015 (n = {(depth - 2) // 6} blocks a stage)."
    return build


resnet20, resnet32, resnet56 = (_cifar(d, True) for d in (20, 32, 56))
plain20, plain32, plain56 = (_cifar(d, False) for d in (20, 32, 56))
