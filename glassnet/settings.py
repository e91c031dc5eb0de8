"""Process-wide switches that PyTorch programs set at the top: the number of threads, the precision of
float32 matrix products, deterministic algorithms.

    torch.set_num_threads(1)
    torch.set_float32_matmul_precision("high")
    torch.use_deterministic_algorithms(True)

What they mean here. glassnet's products run in NumPy's BLAS: `set_num_threads` limits its threads through
threadpoolctl when that package is installed (without it the count stays what OMP_NUM_THREADS said when
NumPy loaded, and the call only records the number). NumPy multiplies float32 in full float32 (PyTorch's
"highest"), whatever the precision setting says; the setting is kept so that programs can read it back.
glassnet's operations give the same result on every run with the same thread count, so deterministic
mode changes nothing and is kept for reading back too.
"""
import os

__all__ = ["set_num_threads", "get_num_threads", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

_PRECISIONS = ("highest", "high", "medium")
_state = {"threads": None, "precision": "highest", "deterministic": False}


def set_num_threads(n):
    """Use at most `n` threads for matrix products (see the module docstring)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _state["threads"] = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    """The number set by `set_num_threads`, else the largest thread count of the loaded BLAS libraries
    (known through threadpoolctl), else the number of CPUs."""
    if _state["threads"] is not None:
        return _state["threads"]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium': recorded; float32 products are always computed in float32 here."""
    if precision not in _PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: expected one of {', '.join(_PRECISIONS)}, got {precision!r}")
    _state["precision"] = precision


def get_float32_matmul_precision():
    return _state["precision"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded: glassnet's operations are deterministic already."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: expected a bool, got {mode!r}")
    _state["deterministic"] = mode


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]
