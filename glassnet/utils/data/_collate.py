"""`default_collate` (a list of samples -> one batch) and `default_convert` (one sample -> tensors)."""
import collections.abc
import numbers

import numpy as np

from ... import dtypes
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _stack_arrays(arrays, what):
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"default_collate: stack expects each {what} to be equal size, but got {list(first)} "
                               f"at entry 0 and {list(a.shape)} at entry {i}")
    return np.stack(arrays)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_collate(batch):
    """Merge a list of samples into a batch, recursively, like torch's default_collate.

    Tensors and NumPy arrays are stacked along a new first dimension (shapes must agree); Python ints
    become an int64 tensor, bools a bool tensor, floats a tensor of the default float dtype (float32;
    PyTorch uses float64 here); NumPy scalars keep their dtype. Strings stay a list. A dict gives a
    dict of collated values, a namedtuple the same namedtuple, a tuple or list a list of collated
    columns (all samples must have the same length).
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        for i, t in enumerate(batch):
            if not isinstance(t, Tensor):
                raise TypeError(f"default_collate: entry 0 is a Tensor but entry {i} is a {type(t).__name__}")
        if any(t.requires_grad for t in batch):
            from ... import ops  # tracked stack only when a sample needs gradients

            return ops.stack(list(batch))
        return Tensor._make(_stack_arrays([t.array for t in batch], "tensor"))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: cannot collate NumPy arrays of dtype {elem.dtype}")
        return Tensor._make(_stack_arrays([np.asarray(a) for a in batch], "array"))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._make(np.array(batch, dtype=dtypes.get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(col)) for col in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        for i, s in enumerate(batch):
            if len(s) != n:
                raise RuntimeError(f"default_collate: each element in list of batch should be of equal size, "
                                   f"entry 0 has {n} items but entry {i} has {len(s)}")
        columns = [default_collate(list(col)) for col in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data):
    """Turn the NumPy arrays inside one sample into tensors (used when automatic batching is off)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUSV" else Tensor._make(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor._make(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(v) for key, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, tuple):
        return [default_convert(v) for v in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(v) for v in data])
        except TypeError:
            return [default_convert(v) for v in data]
    return data
