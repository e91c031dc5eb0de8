"""The discrete Fourier transform (torch.fft) and the complex operations its results need.

Transforms: fft, ifft, rfft, irfft (1-D along `dim`, with `n` and `norm`), their 2-D and n-D forms,
fftfreq, rfftfreq, fftshift, ifftshift, and stft (a spectrogram: frames, window, rfft).
Complex operations: real, imag, abs (elementwise.py), angle, conj, view_as_real, view_as_complex,
complex, polar, and + - * / (arithmetic.py).

Complex tensors (complex64 from float32, complex128 from float64) exist in glassnet for these results.
Their gradients follow PyTorch's convention: for a real loss L and z = a + ib, the gradient is
dL/da + i dL/db. Under it, the backward of a complex-linear map z -> A z is dy -> A^H dy (conjugate
transpose), and a real input of a complex computation receives the real part of its gradient. Other
operations refuse complex inputs with an error instead of computing a wrong gradient (exp, log, pow, ...).

norm: "backward" (default) scales the inverse transform by 1/n, "forward" the forward one, "ortho" both
by 1/sqrt(n). The adjoint of a transform with one norm is the opposite transform with the dual norm
(backward <-> forward, ortho <-> ortho), which is how every backward below is written.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .shape import cast

__all__ = ["real", "imag", "angle", "view_as_real", "view_as_complex", "complex", "polar", "stft", "is_complex"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _complex_dtype(dtype):
    return np.dtype(np.complex128) if dtype in (np.float64, np.complex128) else np.dtype(np.complex64)


def _real_dtype(dtype):
    return np.dtype(np.float64) if dtype in (np.float64, np.complex128) else np.dtype(np.float32)


def is_complex(input):
    return input.dtype.kind == "c"


# ---- complex parts -------------------------------------------------------------------------------
class Real(Function):
    """y = Re z.   dz = dy + 0i.   Shapes: like z."""

    saves_inputs = False

    def forward(self, z):
        return z.real.copy()

    def backward(self, dy):
        return cast(dy, self.inputs[0].dtype)

    def jvp(self, dz):
        return None if dz is None else dz.real


class Imag(Function):
    """y = Im z.   dz = i dy (the gradient has only an imaginary part).   Shapes: like z."""

    saves_inputs = False

    def forward(self, z):
        return z.imag.copy()

    def backward(self, dy):
        return cast(dy, self.inputs[0].dtype) * 1j

    def jvp(self, dz):
        return None if dz is None else dz.imag


class Conj(Function):
    """y = conj(z).   dz = conj(dy).   Shapes: like z."""

    saves_inputs = False

    def forward(self, z):
        return np.conj(z)

    def backward(self, dy):
        return Conj.apply(dy)

    def jvp(self, dz):
        return None if dz is None else np.conj(dz)


class Angle(Function):
    """y = arg z = atan2(Im z, Re z).   dz = dy * i z / |z|^2 (0 at z = 0).   Shapes: like z."""

    def forward(self, z):
        return np.angle(z).astype(_real_dtype(z.dtype))

    def backward(self, dy):
        z = self.inputs[0]
        r2 = np.abs(z.array) ** 2
        scale = Tensor._make(np.where(r2 > 0, 1 / np.where(r2 > 0, r2, 1), 0).astype(dy.dtype))
        return cast(dy * scale, z.dtype) * z * 1j

    def jvp(self, dz):
        if dz is None:
            return None
        z = self.inputs[0].array
        r2 = np.abs(z) ** 2
        return np.where(r2 > 0, (np.conj(z) * dz).imag / np.where(r2 > 0, r2, 1), 0)


def real(input):
    """The real part (a real tensor is returned as it is)."""
    return Real.apply(input) if input.dtype.kind == "c" else input


def imag(input):
    """The imaginary part of a complex tensor."""
    if input.dtype.kind != "c":
        raise TypeError(f"imag: expected a complex tensor, got {input.dtype}")
    return Imag.apply(input)


def angle(input):
    """The argument in (-pi, pi]; for a real tensor, pi where negative and 0 elsewhere (zero gradient)."""
    if input.dtype.kind == "c":
        return Angle.apply(input)
    from .elementwise import where

    return where(input < 0, math.pi, 0.0 * input)


class ViewAsReal(Function):
    """y[..., 0] = Re z, y[..., 1] = Im z.   dz = dy[..., 0] + i dy[..., 1].   Shapes: (...) -> (..., 2)."""

    saves_inputs = False

    def forward(self, z):
        return np.stack([z.real, z.imag], axis=-1)

    def backward(self, dy):
        return ViewAsComplex.apply(dy)

    def jvp(self, dz):
        return None if dz is None else np.stack([dz.real, dz.imag], axis=-1)


class ViewAsComplex(Function):
    """z = x[..., 0] + i x[..., 1].   dx = (Re dz, Im dz) stacked.   Shapes: (..., 2) -> (...)."""

    saves_inputs = False

    def forward(self, x):
        return (x[..., 0] + 1j * x[..., 1]).astype(_complex_dtype(x.dtype))

    def backward(self, dz):
        return ViewAsReal.apply(dz)

    def jvp(self, dx):
        return None if dx is None else (dx[..., 0] + 1j * dx[..., 1]).astype(self._outputs[0].dtype)


def view_as_real(input):
    """A complex tensor as a real one with a last dim of 2 (real, imaginary)."""
    if input.dtype.kind != "c":
        raise TypeError(f"view_as_real: expected a complex tensor, got {input.dtype}")
    return ViewAsReal.apply(input)


def view_as_complex(input):
    """A real tensor whose last dim has size 2 (real, imaginary) as a complex tensor."""
    if input.dtype.kind != "f" or input.ndim == 0 or input.shape[-1] != 2:
        raise ValueError(f"view_as_complex: expected a float tensor whose last dim has size 2, got {input.dtype} "
                         f"of shape {input.shape}")
    return ViewAsComplex.apply(input)


def complex(real, imag):
    """real + i imag, from two float tensors of one dtype."""
    from .indexing import stack

    if real.dtype != imag.dtype or real.dtype.kind != "f":
        raise TypeError(f"complex: expected two float tensors of the same dtype, got {real.dtype} and {imag.dtype}")
    return view_as_complex(stack([real, imag], -1))


def polar(abs, angle):
    """abs * (cos(angle) + i sin(angle))."""
    from .elementwise import cos, sin

    return complex(abs * cos(angle), abs * sin(angle))


# ---- 1-D transforms --------------------------------------------------------------------------------
def _fit(t, length, dim):
    """`t` cut or zero-padded along `dim` to `length` (the adjoint of fitting the other way)."""
    from .indexing import pad

    extra = length - t.shape[dim]
    if extra == 0:
        return t
    widths = [0, 0] * (t.ndim - dim - 1) + [0, extra]
    return pad(t, widths)


class DFT(Function):
    """One discrete Fourier transform along `dim` (`kind`: c2c, r2c, c2r), as numpy.fft computes it.

    c2c (fft / ifft): y = F x with F the n-point (inverse) DFT, x cut or zero-padded to n.
        dx = F^H dy = the opposite transform with the dual norm, fitted back to x's length.
    r2c (rfft): y = the first n//2 + 1 bins of fft(x), x real.
        dx = Re(ifft(dy zero-padded to n bins, dual norm)), fitted back to x's length.
    c2r (irfft): y = the real n-point signal whose spectrum is x (Hermitian-extended; the imaginary
        parts of the first and, for even n, the middle bin are ignored).
        dx = rfft(dy, dual norm) * w, w = 1 for those two bins and 2 for the others (each stands for
        itself and its mirror image), fitted to x's bin count.
    Written with DFT itself, so it is differentiable again.
    """

    saves_inputs = False

    def forward(self, x, kind, inverse, n, dim, norm):
        self.params = (kind, inverse, n, dim, norm)
        self.in_length = x.shape[dim]
        if kind == "c2c":
            fn = np.fft.ifft if inverse else np.fft.fft
            return fn(x, n=n, axis=dim, norm=norm).astype(_complex_dtype(x.dtype))
        if kind == "r2c":
            return np.fft.rfft(x, n=n, axis=dim, norm=norm).astype(_complex_dtype(x.dtype))
        return np.fft.irfft(x, n=n, axis=dim, norm=norm).astype(_real_dtype(x.dtype))

    def backward(self, dy):
        kind, inverse, n, dim, norm = self.params
        dual = _DUAL[norm]
        if kind == "c2c":
            g = DFT.apply(dy, kind="c2c", inverse=not inverse, n=n, dim=dim, norm=dual)
        elif kind == "r2c":
            full = _fit(dy, n, dim)  # the bins above n//2 did not reach the output
            g = real(DFT.apply(full, kind="c2c", inverse=True, n=n, dim=dim, norm=dual))
        else:
            g = DFT.apply(dy, kind="r2c", inverse=False, n=n, dim=dim, norm=dual)
            g = g * _mirror_weights(n, dim, dy.ndim, dy.dtype)
        return _fit(g, self.in_length, dim)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, *self.params)


def _mirror_weights(n, dim, ndim, dtype):
    bins = n // 2 + 1
    w = np.full(bins, 2.0, dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return Tensor._make(w.reshape((-1,) + (1,) * (ndim - dim - 1)))


def _check(input, n, dim, norm, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"fft.{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind not in "fc":
        input = cast(input, np.float32)
    if input.ndim == 0:
        raise ValueError(f"fft.{op}: expected a tensor with at least one dimension, got a 0-d tensor")
    d = normalize_dim(dim, input.ndim, f"fft.{op}")
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"fft.{op}: n must be a positive int, got {n!r}")
    norm = "backward" if norm is None else norm
    if norm not in _DUAL:
        raise ValueError(f"fft.{op}: norm must be 'backward', 'forward' or 'ortho', got {norm!r}")
    return input, d, norm


def fft(input, n=None, dim=-1, norm=None):
    """The n-point DFT along `dim` (complex result; a real input is taken as complex)."""
    x, d, norm = _check(input, n, dim, norm, "fft")
    x = cast(x, _complex_dtype(x.dtype))
    return DFT.apply(x, kind="c2c", inverse=False, n=int(n or x.shape[d]), dim=d, norm=norm)


def ifft(input, n=None, dim=-1, norm=None):
    """The n-point inverse DFT along `dim`."""
    x, d, norm = _check(input, n, dim, norm, "ifft")
    x = cast(x, _complex_dtype(x.dtype))
    return DFT.apply(x, kind="c2c", inverse=True, n=int(n or x.shape[d]), dim=d, norm=norm)


def rfft(input, n=None, dim=-1, norm=None):
    """The DFT of a real signal: the n//2 + 1 non-negative frequency bins along `dim`."""
    x, d, norm = _check(input, n, dim, norm, "rfft")
    if x.dtype.kind == "c":
        raise TypeError(f"fft.rfft: expected a real input, got {x.dtype}")
    return DFT.apply(x, kind="r2c", inverse=False, n=int(n or x.shape[d]), dim=d, norm=norm)


