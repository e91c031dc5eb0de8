"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (the math is in glassnet.ops.conv)."""
import math

import numpy as np

from ... import dtypes
from ...ops.conv import _is_int, _ntuple
from ...ops.indexing import pad as _pad
from .. import init
from ..functional import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, initialisation, input checks and repr of the convolution layers.

    weight: (out_channels, in_channels/groups, *kernel_size), or (in_channels, out_channels/groups,
    *kernel_size) when transposed; bias: (out_channels,). Both start as PyTorch's:
    kaiming_uniform_(weight, a=sqrt(5)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in computed
    from the weight's shape (weight.shape[1] * prod(kernel_size)), for the transposed layers too.
    """

    _d = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, dtype):
        super().__init__()
        name, d = type(self).__name__, self._d
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not _is_int(v) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        if not _is_int(groups) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, d, "kernel_size", name)
        self.stride = _ntuple(stride, d, "stride", name)
        self.dilation = _ntuple(dilation, d, "dilation", name)
        if min(self.kernel_size) <= 0 or min(self.stride) <= 0 or min(self.dilation) <= 0:
            raise ValueError(f"{name}: kernel_size {self.kernel_size}, stride {self.stride} and dilation "
                             f"{self.dilation} must be positive")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding string must be 'same' or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, d, "padding", name)
            if min(self.padding) < 0:
                raise ValueError(f"{name}: padding must be non-negative, got {self.padding}")
        self.output_padding = _ntuple(output_padding, d, "output_padding", name)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        # F.pad's (left, right) pairs, last dim first, for the non-zero padding modes
        if self.padding == "valid":
            pairs = [(0, 0)] * d
        elif self.padding == "same":
            totals = [r * (k - 1) for k, r in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [v for pair in reversed(pairs) for v in pair]

        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if dtype.kind != "f":
            raise TypeError(f"{name}: dtype must be a floating point type, got {dtype}")
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(weight, a=sqrt(5)); bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.weight.shape[2:])
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        name, d = type(self).__name__, self._d
        shape = tuple(input.shape)
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(f"{name}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                             f"got shape {shape}")
        channels = shape[-d - 1]
        if channels != self.in_channels:
            raise ValueError(f"{name}: expected input with {self.in_channels} channels, got shape {shape}")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._d:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._d:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._d:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, dtype)

    def forward(self, input):
        self._check_input(input)
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            input = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation) over (N, C_in, L) or (C_in, L); weight (C_out, C_in/groups, k)."""

    _d = 1
    _fn = staticmethod(conv1d)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) or (C_in, H, W).

    weight (C_out, C_in/groups, kH, kW), bias (C_out,); padding int, tuple, 'same' or 'valid';
    padding_mode 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _d = 2
    _fn = staticmethod(conv2d)


class Conv3d(_Conv):
    """3-D convolution (cross-correlation) over (N, C_in, D, H, W) or (C_in, D, H, W)."""

    _d = 3
    _fn = staticmethod(conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output spatial size equal `output_size` (torch's rule)."""
        if output_size is None:
            return self.output_padding
        d, name = self._d, type(self).__name__
        size = [int(s) for s in output_size]
        if len(size) == d + 2 or (len(size) == d + 1 and input.ndim == d + 1):
            size = size[-d:]
        if len(size) != d:
            raise ValueError(f"{name}: output_size must have {d} or {d + 2} elements, got {tuple(output_size)}")
        result = []
        for n, want, k, s, p, r in zip(input.shape[-d:], size, self.kernel_size, self.stride, self.padding,
                                       self.dilation):
            smallest = (n - 1) * s - 2 * p + r * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(f"{name}: requested output_size {tuple(size)} is not reachable from input of shape "
                                 f"{tuple(input.shape)}: each size must be in [{smallest}, {smallest + s - 1}]")
            result.append(want - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                              self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over (N, C_in, L); weight (C_in, C_out/groups, k)."""

    _d = 1
    _fn = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution over (N, C_in, H, W); weight (C_in, C_out/groups, kH, kW).

    Output size: (H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1; forward(input,
    output_size) picks output_padding to reach output_size.
    """

    _d = 2
    _fn = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution over (N, C_in, D, H, W); weight (C_in, C_out/groups, kD, kH, kW)."""

    _d = 3
    _fn = staticmethod(conv_transpose3d)
