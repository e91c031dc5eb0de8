"""`Optimizer`: the base class every optimizer derives from (parameter groups, per-parameter state,
`zero_grad`, `state_dict` / `load_state_dict`), plus the small helpers the optimizers share.

An optimizer holds `param_groups`, a list of dicts, each with a list of parameters under 'params' and
that group's options (lr, momentum, ...), and `state`, a dict from parameter to that parameter's
buffers (Tensors) and counters. `step()` reads each parameter's `.grad` and updates `.array` in place
with plain NumPy (outside the autograd graph), in the parameter's dtype: a subclass writes its update
rule once, `_update(group, bucket)`, as in-place ufuncs on the arrays of `bucket.chunks()`, and the
base class runs it over all parameters of a group at once (flat buffers, cache-sized chunks: _flat.py).
A subclass may instead override `step` itself, as in PyTorch.
"""
import functools
import warnings
from collections import defaultdict

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from ._flat import SCALAR_STATE, FlatBucket, ScratchPool, SingleBucket, _movable

__all__ = ["Optimizer", "required"]


class _Required:
    """Marker for an option that has no default and must be given (for optimizers written by users)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: `Optimizer(params, defaults)`.

    `params` is an iterable of Tensors (one group), of `(name, Tensor)` pairs, or of dicts, each a
    parameter group: ``{'params': [...], 'lr': 0.1, ...}``; options a group leaves out come from
    `defaults`. Subclasses implement `step(closure=None)` and may implement `_check_group(group)` to
    validate a group's options (called for the defaults and for every group added).
    """

    def __init_subclass__(cls, **kwargs):
        # Mark the optimizer as stepped whenever a subclass's step runs, so that a learning-rate
        # scheduler can warn when it is stepped before the optimizer (PyTorch's order check).
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_marks_step_called", False):
            return

        @functools.wraps(step)
        def marked_step(self, *args, **kwargs):
            self._opt_called = True
            return step(self, *args, **kwargs)

        marked_step._marks_step_called = True
        cls.step = marked_step

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._check_group(defaults)
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts (parameter groups), got a single "
                f"Tensor of shape {params.shape}; pass [tensor] or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params should be an iterable of parameter-group dicts, got one dict; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameters must be given in an ordered collection (list, tuple, generator), not a set, "
                "whose order changes between runs"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        self._flat = {}  # group index -> (group, its parameters with gradients, flat buckets, lone parameters)
        self._scratch = ScratchPool()
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- parameter groups ------------------------------------------------------------------------
    def _check_group(self, group):
        """Raise ValueError for invalid options in `group` (subclasses override)."""

    def add_param_group(self, param_group):
        """Add a parameter group (a dict with 'params' and optional per-group options)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: param_group has no 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameters must be given in an ordered collection (list, tuple, generator), not a set, "
                "whose order changes between runs"
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: either all parameters come with names ((name, tensor) pairs) or none do")
            params = [p[1] for p in params]
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i}, shape {p.shape})")
            if p.dtype.kind != "f":
                raise ValueError(
                    f"{name}: can only optimize floating-point tensors, but parameter {i} (shape {p.shape}) has "
                    f"dtype {p.dtype}"
                )
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required option '{key}'")
            group.setdefault(key, default)
        self._check_group(group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"{name}: a parameter group contains the same parameter more than once", stacklevel=3)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError(f"{name}: either all parameter groups come with parameter names or none do")
        self.param_groups.append(group)

    # ---- gradients -------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: set them to None (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.array[...] = 0

    # ---- the update ------------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` re-evaluates the loss and returns it.

        The parameters of each group are updated together (see _flat.py): `_update(group, bucket)`
        applies the optimizer's rule once to flat arrays spanning all of them.
        """
        self._opt_called = True
        loss = self._run_closure(closure)
        for index, group in enumerate(self.param_groups):
            for bucket in self._buckets(index, group):
                self._update(group, bucket)
                _mark_updated(bucket.params)
        return loss

    def _update(self, group, bucket):
        """Apply the update rule to `bucket` (see _flat.py: `bucket.chunks()` hold the arrays param, grad,
        state[...]); subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step")

    def _state_keys(self, group):
        """The state buffers every parameter of `group` has before its update: name -> initial value
        ('step' and the other names of _flat.SCALAR_STATE: float32 numbers; others: arrays of the
        parameter's shape filled with the value). Buffers that the update itself creates (SGD's momentum,
        a copy of the first gradient) are not listed."""
        return {}

    def _fill_state(self, p, keys):
        """Create the missing state buffers of `p` listed in `keys` (see _state_keys)."""
        state = self.state[p]
        for key, value in keys.items():
            if key not in state:
                state[key] = (Tensor._make(np.array(value, dtype=np.float32)) if key in SCALAR_STATE
                              else Tensor._make(np.full_like(p.array, value)))

    def _buckets(self, index, group):
        """The parameters of `group` that have a gradient, as buckets ready for `_update`: the flat
        buckets of the previous step when nothing has changed since, else new ones (see _flat.py)."""
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return []
        keys = self._state_keys(group)
        if not _still_valid(self._flat.get(index), group, params, self.state, keys):
            self._flatten_group(index, group, params, keys)
        _, _, flat, alone = self._flat[index]
        return flat + [SingleBucket(p, self.state, self._scratch) for p in alone]

    def _flatten_group(self, index, group, params, keys):
        """Sort the parameters into flat buckets (one per dtype, set of state buffers and values
        of the scalar state: step count, ...)
        and those updated alone (storage shared with something else), and cache the result."""
        self._flat.pop(index, None)  # drop the old views before asking who else holds the arrays
        same = {}
        alone = []
        for p in params:
            if p.grad.shape != p.shape:
                raise RuntimeError(f"{type(self).__name__}.step: parameter of shape {p.shape} has a gradient "
                                   f"of shape {p.grad.shape}")
            self._fill_state(p, keys)
            state = self.state[p]
            if not _movable(p) or not all(isinstance(t, Tensor) for t in state.values()):
                alone.append(p)
                continue
            scalars = tuple(float(state[key].array) for key in SCALAR_STATE if key in state)
            same.setdefault((p.dtype, tuple(sorted(state)), scalars), []).append(p)
        flat = [FlatBucket(ps, self.state, self._scratch) for ps in same.values()]
        self._flat[index] = (group, params, flat, alone)

    def _run_closure(self, closure):
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    # ---- saving and loading ----------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as a dict of plain values (no pickle needed).

        ``{'state': {index: {name: Tensor or number}}, 'param_groups': [{option: value, 'params': [index, ...]}]}``
        where parameters are numbered in the order of the groups, as in PyTorch. The state Tensors are
        the optimizer's own (not copies); `load_state_dict` copies them.
        """
        index_of = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: (list(v) if isinstance(v, list) else v) for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index_of and s:  # parameters without state (SGD without momentum) are left out
                state[index_of[id(p)]] = dict(s)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict made by `state_dict` (the parameter groups must have the same sizes)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        for i, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(sg['params'])} parameters in the saved "
                    f"state, {len(g['params'])} here"
                )
        param_of = {}
        for g, sg in zip(self.param_groups, saved_groups):
            param_of.update(zip(sg["params"], g["params"]))
        state = defaultdict(dict)
        for index, saved in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"{name}.load_state_dict: the saved state has an entry for unknown parameter {index}")
            p = param_of[index]
            state[p] = {key: _load_value(name, p, key, value) for key, value in saved.items()}
        new_groups = []
        for g, sg in zip(self.param_groups, saved_groups):
            ng = {k: (list(v) if isinstance(v, list) else v) for k, v in sg.items() if k != "params"}
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            for key, default in self.defaults.items():
                ng.setdefault(key, default)
            self._check_group(ng)
            new_groups.append(ng)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"


