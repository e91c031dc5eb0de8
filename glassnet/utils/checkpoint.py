"""Activation checkpointing: trade compute for memory, as torch.utils.checkpoint.

    y = checkpoint(block, x)      # block's intermediate activations are not kept

The forward runs `function` without recording a graph, so none of its intermediate results stay in
memory. The backward runs `function` again, this time recording, on the same inputs (and the same
random state, so dropout masks repeat), and backpropagates through that fresh graph: gradients reach
the inputs and, directly, every parameter used inside. Memory for a stack of L blocks drops from L
blocks' activations to one block's, for about one extra forward pass.

Forward mode runs the function once more with the tangents attached (the same random state again). Under
create_graph the backward is the vector-Jacobian product of the function re-run under grad mode on
(private copies of) its floating point tensor arguments, recorded as a node of the caller's graph
(ops/recompute.py), so second derivatives with respect to those arguments work. Parameters used inside the
function but not passed to it get no gradient from such a backward: pass them as arguments.
"""
import numpy as np

from ..autograd import backward as run_backward
from ..autograd.function import Function
from ..autograd.forward_ad import make_dual, unpack_dual
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..ops.recompute import vjp_by_recompute
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class Checkpoint(Function):
    """y = function(*tensors), recomputed in the backward instead of stored.

    Inputs: the tensor arguments, then one always-requiring-grad placeholder (so the node is recorded
    even when only parameters inside need gradients). Backward: recompute with a graph from copies of
    the inputs, run `backward(outputs, dy)` through it (parameters get their `.grad` there), and return
    the copies' gradients as the inputs' gradients.
    """

    def forward(self, *arrays, function, rebuild, preserve_rng_state):
        self.function, self.rebuild = function, rebuild
        self.rng_state = default_generator.get_state() if preserve_rng_state else None
        with no_grad():
            out = function(*rebuild([Tensor._make(a) for a in arrays[:-1]]))
        self.single = isinstance(out, Tensor)
        outs = (out,) if self.single else tuple(out)
        if not all(isinstance(o, Tensor) for o in outs):
            raise TypeError("checkpoint: the function must return a Tensor or a tuple of Tensors")
        return outs[0].array if self.single else tuple(o.array for o in outs)

    def _rerun(self, tensors):
        """function(*tensors) with the random state of the forward (the caller's state kept)."""
        saved = default_generator.get_state()
        if self.rng_state is not None:
            default_generator.set_state(self.rng_state)
        try:
            return self.function(*self.rebuild(tensors))
        finally:
            default_generator.set_state(saved)

    def backward(self, *dys):
        if is_grad_enabled():
            return self._graph_backward(dys)
        copies = [Tensor._make(t.array).requires_grad_(t.requires_grad) for t in self.inputs[:-1]]
        with enable_grad():
            out = self._rerun(copies)
        outs = (out,) if self.single else tuple(out)
        pairs = [(o, dy) for o, dy in zip(outs, dys) if o.requires_grad]
        if pairs:
            run_backward([o for o, _ in pairs], [dy for _, dy in pairs])
        return tuple(c.grad if c.requires_grad else None for c in copies) + (None,)

    def _graph_backward(self, dys):
        """create_graph: the vjp of the function re-run on the floating point tensor arguments, recorded."""
        inputs = self.inputs[:-1]
        wrt = [i for i, t in enumerate(inputs) if t.dtype.kind == "f"]

        def run(*floats):
            tensors = list(inputs)
            for i, t in zip(wrt, floats):
                tensors[i] = t
            return self._rerun(tensors)

        grads = vjp_by_recompute(run, [inputs[i] for i in wrt], dys) if wrt else ()
        result = [None] * len(inputs)
        for i, g in zip(wrt, grads):
            result[i] = g
        return tuple(result) + (None,)

    def jvp(self, *tangents):
        """Forward mode: the function run again (same random state) on its inputs carrying their tangents."""
        duals = [t if d is None else make_dual(Tensor._make(t.array), Tensor._make(d))
                 for t, d in zip(self.inputs[:-1], tangents[:-1])]
        with no_grad():
            out = self._rerun(duals)
        outs = (out,) if self.single else tuple(out)
        result = tuple(unpack_dual(o).tangent for o in outs)
        result = tuple(None if t is None else t.array for t in result)
        return result[0] if self.single else result


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs) without keeping its intermediate activations (see the module docstring).
    Non-tensor arguments are passed through unchanged."""
    tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    template = list(args)

    def rebuild(tensors):
        full = list(template)
        for i, t in zip(tensor_positions, tensors):
            full[i] = t
        return full

    def call(*full):
        return function(*full, **kwargs)

    placeholder = Tensor._make(np.zeros((), np.float32)).requires_grad_(True)
    out = Checkpoint.apply(*[args[i] for i in tensor_positions], placeholder, function=call, rebuild=rebuild,
                           preserve_rng_state=preserve_rng_state)
    return out


def checkpoint_sequential(functions, segments, input, use_reentrant=None, preserve_rng_state=True):
    """Run a Sequential (or a list of modules) in `segments` checkpointed chunks; the last chunk is kept."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be in [1, {len(functions)}], got {segments}")
    size = -(-len(functions) // segments)

    def run(chunk):
        def forward(x):
            for f in chunk:
                x = f(x)
            return x

        return forward

    chunks = [functions[i:i + size] for i in range(0, len(functions), size)]
    for chunk in chunks[:-1]:
        input = checkpoint(run(chunk), input, preserve_rng_state=preserve_rng_state)
    return run(chunks[-1])(input)
