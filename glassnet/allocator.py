"""Keep freed memory for reuse: glibc's malloc tuned at import, the way deep-learning frameworks cache memory.

A training step allocates and frees the same large temporaries (activations, gradients, im2col columns)
every time. By default glibc serves blocks over 128 KiB (a threshold that adapts up to 32 MiB) with
fresh `mmap` calls and returns them to the kernel on `free`, and trims the heap's top whenever more
than 128 KiB is free there, so each step pays thousands of page faults to get the same memory back
(a 2-layer LSTM step: about 4,800 faults and 10 ms of system time out of 70). Raising the mmap
threshold to its maximum (32 MiB) and the trim threshold to 1 GiB makes freed blocks stay in the
process and be reused: the faults drop to zero. The price is that memory freed after a peak is kept
rather than given back to the system, as PyTorch's caching allocators also do.

Set GLASSNET_MALLOC=default to leave malloc as it is. Nothing happens on other C libraries.
"""
import ctypes
import ctypes.util
import os
import sys

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's upper limit on 64-bit systems
TRIM_THRESHOLD = 2**30


def tune_malloc():
    """Raise glibc's mmap and trim thresholds (see the module docstring); True if it was done."""
    if os.environ.get("GLASSNET_MALLOC") == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
