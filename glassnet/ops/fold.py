"""Sliding blocks: unfold (im2col) and fold (col2im), also in glassnet.nn.functional as in PyTorch.

    unfold: x (N, C, H, W) -> cols (N, C kh kw, L): column l holds the kh x kw block at block position l
            (row-major over the oh x ow grid of blocks), channel-major: row c kh kw + i kw + j is input pixel
            (c, h0 + i d_h - p_h, w0 + j d_w - p_w) of that block, zero outside the image.
    fold:   cols (N, C kh kw, L) -> y (N, C, H, W): the blocks put back in place, overlapping values summed.

with oh = floor((H + 2 p_h - d_h (kh - 1) - 1) / s_h) + 1 (and ow likewise) and L = oh ow. The two are
adjoint linear maps: the backward of unfold is fold and the backward of fold is unfold, so derivatives of
every order (and the forward-mode rule, the map itself) come for free. Unbatched (C, H, W) and (C kh kw, L)
inputs are accepted.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["unfold", "fold"]


def _pair(op, name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in pair)


def _blocks(size, kernel, dilation, padding, stride):
    """Number of block positions along each of the two dims."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in zip(size, kernel, dilation, padding,
                                                                                   stride))


def _offsets(kernel, dilation, blocks, stride):
    """For each kernel offset (i, j): the strided slices of the padded image its values come from."""
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (blocks[0] - 1) + 1, stride[0])
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (blocks[1] - 1) + 1, stride[1])
            yield i, j, rows, cols


def _im2col(x, kernel, dilation, padding, stride):
    """(N, C, H, W) -> (N, C kh kw, L), one strided copy per kernel offset."""
    n, c, h, w = x.shape
    blocks = _blocks((h, w), kernel, dilation, padding, stride)
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2)) if any(padding) else x
    cols = np.empty((n, c, kernel[0], kernel[1]) + blocks, x.dtype)
    for i, j, rows, columns in _offsets(kernel, dilation, blocks, stride):
        cols[:, :, i, j] = padded[:, :, rows, columns]
    return cols.reshape(n, c * kernel[0] * kernel[1], blocks[0] * blocks[1])


def _col2im(cols, size, kernel, dilation, padding, stride):
    """(N, C kh kw, L) -> (N, C, H, W), overlapping blocks summed, one strided add per kernel offset."""
    n = cols.shape[0]
    c = cols.shape[1] // (kernel[0] * kernel[1])
    blocks = _blocks(size, kernel, dilation, padding, stride)
    blocks_view = cols.reshape((n, c, kernel[0], kernel[1]) + blocks)
    padded = np.zeros((n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1]), cols.dtype)
    for i, j, rows, columns in _offsets(kernel, dilation, blocks, stride):
        padded[:, :, rows, columns] += blocks_view[:, :, i, j]
    return padded[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]


class Unfold(Function):
    """cols = im2col(x) (see the module docstring).   dx = fold(dcols);  forward mode: dcols = unfold(dx).
    Shapes: x (N, C, H, W) -> cols (N, C kh kw, L)."""

    saves_inputs = False

    def forward(self, x, kernel, dilation, padding, stride):
        self.args = kernel, dilation, padding, stride
        self.size = x.shape[-2:]
        return _im2col(x, *self.args)

    def backward(self, dcols):
        return Fold.apply(dcols, size=self.size, kernel=self.args[0], dilation=self.args[1], padding=self.args[2],
                          stride=self.args[3])

    def jvp(self, dx):
        return None if dx is None else _im2col(dx, *self.args)


class Fold(Function):
    """y = col2im(cols) (see the module docstring).   dcols = unfold(dy);  forward mode: dy = fold(dcols).
    Shapes: cols (N, C kh kw, L) -> y (N, C, H, W)."""

    saves_inputs = False

    def forward(self, cols, size, kernel, dilation, padding, stride):
        self.args = kernel, dilation, padding, stride
        self.size = size
        return _col2im(cols, size, *self.args)

    def backward(self, dy):
        kernel, dilation, padding, stride = self.args
        return Unfold.apply(dy, kernel=kernel, dilation=dilation, padding=padding, stride=stride)

    def jvp(self, dcols):
        return None if dcols is None else _col2im(dcols, self.size, *self.args)


def _arguments(op, kernel_size, dilation, padding, stride):
    kernel, dilation, padding, stride = (_pair(op, name, v) for name, v in (
        ("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)))
    if min(kernel + dilation + stride) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got "
                         f"kernel_size={kernel}, dilation={dilation}, padding={padding}, stride={stride}")
    return kernel, dilation, padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding kh x kw blocks: (N, C, H, W) -> (N, C kh kw, L); see the module docstring."""
    op = "unfold"
    args = _arguments(op, kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    blocks = _blocks(x.shape[-2:], *args)
    if min(blocks) < 1:
        raise ValueError(f"{op}: the {args[0]} kernel (dilation {args[1]}, padding {args[2]}) does not fit the "
                         f"input of spatial size {tuple(x.shape[-2:])}")
    kernel, dilation, padding, stride = args
    cols = Unfold.apply(x, kernel=kernel, dilation=dilation, padding=padding, stride=stride)
    return cols.squeeze(0) if input.ndim == 3 else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: (N, C kh kw, L) -> (N, C, *output_size); see the module docstring."""
    op = "fold"
    kernel, dilation, padding, stride = _arguments(op, kernel_size, dilation, padding, stride)
    size = _pair(op, "output_size", output_size)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C kh kw, L) or 3-D (N, C kh kw, L) input, got shape "
                         f"{tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    per = kernel[0] * kernel[1]
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if x.shape[1] % per:
        raise ValueError(f"{op}: expected size of input's dimension 1 to be divisible by the product of kernel_size "
                         f"{per}, but got input.size(1)={x.shape[1]}")
    if x.shape[2] != blocks[0] * blocks[1]:
        raise ValueError(f"{op}: given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding="
                         f"{padding}, stride={stride}, expected size of input's dimension 2 to match the calculated "
                         f"number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
                         f"input.size(2)={x.shape[2]}")
    y = Fold.apply(x, size=size, kernel=kernel, dilation=dilation, padding=padding, stride=stride)
    return y.squeeze(0) if input.ndim == 2 else y
