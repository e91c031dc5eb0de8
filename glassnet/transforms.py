"""Image transforms, after torchvision.transforms: Compose, ToTensor, Normalize, RandomCrop, CenterCrop,
RandomHorizontalFlip, RandomVerticalFlip, RandomAffine, Lambda.

    T.Compose([T.RandomCrop(28, padding=2), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])

Images are either NumPy arrays in image layout, (H, W) or (H, W, C), the stand-in for PIL images
(MNIST samples are uint8 (28, 28) arrays), or glassnet Tensors in tensor layout (..., C, H, W). A
transform returns the same kind it was given (ToTensor converts the first into the second).

Batches: every transform except Lambda has `apply_batch(batch)`, the same transform applied
independently to each sample of a batch (first axis: (N, H, W[, C]) arrays or (N, ..., H, W) tensors),
vectorised, random parameters drawn per sample. `transform.batchable` says whether it (and, for
Compose, every part) has one; the MNIST datasets use it so that a DataLoader transforms whole
batches. Random draws come from glassnet's default generator, so `glassnet.manual_seed` reproduces
them (a batch draws different numbers than the same samples transformed one by one).

The transforms work on `.array` and return tensors outside the autograd graph, except Normalize,
which is differentiable when its input requires grad.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import dtypes
from .random import rng
from .tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "CenterCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomAffine", "InterpolationMode"]


class InterpolationMode:
    """Names of the resampling modes (torchvision's enum values are these strings)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"


# ---- layout helpers ------------------------------------------------------------------------------
def _to_bkhw(x, batched, op):
    """View `x` as a (B, K, H, W) array (B samples, K channels) and return it with a function that
    turns a (B, K, H', W') result back into `x`'s kind and layout."""
    if isinstance(x, Tensor):
        a = x.array
        lead_min = 3 if batched else 2
        if a.ndim < lead_min:
            want = "(N, ..., H, W)" if batched else "(..., H, W)"
            raise ValueError(f"{op}: expected a tensor of shape {want}, got shape {a.shape}")
        head = a.shape[:-2]
        b = a.shape[0] if batched else 1
        view = a.reshape((b, -1) + a.shape[-2:])
        return view, lambda out: Tensor._make(np.ascontiguousarray(out).reshape(head + out.shape[-2:]))
    if not isinstance(x, np.ndarray):
        if hasattr(x, "__array_interface__"):  # PIL images and similar
            x = np.asarray(x)
        else:
            raise TypeError(f"{op}: expected a NumPy image array or a glassnet Tensor, got {type(x).__name__}")
    base = x.ndim - (1 if batched else 0)
    if base == 2:
        view = x[:, None] if batched else x[None, None]
        return view, (lambda out: np.ascontiguousarray(out[:, 0])) if batched else (lambda out: out[0, 0].copy())
    if base == 3:
        view = x.transpose(0, 3, 1, 2) if batched else x.transpose(2, 0, 1)[None]
        if batched:
            return view, lambda out: np.ascontiguousarray(out.transpose(0, 2, 3, 1))
        return view, lambda out: np.ascontiguousarray(out[0].transpose(1, 2, 0))
    want = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
    raise ValueError(f"{op}: expected a NumPy image of shape {want}, got shape {x.shape}")


def _size_pair(size, op, name="size"):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"{op}: {name} should be a positive int or a sequence of one or two positive ints, "
                         f"got {size!r}")
    return int(size[0]), int(size[1])


def _fill_values(fill, k, op):
    """`fill` as an array broadcastable over (B, K, H, W): a number, or one value per channel."""
    f = np.asarray(fill if fill is not None else 0, dtype=np.float64)
    if f.ndim == 0:
        return f
    if f.ndim == 1 and f.size in (1, k):
        return f.reshape(1, -1, 1, 1)
    raise ValueError(f"{op}: fill should be a number or a sequence of {k} per-channel values, got {fill!r}")


