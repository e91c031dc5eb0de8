"""torch.fft under glassnet's name: the transforms are defined (forward and backward) in
glassnet/ops/fourier.py, which also explains how gradients of complex tensors are defined."""
from .ops.fourier import (  # noqa: F401
    fft, fft2, fftfreq, fftn, fftshift, ifft, ifft2, ifftn, ifftshift, irfft, irfft2, irfftn, rfft, rfft2, rfftfreq,
    rfftn,
)
