"""`glassnet.save` and `glassnet.load`: tensors on disk in the safetensors format, never pickle.

A flat state dict (names -> tensors) is written as a plain safetensors file whose keys are the
state-dict keys, so other tools (and PyTorch, via `safetensors.torch.load_file`) read it directly.
Any other object (a checkpoint: nested dicts and lists of tensors, numbers, strings) is split in two:
its tensors go into the file under their path ("optimizer/state/0/exp_avg") and the rest of the
structure into the file's JSON metadata.

Integrity. Every file carries, in its metadata, a SHA-256 of its content: each tensor's name, dtype,
shape and bytes, and the structure. `load` recomputes it and refuses a file that does not match (a
flipped byte, a relabelled dtype), just as it refuses a truncated file or a damaged header, with a
`DamagedFileError` that names the file. (A safetensors file written by another tool has no checksum
and is loaded as it is; its bfloat16 tensors, the usual Hugging Face format, become float32.)

`save(obj, f)` and `load(f)` also take binary file objects, as torch.save and torch.load do. A whole
Module or Optimizer is refused with one line that points at `state_dict()`: that would need pickle.

Atomic writes. A file is written to a temporary name in the same folder (".tmp-*.safetensors"),
flushed to disk and renamed, so a crash or a kill never leaves half a file under the real name; a
temporary left by a killed process is removed by `remove_stale_temporaries`.
"""
import glob
import hashlib
import json
import os
import tempfile

import numpy as np

from .device import check_device
from .tensor import Tensor

__all__ = ["save", "load", "DamagedFileError", "remove_stale_temporaries"]

_TREE = "glassnet.tree"
_CHECKSUM = "glassnet.sha256"
_TEMP_PREFIX = ".tmp-"
_TEMP_SUFFIX = ".safetensors"


class DamagedFileError(ValueError):
    """A file that is not a readable safetensors file, or whose content does not match its checksum."""