def _cast_like(values, dtype):
    """Float results back to `dtype`: rounded and clipped for integer dtypes."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return values >= 0.5
    return values.astype(dtype, copy=False)


def _native_fill(fill, dtype):
    """Fill values (float64) in the image dtype: rounded and clipped for integer images."""
    return _cast_like(np.asarray(fill, np.float64), dtype) if dtype.kind in "iub" else np.asarray(fill, dtype)


def _pad(a, left, top, right, bottom, fill, mode, op):
    """Pad the last two axes of a (B, K, H, W) array."""
    if left == top == right == bottom == 0:
        return a
    b, k, h, w = a.shape
    if mode == "constant":
        out = np.empty((b, k, h + top + bottom, w + left + right), a.dtype)
        out[...] = _native_fill(_fill_values(fill, k, op), a.dtype)
        out[:, :, top:top + h, left:left + w] = a
        return out
    if mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(f"{op}: reflect padding of ({left}, {top}, {right}, {bottom}) needs each pad smaller than "
                         f"the image size {(h, w)}")
    return np.pad(a, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=mode)


def _padding_ltrb(padding, op):
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = (int(padding),) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) in (1, 2, 4):
        p = tuple(padding)
        p = p * 4 if len(p) == 1 else (p[0], p[1], p[0], p[1]) if len(p) == 2 else p
    else:
        raise ValueError(f"{op}: padding should be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in p):
        raise ValueError(f"{op}: padding values should be non-negative ints, got {padding!r}")
    return tuple(int(v) for v in p)


class _Spatial:
    """Base of transforms that act on the spatial axes: subclasses define `_apply(a, g)` on a
    (B, K, H, W) array, with `g` the NumPy generator for per-sample parameters."""

    batchable = True

    def __call__(self, img):
        a, back = _to_bkhw(img, False, type(self).__name__)
        return back(self._apply(a, rng()))

    def apply_batch(self, batch):
        """Apply to each sample of a batch independently (vectorised)."""
        a, back = _to_bkhw(batch, True, type(self).__name__)
        return back(self._apply(a, rng()))

    def _apply(self, a, g):
        raise NotImplementedError


# ---- composition -------------------------------------------------------------------------------
class Compose:
    """Apply `transforms` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is not callable: {t!r}")

    @property
    def batchable(self):
        return all(getattr(t, "batchable", False) for t in self.transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def apply_batch(self, batch):
        """Apply each transform's batch form in turn (all of them must have one)."""
        for t in self.transforms:
            if not getattr(t, "batchable", False):
                raise TypeError(f"Compose.apply_batch: {t!r} has no batch form (wrap only batchable transforms)")
            batch = t.apply_batch(batch)
        return batch

    def __repr__(self):
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """Apply a user function `lambd` to each sample (no batch form)."""

    batchable = False

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


# ---- conversion and normalisation -------------------------------------------------------------
class ToTensor:
    """NumPy image (H, W) or (H, W, C) -> tensor (C, H, W). uint8 values are scaled to float32 in [0, 1]
    (x / 255); other dtypes keep their values and dtype (as torchvision does). Batch: (N, H, W[, C]) ->
    (N, C, H, W)."""

    batchable = True

    @staticmethod
    def _convert(arr, batched):
        if isinstance(arr, Tensor):
            raise TypeError("ToTensor: expected a NumPy image array (H, W) or (H, W, C), got a Tensor, which is "
                            "already converted")
        if not isinstance(arr, np.ndarray):
            if not hasattr(arr, "__array_interface__"):
                raise TypeError(f"ToTensor: expected a NumPy image array, got {type(arr).__name__}")
            arr = np.asarray(arr)
        base = arr.ndim - (1 if batched else 0)
        if base not in (2, 3):
            want = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
            raise ValueError(f"ToTensor: expected an image of shape {want}, got shape {arr.shape}")
        if base == 2:
            arr = arr[..., None]
        arr = arr.transpose(0, 3, 1, 2) if batched else arr.transpose(2, 0, 1)
        if arr.dtype == np.uint8:
            dt = dtypes.get_default_dtype()
            return Tensor._make(np.divide(arr, dt.type(255), dtype=dt))
        return Tensor._make(np.ascontiguousarray(arr))

    def __call__(self, pic):
        return self._convert(pic, False)

    def apply_batch(self, pics):
        return self._convert(pics, True)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """Per channel: out[c] = (x[c] - mean[c]) / std[c], on a float tensor (..., C, H, W).

    mean and std are sequences of C values (or of one value for all channels). Backward, when the
    input requires grad: dx[c] = dy[c] / std[c]. The batch form is the same operation.
    """

    batchable = True

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: expected a glassnet Tensor, got {type(tensor).__name__} "
                            "(apply ToTensor first)")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (..., C, H, W), got shape {tensor.shape}")
        c = tensor.shape[-3]
        mean = np.asarray(self.mean, dtype=tensor.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=tensor.dtype).reshape(-1)
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, c):
                raise ValueError(f"Normalize: {name} has {v.size} values, expected 1 or {c} (the number of channels "
                                 f"of an input of shape {tensor.shape})")
        if np.any(std == 0):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to {tensor.dtype}, leading to "
                             f"division by zero (std={self.std!r})")
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if tensor.requires_grad:
            if self.inplace:
                raise RuntimeError("Normalize: inplace=True on a tensor that requires grad")
            return (tensor - Tensor._make(mean)) / Tensor._make(std)
        if self.inplace:
            np.subtract(tensor.array, mean, out=tensor.array)
            np.divide(tensor.array, std, out=tensor.array)
            return tensor
        return Tensor._make((tensor.array - mean) / std)

    apply_batch = __call__

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


