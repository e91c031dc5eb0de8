"""Devices, under PyTorch's names: glassnet computes with NumPy, so the CPU is the one device there is.

`glassnet.device("cpu")`, `tensor.device`, the `device=` keyword of the factories and `.to(device)` work as
in PyTorch so that programs written for it run unchanged. Asking for another device ("cuda", "mps")
raises an error that says so, instead of silently staying on the CPU; `glassnet.cuda.is_available()`
answers False, so the usual `"cuda" if torch.cuda.is_available() else "cpu"` picks the CPU.
"""
import builtins

__all__ = ["device", "check_device"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta")


class device:
    """A device name: `device("cpu")`, `device("cuda", 0)`, `device("cuda:1")` (like torch.device)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: the index is given twice in device({type!r}, {index!r})")
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type!r} (expected 'cpu', 'cuda' or 'cuda:N')")
            index = builtins.int(number)
        if name not in _KNOWN:
            raise ValueError(f"device: unknown device type {name!r}; expected one of {', '.join(_KNOWN)}")
        if index is not None and (not isinstance(index, builtins.int) or index < 0):
            raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
        self.type, self.index = name, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


def check_device(value, op):
    """`value` (None, a str, an int GPU ordinal or a device) as a device; an error unless it is the CPU."""
    if value is None:
        return CPU
    if isinstance(value, builtins.int) and not isinstance(value, builtins.bool):
        value = device("cuda", value)
    dev = value if isinstance(value, device) else device(value)
    if dev.type != "cpu":
        raise RuntimeError(
            f"{op}: device {str(dev)!r} is not available: glassnet computes with NumPy on the CPU only; "
            "use device='cpu' (glassnet.cuda.is_available() is False)"
        )
    return dev


def parse_to(args, kwargs, op="to"):
    """The arguments of `Tensor.to` / `Module.to` -> (dtype or None, copy).

    Accepted as in PyTorch: to(dtype), to(device), to(device, dtype), to(tensor) (its dtype), and the
    keywords device=, dtype=, non_blocking=, copy=, memory_format=. A device other than the CPU raises.
    """
    import numpy as np

    kwargs = dict(kwargs)
    dtype, copy = kwargs.pop("dtype", None), bool(kwargs.pop("copy", False))
    check_device(kwargs.pop("device", None), op)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, (str, device, builtins.int)) and not isinstance(a, builtins.bool):
            check_device(a, op)
        elif hasattr(a, "array") and hasattr(a, "grad_fn"):  # a Tensor: take its dtype (and device)
            dtype = a.dtype
        elif isinstance(a, builtins.bool):  # to(dtype, non_blocking) / to(device, dtype, non_blocking)
            continue
        elif a is not None:
            dtype = a
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError as error:           # bfloat16 says why in its own error
            raise TypeError(f"{op}: expected a dtype or a device, got {dtype!r} ({error})") from None
    return dtype, copy
