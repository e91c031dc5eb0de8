"""`Parameter`: a Tensor that a Module registers as one of its learnable weights."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad (by default) and that `Module.__setattr__` registers.

    `Parameter(data)` shares memory with `data` when it is a Tensor or a NumPy array (like
    torch.nn.Parameter); other data (lists, numbers) is converted. `Parameter()` is an empty float tensor.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty((0,), dtypes.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.array
        elif isinstance(data, np.ndarray):
            array = data
        else:
            array = Tensor(data).array
        super().__init__(array, requires_grad=requires_grad, dtype=array.dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