def _load_value(name, param, key, value):
    """A copy of one saved state entry: tensors in the parameter's dtype ('step' and the other scalars stay float32)."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = value.array if isinstance(value, Tensor) else value
        if key in SCALAR_STATE:
            if array.size != 1:
                raise ValueError(f"{name}.load_state_dict: state '{key}' must be a single number, got shape "
                                 f"{array.shape}")
            return Tensor._make(np.array(array, dtype=np.float32).reshape(()))
        if array.ndim and array.shape != param.shape:
            raise ValueError(
                f"{name}.load_state_dict: state '{key}' has shape {array.shape}, its parameter has shape {param.shape}"
            )
        dtype = param.dtype if array.dtype.kind == "f" else array.dtype
        return Tensor._make(np.array(array, dtype=dtype))
    if key in SCALAR_STATE and isinstance(value, (int, float)):
        return Tensor._make(np.array(value, dtype=np.float32))
    return value


# ---- helpers shared by the optimizers -----------------------------------------------------------
def check_nonnegative(opt, key, value, what):
    """Raise a ValueError naming the optimizer unless `value` is a number >= 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{opt}: {what} ({key}) must be a number, got {value!r}") from None
    if not number >= 0.0:
        raise ValueError(f"{opt}: invalid {what} {key}={value!r}; expected a value >= 0")


def check_betas(opt, betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{opt}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        try:
            number = float(beta)
        except (TypeError, ValueError):
            raise TypeError(f"{opt}: betas[{i}] must be a number, got {beta!r}") from None
        if not 0.0 <= number < 1.0:
            raise ValueError(f"{opt}: invalid beta parameter at index {i}: {beta!r}; expected 0 <= beta < 1")


def reject_differentiable(opt, differentiable):
    if differentiable:
        raise NotImplementedError(
            f"{opt}: differentiable=True is not supported; glassnet updates parameters outside the graph"
        )


def lerp_(start, end, weight, tmp):
    """start <- start + weight * (end - start), in place, rounded as PyTorch's lerp (two branches);
    `tmp` is a scratch array of start's shape."""
    w = start.dtype.type(weight)
    np.subtract(end, start, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        start += tmp
    else:
        tmp *= start.dtype.type(1) - w
        np.subtract(end, tmp, out=start)
    return start


def decayed_grad(chunk, maximize, weight_decay):
    """The gradient the update rules use: g = -g if maximize, then g + weight_decay * p (L2 penalty).
    The gradient itself is left alone: a changed one is written into the chunk's scratch 0."""
    if not maximize and weight_decay == 0:
        return chunk.grad
    g = chunk.scratch(0)
    if weight_decay == 0:
        return np.negative(chunk.grad, out=g)
    np.multiply(chunk.param, weight_decay, out=g)
    if maximize:
        g -= chunk.grad
    else:
        g += chunk.grad
    return g


def _mark_updated(params):
    """Count an in-place change of each updated parameter, so that a graph recorded before the step
    refuses to backpropagate through the old values (PyTorch's version counter)."""
    for p in params:
        p._bump_version()


def _still_valid(cached, group, params, state, keys):
    """True when the cached buckets of a group still describe it: the same group, the same parameters
    with gradients (in order), every flat view intact."""
    if cached is None:
        return False
    old_group, old_params, flat, _ = cached
    if old_group is not group or len(old_params) != len(params):
        return False
    if any(p is not q for p, q in zip(params, old_params)):
        return False
    return all(bucket.still_valid(state, keys) for bucket in flat)
