"""`Parameter` and `Buffer`: tensors that a Module registers, when assigned as attributes, as one of its
learnable weights or as one of its buffers."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _shared_array(data):
    """The array behind `data` (shared with a Tensor or NumPy array, converted otherwise); None: empty."""
    if data is None:
        return np.empty((0,), dtypes.get_default_dtype())
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, np.ndarray):
        return data
    return Tensor(data).array


class Parameter(Tensor):
    """A leaf Tensor that requires grad (by default) and that `Module.__setattr__` registers.

    `Parameter(data)` shares memory with `data` when it is a Tensor or a NumPy array (like
    torch.nn.Parameter); other data (lists, numbers) is converted. `Parameter()` is an empty float tensor.
    """

    def __init__(self, data=None, requires_grad=True):
        array = _shared_array(data)
        super().__init__(array, requires_grad=requires_grad, dtype=array.dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that `Module.__setattr__` registers as a buffer (state that is not learned, such as a
    causal mask or running statistics): `self.mask = nn.Buffer(torch.ones(4, 4), persistent=False)` is
    `self.register_buffer("mask", torch.ones(4, 4), persistent=False)`.

    Shares memory with `data`, outside any graph, and keeps its `requires_grad` (like torch.nn.Buffer).
    persistent: whether the buffer goes into the module's `state_dict`.
    """

    def __init__(self, data=None, *, persistent=True):
        array = _shared_array(data)
        requires_grad = isinstance(data, Tensor) and data.requires_grad
        super().__init__(array, requires_grad=requires_grad, dtype=array.dtype)
        self.persistent = bool(persistent)
