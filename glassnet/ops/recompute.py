"""Higher-order gradients of a fused operation by recomputing it from Tensor operations.

A fused operation's backward is raw NumPy for speed, so it cannot be recorded. When the backward itself
must be recorded (create_graph=True), the operation can instead hand `vjp_by_recompute` the same
computation written as glassnet Tensor operations, `fn(*inputs) -> output(s)`, and get its
vector-Jacobian product J^T dy as Tensors that belong to the graph:

    Recompute(fn).forward:   evaluate fn on private leaf copies of the inputs (a graph of its own)
    vjp(fn)(x, dy)         = autograd.grad(fn(x), x, dy, create_graph=True)     (also a Tensor function)
    Recompute(fn).backward = Recompute(vjp(fn))(x, dy)

The private copies keep the nested backward from walking the caller's graph; the Recompute node joins
the result to the real inputs. Since a Recompute's backward is again a Recompute, gradients of any order
work, each one costing a recomputation of the operation.
"""
import numpy as np

from ..autograd.backward import grad as _grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["Recompute", "vjp_by_recompute"]


class Recompute(Function):
    """outputs = fn(*inputs) (floating point Tensors in and out), computed on private leaf copies of the
    inputs.   Backward: Recompute(vjp(fn)) on (inputs, output gradients), see the module docstring."""

    def forward(self, *arrays, fn):
        self.fn = fn
        with enable_grad():  # fn may itself be a vjp, which needs a graph
            out = fn(*[Tensor._make(a).requires_grad_() for a in arrays])
        self.single = isinstance(out, Tensor)
        outs = (out,) if self.single else tuple(out)
        arrays_out = tuple(np.array(o.array) for o in outs)  # own copies: nothing of the private graph leaks
        return arrays_out[0] if self.single else arrays_out

    def backward(self, *grad_outputs):
        return vjp_by_recompute(self.fn, self.inputs, grad_outputs)


def vjp_by_recompute(fn, inputs, grad_outputs):
    """J^T grad_outputs for outputs = fn(*inputs), one Tensor per input (zeros where unused), recorded so
    that it can be differentiated again."""
    n = len(inputs)

    def vjp(*args):
        xs, dys = args[:n], args[n:]
        out = fn(*xs)
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        pairs = [(o, dy) for o, dy in zip(outs, dys) if o.requires_grad]
        grads = _grad([o for o, _ in pairs], list(xs), [dy for _, dy in pairs], create_graph=True,
                      allow_unused=True) if pairs else [None] * n
        return tuple(x * 0 if g is None else g for g, x in zip(grads, xs))

    out = Recompute.apply(*inputs, *grad_outputs, fn=vjp)
    return (out,) if isinstance(out, Tensor) else out
