"""Spatial transformers (Jaderberg et al. 2015): affine_grid and grid_sample, also in glassnet.nn.functional.

    affine_grid(theta, size):  grid[n, h, w] = theta[n] @ (x_w, y_h, 1), the output pixel centres (or corners,
                               align_corners=True) in normalised coordinates [-1, 1]; (N, H, W, 2) for a 2-D
                               size (N, C, H, W) with theta (N, 2, 3), (N, D, H, W, 3) for a 3-D size with
                               theta (N, 3, 4).
    grid_sample(x, grid):      y[n, c, h, w] = x[n, c] read at grid[n, h, w] = (x, y) in [-1, 1]: x (N, C, H, W),
                               grid (N, Ho, Wo, 2) -> y (N, C, Ho, Wo).
                               bilinear: the four neighbouring pixels weighted by (1 - fx)(1 - fy), fx (1 - fy), ...
                               nearest: the closest pixel (round half to even);
                               padding_mode zeros (pixels outside read as 0), border (coordinates clipped to the
                               image) or reflection (reflected at the borders, then clipped).

Both are composed of Tensor operations (matmul; arithmetic on the coordinates, gather of the pixel values with
the corner indices and in-bounds masks as constants), so the gradients with respect to the input AND the grid
(or theta), and every higher derivative, come from those operations.
"""
import numpy as np

from ..tensor import Tensor
from .elementwise import abs, clamp, where
from .indexing import gather
from .shape import reshape, transpose

__all__ = ["affine_grid", "grid_sample"]


def _base_coordinates(n, align_corners, dtype):
    """The n pixel positions along one axis in [-1, 1]: corners at +-1 (align_corners) or centres."""
    if n <= 1:
        return np.zeros(n, dtype)
    line = np.linspace(-1.0, 1.0, n)
    return (line if align_corners else line * (n - 1) / n).astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of the affine maps `theta` for an output of `size` (see the module docstring)."""
    op = "affine_grid"
    align_corners = bool(align_corners)
    size = tuple(int(s) for s in size)
    if not isinstance(theta, Tensor) or theta.dtype.kind != "f":
        raise TypeError(f"{op}: theta must be a floating point Tensor")
    spatial = len(size) - 2
    if spatial not in (2, 3) or tuple(theta.shape) != (size[0], spatial, spatial + 1):
        raise ValueError(f"{op}: expected a 4-D size (N, C, H, W) with theta (N, 2, 3), or a 5-D size with theta "
                         f"(N, 3, 4); got size {size} and theta of shape {tuple(theta.shape)}")
    if min(size[2:]) <= 0:
        raise ValueError(f"{op}: the spatial size {size[2:]} must be positive")
    axes = [_base_coordinates(n, align_corners, theta.dtype) for n in reversed(size[2:])]  # x (W) first
    if spatial == 2:
        xs, ys = np.meshgrid(axes[0], axes[1])  # (H, W) each
        base = np.stack([xs, ys, np.ones_like(xs)], -1)  # (H, W, 3)
    else:
        zs, ys, xs = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")  # (D, H, W)
        base = np.stack([xs, ys, zs, np.ones_like(xs)], -1)  # (D, H, W, 4)
    points = Tensor._make(base.reshape(1, -1, spatial + 1))  # (1, P, spatial + 1)
    grid = points @ transpose(theta, 1, 2)  # (N, P, spatial)
    return reshape(grid, (size[0],) + size[2:] + (spatial,))


def _unnormalize(coord, n, align_corners):
    """[-1, 1] -> pixel index space [0, n - 1] (align_corners) or [-0.5, n - 0.5]."""
    if align_corners:
        return (coord + 1) * ((n - 1) / 2)
    return ((coord + 1) * n - 1) / 2


def _reflect(coord, n, align_corners):
    """Reflect coordinates at the image borders (PyTorch's rule), then clip to [0, n - 1]."""
    low, high = (0.0, float(n - 1)) if align_corners else (-0.5, n - 0.5)
    span = high - low
    if span <= 0:
        return coord * 0.0
    distance = abs(coord - low)
    flips = np.floor(distance.array / span)
    extra = distance - Tensor._make((flips * span).astype(coord.dtype))
    even = Tensor._make(flips % 2 == 0)
    return clamp(where(even, extra + low, (extra * -1.0) + (span + low)), 0.0, float(n - 1))


def _source_coordinates(coord, n, padding_mode, align_corners):
    coord = _unnormalize(coord, n, align_corners)
    if padding_mode == "border":
        return clamp(coord, 0.0, float(n - 1))
    if padding_mode == "reflection":
        return _reflect(coord, n, align_corners)
    return coord


def _read(flat, ix, iy, size, channels):
    """flat (N, C, H W) read at integer pixels (ix, iy) (arrays (N, P)); 0 where outside the image."""
    h, w = size
    inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    index = np.where(inside, iy * w + ix, 0).astype(np.int64)  # (N, P)
    values = gather(flat, 2, Tensor._make(np.repeat(index[:, None, :], channels, axis=1)))  # (N, C, P)
    return values * Tensor._make(inside[:, None, :].astype(flat.dtype))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read `input` (N, C, H, W) at the normalised positions `grid` (N, Ho, Wo, 2) -> (N, C, Ho, Wo)."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"{op}: mode must be 'bilinear' or 'nearest' (glassnet has no 'bicubic'), got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected input (N, C, H, W) and grid (N, Ho, Wo, 2) with the same N (glassnet "
                         f"samples 2-D images only), got {tuple(input.shape)} and {tuple(grid.shape)}")
    if input.dtype != grid.dtype or input.dtype.kind != "f":
        raise TypeError(f"{op}: input and grid must be floating point tensors of one dtype, got {input.dtype} and "
                        f"{grid.dtype}")
    n, c, h, w = input.shape
    out = grid.shape[1:3]
    points = reshape(grid, (n, -1, 2))  # (N, P, 2)
    x = _source_coordinates(points[:, :, 0], w, padding_mode, bool(align_corners))  # (N, P)
    y = _source_coordinates(points[:, :, 1], h, padding_mode, bool(align_corners))
    flat = reshape(input, (n, c, h * w))
    if mode == "nearest":
        result = _read(flat, np.rint(x.array).astype(np.int64), np.rint(y.array).astype(np.int64), (h, w), c)
        return reshape(result, (n, c) + out)
    x0, y0 = np.floor(x.array), np.floor(y.array)
    fx = reshape(x - Tensor._make(x0.astype(x.dtype)), (n, 1, -1))  # (N, 1, P)
    fy = reshape(y - Tensor._make(y0.astype(y.dtype)), (n, 1, -1))
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    result = (_read(flat, x0, y0, (h, w), c) * (1 - fx) * (1 - fy) + _read(flat, x0 + 1, y0, (h, w), c) * fx * (1 - fy)
              + _read(flat, x0, y0 + 1, (h, w), c) * (1 - fx) * fy + _read(flat, x0 + 1, y0 + 1, (h, w), c) * fx * fy)
    return reshape(result, (n, c) + out)
