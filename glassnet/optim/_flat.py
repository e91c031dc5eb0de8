"""Flat buffers: all parameters of a group updated by a handful of array operations per chunk.

PyTorch's `foreach` and `fused` optimizers update every parameter of a group with a few kernel calls
instead of a few per parameter, and the fused ones make one pass over memory. The same ideas in NumPy:

1. The parameters of a group that share a dtype (and a step count) live side by side in ONE contiguous
   1-D array, and each parameter's `.array` is a view into it, ``flat[offset:offset + n].reshape(shape)``.
   So is each of its state tensors (momentum, moments).
2. An update rule runs on cache-sized chunks of those flat arrays (CHUNK elements), one after the other:
   NumPy cannot fuse the rule's dozen ufuncs into one pass, but on a chunk, every pass after the first
   reads from the L2 cache instead of memory. Small parameters share a chunk, large ones are cut into
   several, so the number of ufunc calls does not grow with the number of parameters.
3. Gradients are read where backward left them: a chunk inside one parameter reads a slice of its
   `.grad`; a chunk of several small parameters copies their gradients side by side into a scratch array.
   Scratch arrays are kept between steps: no step allocates anything of the model's size.

Nothing changes for the user: `p.array` is an ordinary array of p's shape, `optimizer.state[p]` holds one
Tensor per buffer (views into the flat ones) and `state_dict()` looks as before. The views can be lost:
a user assigns `p.data = ...` or a state tensor, or loads a state dict. Every step checks, by identity,
and makes the group flat again if anything changed.

A parameter's storage is only moved into a flat buffer when nothing else holds its array: a NumPy array
the user passed to `Parameter(array)` (PyTorch shares such memory too), a `.data` or `.detach()` tensor,
a NumPy view. Such a parameter is updated on its own, in its own storage, with the same update rule.
"""
import sys
import weakref

import numpy as np

from ..tensor import Tensor

# Elements per chunk: an update rule's arrays (parameter, gradient, two or three state buffers, two
# scratch arrays) of this size stay in a core's L2 cache while the rule's dozen ufuncs pass over them.
CHUNK = 32768

# The flat arrays made here, by id: a parameter whose array is a view of one of them may be moved again.
_FLAT_BASES = weakref.WeakValueDictionary()

_GRAD_SCRATCH = -1  # the scratch index of the gradients copied side by side

# State entries that hold one number per parameter (a float32 0-d Tensor, as PyTorch's), not an array of the
# parameter's shape: the step count, NAdam's product of momentum factors, ASGD's step size and averaging weight.
# The parameters of a bucket have the same value of each.
SCALAR_STATE = ("step", "mu_product", "eta", "mu")


def _movable(p):
    """True when p's storage may move into a flat buffer: p's array owns its memory (or is a view of one
    of our flat buffers) and nothing but p refers to it."""
    base = p.array.base
    owned = base is None or _FLAT_BASES.get(id(base)) is base
    del base
    return owned and sys.getrefcount(p.array) <= 2  # p's slot + getrefcount's argument


class Chunk:
    """A piece of a bucket: `param`, `grad` and `state[key]` are 1-D views of the same elements (or one
    parameter's own arrays), `scratch(i)` a temporary of their size."""

    def __init__(self, param, grad, state, pool):
        self.param, self.grad, self.state = param, grad, state
        self._pool = pool

    def scratch(self, index):
        """Temporary array number `index` of the chunk's shape and dtype, kept between steps. Scratch 0
        holds the changed gradient when there is one (see optimizer.decayed_grad)."""
        return self._pool.get(self.param.dtype, index, self.param.size).reshape(self.param.shape)


