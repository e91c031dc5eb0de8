"""Flat buffers: all parameters of a group updated by a handful of array operations.

PyTorch's `foreach` and `fused` optimizers update every parameter of a group with a few kernel calls
instead of a few per parameter. The same idea in NumPy: the parameters of a group that share a dtype
(and a step count) live side by side in ONE contiguous 1-D array, and each parameter's `.array` is a
view into it, ``flat[offset:offset + n].reshape(shape)``. So are its gradient and each of its state
tensors (momentum, moments). An update rule then runs once on the flat arrays: ``m *= beta1`` is one
ufunc call for the whole model, with no temporaries (scratch arrays are kept between steps).

Nothing changes for the user: `p.array` is an ordinary array of p's shape, `optimizer.state[p]` holds
one Tensor per buffer (views into the flat ones) and `state_dict()` looks as before. The views can be
lost: a user assigns `p.data = ...`, `p.grad = ...` or a state tensor, loads a state dict, and every
`backward()` after `zero_grad(set_to_none=True)` (the default) makes a fresh `.grad`. Every step checks
by identity: a fresh gradient is copied into the flat gradient (and `.grad` re-pointed at its view), and
anything else that changed makes the group be flattened again.

A parameter's storage is only moved into a flat buffer when nothing else holds its array: a NumPy array
the user passed to `Parameter(array)` (PyTorch shares such memory too), a `.data` or `.detach()` tensor,
a NumPy view. Such a parameter is updated on its own, in its own storage, with the same update rule.
"""
import sys
import weakref

import numpy as np

from ..tensor import Tensor

# The flat arrays made here, by id: a parameter whose array is a view of one of them may be moved again.
_FLAT_BASES = weakref.WeakValueDictionary()


def _sole_array(holder):
    """True when `holder.array` is referenced by `holder` alone (so it may be moved to new storage).
    The caller must hold no reference to the array itself."""
    return sys.getrefcount(holder.array) <= 2  # holder's slot + getrefcount's argument


def _movable(p):
    """True when p's storage may move into a flat buffer: p's array owns its memory (or is a view of one
    of our flat buffers) and nothing but p refers to it."""
    base = p.array.base
    owned = base is None or _FLAT_BASES.get(id(base)) is base
    del base
    return owned and _sole_array(p)


def _point_grad_at(p, view):
    """Make p.grad read `view` (which holds the same values), unless anything else holds p.grad or its
    array: then the gradient keeps its own storage. The caller must hold no reference to either."""
    if sys.getrefcount(p.grad) <= 2 and _sole_array(p.grad):
        p.grad.array = view


class Bucket:
    """The parameters updated together: `param`, `grad` and each `state[key]` are arrays over all of them
    (flat 1-D buffers, or one parameter's own arrays), `steps` their float32 step counters (or None),
    `params` the Tensors.
    """

    def __init__(self, params, param, grad, state, steps, pool):
        self.params = params
        self.param = param
        self.grad = grad
        self.state = state
        self.steps = steps
        self._pool = pool

    def scratch(self, index):
        """Temporary array number `index` of the bucket's shape and dtype, kept between steps. Scratch 0 holds
        the changed gradient when there is one (see optimizer.decayed_grad)."""
        return self._pool.get(self.param.dtype, index, self.param.size).reshape(self.param.shape)

    def advance_steps(self):
        """Count one more step for every parameter; return the (common) new step number."""
        self.steps += 1
        return float(self.steps.flat[0])


