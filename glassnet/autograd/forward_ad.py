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
* The rules for the core operations are written below, one small function each, and installed as
  the ``jvp`` method of their Function classes (a class that defines its own ``jvp`` keeps it). An
  operation without a rule raises an error naming it.
* ``jvp(func, primals, tangents)`` is the convenient entry point, like ``torch.func.jvp``.

Limits: one level at a time (no nesting); ``detach()`` and other tensors sharing the same data array
share its tangent; in-place changes of ``.array`` are invisible to forward mode.
"""
import contextlib
from collections import namedtuple

import numpy as np

from . import function as _function

__all__ = ["dual_level", "make_dual", "unpack_dual", "jvp", "UnpackedDualTensor"]

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


# ---- public API -----------------------------------------------------------------------------------
@contextlib.contextmanager
def dual_level():
    """Context in which tensors made with `make_dual` carry tangents through every operation."""
    global _tangents
    if _function._forward_hook is not None:
        raise RuntimeError("forward-mode AD: nested dual levels are not supported")
    _install_rules()
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


# ---- the rules: tangent of the output from the tangents of the inputs ------------------------------
# Each takes the node (`fn`, whose forward just ran) and one tangent array or None per tensor input.
def _terms(*terms):
    """Sum of the terms that are not None (None stands for a zero tangent)."""
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    return total


def _x(fn, i=0):
    return fn.inputs[i].array


def _y(fn, i=0):
    return fn._outputs[i]


def _to_out(fn, t):
    """A tangent of an input that broadcasts against the other, brought to the output's shape."""
    return np.broadcast_to(t, _y(fn).shape)


def _add(fn, ta, tb):  # y = a + b:  dy = da + db
    return _to_out(fn, _terms(ta, tb))


def _sub(fn, ta, tb):  # y = a - b:  dy = da - db
    return _to_out(fn, _terms(ta, None if tb is None else -tb))


def _mul(fn, ta, tb):  # y = a b:  dy = da b + a db
    return _to_out(fn, _terms(None if ta is None else ta * _x(fn, 1), None if tb is None else _x(fn, 0) * tb))


def _div(fn, ta, tb):  # y = a / b:  dy = da / b - y db / b
    b = _x(fn, 1)
    return _to_out(fn, _terms(None if ta is None else ta / b, None if tb is None else -_y(fn) * tb / b))


def _pow(fn, ta, tb):  # y = a^b:  dy = b a^(b-1) da + y log(a) db   (log(0) taken as 0, as the backward)
    a, b, y = _x(fn, 0), _x(fn, 1), _y(fn)
    da = None if ta is None else ta * b * np.power(a, b - 1)
    db = None
    if tb is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            safe_log = np.where(a == 0, 0, np.log(np.where(a == 0, 1, a)))
        db = tb * y * safe_log
    return _to_out(fn, _terms(da, db))


def _neg(fn, t):  # dy = -dx
    return -t


def _matmul(fn, ta, tb):  # y = a @ b:  dy = da @ b + a @ db
    return _to_out(fn, _terms(None if ta is None else np.matmul(ta, _x(fn, 1)),
                              None if tb is None else np.matmul(_x(fn, 0), tb)))


def _exp(fn, t):  # dy = y dx
    return t * _y(fn)


def _log(fn, t):  # dy = dx / x
    return t / _x(fn)


def _log1p(fn, t):  # dy = dx / (1 + x)
    return t / (1 + _x(fn))


def _sqrt(fn, t):  # dy = dx / (2 y)
    return t / (2 * _y(fn))


def _rsqrt(fn, t):  # y = x^(-1/2):  dy = -y^3 dx / 2
    return -0.5 * t * _y(fn) ** 3


def _abs(fn, t):  # dy = sign(x) dx
    return t * np.sign(_x(fn))


def _sin(fn, t):  # dy = cos(x) dx
    return t * np.cos(_x(fn))


def _cos(fn, t):  # dy = -sin(x) dx
    return -t * np.sin(_x(fn))


def _clamp(fn, t):  # dy = dx inside [lo, hi], 0 outside
    return t * fn.inside


def _where(fn, ta, tb):  # y = a where cond else b:  dy = da where cond else db
    zero = np.zeros((), _y(fn).dtype)
    return np.where(fn.cond, zero if ta is None else ta, zero if tb is None else tb)


def _tanh(fn, t):  # dy = (1 - y^2) dx
    y = _y(fn)
    return t * (1 - y * y)