class FlatBucket:
    """Parameters of one dtype and step count whose values and state buffers are views into flat
    arrays this bucket owns (`param`, `state[key]`; `steps`: their float32 step counters, or None;
    `scalars[key]`: the float32 values of each entry of SCALAR_STATE they have, `steps` among them).

    Building it copies the values into the new flat arrays and points each `.array` at its view; the
    Tensor objects stay the same.
    """

    def __init__(self, params, state, pool):
        self.params = params
        self._pool = pool
        sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.state_dicts = [state[p] for p in params]
        self.param_views = self._move(params)
        self.param = self.param_views[0].base
        _FLAT_BASES[id(self.param)] = self.param
        self.state, self.state_views, self.scalars = {}, {}, {}
        for key in sorted(self.state_dicts[0]):
            tensors = [d[key] for d in self.state_dicts]
            if key in SCALAR_STATE:  # one float32 number per parameter, each a 0-d view of `scalars[key]`
                self.scalars[key] = np.array([float(t.array) for t in tensors], dtype=np.float32)
                views = [self.scalars[key][i:i + 1].reshape(()) for i in range(len(params))]
                for t, view in zip(tensors, views):
                    t.array = view
            else:
                views = self._move(tensors)
                self.state[key] = views[0].base
            self.state_views[key] = views
        self.steps = self.scalars.get("step")
        self.plan = _chunk_plan(sizes)

    def _views(self, flat):
        return [flat[start:stop].reshape(p.array.shape)
                for p, start, stop in zip(self.params, self.offsets, self.offsets[1:])]

    def _move(self, tensors):
        """Copy the tensors' values (one per parameter) into a new flat array; point each `.array` at its view."""
        views = self._views(np.empty(self.offsets[-1], self.params[0].array.dtype))
        for t, view in zip(tensors, views):
            np.copyto(view, t.array, casting="same_kind")
            t.array = view
        return views

    def add_state(self, key, value):
        """A new state buffer `key` (one flat array, a view of it for each parameter) filled with `value`."""
        flat = np.full_like(self.param, value)
        views = self._views(flat)
        for d, view in zip(self.state_dicts, views):
            d[key] = Tensor._make(view)
        self.state[key] = flat
        self.state_views[key] = views

    def advance_steps(self):
        """Count one more step for every parameter; return the (common) new step number."""
        self.steps += 1
        return float(self.steps[0])

    def still_valid(self, state, keys):
        """True when each parameter's `.array` and each state tensor is still our view, no state buffer
        was added or removed (and those in `keys` are there), and the step counts (and the other scalars)
        are still equal."""
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
        return all(values.min() == values.max() for values in self.scalars.values())

    def chunks(self):
        """The pieces to update one after the other (see the module docstring)."""
        grads = [_flat_grad(p) for p in self.params]
        for start, stop, pieces in self.plan:
            if len(pieces) == 1:
                i, lo, hi = pieces[0]
                grad = grads[i][lo:hi]
            else:  # several small parameters: their gradients side by side
                grad = self._pool.get(self.param.dtype, _GRAD_SCRATCH, stop - start)
                for i, lo, hi in pieces:
                    grad[self.offsets[i] + lo - start:self.offsets[i] + hi - start] = grads[i][lo:hi]
            state = {key: flat[start:stop] for key, flat in self.state.items()}
            yield Chunk(self.param[start:stop], grad, state, self._pool)


class SingleBucket:
    """One parameter updated in its own storage (its array is shared with something else)."""

    def __init__(self, p, state, pool):
        g = p.grad.array
        if g.shape != p.array.shape:
            raise _grad_shape_error(p, p.grad)
        self.params, self._pool, self._state = [p], pool, state[p]
        self.param, self.grad = p.array, g.astype(p.array.dtype, copy=False)
        self.state = {key: t.array for key, t in self._state.items() if key not in SCALAR_STATE}
        self.scalars = {key: t.array for key, t in self._state.items() if key in SCALAR_STATE}
        self.steps = self.scalars.get("step")

    def add_state(self, key, value):
        self._state[key] = Tensor._make(np.full_like(self.param, value))
        self.state[key] = self._state[key].array

    def advance_steps(self):
        self.steps += 1
        return float(self.steps)

    def chunks(self):
        arrays = [self.param, self.grad, *self.state.values()]
        if not all(a.flags.c_contiguous for a in arrays):  # the user's strided array: one piece
            yield Chunk(self.param, self.grad, self.state, self._pool)
            return
        size, flat = self.param.size, [a.reshape(-1) for a in arrays]
        for start in range(0, max(size, 1), CHUNK):
            part = [a[start:start + CHUNK] for a in flat]
            yield Chunk(part[0], part[1], dict(zip(self.state, part[2:])), self._pool)


class ScratchPool:
    """Temporary arrays for the update rules, kept between steps (no fresh allocation per step); each is
    as large as the largest chunk that asked for it."""

    def __init__(self):
        self._arrays = {}

    def get(self, dtype, index, size):
        key = (np.dtype(dtype), index)
        a = self._arrays.get(key)
        if a is None or a.size < size:
            a = self._arrays[key] = np.empty(size, dtype)
        return a[:size]


def _chunk_plan(sizes):
    """Cut parameters of `sizes` (laid out one after the other) into chunks of about CHUNK elements:
    [(start, stop, [(parameter, lo, hi), ...])], where elements lo:hi of each listed parameter fill
    start:stop. A parameter larger than CHUNK gets chunks of its own; smaller ones share one."""
    plan, pending, offset = [], [], 0
    for i, size in enumerate(sizes):
        if size >= CHUNK:
            if pending:
                plan.append(_shared_chunk(pending))
                pending = []
            pieces = -(-size // CHUNK)
            bounds = [size * k // pieces for k in range(pieces + 1)]
            plan += [(offset + lo, offset + hi, [(i, lo, hi)]) for lo, hi in zip(bounds, bounds[1:])]
        else:
            if pending and pending[-1][1] + size > CHUNK:
                plan.append(_shared_chunk(pending))
                pending = []
            pending.append((offset, offset + size, i))
        offset += size
    if pending:
        plan.append(_shared_chunk(pending))
    return plan


def _shared_chunk(pending):
    """One chunk for consecutive small parameters [(start, stop, parameter index), ...]."""
    return pending[0][0], pending[-1][1], [(i, 0, stop - start) for start, stop, i in pending]


def _flat_grad(p):
    """p's gradient as a 1-D array of p's dtype (a view when it can be)."""
    g = p.grad.array
    if g.shape != p.array.shape:
        raise _grad_shape_error(p, p.grad)
    return g.astype(p.array.dtype, copy=False).reshape(-1)


def _grad_shape_error(p, g):
    return RuntimeError(f"step: parameter of shape {p.shape} has a gradient of shape {g.shape}")
