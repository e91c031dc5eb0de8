"""`backward` and `grad`: the entry points of the engine, with PyTorch's signatures."""
import numpy as np

from . import engine


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs, grad_outputs, op):
    from ..tensor import Tensor

    grads = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise ValueError(f"{op}: {len(grads)} grad_outputs for {len(outputs)} outputs")
    result = []
    for out, g in zip(outputs, grads):
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"{op}: grad can be implicitly created only for scalar outputs, "
                                   f"got shape {out.shape}")
            g = Tensor._make(np.ones_like(out.array))
        elif g.shape != out.shape:
            raise RuntimeError(f"{op}: grad_output of shape {g.shape} for an output of shape {out.shape}")
        result.append(g)
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Sum of the gradients of `tensors` (weighted by `grad_tensors`) into the leaves' `.grad`."""
    tensors = _as_list(tensors)
    grads = _root_grads(tensors, grad_tensors, "backward")
    engine.run_backward(tensors, grads, create_graph if retain_graph is None else retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple (no `.grad` is touched).

    With create_graph=True the returned gradients are part of the graph, so they can be
    differentiated again (gradient penalties, Hessian-vector products).
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    grads = _root_grads(outputs, grad_outputs, "grad")
    result = engine.run_backward(outputs, grads, create_graph if retain_graph is None else retain_graph,
                                 create_graph, capture=inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
    return tuple(result)