# ---- crops and flips ---------------------------------------------------------------------------
class RandomCrop(_Spatial):
    """Crop a random `size` (h, w) window, after optional padding.

    padding: an int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
    pad_if_needed: pad an image smaller than `size` (by the shortfall on both sides).
    fill / padding_mode: value for "constant" padding; or "edge", "reflect", "symmetric".
    The window's top-left corner is uniform over the valid positions, drawn per sample.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size_pair(size, "RandomCrop")
        self.padding = None if padding is None else _padding_ltrb(padding, "RandomCrop")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be constant, edge, reflect or symmetric, "
                             f"got {padding_mode!r}")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def _apply(self, a, g):
        if self.padding is not None:
            a = _pad(a, *self.padding, self.fill, self.padding_mode, "RandomCrop")
        th, tw = self.size
        if self.pad_if_needed and a.shape[3] < tw:
            d = tw - a.shape[3]
            a = _pad(a, d, 0, d, 0, self.fill, self.padding_mode, "RandomCrop")
        if self.pad_if_needed and a.shape[2] < th:
            d = th - a.shape[2]
            a = _pad(a, 0, d, 0, d, self.fill, self.padding_mode, "RandomCrop")
        b, _, h, w = a.shape
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) input image "
                             f"size {(h, w)}")
        if h == th and w == tw:
            return a
        top = g.integers(0, h - th + 1, size=b)
        left = g.integers(0, w - tw + 1, size=b)
        if b == 1:
            return a[:, :, top[0]:top[0] + th, left[0]:left[0] + tw]
        windows = sliding_window_view(a, (th, tw), axis=(2, 3))  # (B, K, h-th+1, w-tw+1, th, tw), a view
        return windows[np.arange(b), :, top, left]  # (B, K, th, tw)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class CenterCrop(_Spatial):
    """Crop the central `size` (h, w) window (an image smaller than that is zero-padded first)."""

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def _apply(self, a, g):
        th, tw = self.size
        h, w = a.shape[2:]
        if th > h or tw > w:
            pl, pt = max(tw - w, 0) // 2, max(th - h, 0) // 2
            pr, pb = (max(tw - w, 0) + 1) // 2, (max(th - h, 0) + 1) // 2
            a = _pad(a, pl, pt, pr, pb, 0, "constant", "CenterCrop")
            h, w = a.shape[2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return a[:, :, top:top + th, left:left + tw]

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class _RandomFlip(_Spatial):
    axis = None

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p should be a probability in [0, 1], got {p!r}")
        self.p = p

    def _apply(self, a, g):
        flip = g.random(a.shape[0]) < self.p
        if not flip.any():
            return a
        out = a.copy()
        out[flip] = np.flip(a[flip], axis=self.axis)
        return out

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right (reverse the width axis) with probability p, independently per sample."""
    axis = 3


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom (reverse the height axis) with probability p, independently per sample."""
    axis = 2


# ---- affine --------------------------------------------------------------------------------------
def _range(value, op, name, symmetric_from_number=True, lo_bound=None):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{op}: if {name} is a single number, it must be non-negative, got {value}")
        return (-float(value), float(value)) if symmetric_from_number else (float(value), float(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value):
        return float(value[0]), float(value[1])
    raise ValueError(f"{op}: {name} should be a number or a sequence of two numbers, got {value!r}")


class RandomAffine(_Spatial):
    """Random rotation, translation, scale and shear about the image centre, drawn per sample.

    degrees: rotation angle range (a number d means (-d, d)); a positive angle turns the image
        clockwise as displayed (y axis pointing down), as in torchvision's affine.
    translate: (a, b): horizontal shift drawn in [-a*W, a*W] and vertical in [-b*H, b*H], rounded to
        whole pixels.
    scale: (lo, hi) zoom factor range. shear: a number s (x-shear in (-s, s) degrees), 2 values (x range)
        or 4 values (x range then y range).
    interpolation: "nearest" (default) or "bilinear". fill: value for pixels that come from outside
        the image. center: (x, y) in pixel indices (column, row), default the image centre.

    Forward map of a pixel position p: p' = c + t + M (p - c), with M = s R(angle) Shy Shx. Each
    output pixel p' samples the input at c + M^-1 (p' - c - t) (nearest pixel, rounding half to even,
    or bilinear, neighbours outside the image counting as `fill`). Integer images are rounded back.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest", fill=0,
                 center=None):
        op = "RandomAffine"
        self.degrees = _range(degrees, op, "degrees")
        if translate is not None:
            if not (isinstance(translate, (tuple, list)) and len(translate) == 2
                    and all(isinstance(t, numbers.Real) and 0.0 <= t <= 1.0 for t in translate)):
                raise ValueError(f"{op}: translate should be a sequence of two values in [0, 1], got {translate!r}")
        self.translate = translate
        if scale is not None:
            if not (isinstance(scale, (tuple, list)) and len(scale) == 2
                    and all(isinstance(s, numbers.Real) and s > 0 for s in scale)):
                raise ValueError(f"{op}: scale should be a sequence of two positive values, got {scale!r}")
        self.scale = scale
        if shear is None:
            self.shear = None
        elif isinstance(shear, (tuple, list)) and len(shear) == 4:
            self.shear = tuple(float(s) for s in shear)
        else:
            self.shear = _range(shear, op, "shear") + (0.0, 0.0)
        interpolation = getattr(interpolation, "value", interpolation)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{op}: interpolation should be 'nearest' or 'bilinear', got {interpolation!r}")
        self.interpolation = interpolation
        self.fill = fill
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"{op}: center should be a sequence (x, y), got {center!r}")
        self.center = center

    def _params(self, b, h, w, g):
        angle = np.radians(g.uniform(self.degrees[0], self.degrees[1], size=b))
        if self.translate is not None:
            mx, my = self.translate[0] * w, self.translate[1] * h
            tx, ty = np.rint(g.uniform(-mx, mx, size=b)), np.rint(g.uniform(-my, my, size=b))
        else:
            tx = ty = np.zeros(b)
        s = g.uniform(self.scale[0], self.scale[1], size=b) if self.scale is not None else np.ones(b)
        if self.shear is not None:
            sx = np.radians(g.uniform(self.shear[0], self.shear[1], size=b))
            sy = np.radians(g.uniform(self.shear[2], self.shear[3], size=b))
        else:
            sx = sy = np.zeros(b)
        return angle, tx, ty, s, sx, sy

    @staticmethod
    def _inverse(angle, s, sx, sy):
        """M^-1 for M = s R(angle) Shy(sy) Shx(sx), with R = [[cos, -sin], [sin, cos]], Shx = [[1, -tan sx],
        [0, 1]], Shy = [[1, 0], [-tan sy, 1]]; R Shy Shx has determinant 1, so its inverse is its adjugate."""
        cos, sin, tx, ty = np.cos(angle), np.sin(angle), np.tan(sx), np.tan(sy)
        a = cos + sin * ty
        c = sin - cos * ty
        b = -a * tx - sin
        d = -c * tx + cos
        return np.stack([np.stack([d, -b], -1), np.stack([-c, a], -1)], -2) / s[:, None, None]  # (B, 2, 2)

    def _apply(self, a, g):
        bsz, k, h, w = a.shape
        angle, tx, ty, s, sx, sy = self._params(bsz, h, w, g)
        inv = self._inverse(angle, s, sx, sy)
        cx, cy = ((w - 1) / 2.0, (h - 1) / 2.0) if self.center is None else map(float, self.center)
        # Source position of every output pixel, as (B, H*W) arrays (long rows keep NumPy's loops fast):
        # src = c + M^-1 (p - c) - M^-1 t. float32 is exact for the identity map.
        gx = (np.tile(np.arange(w), h) - cx).astype(np.float32)[None, :]  # (1, H*W): x - cx of each pixel
        gy = (np.repeat(np.arange(h), w) - cy).astype(np.float32)[None, :]
        off_x = (cx - inv[:, 0, 0] * tx - inv[:, 0, 1] * ty).astype(np.float32)[:, None]  # (B, 1)
        off_y = (cy - inv[:, 1, 0] * tx - inv[:, 1, 1] * ty).astype(np.float32)[:, None]
        inv = inv.astype(np.float32)
        x_in = inv[:, 0, 0, None] * gx + inv[:, 0, 1, None] * gy + off_x
        y_in = inv[:, 1, 0, None] * gx + inv[:, 1, 1, None] * gy + off_y
        # Pixels as rows of a (B*H*W, K) table, so one `take` per tap fetches all channels.
        table = a.transpose(0, 2, 3, 1).reshape(bsz * h * w, k)
        flat_dtype = np.float32 if bsz * h * w < 2 ** 24 else np.float64  # exact integer positions
        base = (np.arange(bsz) * (h * w)).astype(flat_dtype)[:, None]
        idx_dtype = np.int32 if bsz * h * w < 2 ** 31 else np.int64
        fill = _fill_values(self.fill, k, "RandomAffine").reshape(-1)  # () or (K,)

        def tap(yf, xf):
            """Values at integer-valued float positions (B, H*W) -> (B, H, W, K), and the in-image mask."""
            ok = (xf >= 0) & (xf <= w - 1) & (yf >= 0) & (yf <= h - 1)
            idx = ((yf * w + xf + base) * ok).astype(idx_dtype)  # outside pixels read row 0, then get masked
            return table.take(idx.reshape(-1), axis=0).reshape(bsz, h, w, k), ok.reshape(bsz, h, w, 1)

        if self.interpolation == "nearest":
            vals, ok = tap(np.rint(y_in), np.rint(x_in))
            out = np.where(ok, vals, _native_fill(fill, a.dtype))
        else:
            work = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
            x0, y0 = np.floor(x_in), np.floor(y_in)
            wx = (x_in - x0).astype(work).reshape(bsz, h, w, 1)
            wy = (y_in - y0).astype(work).reshape(bsz, h, w, 1)
            fillw = fill.astype(work)
            out = np.zeros((bsz, h, w, k), dtype=work)
            for dy, dx, wgt in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                                (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
                vals, ok = tap(y0 + dy, x0 + dx)
                out += wgt * np.where(ok, vals.astype(work), fillw)
            out = _cast_like(out, a.dtype)
        return out.transpose(0, 3, 1, 2)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, interpolation={self.interpolation})")
