"""Power-average pooling and local response normalisation (also in glassnet.nn.functional), composed as PyTorch
composes them from average pooling, so their derivatives of every order come from those operations.

    lp_pool:  y = (sum over the window of x^p)^(1/p)      = (avg_pool(x^p) * window size)^(1/p)
              (p = 1: sum pooling; p -> inf: max pooling)
    local_response_norm (Krizhevsky et al. 2012), over channels c of (N, C, *):
              y_c = x_c / (k + alpha / n * sum_{c' in window of n around c} x_{c'}^2)^beta
"""
from .activation import relu
from .elementwise import abs, sign
from .indexing import pad
from .pooling import avg_pool1d, avg_pool2d, avg_pool3d
from .shape import reshape
from .conv import _ntuple

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d", "local_response_norm"]


def _lp_pool(op, d, pool, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = _ntuple(kernel_size, d, "kernel_size", op)
    if not norm_type > 0:
        raise ValueError(f"{op}: norm_type must be positive, got {norm_type}")
    out = pool(input ** norm_type, kernel, stride if stride is not None else kernel, 0, ceil_mode)
    size = 1
    for k in kernel:
        size *= k
    return (sign(out) * relu(abs(out)) * size) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, L) or (C, L)."""
    return _lp_pool("lp_pool1d", 1, avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, H, W) or (C, H, W)."""
    return _lp_pool("lp_pool2d", 2, avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) for (N, C, D, H, W) or (C, D, H, W)."""
    return _lp_pool("lp_pool3d", 3, avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each channel by (k + alpha * the mean of x^2 over `size` neighbouring channels)^beta; input
    (N, C, *) of at least 3 dimensions. The window is zero-padded at the first and last channels."""
    op = "local_response_norm"
    if input.ndim < 3:
        raise ValueError(f"{op}: expected 3D or higher dimensionality input (N, C, *), got shape {tuple(input.shape)}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    if input.array.size == 0:
        return input
    n, c = input.shape[:2]
    squares = reshape(input * input, (n, 1, c, -1))  # (N, 1, C, rest)
    squares = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    mean = reshape(avg_pool2d(squares, (size, 1), stride=1), input.shape)
    return input / (mean * alpha + k) ** beta
