"""Padding layers over nn.functional.pad: zero, constant, reflection, replication and circular padding of the
last 1, 2 or 3 dimensions. `padding` is an int (every side) or a tuple (left, right[, top, bottom[, front,
back]]), starting from the last dimension, as PyTorch."""
from ...ops.indexing import pad
from .module import Module

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
           for d in (1, 2, 3)]


def _widths(cls, padding, dims):
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * (2 * dims)
    padding = tuple(padding)
    if len(padding) != 2 * dims or not all(isinstance(p, int) and not isinstance(p, bool) for p in padding):
        raise ValueError(f"{cls}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    return padding


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = _widths(type(self).__name__, padding, self.dims)
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding, value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


def _make(kind, base, mode, dims):
    doc = f"{kind} padding of the last {dims} dimension{'s' if dims > 1 else ''} (mode '{mode}' of F.pad)."
    return type(f"{kind}Pad{dims}d", (base,), {"mode": mode, "dims": dims, "__doc__": doc, "__module__": __name__})


for _d in (1, 2, 3):
    globals()[f"ZeroPad{_d}d"] = _make("Zero", _ZeroPadNd, "constant", _d)
    globals()[f"ConstantPad{_d}d"] = _make("Constant", _ConstantPadNd, "constant", _d)
    globals()[f"ReflectionPad{_d}d"] = _make("Reflection", _PadNd, "reflect", _d)
    globals()[f"ReplicationPad{_d}d"] = _make("Replication", _PadNd, "replicate", _d)
    globals()[f"CircularPad{_d}d"] = _make("Circular", _PadNd, "circular", _d)
