"""Spatial transformers (Jaderberg et al. 2015): affine_grid and grid_sample, also in glassnet.nn.functional.

    affine_grid(theta, size):  grid[n, h, w] = theta[n] @ (x_w, y_h, 1), the output pixel centres (or corners,
                               align_corners=True) in normalised coordinates [-1, 1]; (N, H, W, 2) for a 2-D
                               size (N, C, H, W) with theta (N, 2, 3), (N, D, H, W, 3) for a 3-D size with
                               theta (N, 3, 4).
    grid_sample(x, grid):      y[n, c, h, w] = x[n, c] read at grid[n, h, w] = (x, y) in [-1, 1]: x (N, C, H, W),
                               grid (N, Ho, Wo, 2) -> y (N, C, Ho, Wo) (volumes: x (N, C, D, H, W), grid (..., 3));
                               bilinear: the four neighbouring pixels weighted by (1 - fx)(1 - fy), fx (1 - fy), ...
                               (trilinear, eight neighbours, for volumes);
                               nearest: the closest pixel (round half to even);
                               padding_mode zeros (pixels outside read as 0), border (coordinates clipped to the
                               image) or reflection (reflected at the borders, then clipped).

Both are composed of Tensor operations (matmul; arithmetic on the coordinates; RowGather, a gather of pixel rows
whose backward is one bincount, with the corner indices and in-bounds masks as constants), so the gradients with
respect to the input AND the grid (or theta), and every higher derivative, come from those operations.
"""
import itertools

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import abs, clamp, where
from .shape import permute, reshape, transpose

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


class RowGather(Function):
    """y[k] = x[index[k]]: rows of a matrix x (R, C) -> y (K, C) (pixels read at the sampling points).

    Backward: dx = RowScatter(dy) (the rows added back where they were read, one bincount); forward mode: the
    same gather of the tangent. Linear, with RowScatter as its adjoint, so derivatives of every order work.
    """

    saves_inputs = False

    def forward(self, x, index):
        self.index, self.rows = index, x.shape[0]
        return x[index]

    def backward(self, dy):
        return RowScatter.apply(dy, index=self.index, rows=self.rows)

    def jvp(self, dx):
        return None if dx is None else dx[self.index]


class RowScatter(Function):
    """y = zeros (R, C) with y[index[k]] += x[k] (the adjoint of RowGather).   dx = RowGather(dy)."""

    saves_inputs = False

    def forward(self, x, index, rows):
        self.index, self.rows = index, rows
        return _scatter_rows(x, index, rows)

    def backward(self, dy):
        return RowGather.apply(dy, index=self.index)

    def jvp(self, dx):
        return None if dx is None else _scatter_rows(dx, self.index, self.rows)


def _scatter_rows(x, index, rows):
    """zeros (rows, C) with x's rows added at `index`: one bincount over (row, column) positions."""
    c = x.shape[1]
    target = (index[:, None] * c + np.arange(c)).ravel()
    return np.bincount(target, weights=x.ravel(), minlength=rows * c).reshape(rows, c).astype(x.dtype, copy=False)


def _read(pixels, positions, sizes):
    """pixels (N * prod(sizes), C) read at integer `positions` [(N, P) per axis, x first] -> (values (N P, C),
    in-bounds mask (N P, 1) as a constant: 0 where a position is outside the image). `sizes` are the spatial
    sizes in the same order (W, H[, D])."""
    inside = np.ones(positions[0].shape, bool)
    index, stride = 0, 1
    for p, size in zip(positions, sizes):
        inside &= (p >= 0) & (p < size)
        index = index + p * stride
        stride *= size
    index = np.where(inside, index, 0) + (np.arange(inside.shape[0]) * stride)[:, None]
    mask = Tensor._make(inside.reshape(-1, 1).astype(pixels.dtype))
    return RowGather.apply(pixels, index=index.reshape(-1)), mask


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read `input` (N, C, H, W) at the normalised positions `grid` (N, Ho, Wo, 2) -> (N, C, Ho, Wo); or a volume
    (N, C, D, H, W) at grid (N, Do, Ho, Wo, 3) (x, y, z) -> (N, C, Do, Ho, Wo), "bilinear" then trilinear."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"{op}: mode must be 'bilinear' or 'nearest' (glassnet has no 'bicubic'), got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    d = input.ndim - 2
    if d not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != d or grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input (N, C, D, H, W) with "
                         f"grid (N, Do, Ho, Wo, 3), the same N; got {tuple(input.shape)} and {tuple(grid.shape)}")
    if input.dtype != grid.dtype or input.dtype.kind != "f":
        raise TypeError(f"{op}: input and grid must be floating point tensors of one dtype, got {input.dtype} and "
                        f"{grid.dtype}")
    n, c = input.shape[:2]
    sizes = tuple(reversed(input.shape[2:]))  # (W, H[, D]): the order of the grid's coordinates
    out = tuple(grid.shape[1:-1])
    points = reshape(grid, (n, -1, d))  # (N, P, d)
    coords = [_source_coordinates(points[:, :, k], size, padding_mode, bool(align_corners))
              for k, size in enumerate(sizes)]  # (N, P) each
    pixels = reshape(permute(input, (0, *range(2, d + 2), 1)), (-1, c))  # one row per pixel: its C values
    if mode == "nearest":
        values, inside = _read(pixels, [np.rint(t.array).astype(np.int64) for t in coords], sizes)
        result = values * inside
    else:
        lows = [np.floor(t.array) for t in coords]
        fractions = [reshape(t - Tensor._make(low.astype(t.dtype)), (-1, 1)) for t, low in zip(coords, lows)]
        lows = [low.astype(np.int64) for low in lows]
        result = None
        for corner in itertools.product((0, 1), repeat=d):  # the 2^d neighbours, each weighted by its volume
            weight = None
            for f, up in zip(fractions, corner):
                factor = f if up else 1 - f
                weight = factor if weight is None else weight * factor
            values, inside = _read(pixels, [low + up for low, up in zip(lows, corner)], sizes)
            term = values * (weight * inside)
            result = term if result is None else result + term
    return reshape(permute(reshape(result, (n, -1, c)), (0, 2, 1)), (n, c) + out)  # (N P, C) -> (N, C, *out)
