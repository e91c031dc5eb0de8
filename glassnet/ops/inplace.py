"""In-place operations with PyTorch's semantics: `x.add_(y)`, `x += y`, `x[i] = v`, `x.zero_()`, ...

The result is written into the tensor's own array, so every tensor that views the same memory sees it.

Outside the graph (grad mode off, or nothing involved requires grad) that is all. Inside the graph the
operation is recorded like its out-of-place twin: the tensor's history becomes op(previous value,
operands), and the tensor object now stands for the new node's output:

    y = x * 2          y.grad_fn = MulBackward(x, 2)
    y.add_(b)          y.grad_fn = AddBackward(<previous y>, b) -> MulBackward(x, 2)

A leaf that requires grad (a parameter, an input) may not be changed in place while the graph is
recorded (PyTorch's rule): change it under `no_grad()`, or through `.data`.

Version counters. Each tensor carries a count of the in-place changes of its storage, shared with the
tensors that view it (reshape, transpose, basic indexing, detach; not `.data`). A recorded Function keeps
the versions of its inputs and outputs; backward refuses to read one that has changed since
(`Function.check_saved_inputs`, `Function.output`): PyTorch's "modified by an inplace operation" error
instead of a gradient silently computed from the new values.
"""
import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .indexing import getitem, to_index
from .shape import cast, sum_to

__all__ = ["apply_inplace", "overwrite", "index_put"]


def apply_inplace(tensor, op, compute, *operands, reads_self=True):
    """Write `compute(tensor, *operands)` into `tensor`'s storage and return `tensor`.

    `compute` is the out-of-place operation (a function of Tensors); `reads_self=False` says that its
    backward never reads the previous value (add, sub, fill), which saves a copy when it is recorded.
    """
    record = grad_mode._enabled and (tensor._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in operands))
    if not record:
        if compute is overwrite:  # fill_, zero_, copy_, x[i] = v: straight into the storage
            _assign(tensor, operands[0], operands[1], op)
        else:
            with grad_mode.no_grad():
                result = compute(tensor, *operands)
            _write(tensor, result.array, op)
        tensor._bump_version()
        return tensor
    if tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (a parameter or an input) is being used in an in-place "
            "operation; do the update under glassnet.no_grad() (or on .data), or use the out-of-place form")
    if tensor._base is not None and tensor._base._requires_grad:
        raise RuntimeError(
            f"{op}: in-place operation on a view (shape {tuple(tensor.shape)}) of a tensor that requires grad "
            "is not supported; use the out-of-place form, or change a clone()")
    previous = Tensor._make(tensor.array.copy() if reads_self else tensor.array, grad_fn=tensor.grad_fn,
                            output_index=tensor._output_index)
    result = compute(previous, *operands)
    _write(tensor, result.array, op)
    tensor._bump_version()
    node = result.grad_fn
    tensor.grad_fn, tensor._output_index, tensor._requires_grad = node, result._output_index, node is not None
    if node is not None:
        node.rebind_output(result._output_index, tensor)
    return tensor


def _write(tensor, array, op):
    """Copy `array` into tensor's storage: same shape (no broadcasting of the destination), and a dtype
    that casts within its kind (an int tensor cannot take float results), as in PyTorch."""
    if array.shape != tensor.shape:
        raise RuntimeError(f"{op}: the result has shape {tuple(array.shape)}, which does not match the shape "
                           f"{tuple(tensor.shape)} of the tensor changed in place")
    if array.dtype != tensor.dtype and not np.can_cast(array.dtype, tensor.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {array.dtype} can't be cast to the desired output type "
                           f"{tensor.dtype}")
    np.copyto(tensor.array, array, casting="unsafe")


def _assign(tensor, index, value, op):
    """Outside the graph, fill_/copy_/setitem write straight into the storage (casting, as PyTorch does)."""
    tensor.array[index] = value.array if isinstance(value, Tensor) else value


def overwrite(tensor, index, value):
    """The out-of-place twin of fill_, zero_, copy_ and `tensor[index] = value`."""
    return index_put(tensor, index, value)


class IndexPut(Function):
    """y = x with y[index] = v (the out-of-place twin of `x[index] = v`).

    Shapes: x (*S), v broadcastable to the shape of x[index]; y (*S).
    Backward: dx = dy with zeros at `index` (those entries were overwritten); dv = dy[index], summed
    back to v's shape (undoing the broadcast).
    """

    saves_inputs = False

    def forward(self, x, v, index):
        self.index = index
        y = x.copy()
        y[index] = v
        return y

    def backward(self, dy):
        dx = index_put(dy, self.index, 0.0) if self.needs_input_grad[0] else None
        dv = sum_to(getitem(dy, self.index), self.inputs[1].shape) if self.needs_input_grad[1] else None
        return dx, dv

    def jvp(self, dx, dv):  # dy = dx with dy[index] = dv (zeros for a missing tangent)
        y = self._outputs[0]
        return self.forward(np.zeros_like(y) if dx is None else dx, 0 if dv is None else dv, self.index)


def index_put(input, index, value):
    """A copy of `input` with `input[index] = value` (differentiable in both)."""
    index = to_index(index)
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value, dtype=input.dtype))
    elif value.dtype != input.dtype:
        value = cast(value, input.dtype)
    return IndexPut.apply(input, value, index=index)
