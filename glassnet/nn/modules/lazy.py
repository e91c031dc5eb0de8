"""Lazy layers: LazyLinear and the lazy convolutions infer their input size from the first input.

Until then their weight and bias are `UninitializedParameter`s (no shape yet); the first forward gives them
their shapes, in place (an optimizer made before holds the same objects), initialises them as the eager layer
would, and turns the module into that layer (`LazyLinear` becomes `Linear`), as in PyTorch. Loading a
state_dict into a lazy layer gives it the saved shapes the same way.
"""
import numpy as np

from ... import dtypes
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Module

__all__ = ["UninitializedParameter", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; `materialize(shape)` gives it one (in place)."""

    def __init__(self, requires_grad=True, device=None, dtype=None):
        dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        super().__init__(np.empty((0,), dtype), requires_grad=requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        self.array = np.empty(tuple(shape), dtype if dtype is not None else self.dtype)
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class _LazyMixin:
    """The shared part: uninitialised parameters until the first forward, then the eager class."""

    cls_to_become = None

    def _make_uninitialized(self, dtype):
        self.weight = UninitializedParameter(dtype=dtype)
        if self.bias is not None:
            self.bias = UninitializedParameter(dtype=dtype)

    def has_uninitialized_params(self):
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def _materialize(self, in_size):
        """Set the input size, give every parameter its shape and initialise them."""
        self._set_input_size(in_size)
        for name, shape in self._shapes().items():
            self._parameters[name].materialize(shape)
        self.reset_parameters()
        self.__class__ = self.cls_to_become

    def forward(self, input):
        eager = self.cls_to_become
        if self.has_uninitialized_params():
            self._materialize(self._input_size(input))
        return eager.forward(self, input)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if self.has_uninitialized_params() and "weight" in state_dict:
            shape = tuple(np.shape(getattr(state_dict["weight"], "array", state_dict["weight"])))
            self._materialize(self._input_size_from_weight(shape))
        return Module.load_state_dict(self, state_dict, strict, assign)  # the class may have just changed


class LazyLinear(_LazyMixin, Linear):
    """Linear(in_features, out_features) with in_features taken from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, device, dtype)
        self._make_uninitialized(self.weight.dtype)

    def _input_size(self, input):
        return input.shape[-1]

    def _input_size_from_weight(self, shape):
        return shape[1]

    def _set_input_size(self, size):
        self.in_features = int(size)

    def _shapes(self):
        shapes = {"weight": (self.out_features, self.in_features)}
        if self.bias is not None:
            shapes["bias"] = (self.out_features,)
        return shapes


class _LazyConvMixin(_LazyMixin):
    """Lazy convolutions: in_channels from dim 1 of a batched input (dim 0 unbatched)."""

    def _lazy_init(self, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, dtype,
                   output_padding=None):
        extra = {} if output_padding is None else {"output_padding": output_padding}
        self.cls_to_become.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation=dilation,
                                    groups=groups, bias=bias, padding_mode=padding_mode, dtype=dtype, **extra)
        self.in_channels = 0
        self._make_uninitialized(self.weight.dtype)

    def _input_size(self, input):
        return input.shape[1] if input.ndim == self._d + 2 else input.shape[0]

    def _input_size_from_weight(self, shape):
        return shape[0] if self._transposed else shape[1] * self.groups

    def _set_input_size(self, size):
        if size % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({size}) must be divisible by groups ({self.groups})")
        self.in_channels = int(size)

    def _shapes(self):
        if self._transposed:
            weight = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            weight = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        shapes = {"weight": weight}
        if self.bias is not None:
            shapes["bias"] = (self.out_channels,)
        return shapes


def _lazy_conv(eager):
    class LazyConv(_LazyConvMixin, eager):
        cls_to_become = eager

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):
            self._lazy_init(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, dtype)

    LazyConv.__name__ = LazyConv.__qualname__ = "Lazy" + eager.__name__
    LazyConv.__doc__ = f"{eager.__name__} with in_channels taken from the first input."
    return LazyConv


def _lazy_conv_transpose(eager):
    class LazyConvTranspose(_LazyConvMixin, eager):
        cls_to_become = eager

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                     dilation=1, padding_mode="zeros", device=None, dtype=None):
            self._lazy_init(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, dtype,
                            output_padding)

    LazyConvTranspose.__name__ = LazyConvTranspose.__qualname__ = "Lazy" + eager.__name__
    LazyConvTranspose.__doc__ = f"{eager.__name__} with in_channels taken from the first input."
    return LazyConvTranspose


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(c) for c in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv_transpose(c) for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
