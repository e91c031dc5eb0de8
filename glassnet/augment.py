"""Augmentations beyond glassnet.transforms, for the two random views of self-supervised learning:
ElasticTransform and GaussianNoise (torchvision.transforms.v2's names and meaning), in the transforms'
conventions: an image or a whole batch (`apply_batch`, vectorised, parameters drawn per sample from glassnet's
default generator, so `glassnet.manual_seed` and a resumed run reproduce them). With the transforms' Compose
and RandomAffine:

    views = Compose([RandomAffine(15, translate=(0.1, 0.1), scale=(0.7, 1.1), shear=10, interpolation="bilinear"),
                     ElasticTransform(alpha=30.0, sigma=4.0), GaussianNoise(sigma=0.1)])
    x1, x2 = views.apply_batch(images), views.apply_batch(images)     # two views of each image
"""
import numbers

import numpy as np

from .transforms import _fill_values, _Spatial

__all__ = ["ElasticTransform", "GaussianNoise", "bilinear_sample"]


def _positive(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{op}: {name} must be a non-negative number, got {value!r}")
    return float(value)


def bilinear_sample(a, ys, xs, fill=0.0):
    """a (B, K, H, W) float read at the positions (ys, xs) (B, H, W) (row, column; fractions interpolated
    between the four neighbours, neighbours outside the image counting as `fill`) -> (B, K, H, W)."""
    b, k, h, w = a.shape
    flat = a.reshape(b, k, h * w)
    y0, x0 = np.floor(ys), np.floor(xs)
    wy, wx = (ys - y0).astype(a.dtype), (xs - x0).astype(a.dtype)
    out = np.zeros_like(a)
    for dy, dx, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx), (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yi, xi = y0 + dy, x0 + dx
        inside = (yi >= 0) & (yi <= h - 1) & (xi >= 0) & (xi <= w - 1)
        index = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).astype(np.intp).reshape(b, 1, h * w)
        values = np.take_along_axis(flat, np.broadcast_to(index, (b, k, h * w)), 2).reshape(b, k, h, w)
        out += weight[:, None] * np.where(inside[:, None], values, fill)
    return out


class ElasticTransform(_Spatial):
    """Random smooth displacement of every pixel (Simard et al. 2003), as torchvision.transforms.v2's:
    displacement fields U(-1, 1) per pixel, blurred by a Gaussian of std `sigma` pixels, scaled so that a
    field value of 1 moves a pixel by alpha / 2 pixels; bilinear resampling, `fill` outside the image.
    Float images only (normalised or in [0, 1])."""

    def __init__(self, alpha=50.0, sigma=5.0, fill=0.0):
        self.alpha = _positive("ElasticTransform", "alpha", alpha)
        self.sigma = _positive("ElasticTransform", "sigma", sigma)
        self.fill = fill

    def _apply(self, a, g):
        from scipy.ndimage import gaussian_filter

        if a.dtype.kind != "f":
            raise TypeError(f"ElasticTransform: expects float images, got {a.dtype}")
        b, k, h, w = a.shape
        field = g.uniform(-1, 1, (2, b, h, w))
        if self.sigma > 0:
            field = gaussian_filter(field, (0, 0, self.sigma, self.sigma), mode="mirror", truncate=4.0)
        field *= self.alpha / 2
        rows, cols = np.mgrid[0:h, 0:w]
        fill = _fill_values(self.fill, k, "ElasticTransform")
        return bilinear_sample(a, rows + field[0], cols + field[1], fill.astype(a.dtype))

    def __repr__(self):
        return f"ElasticTransform(alpha={self.alpha}, sigma={self.sigma})"


class GaussianNoise(_Spatial):
    """image + N(mean, sigma^2) per pixel, clipped to [0, 1] when `clip` (torchvision.transforms.v2's)."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True):
        if isinstance(mean, bool) or not isinstance(mean, numbers.Real):
            raise ValueError(f"GaussianNoise: mean must be a number, got {mean!r}")
        self.mean, self.sigma, self.clip = float(mean), _positive("GaussianNoise", "sigma", sigma), clip

    def _apply(self, a, g):
        if a.dtype.kind != "f":
            raise TypeError(f"GaussianNoise: expects float images, got {a.dtype}")
        out = a + g.normal(self.mean, self.sigma, a.shape).astype(a.dtype)
        return np.clip(out, 0, 1, out=out) if self.clip else out

    def __repr__(self):
        return f"GaussianNoise(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"
