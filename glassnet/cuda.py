"""`glassnet.cuda`: what PyTorch programs ask about the GPU before choosing a device.

glassnet has no GPU path, so `is_available()` is False and `device_count()` is 0; seeding the GPU
generators does nothing, as PyTorch does when there is no GPU. Anything that would need a GPU raises
through `glassnet.device.check_device`.
"""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize"]


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Nothing to seed without a GPU (PyTorch silently does the same)."""


def manual_seed_all(seed):
    """Nothing to seed without a GPU (PyTorch silently does the same)."""


def synchronize(device=None):
    """There is no asynchronous GPU work to wait for."""
