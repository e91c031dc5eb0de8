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

import numpy as np

from .. import tensor as _tensor  # the module, not the class: tensor.py imports autograd first
from . import grad_mode

# Set by autograd.forward_ad while a dual level is open: called after each forward to push tangents.
_forward_hook = None
# Set by glassnet.amp while an autocast region is open: (cls, inputs) -> inputs cast as its policy says.
_autocast_hook = None


def autocast_active():
    """True inside an autocast region: operations then accept float16 and float32 inputs together (the
    region casts them to one dtype as each operation starts)."""
    return _autocast_hook is not None


class Function:
    differentiable_backward = True
    # Which input values the backward reads (for the "modified by an inplace operation" check):
    # True: all of them; False: none (add, reshape, ...); "cross": input i only when another input needs
    # a gradient (a product: d(a*b)/da reads b).
    saves_inputs = True
    # True for operations whose output is a view of their first input's memory (reshape, transpose, ...):
    # the output shares the input's version counter, so an in-place change through either is seen by both.
    is_view = False

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the forward on the inputs' arrays and, if any input requires grad, record the node."""
        make = _tensor.Tensor._make
        if _autocast_hook is not None:  # mixed precision is on (see glassnet/amp)
            inputs = _autocast_hook(cls, inputs)
        fn = cls()
        out = fn.forward(*[t.array for t in inputs], **params)
        if _forward_hook is not None:  # forward-mode AD is on (see forward_ad.py)
            out = _forward_hook(fn, inputs, out)
        needs = [t._requires_grad for t in inputs]
        record = grad_mode._enabled and True in needs
        if not isinstance(out, tuple):
            result = make(out, grad_fn=fn) if record else make(out)
            outputs = (result,)
        else:
            result = outputs = tuple(make(o, grad_fn=fn, output_index=i) if record else make(o)
                                     for i, o in enumerate(out))
        if cls.is_view:
            _share_storage(inputs[0], outputs)
        if not record:
            return result
        fn._outputs = out if isinstance(out, tuple) else (out,)
        fn._output_versions = [(t._version_box, t._version_box[0]) for t in outputs]
        fn.inputs = inputs if cls.saves_inputs is not False else tuple(
            t if t.grad_fn is None else InputEdge(t) for t in inputs)
        fn.needs_input_grad = needs
        fn._input_versions = [t._version_box[0] for t in inputs]
        fn._hooks = None
        fn._retained = None
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
        box, version = self._output_versions[index]
        if box[0] != version:
            raise _modified_error(self, f"output {index}", self._outputs[index], box[0], version)
        return _tensor.Tensor._make(self._outputs[index], grad_fn=self, output_index=index)

    def check_saved_inputs(self):
        """Raise PyTorch's error if an input the backward reads was changed in place since the forward."""
        if self.saves_inputs is False:
            return
        for i, (t, version) in enumerate(zip(self.inputs, self._input_versions)):
            if t._version_box[0] == version:
                continue
            if self.saves_inputs == "cross" and not any(n for j, n in enumerate(self.needs_input_grad) if j != i):
                continue
            raise _modified_error(self, f"input {i}", t.array, t._version_box[0], version)

    def rebind_output(self, index, tensor):
        """After an in-place operation, output `index` lives in `tensor`'s storage (see ops/inplace.py)."""
        self._outputs = self._outputs[:index] + (tensor.array,) + self._outputs[index + 1:]
        self._output_versions[index] = (tensor._version_box, tensor._version_box[0])

    def output_meta(self):
        return [(o.shape, o.dtype) for o in self._outputs]

    def add_hook(self, index, hook):
        """Hooks of non-leaf tensors live on the node that made them: hook(grad) -> grad or None."""
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(index, []).append(hook)

    def retain_output_grad(self, index, tensor):
        """Keep output `index`'s gradient in `tensor.grad`; it is stored after every hook has run."""
        if self._retained is None:
            self._retained = {}
        self._retained[index] = weakref.ref(tensor)

    def store_retained_grad(self, index, grad):
        ref = self._retained.get(index) if self._retained else None
        t = ref() if ref is not None else None
        if t is not None:
            t.grad = grad if t.grad is None else t.grad + grad

    def release(self):
        """Free what the backward needed; a later backward through this node raises an error."""
        self.__dict__.clear()
        self._released = True

    def __repr__(self):
        return f"<{self.name}Backward>"


class InputEdge:
    """What a node whose backward reads no input values keeps of an intermediate input: where its gradient
    goes (grad_fn, output index), its shape and dtype, but not its array, so that the memory of that
    input can be freed as soon as nothing else holds it (PyTorch's edges). Leaves are kept as they are:
    their `.grad` is written."""

    __slots__ = ("grad_fn", "_output_index", "_requires_grad", "shape", "dtype", "_version_box")

    def __init__(self, t):
        self.grad_fn, self._output_index, self._requires_grad = t.grad_fn, t._output_index, t._requires_grad
        self.shape, self.dtype, self._version_box = t.shape, t.dtype, t._version_box

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def array(self):
        raise RuntimeError("backward: this operation declared saves_inputs = False, yet its backward reads an "
                           "input's values; declare what it saves")


def _share_storage(source, outputs):
    """View outputs share `source`'s version counter and name it (or its own base) as their base."""
    base = source._base if source._base is not None else source
    for t in outputs:
        if np.may_share_memory(t.array, source.array):
            t._version_box = source._version_box
            t._base = base


def _modified_error(fn, what, array, now, expected):
    return RuntimeError(
        f"backward: one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what} of {fn.name} (a {array.dtype} tensor of shape {tuple(array.shape)}) is at version "
        f"{now}; expected version {expected}. Use the out-of-place form of the operation, or clone() the tensor "
        "before changing it"
    )