def _sigmoid(fn, t):  # dy = y (1 - y) dx
    y = _y(fn)
    return t * y * (1 - y)


def _relu(fn, t):  # dy = [x > 0] dx
    return t * fn.mask


def _leaky_relu(fn, t):  # dy = dx if x > 0 else slope dx
    return np.where(fn.mask, t, t * fn.slope)


def _softmax(fn, t):  # dy = y (dx - sum(y dx))
    y = _y(fn)
    return y * (t - (y * t).sum(axis=fn.axis, keepdims=True))


def _log_softmax(fn, t):  # y = x - logsumexp(x):  dy = dx - sum(softmax(x) dx)
    return t - (np.exp(_y(fn)) * t).sum(axis=fn.axis, keepdims=True)


def _sum(fn, t):  # linear: dy = the same sum of dx
    return t.sum(axis=fn.dims).reshape(_y(fn).shape)


def _reshape(fn, t):  # linear: the tangent is rearranged like the value
    return t.reshape(_y(fn).shape)


def _permute(fn, t):
    return t.transpose(fn.dims)


def _broadcast(fn, t):
    return np.broadcast_to(t, _y(fn).shape)


def _sum_to(fn, t):
    from ..ops.shape import _reduced_axes

    shape = _y(fn).shape
    return t.sum(axis=_reduced_axes(t.shape, shape), keepdims=True).reshape(shape)


def _cast(fn, t):
    return t.astype(_y(fn).dtype)


def _clone(fn, t):
    return t.copy()


def _getitem(fn, t):  # linear: dy = dx[index]
    basic, adv, _ = fn.index
    t = t[basic]
    return t if adv is None else t[adv]


def _cat(fn, *ts):  # dy = the input tangents joined (zeros for inputs without one)
    return np.concatenate([np.zeros(x.shape, x.dtype) if t is None else t for x, t in
                           zip((i.array for i in fn.inputs), ts)], axis=fn.dim)


def _stack(fn, *ts):
    return np.stack([np.zeros(x.shape, x.dtype) if t is None else t for x, t in
                     zip((i.array for i in fn.inputs), ts)], axis=fn.dim)


def _split(fn, t):  # each piece's tangent is the same slice of dx
    ends = np.cumsum([o.shape[fn.dim] for o in fn._outputs])
    lead = (slice(None),) * fn.dim
    return tuple(t[lead + (slice(int(e - o.shape[fn.dim]), int(e)),)] for o, e in zip(fn._outputs, ends))


def _linear(fn, tx, tw, tb=None):  # y = x W^T + b:  dy = dx W^T + x dW^T + db
    x, w = _x(fn, 0), _x(fn, 1)
    return _to_out(fn, _terms(None if tx is None else np.matmul(tx, w.T),
                              None if tw is None else np.matmul(x, tw.T), tb))


def _rules():
    from ..ops import activation, arithmetic, elementwise, indexing, reduction, shape
    from ..ops.linear import Linear  # (ops.linear is also the function's name)

    return {
        arithmetic.Add: _add, arithmetic.Sub: _sub, arithmetic.Mul: _mul, arithmetic.Div: _div,
        arithmetic.Pow: _pow, arithmetic.Neg: _neg, arithmetic.MatMul: _matmul,
        elementwise.Exp: _exp, elementwise.Log: _log, elementwise.Log1p: _log1p, elementwise.Sqrt: _sqrt,
        elementwise.Rsqrt: _rsqrt, elementwise.Abs: _abs, elementwise.Sin: _sin, elementwise.Cos: _cos,
        elementwise.Clamp: _clamp, elementwise.Where: _where,
        activation.Tanh: _tanh, activation.Sigmoid: _sigmoid, activation.ReLU: _relu,
        activation.LeakyReLU: _leaky_relu, activation.Softmax: _softmax, activation.LogSoftmax: _log_softmax,
        reduction.Sum: _sum,
        shape.Reshape: _reshape, shape.Permute: _permute, shape.BroadcastTo: _broadcast, shape.SumTo: _sum_to,
        shape.Cast: _cast, shape.Clone: _clone,
        indexing.GetItem: _getitem, indexing.Cat: _cat, indexing.Stack: _stack, indexing.Split: _split,
        Linear: _linear,
    }


_installed = False


def _install_rules():
    """Make each rule the `jvp` method of its Function class (once; a class's own jvp wins)."""
    global _installed
    if _installed:
        return
    for cls, rule in _rules().items():
        if "jvp" not in cls.__dict__:
            cls.jvp = rule
    _installed = True
