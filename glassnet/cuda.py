"""`glassnet.cuda`: what PyTorch programs ask about the GPU before choosing a device.

glassnet has no GPU path, so `is_available()` is False and `device_count()` is 0; seeding the GPU
generators does nothing, as PyTorch does when there is no GPU. Anything that would need a GPU raises
through `glassnet.device.check_device`.
"""

import warnings
from types import SimpleNamespace

__all__ = ["is_available", "is_bf16_supported", "device_count", "manual_seed", "manual_seed_all", "synchronize",
           "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved", "amp"]


def is_available():
    return False


def is_bf16_supported(including_emulation=True):
    """No GPU, so no GPU bfloat16 (nanoGPT asks before choosing its dtype)."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Nothing to seed without a GPU (PyTorch silently does the same)."""


def manual_seed_all(seed):
    """Nothing to seed without a GPU (PyTorch silently does the same)."""


def synchronize(device=None):
    """There is no asynchronous GPU work to wait for."""


def empty_cache():
    """No GPU memory to give back (training scripts call this between phases)."""


def memory_allocated(device=None):
    """GPU memory in use, in bytes: none (PyTorch answers 0 without a GPU too)."""
    return 0


max_memory_allocated = memory_reserved = memory_allocated


def _cuda_grad_scaler(*args, enabled=True, **kwargs):
    """torch.cuda.amp.GradScaler: with no GPU, a disabled scaler (PyTorch warns and does the same)."""
    from .amp import GradScaler

    if enabled:
        warnings.warn("torch.cuda.amp.GradScaler is enabled, but there is no GPU: disabling it", stacklevel=2)
    return GradScaler(*args, enabled=False, **kwargs)


def _cuda_autocast(enabled=True, dtype=None, cache_enabled=None):
    from .amp import autocast

    return autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


# torch.cuda.amp.GradScaler / autocast, as nanoGPT and other GPU-first programs call them
amp = SimpleNamespace(GradScaler=_cuda_grad_scaler, autocast=_cuda_autocast)
