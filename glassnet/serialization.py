"""`glassnet.save` and `glassnet.load`: tensors on disk in the safetensors format, never pickle.

A flat state dict (names -> tensors) is written as a plain safetensors file whose keys are the
state-dict keys, so other tools (and PyTorch, via `safetensors.torch.load_file`) read it directly.
Any other object (a checkpoint: nested dicts and lists of tensors, numbers, strings) is split in two:
its tensors go into the file under their path ("optimizer/state/0/exp_avg") and the rest of the
structure into the file's JSON metadata. Files are written to a temporary name and renamed, so a
crash never leaves half a file under the real name.
"""
import json
import os
import tempfile

import numpy as np

from .tensor import Tensor

_TREE = "glassnet.tree"


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


def save(obj, path):
    """Write `obj` (a state dict, or nested dicts/lists of tensors and plain values) to `path`, atomically."""
    from safetensors.numpy import save_file

    path = os.fspath(path)
    if _is_flat_state_dict(obj):
        tensors = {k: _contiguous(v.array if isinstance(v, Tensor) else np.asarray(v)) for k, v in obj.items()}
        metadata = {"format": "glassnet.state_dict"}
    else:
        tensors = {}
        metadata = {_TREE: json.dumps(_pack(obj, [], tensors))}
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path):
    """Read what `save` wrote: a dict of name -> Tensor for a state dict, else the saved structure."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no file at {path}")
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    tensors = load_file(path)
    if _TREE in metadata:
        return _unpack(json.loads(metadata[_TREE]), tensors)
    return {k: Tensor._make(v) for k, v in tensors.items()}
