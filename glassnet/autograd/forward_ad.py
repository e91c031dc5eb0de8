"""Forward-mode automatic differentiation: tangents pushed through the graph alongside the values.

Reverse mode (``backward``) gets the gradient of ONE scalar with respect to ALL inputs in one pass.
Forward mode gets the directional derivative of ALL outputs along ONE input direction ``v``, the
Jacobian-vector product J v, in one forward pass: every value x carries a tangent dx = (d x / d t) at
t = 0 along the path ``inputs + t v``, and each operation maps its input tangents to its output tangent
by the chain rule, e.g. for y = a * b:  dy = da * b + a * db.

How it works here:

* ``dual_level()`` opens forward mode: it installs a hook that ``Function.apply`` calls after each
  forward (one ``is not None`` check per operation when forward mode is off).
* ``make_dual(primal, tangent)`` makes a tensor that carries a tangent. Tangents live in a side table
  keyed by the tensor's data array (a Function's forward only sees arrays); ``unpack_dual`` reads it.
* After an operation's forward, if any input has a tangent, the hook calls the node's
  ``jvp(*input_tangents)``: NumPy arrays in (None for an input without tangent, i.e. a zero tangent),
  one array (or None) per output out. In it ``self.inputs`` are the input Tensors and
  ``self._outputs`` the output arrays, plus whatever the forward saved on ``self``.
* Each operation's rule is the ``jvp`` method of its Function class, next to its ``backward``, so an
  operation's whole derivative story is in one place; ``add_tangents`` sums the terms of a rule with
  several inputs. An operation without a rule raises an error naming it; one whose output has no
  derivative (integer results, sampling) says so in its own ``jvp``.
* ``jvp(func, primals, tangents)`` is the convenient entry point, like ``torch.func.jvp``.

Limits: one level at a time (no nesting); ``detach()`` and other tensors sharing the same data array
share its tangent; in-place changes of ``.array`` are invisible to forward mode.
"""
import contextlib
from collections import namedtuple

import numpy as np

from . import function as _function

__all__ = ["dual_level", "make_dual", "unpack_dual", "jvp", "UnpackedDualTensor", "add_tangents"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_tangents = None  # id(array) -> (array, tangent array) while a dual level is open


# ---- the hook called by Function.apply ------------------------------------------------------------
def _tangent_array(t):
    entry = _tangents.get(id(t.array))
    return entry[1] if entry is not None and entry[0] is t.array else None


def _propagate(fn, inputs, out):
    """After fn.forward: compute the outputs' tangents from the inputs' (if any) and record them."""
    tangents = [_tangent_array(t) for t in inputs]
    if all(t is None for t in tangents):
        return out
    multi = isinstance(out, tuple)
    outs = out if multi else (out,)
    in_arrays = [t.array for t in inputs]
    # every output gets its own array object (a NumPy scalar or a returned input would share a key)
    outs = tuple(np.asarray(o).view() if not isinstance(o, np.ndarray) or any(o is a for a in in_arrays)
                 else o for o in outs)
    fn.inputs = inputs
    fn._outputs = outs
    result = fn.jvp(*tangents)
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(outs):
        raise RuntimeError(f"forward-mode AD: {fn.name}.jvp returned {len(result)} tangents for {len(outs)} outputs")
    for o, t in zip(outs, result):
        if t is None:
            continue
        t = np.asarray(t)
        if t.shape != o.shape:
            raise RuntimeError(f"forward-mode AD: {fn.name}.jvp returned a tangent of shape {t.shape} "
                               f"for an output of shape {o.shape}")
        _tangents[id(o)] = (o, t.astype(o.dtype, copy=False))
    return outs if multi else outs[0]


def add_tangents(shape, *terms):
    """The tangent of an output of `shape` that is the sum of `terms` (arrays that broadcast to it; None
    stands for a zero term, e.g. the contribution of an input without tangent). None if every term is."""
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    return None if total is None else np.broadcast_to(total, shape)


# ---- public API -----------------------------------------------------------------------------------
@contextlib.contextmanager
def dual_level():
    """Context in which tensors made with `make_dual` carry tangents through every operation."""
    global _tangents
    if _function._forward_hook is not None:
        raise RuntimeError("forward-mode AD: nested dual levels are not supported")
    _tangents = {}
    _function._forward_hook = _propagate
    try:
        yield
    finally:
        _function._forward_hook = None
        _tangents = None


def _check_level(op):
    if _tangents is None:
        raise RuntimeError(f"{op}: only valid inside a `with forward_ad.dual_level():` block")


def make_dual(tensor, tangent, *, level=None):
    """A new tensor with `tensor`'s values (and reverse-mode history) carrying `tangent` (same shape and dtype)."""
    from ..tensor import Tensor

    _check_level("make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expected two Tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"make_dual: the primal must be a floating point tensor, got {tensor.dtype}")
    if tangent.shape != tensor.shape or tangent.dtype != tensor.dtype:
        raise ValueError(f"make_dual: the tangent (shape {tangent.shape}, {tangent.dtype}) must have the primal's "
                         f"shape and dtype ({tensor.shape}, {tensor.dtype})")
    dual = _Alias.apply(tensor)
    _tangents[id(dual.array)] = (dual.array, np.array(tangent.array, copy=True))
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the primal as a tensor without tangent, the tangent as a Tensor or None."""
    from ..tensor import Tensor

    if _tangents is None:
        return UnpackedDualTensor(tensor, None)
    t = _tangent_array(tensor)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_Alias.apply(tensor), Tensor._make(t))


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J v): the outputs and their directional derivatives along `tangents`, in one forward pass.

    Like torch.func.jvp: `primals` and `tangents` are tuples of tensors (a single tensor is accepted);
    the outputs may be a tensor or a tuple, and the tangents come back in the same structure (zeros for
    an output that does not depend on the primals). With has_aux, func returns (output, aux) and the
    result is (output, jvp_out, aux).
    """
    from ..tensor import Tensor

    single = isinstance(primals, Tensor)
    primals = (primals,) if single else tuple(primals)
    tangents = (tangents,) if isinstance(tangents, Tensor) else tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise TypeError(f"jvp: primal and tangent {i} must be Tensors, got {type(p).__name__} and "
                            f"{type(t).__name__}")
        if p.shape != t.shape or p.dtype != t.dtype:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape} and dtype {t.dtype}, expected the primal's "
                             f"{p.shape} and {p.dtype}")
    with dual_level():
        out = func(*(make_dual(p, t) for p, t in zip(primals, tangents)))
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("jvp: with has_aux=True, func must return a pair (output, aux)")
            out, aux = out
        multi = isinstance(out, (tuple, list))
        outs = tuple(out) if multi else (out,)
        primal_out, tangent_out = [], []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(f"jvp: func must return Tensors, output {i} is a {type(o).__name__}")
            p, t = unpack_dual(o)
            if t is None:
                t = Tensor._make(np.zeros_like(o.array))
            primal_out.append(p)
            tangent_out.append(t)
    result = (tuple(primal_out), tuple(tangent_out)) if multi else (primal_out[0], tangent_out[0])
    return result + (aux,) if has_aux else result


class _Alias(_function.Function):
    """y = x (a new array object sharing x's memory).   dx = dy.   Tangent: none (make_dual sets one)."""

    def forward(self, x):
        return x.view()

    def backward(self, dy):
        return dy

    def jvp(self, t):
        return None
