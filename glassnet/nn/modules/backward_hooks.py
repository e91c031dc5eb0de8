"""Module backward hooks (`register_full_backward_hook`, `register_full_backward_pre_hook`).

A module's backward is not one node of the graph but all the nodes its forward recorded. To see the
gradients at its boundary, the call is bracketed by two identity nodes:

    inputs -> [HookedInputs] -> forward(...) -> [HookedOutputs] -> outputs

In the backward, HookedOutputs receives the gradients with respect to the outputs first: the pre-hooks
see (and may replace) them. When the gradient has flowed through the whole module, HookedInputs
receives the gradients with respect to the inputs: the hooks see grad_input and grad_output and may
replace grad_input. Both nodes pass values through unchanged in the forward.
"""
from ...autograd.function import Function
from ...tensor import Tensor


class _Boundary:
    """What the two nodes of one call share: the module and the gradients seen at its outputs."""

    def __init__(self, module, n_inputs):
        self.module, self.grad_output, self.inputs_need_grad = module, None, n_inputs > 0


class HookedOutputs(Function):
    """Identity on the module's output tensors; backward: run the pre-hooks on grad_output, and the
    hooks too when no input needs a gradient (they fire with grad_input all None, as in PyTorch)."""

    saves_inputs = False

    def forward(self, *arrays, boundary):
        self.boundary = boundary
        return arrays

    def backward(self, *grads):
        b = self.boundary
        for hook in list(b.module._backward_pre_hooks.values()):
            new = hook(b.module, grads)
            if new is not None:
                grads = _checked(new, grads, "backward pre-hook")
        b.grad_output = grads
        if not b.inputs_need_grad:
            for hook in list(b.module._backward_hooks.values()):
                hook(b.module, (None,), grads)
        return grads

    def jvp(self, *tangents):  # the identity: tangents pass through (hooks are a reverse-mode matter)
        return tangents


class HookedInputs(Function):
    """Identity on the module's input tensors; backward: run the hooks with (grad_input, grad_output)."""

    saves_inputs = False

    def forward(self, *arrays, boundary):
        self.boundary = boundary
        return arrays

    def backward(self, *grads):
        b = self.boundary
        grads = tuple(g if need else None for g, need in zip(grads, self.needs_input_grad))
        for hook in list(b.module._backward_hooks.values()):
            new = hook(b.module, grads, b.grad_output)
            if new is not None:
                grads = _checked(new, grads, "backward hook")
        return grads

    def jvp(self, *tangents):  # the identity
        return tangents


def _checked(new, old, what):
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"{what}: returned {len(new)} gradients, expected {len(old)}")
    return new


def call_with_backward_hooks(module, args, kwargs, forward):
    """forward(*args, **kwargs) bracketed by the two hook nodes (see the module docstring)."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    boundary = _Boundary(module, len(positions))
    if positions:
        hooked = HookedInputs.apply(*[args[i] for i in positions], boundary=boundary)
        args = list(args)
        for i, t in zip(positions, hooked):
            args[i] = t
    output = forward(*args, **kwargs)
    single = isinstance(output, Tensor)
    outs = (output,) if single else output
    if not isinstance(outs, (tuple, list)) or not all(isinstance(o, Tensor) for o in outs):
        return output  # outputs that are not tensors: nothing to hook
    slots = [i for i, o in enumerate(outs) if o.requires_grad]
    if not slots:
        return output
    hooked = HookedOutputs.apply(*[outs[i] for i in slots], boundary=boundary)
    outs = list(outs)
    for i, t in zip(slots, hooked):
        outs[i] = t
    return outs[0] if single else type(output)(outs)
