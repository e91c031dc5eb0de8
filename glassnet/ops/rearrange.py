"""Rearrangements of channels and pixels (also in glassnet.nn.functional), each a reshape, a permutation and a
reshape, so their derivatives (of every order, and forward mode) are those of the view operations.

    pixel_shuffle(x, r):    (*, C r^2, H, W) -> (*, C, H r, W r)      (Shi et al. 2016, sub-pixel convolution)
                            y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]
    pixel_unshuffle(x, r):  the inverse, (*, C, H r, W r) -> (*, C r^2, H, W)
    channel_shuffle(x, g):  (N, g k, *) -> the channels read as a (g, k) table, transposed (Zhang et al. 2018)
"""
from .shape import permute, reshape

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


def _positive(op, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return value


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of pixels."""
    op = "pixel_shuffle"
    r = _positive(op, "upscale_factor", upscale_factor)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"{op}: expected an input (*, C * {r * r}, H, W) with channels divisible by upscale_factor^2 "
                         f"= {r * r}, got shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    n = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = permute(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))  # (*, C, H, r, W, r)
    return reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): each r x r block of pixels becomes r^2 channels."""
    op = "pixel_unshuffle"
    r = _positive(op, "downscale_factor", downscale_factor)
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"{op}: expected an input (*, C, H, W) with H and W divisible by downscale_factor = {r}, "
                         f"got shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    n = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))  # (*, C, r, r, H, W)
    return reshape(x, (*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """(N, C, *) with C = groups * k: channel g k + i moves to i groups + g (the channels of each group spread
    over all groups, as in ShuffleNet)."""
    op = "channel_shuffle"
    g = _positive(op, "groups", groups)
    if input.ndim < 3 or input.shape[1] % g:
        raise ValueError(f"{op}: expected an input (N, C, *) of at least 3 dimensions with C divisible by groups = "
                         f"{g}, got shape {tuple(input.shape)}")
    n, c, *rest = input.shape
    x = reshape(input, (n, g, c // g, *rest))
    x = permute(x, (0, 2, 1, *range(3, x.ndim)))
    return reshape(x, (n, c, *rest))
