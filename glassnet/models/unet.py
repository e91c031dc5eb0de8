"""U-Net (Ronneberger, Fischer and Brox 2015): an encoder-decoder for per-pixel classification.

    images (N, in_channels, H, W)
      encoder: at each level two 3x3 conv-BN-ReLU, then a 2x2 max pool halves H and W
               (channels c0 -> c1 -> ... as the resolution drops: what is seen grows, where blurs)
      bottleneck: two 3x3 conv-BN-ReLU at H / 2^L
      decoder: at each level a 2x2 transposed convolution doubles H and W, the encoder's output at that
               resolution is concatenated (the skip connection: it brings back the exact positions
               the pooling threw away), then two 3x3 conv-BN-ReLU
      head: a 1x1 convolution -> logits (N, num_classes, H, W)

The convolutions are padded ("same"), so the output has the input's size (the paper's are unpadded
and crop the skips); H and W must be multiples of 2^L.
"""
from .. import nn
from ..ops.indexing import cat
from ..tensor import Tensor

__all__ = ["UNet", "DoubleConv"]


class DoubleConv(nn.Sequential):
    """(conv 3x3 -> BatchNorm -> ReLU) twice: in_channels -> out_channels, size kept."""

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
                         nn.ReLU(), nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class UNet(nn.Module):
    """forward(images (N, in_channels, H, W)) -> logits (N, num_classes, H, W).

    channels: the width of each level, from the full resolution down to the bottleneck; the paper's
    is (64, 128, 256, 512, 1024), four poolings. len(channels) - 1 poolings.
    Modules: encoder[i] (DoubleConv), pool, bottleneck, up[i] (ConvTranspose2d), decoder[i], head.
    """

    def __init__(self, in_channels=1, num_classes=2, channels=(64, 128, 256, 512, 1024)):
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"UNet: channels needs at least 2 levels (one pooling), got {channels!r}")
        self.in_channels, self.num_classes, self.channels = in_channels, num_classes, tuple(channels)
        *levels, deepest = self.channels
        self.encoder = nn.ModuleList([DoubleConv(c_in, c) for c_in, c in zip((in_channels,) + tuple(levels), levels)])
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = DoubleConv(levels[-1], deepest)
        below = self.channels[::-1][:-1]  # the width arriving from one level down, deepest first
        self.up = nn.ModuleList([nn.ConvTranspose2d(c_below, c, 2, stride=2)
                                 for c_below, c in zip(below, levels[::-1])])
        self.decoder = nn.ModuleList([DoubleConv(2 * c, c) for c in levels[::-1]])
        self.head = nn.Conv2d(levels[0], num_classes, 1)

    def forward(self, x):
        factor = 2 ** (len(self.channels) - 1)
        if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != self.in_channels or \
                x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(f"UNet: expected images (N, {self.in_channels}, H, W) with H and W multiples of "
                             f"{factor}, got {getattr(x, 'shape', type(x).__name__)}")
        skips = []
        for block in self.encoder:
            x = block(x)  # (N, c_i, H / 2^i, W / 2^i)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)  # (N, c_L, H / 2^L, W / 2^L)
        for up, block, skip in zip(self.up, self.decoder, reversed(skips)):
            x = block(cat([skip, up(x)], 1))  # (N, 2 c_i -> c_i, H / 2^i, W / 2^i)
        return self.head(x)