def irfft(input, n=None, dim=-1, norm=None):
    """The real n-point signal (n = 2 (bins - 1) by default) whose non-negative frequency bins are given."""
    x, d, norm = _check(input, n, dim, norm, "irfft")
    x = cast(x, _complex_dtype(x.dtype))
    n = int(n or 2 * (x.shape[d] - 1))
    if n < 1:
        raise ValueError(f"fft.irfft: invalid number of output points {n} for {x.shape[d]} input bins")
    return DFT.apply(_fit(x, n // 2 + 1, d), kind="c2r", inverse=True, n=n, dim=d, norm=norm)


# ---- n-D transforms, frequencies, shifts ------------------------------------------------------------
def _dims_and_sizes(input, s, dim, op, default_all=True):
    if dim is None:
        dim = tuple(range(input.ndim - len(s), input.ndim)) if s is not None else tuple(range(input.ndim))
    dims = [normalize_dim(d, input.ndim, f"fft.{op}") for d in ((dim,) if isinstance(dim, int) else dim)]
    sizes = [None] * len(dims) if s is None else list(s)
    if len(sizes) != len(dims):
        raise ValueError(f"fft.{op}: s {tuple(s)} and dim {tuple(dims)} must have the same length")
    return dims, sizes


def fftn(input, s=None, dim=None, norm=None):
    """The DFT over several dims (all by default): a 1-D fft along each in turn."""
    dims, sizes = _dims_and_sizes(input, s, dim, "fftn")
    for d, n in zip(dims, sizes):
        input = fft(input, n, d, norm)
    return input


def ifftn(input, s=None, dim=None, norm=None):
    dims, sizes = _dims_and_sizes(input, s, dim, "ifftn")
    for d, n in zip(dims, sizes):
        input = ifft(input, n, d, norm)
    return input


def rfftn(input, s=None, dim=None, norm=None):
    """rfft along the last of `dim`, then fft along the others."""
    dims, sizes = _dims_and_sizes(input, s, dim, "rfftn")
    out = rfft(input, sizes[-1], dims[-1], norm)
    for d, n in zip(dims[:-1], sizes[:-1]):
        out = fft(out, n, d, norm)
    return out


def irfftn(input, s=None, dim=None, norm=None):
    """ifft along all of `dim` but the last, then irfft along the last."""
    dims, sizes = _dims_and_sizes(input, s, dim, "irfftn")
    for d, n in zip(dims[:-1], sizes[:-1]):
        input = ifft(input, n, d, norm)
    return irfft(input, sizes[-1], dims[-1], norm)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return fftn(input, s, dim, norm)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return ifftn(input, s, dim, norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return rfftn(input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return irfftn(input, s, dim, norm)


def fftfreq(n, d=1.0, *, dtype=None):
    """The frequency of each bin of an n-point fft, in cycles per unit of the sample spacing d."""
    from .. import dtypes

    return Tensor._make(np.fft.fftfreq(n, d).astype(dtype or dtypes.get_default_dtype()))


def rfftfreq(n, d=1.0, *, dtype=None):
    """The frequencies of the n//2 + 1 bins of an n-point rfft."""
    from .. import dtypes

    return Tensor._make(np.fft.rfftfreq(n, d).astype(dtype or dtypes.get_default_dtype()))


def fftshift(input, dim=None):
    """Move the zero frequency to the middle (a roll by n // 2 along each dim)."""
    from .shape import roll

    dims = tuple(range(input.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    return roll(input, tuple(input.shape[d] // 2 for d in dims), dims)


def ifftshift(input, dim=None):
    """fftshift's inverse (a roll by -(n // 2))."""
    from .shape import roll

    dims = tuple(range(input.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    return roll(input, tuple(-(input.shape[d] // 2) for d in dims), dims)


# ---- stft -------------------------------------------------------------------------------------------
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None):
    """Short-time Fourier transform, as torch.stft: (freq, frames) per signal, complex.

    The signal (L,) or (B, L) is padded by n_fft // 2 on both sides (center=True), cut into frames of
    n_fft samples every hop_length (default n_fft // 4), each multiplied by the window (default all ones,
    win_length long, zero-padded to n_fft in the middle) and transformed with rfft (onesided, the default
    for real signals) or fft. normalized=True scales by n_fft ** -0.5. return_complex=False gives the
    real and imaginary parts as a last dim of 2. Built from pad, unfold, * and rfft: its gradient is theirs.
    """
    from .indexing import pad
    from .shape import reshape, transpose
    from .slicing import unfold

    if return_complex is None:
        raise ValueError("stft: give return_complex=True (a complex result) or False (real and imaginary parts), "
                         "as PyTorch requires for real inputs")
    if input.ndim not in (1, 2):
        raise ValueError(f"stft: expected a 1-D signal or a 2-D batch of signals, got shape {input.shape}")
    hop = hop_length or n_fft // 4
    win_length = win_length or n_fft
    if not 0 < win_length <= n_fft:
        raise ValueError(f"stft: win_length must be in (0, n_fft={n_fft}], got {win_length}")
    x = reshape(input, (1,) + input.shape) if input.ndim == 1 else input  # (B, L)
    if center:
        x = reshape(pad(reshape(x, (x.shape[0], 1, x.shape[1])), (n_fft // 2, n_fft // 2), mode=pad_mode),
                    (x.shape[0], -1))
    frames = unfold(x, -1, n_fft, hop)  # (B, frames, n_fft)
    if window is None:
        window = Tensor._make(np.ones(win_length, frames.dtype))
    if window.shape != (win_length,):
        raise ValueError(f"stft: window must have shape ({win_length},), got {window.shape}")
    left = (n_fft - win_length) // 2
    frames = frames * pad(window, (left, n_fft - win_length - left))
    one_sided = True if onesided is None else onesided
    spec = (rfft if one_sided else fft)(frames, dim=-1, norm="ortho" if normalized else "backward")
    spec = transpose(spec, 1, 2)  # (B, freq, frames)
    if input.ndim == 1:
        spec = reshape(spec, spec.shape[1:])
    return spec if return_complex else view_as_real(spec)
