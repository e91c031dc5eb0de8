"""`Function`: one differentiable operation, the node of the autograd graph.

A subclass writes two methods:

* ``forward(self, *arrays, **params)`` computes on NumPy arrays and returns an array (or a tuple of
  arrays). It may keep on ``self`` whatever the backward needs (masks, indices, shapes).
* ``backward(self, *grad_outputs)`` receives one gradient Tensor per output and returns one gradient
  Tensor (or None) per tensor input, with that input's shape.

``backward`` is written with glassnet's own Tensor operations wherever that is natural, so the
backward pass is itself recorded when ``create_graph=True`` and higher-order gradients work. In it,
``self.inputs`` are the input Tensors and ``self.output(i)`` is output ``i`` as a Tensor that still
belongs to the graph. Fused operations whose backward works on raw arrays for speed set
``differentiable_backward = False``; asking for a second derivative through them raises an error
instead of silently returning zeros.
"""
import weakref

from .. import tensor as _tensor  # the module, not the class: tensor.py imports autograd first
from . import grad_mode

# Set by autograd.forward_ad while a dual level is open: called after each forward to push tangents.
_forward_hook = None


class Function:
    differentiable_backward = True

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the forward on the inputs' arrays and, if any input requires grad, record the node."""
        make = _tensor.Tensor._make
        fn = cls()
        out = fn.forward(*[t.array for t in inputs], **params)
        if _forward_hook is not None:  # forward-mode AD is on (see forward_ad.py)
            out = _forward_hook(fn, inputs, out)
        needs = [t._requires_grad for t in inputs]
        record = grad_mode._enabled and True in needs
        if not isinstance(out, tuple):
            if not record:
                return make(out)
            fn._outputs = (out,)
            result = make(out, grad_fn=fn)
        elif not record:
            return tuple(make(o) for o in out)
        else:
            fn._outputs = out
            result = tuple(make(o, grad_fn=fn, output_index=i) for i, o in enumerate(out))
        fn.inputs = inputs
        fn.needs_input_grad = needs
        fn._hooks = None
        fn._released = False
        return result

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def jvp(self, *tangents):
        """Forward mode: input tangents (arrays, None = zero) -> output tangent(s); see forward_ad.py."""
        raise NotImplementedError(f"forward-mode AD: {self.name} has no jvp rule (no forward-mode derivative)")

    @property
    def name(self):
        return type(self).__name__

    def output(self, index=0):
        """Output `index` as a Tensor attached to this node (for backward formulas that use it)."""
        return _tensor.Tensor._make(self._outputs[index], grad_fn=self, output_index=index)

    def output_meta(self):
        return [(o.shape, o.dtype) for o in self._outputs]

    def add_hook(self, index, hook):
        """Hooks of non-leaf tensors live on the node that made them: hook(grad) -> grad or None."""
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(index, []).append(hook)

    def retain_output_grad(self, index, tensor):
        ref = weakref.ref(tensor)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad if t.grad is None else t.grad + grad

        self.add_hook(index, keep)

    def release(self):
        """Free what the backward needed; a later backward through this node raises an error."""
        self.__dict__.clear()
        self._released = True

    def __repr__(self):
        return f"<{self.name}Backward>"
