"""`glassnet.accelerator`: PyTorch's device-neutral questions about a GPU-like accelerator, as newer example
programs ask them (`device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else
torch.device("cpu")`). glassnet computes on the CPU only, so there is no accelerator: `is_available()` is
False and `current_accelerator()` is None, as PyTorch answers on a machine without one."""

__all__ = ["is_available", "current_accelerator", "device_count", "synchronize"]


def is_available():
    return False


def current_accelerator(check_available=False):
    """The accelerator's device type, or None: there is none."""
    return None


def device_count():
    return 0


def synchronize(device=None):
    """There is no asynchronous accelerator work to wait for."""