class FlatBucket(Bucket):
    """A bucket whose parameters, gradients and state buffers are views into flat arrays it owns.

    Building it moves the parameters' values (and gradients and states) into the new flat arrays and
    points each `.array` at its view; the Tensor objects stay the same.
    """

    def __init__(self, params, state, pool):
        sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.state_dicts = [state[p] for p in params]
        self.param_views = self._move(params, params)
        self.grad_views = self._copy([p.grad.array for p in params], params)
        self.state_views = {}
        flat_state, steps = {}, None
        for key in sorted(self.state_dicts[0]):
            tensors = [d[key] for d in self.state_dicts]
            if key == "step":  # one float32 counter per parameter, each a 0-d view of `steps`
                steps = np.array([float(t.array) for t in tensors], dtype=np.float32)
                views = [steps[i:i + 1].reshape(()) for i in range(len(params))]
                for t, view in zip(tensors, views):
                    t.array = view
            else:
                views = self._move(tensors, params)
                flat_state[key] = views[0].base
            self.state_views[key] = views
        flat_param = self.param_views[0].base
        _FLAT_BASES[id(flat_param)] = flat_param
        super().__init__(params, flat_param, self.grad_views[0].base, flat_state, steps, pool)
        for p, view in zip(params, self.grad_views):
            _point_grad_at(p, view)

    def _copy(self, arrays, params):
        """Copy `arrays` (one per parameter, of its shape) into a new flat array; return the views."""
        flat = np.empty(self.offsets[-1], params[0].array.dtype)
        views = [flat[start:stop].reshape(p.array.shape)
                 for p, start, stop in zip(params, self.offsets, self.offsets[1:])]
        for view, a in zip(views, arrays):
            np.copyto(view, a, casting="same_kind")
        return views

    def _move(self, tensors, params):
        """Copy the tensors' values into a new flat array and point each `.array` at its view."""
        views = self._copy([t.array for t in tensors], params)
        for t, view in zip(tensors, views):
            t.array = view
        return views

    def add_state(self, key, values):
        """A new state buffer `key` holding a copy of `values` (flat, this bucket's size)."""
        flat = np.array(values, copy=True)
        views = [flat[start:stop].reshape(p.array.shape)
                 for p, start, stop in zip(self.params, self.offsets, self.offsets[1:])]
        for d, view in zip(self.state_dicts, views):
            d[key] = Tensor._make(view)
        self.state[key] = flat
        self.state_views[key] = views

    def still_valid(self, state, keys):
        """True when each parameter's `.array` and each state tensor is still our view, no state buffer
        was added or removed (and those in `keys` are there), and the step counts are still equal."""
        if any(key not in self.state_views for key in keys):
            return False
        for p, view, d in zip(self.params, self.param_views, self.state_dicts):
            if p.array is not view or state.get(p) is not d or len(d) != len(self.state_views):
                return False
        for key, views in self.state_views.items():
            for d, view in zip(self.state_dicts, views):
                t = d.get(key)
                if t is None or t.array is not view:
                    return False
        return self.steps is None or self.steps.min() == self.steps.max()

    def gather_grads(self):
        """Copy every gradient that is not already our view into the flat gradient, and point `.grad` at
        the view, so that a later backward (after zero_grad(set_to_none=False)) adds straight into it."""
        for p, view in zip(self.params, self.grad_views):
            if p.grad.array is not view:
                if p.grad.shape != view.shape:
                    raise _grad_shape_error(p, p.grad)
                np.copyto(view, p.grad.array, casting="same_kind")
                _point_grad_at(p, view)


class SingleBucket(Bucket):
    """One parameter updated in its own storage (its array is shared with something else)."""

    def __init__(self, p, state, pool):
        g = p.grad.array
        if g.shape != p.array.shape:
            raise _grad_shape_error(p, p.grad)
        if g.dtype != p.array.dtype:
            g = g.astype(p.array.dtype)
        d = state[p]
        steps = d["step"].array if "step" in d else None
        arrays = {key: t.array for key, t in d.items() if key != "step"}
        super().__init__([p], p.array, g, arrays, steps, pool)
        self.state_dict = d

    def add_state(self, key, values):
        self.state_dict[key] = Tensor._make(np.array(values, copy=True))
        self.state[key] = self.state_dict[key].array


class ScratchPool:
    """Temporary arrays for the update rules, kept between steps (no fresh allocation per step)."""

    def __init__(self):
        self._arrays = {}

    def get(self, dtype, index, size):
        key = (np.dtype(dtype), index)
        a = self._arrays.get(key)
        if a is None or a.size < size:
            a = self._arrays[key] = np.empty(size, dtype)
        return a[:size]


def _grad_shape_error(p, g):
    return RuntimeError(f"step: parameter of shape {p.shape} has a gradient of shape {g.shape}")
