"""MaxUnpool1d/2d/3d (the partial inverse of max pooling) and LPPool1d/2d/3d (power-average pooling)."""
from ...ops.conv import _ntuple
from ...ops.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from ...ops.unpool import max_unpool1d, max_unpool2d, max_unpool3d
from .module import Module

__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d"]


class _MaxUnpoolNd(Module):
    _d, _fn = 2, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _ntuple(kernel_size, self._d, "kernel_size", name)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._d, "stride", name)
        self.padding = _ntuple(padding, self._d, "padding", name)

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Put each value back at its max_pool1d index; see max_unpool1d."""

    _d, _fn = 1, staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Put each value back at its max_pool2d index; see max_unpool2d."""

    _d, _fn = 2, staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Put each value back at its max_pool3d index; see max_unpool3d."""

    _d, _fn = 3, staticmethod(max_unpool3d)


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p); see lp_pool1d."""

    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p); see lp_pool2d."""

    _fn = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p); see lp_pool3d."""

    _fn = staticmethod(lp_pool3d)
