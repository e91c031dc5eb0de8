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
and is loaded as it is.)

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


def save(obj, path):
    """Write `obj` (a state dict, or nested dicts/lists of tensors and plain values) to `path`, atomically,
    with a SHA-256 of its content in the metadata."""
    from safetensors.numpy import save as to_bytes

    path = os.fspath(path)
    if _is_flat_state_dict(obj):
        tensors = {k: _contiguous(v.array if isinstance(v, Tensor) else np.asarray(v)) for k, v in obj.items()}
        metadata = {"format": "glassnet.state_dict"}
    else:
        tensors = {}
        metadata = {_TREE: json.dumps(_pack(obj, [], tensors))}
    metadata[_CHECKSUM] = checksum(tensors, metadata)
    _write_atomic(path, to_bytes(tensors, metadata=metadata))


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


def _header_metadata(raw, path):
    """The `__metadata__` of a safetensors file's JSON header (8-byte little-endian length, then JSON)."""
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
    return header.get("__metadata__") or {}


def load(path):
    """Read what `save` wrote: a dict of name -> Tensor for a state dict, else the saved structure.

    Raises FileNotFoundError for a missing file and DamagedFileError for one that is truncated, has a
    damaged header, or whose content does not match its checksum."""
    from safetensors.numpy import load as from_bytes

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no file at {path}")
    with open(path, "rb") as f:
        raw = f.read()
    metadata = _header_metadata(raw, path)
    try:
        tensors = from_bytes(raw)
    except Exception as e:  # safetensors raises its own SafetensorError for every malformed file
        raise DamagedFileError(f"load: {path} is damaged: {e}") from None
    if _CHECKSUM in metadata and checksum(tensors, metadata) != metadata[_CHECKSUM]:
        raise DamagedFileError(f"load: {path} is damaged: its content does not match the SHA-256 stored in it")
    if _TREE not in metadata:
        return {k: Tensor._make(v) for k, v in tensors.items()}
    try:
        return _unpack(json.loads(metadata[_TREE]), tensors)
    except (ValueError, KeyError, TypeError) as e:
        raise DamagedFileError(f"load: {path} is damaged: its structure cannot be read ({e!r})") from None