def _contiguous(array):
    # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _pack(obj, path, tensors):
    if isinstance(obj, (Tensor, np.ndarray)):
        array = obj.array if isinstance(obj, Tensor) else obj
        key = "/".join(path) or "tensor"
        tensors[key] = _contiguous(array)
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if not all(isinstance(k, (int, str)) for k in obj):
            raise TypeError(f"save: dict keys must be str or int, got {[type(k).__name__ for k in obj]}")
        return {"__dict__": [[k, _pack(v, path + [str(k)], tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [_pack(v, path + [str(i)], tensors) for i, v in enumerate(obj)],
                "tuple": isinstance(obj, tuple)}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__} at {'/'.join(path) or 'top level'}")


def _unpack(node, tensors):
    if isinstance(node, dict):
        if "__tensor__" in node:
            return Tensor._make(tensors[node["__tensor__"]])
        if "__dict__" in node:
            return {k: _unpack(v, tensors) for k, v in node["__dict__"]}
        if "__list__" in node:
            items = [_unpack(v, tensors) for v in node["__list__"]]
            return tuple(items) if node["tuple"] else items
    return node


def _is_flat_state_dict(obj):
    return isinstance(obj, dict) and obj and all(
        isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items())


def checksum(tensors, metadata):
    """SHA-256 (hex) of the tensors (name, dtype, shape, bytes, in name order) and the other metadata."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        array = tensors[key]
        h.update(json.dumps([key, array.dtype.str, list(array.shape)]).encode())
        h.update(memoryview(_contiguous(array)).cast("B"))
    h.update(json.dumps({k: v for k, v in sorted(metadata.items()) if k != _CHECKSUM}).encode())
    return h.hexdigest()


def save(obj, f):
    """Write `obj` (a state dict, or nested dicts/lists of tensors and plain values) to `f`, with a SHA-256 of
    its content in the metadata. `f` is a path (written atomically) or a binary file object (as in
    torch.save(obj, f)). A whole Module is refused: glassnet never pickles; save its state_dict()."""
    from safetensors.numpy import save as to_bytes

    _refuse_objects(obj)
    if _is_flat_state_dict(obj):
        tensors = {k: _contiguous(v.array if isinstance(v, Tensor) else np.asarray(v)) for k, v in obj.items()}
        metadata = {"format": "glassnet.state_dict"}
    else:
        tensors = {}
        metadata = {_TREE: json.dumps(_pack(obj, [], tensors))}
    metadata[_CHECKSUM] = checksum(tensors, metadata)
    data = to_bytes(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        _write_atomic(os.fspath(f), data)


def _refuse_objects(obj):
    """One clear line for the PyTorch habit of saving a whole model or optimizer object (that needs pickle)."""
    for kind in ("Module", "Optimizer"):
        if any(c.__name__ == kind for c in type(obj).__mro__):
            raise TypeError(f"save: a whole {type(obj).__name__} cannot be saved: glassnet stores tensors in "
                            "safetensors files and never pickles objects. Save its state: "
                            f"glassnet.save(obj.state_dict(), path), then obj.load_state_dict(glassnet.load(path))")


def _write_atomic(path, data):
    """Write bytes to a temporary file in the target's folder, flush it to disk, rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_temporaries(folder):
    """Remove the temporary files that a killed `save` left in `folder`; returns their paths."""
    stale = glob.glob(os.path.join(os.fspath(folder), f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"))
    for path in stale:
        os.remove(path)
    return stale


def _header(raw, path):
    """A safetensors file's JSON header (8-byte little-endian length, then JSON): tensors and `__metadata__`."""
    if len(raw) < 8:
        raise DamagedFileError(f"load: {path} is damaged: {len(raw)} bytes, too short for a safetensors header")
    size = int.from_bytes(raw[:8], "little")
    if size > len(raw) - 8:
        raise DamagedFileError(f"load: {path} is damaged or truncated: its header claims {size} bytes, the file has "
                               f"{len(raw)}")
    try:
        header = json.loads(raw[8:8 + size])
    except (UnicodeDecodeError, ValueError) as e:
        raise DamagedFileError(f"load: {path} is damaged: its header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise DamagedFileError(f"load: {path} is damaged: its header is not a JSON object")
    return header


def load(f, map_location=None, weights_only=None, **unused):
    """Read what `save` wrote: a dict of name -> Tensor for a state dict, else the saved structure.

    `f` is a path or a binary file object (torch.load's map_location and weights_only are accepted; only
    the CPU exists). A safetensors file written by another tool loads too; its bfloat16 tensors are
    widened to float32, since NumPy has no bfloat16 (the widening is exact). Raises FileNotFoundError for
    a missing file and DamagedFileError for one that is truncated, has a damaged header, or whose content
    does not match its checksum."""
    if map_location is not None and not callable(map_location):
        check_device(map_location if not isinstance(map_location, dict) else "cpu", "load")
    if hasattr(f, "read"):
        raw, path = f.read(), getattr(f, "name", "<file object>")
    else:
        path = os.fspath(f)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"load: no file at {path}")
        with open(path, "rb") as stream:
            raw = stream.read()
    header = _header(raw, path)
    metadata = header.get("__metadata__") or {}
    tensors = _tensors(raw, header, path)
    if _CHECKSUM in metadata and checksum(tensors, metadata) != metadata[_CHECKSUM]:
        raise DamagedFileError(f"load: {path} is damaged: its content does not match the SHA-256 stored in it")
    if _TREE not in metadata:
        return {k: Tensor._make(v) for k, v in tensors.items()}
    try:
        return _unpack(json.loads(metadata[_TREE]), tensors)
    except (ValueError, KeyError, TypeError) as e:
        raise DamagedFileError(f"load: {path} is damaged: its structure cannot be read ({e!r})") from None


def _tensors(raw, header, path):
    """name -> array of a safetensors file's bytes; bfloat16 tensors widened to float32 (NumPy has no bfloat16:
    a bfloat16 is the top 16 bits of the float32 of the same value)."""
    from safetensors.numpy import load as from_bytes

    bf16 = [k for k, v in header.items() if k != "__metadata__" and isinstance(v, dict) and v.get("dtype") == "BF16"]
    try:
        if not bf16:
            return from_bytes(raw)
        start = 8 + int.from_bytes(raw[:8], "little")
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            lo, hi = info["data_offsets"]
            chunk = np.frombuffer(raw, dtype=_SAFETENSORS_DTYPES[info["dtype"]], count=(hi - lo) // np.dtype(
                _SAFETENSORS_DTYPES[info["dtype"]]).itemsize, offset=start + lo)
            if info["dtype"] == "BF16":
                chunk = (chunk.astype(np.uint32) << 16).view(np.float32)
            out[name] = chunk.reshape(info["shape"]).copy()
        return out
    except Exception as e:  # safetensors raises its own SafetensorError for every malformed file
        raise DamagedFileError(f"load: {path} is damaged: {e}") from None


_SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
                       "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
