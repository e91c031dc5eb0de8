"""Flatten a list of parameters into one vector and back (for second-order methods, line searches)."""
import numpy as np

from ...autograd import Function, is_grad_enabled
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


class FlattenConcat(Function):
    """Concatenate the flattened inputs into one vector.

    Forward:  y = [x_1.ravel(), ..., x_n.ravel()]            shapes: x_i any -> y (sum of sizes,)
    Backward: dx_i = dy[o_i : o_i + size_i].reshape(x_i.shape), o_i the offset of x_i (slices of dy
    as Tensor operations under create_graph, so it is differentiable again).
    Forward mode: the tangents flattened and joined the same way.
    """

    def forward(self, *arrays):
        self.shapes = [a.shape for a in arrays]
        return np.concatenate([a.ravel() for a in arrays])

    def backward(self, dy):
        piece = (lambda a, b: dy[a:b]) if is_grad_enabled() else (lambda a, b: Tensor._make(dy.array[a:b]))
        grads, start = [], 0
        for shape, needs in zip(self.shapes, self.needs_input_grad):
            size = int(np.prod(shape))
            grads.append(piece(start, start + size).reshape(shape) if needs else None)
            start += size
        return tuple(grads)

    def jvp(self, *tangents):
        return np.concatenate([np.zeros(int(np.prod(shape)), self._outputs[0].dtype) if t is None else t.ravel()
                               for shape, t in zip(self.shapes, tangents)])


def parameters_to_vector(parameters):
    """One 1-D Tensor with all the parameters' elements, in order (differentiable)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, but parameter {i} is a {type(p).__name__}")
    dtypes = {p.dtype for p in params}
    if len(dtypes) > 1:
        raise TypeError(f"parameters_to_vector: the parameters have different dtypes {sorted(map(str, dtypes))}")
    return FlattenConcat.apply(*params)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D Tensor `vec` into the parameters' data (each reshaped to its shape).

    As in PyTorch, each parameter's `.data` becomes a view of `vec`'s storage (when the dtypes agree).
    `vec` must have exactly as many elements as the parameters together.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec must be 1-D with {total} elements (the parameters' total size), "
            f"got shape {vec.shape}"
        )
    start = 0
    for p in params:
        n = p.numel()
        piece = vec.array[start:start + n].reshape(p.shape)
        p.array = piece if piece.dtype == p.dtype else piece.astype(p.dtype)
        start += n
