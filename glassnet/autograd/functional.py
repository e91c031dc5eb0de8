"""`glassnet.autograd.functional`: derivatives of a whole function, as in torch.autograd.functional.

For f: inputs -> outputs, with J its Jacobian and H the Hessian of a scalar f:

    vjp(f, x, v)     = (f(x), v^T J)        one backward pass
    jvp(f, x, v)     = (f(x), J v)          one forward-mode pass (see forward_ad.py)
    jacobian(f, x)   = J                    one backward pass per output element (rows of J)
    hvp(f, x, v)     = (f(x), H v)          d/dx <grad f(x), v>: a backward through a backward
    vhp(f, x, v)     = (f(x), v^T H)        the same as hvp for a twice differentiable f (H symmetric)
    hessian(f, x)    = H                    the Jacobian of the gradient

`inputs` is a Tensor or a tuple of Tensors, and results come back in the same structure (a tuple
for tuple inputs), as in PyTorch. The inputs are not changed: each call differentiates fresh copies
of them that require grad. With create_graph=True the results are part of a graph and can be
differentiated again.
"""
import numpy as np

from .. import tensor as _tensor  # the module: tensor.py imports autograd first
from . import forward_ad
from .backward import grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, name, op):
    single = isinstance(x, _tensor.Tensor)
    items = (x,) if single else tuple(x)
    for i, t in enumerate(items):
        if not isinstance(t, _tensor.Tensor):
            raise TypeError(f"{op}: {name} {i} must be a _tensor.Tensor, got {type(t).__name__}")
    return single, items


def _fresh(inputs):
    """Copies of the inputs sharing their storage, cut from any graph, requiring grad."""
    return tuple(_tensor.Tensor._make(t.array).requires_grad_(True) for t in inputs)


def _zeros_for_unused(grads, like):
    return tuple(_tensor.Tensor._make(np.zeros_like(x.array)) if g is None else g for g, x in zip(grads, like))


def _run(func, xs, op):
    with enable_grad():
        out = func(*xs)
    single, outs = _as_tuple(out, "output", op)
    return single, outs


def _check_v(v, like, op):
    _, vs = _as_tuple(v, "v", op)
    if len(vs) != len(like):
        raise ValueError(f"{op}: v has {len(vs)} tensors for {len(like)} entries")
    for i, (a, b) in enumerate(zip(vs, like)):
        if a.shape != b.shape:
            raise ValueError(f"{op}: v {i} has shape {tuple(a.shape)}, expected {tuple(b.shape)}")
    return vs


def _pack(single, items):
    return items[0] if single else tuple(items)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): v has the outputs' structure (may be omitted for a single scalar output)."""
    single_in, xs = _as_tuple(inputs, "input", "vjp")
    xs = _fresh(xs)
    single_out, outs = _run(func, xs, "vjp")
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("vjp: v may be omitted only when func returns a single one-element tensor")
        vs = (_tensor.Tensor._make(np.ones_like(outs[0].array)),)
    else:
        vs = _check_v(v, outs, "vjp")
    grads = grad(outs, xs, vs, create_graph=create_graph, allow_unused=True)
    outs = outs if create_graph else tuple(o.detach() for o in outs)
    return _pack(single_out, outs), _pack(single_in, _zeros_for_unused(grads, xs))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): v has the inputs' structure. Computed in forward mode; with create_graph=True,
    by the double-vjp trick instead (J v = d/du <J^T u, v>, a backward through a backward), so that the
    result can be differentiated again."""
    single_in, xs = _as_tuple(inputs, "input", "jvp")
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("jvp: v may be omitted only for a single one-element input")
        v = _tensor.Tensor._make(np.ones_like(xs[0].array))
    vs = _check_v(v, xs, "jvp")
    if not create_graph:
        return forward_ad.jvp(func, xs[0] if single_in else xs, vs[0] if single_in else vs)
    xs = _fresh(xs)
    single_out, outs = _run(func, xs, "jvp")
    us = tuple(_tensor.Tensor._make(np.zeros_like(o.array)).requires_grad_(True) for o in outs)
    with enable_grad():
        g = _zeros_for_unused(grad(outs, xs, us, create_graph=True, allow_unused=True), xs)
        jv = grad(g, us, vs, create_graph=True, allow_unused=True)
    return _pack(single_out, outs), _pack(single_out, _zeros_for_unused(jv, outs))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """J: for one input and one output, a tensor of shape output.shape + input.shape; for tuples, nested
    tuples J[i][j] (output i, input j), as in PyTorch. One backward pass per output element."""
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: only strategy='reverse-mode' is supported, got {strategy!r}")
    single_in, xs = _as_tuple(inputs, "input", "jacobian")
    xs = _fresh(xs)
    single_out, outs = _run(func, xs, "jacobian")
    table = []
    for out in outs:
        rows = [[] for _ in xs]
        for k in range(out.numel()):
            onehot = np.zeros(out.numel(), out.dtype)
            onehot[k] = 1
            g = grad([out], xs, [_tensor.Tensor._make(onehot.reshape(out.shape))], retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
            for j, gj in enumerate(_zeros_for_unused(g, xs)):
                rows[j].append(gj)
        table.append(tuple(_stack_rows(r, out, x) for r, x in zip(rows, xs)))
    if single_out:
        return table[0][0] if single_in else table[0]
    return tuple(row[0] for row in table) if single_in else tuple(table)


def _stack_rows(rows, out, x):
    from ..ops import reshape, stack

    if not rows:
        return _tensor.Tensor._make(np.zeros(tuple(out.shape) + tuple(x.shape), x.dtype))
    return reshape(stack(rows), tuple(out.shape) + tuple(x.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """H of a scalar func: shape input.shape + input.shape for one input, H[i][j] blocks for tuples."""
    single_in, xs = _as_tuple(inputs, "input", "hessian")

    def gradient(*ys):
        out = func(*ys)
        if not isinstance(out, _tensor.Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: func must return a single one-element tensor")
        g = grad([out], ys, create_graph=True, allow_unused=True)
        g = _zeros_for_unused(g, ys)
        return g[0] if single_in else g

    return jacobian(gradient, xs[0] if single_in else xs, create_graph=create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func: the gradient of <grad func, v>, a backward through a backward."""
    single_in, xs = _as_tuple(inputs, "input", "hvp")
    vs = _check_v(v, xs, "hvp")
    xs = _fresh(xs)
    with enable_grad():
        out = func(*xs)
        if not isinstance(out, _tensor.Tensor) or out.numel() != 1:
            raise RuntimeError("hvp: func must return a single one-element tensor")
        g = _zeros_for_unused(grad([out], xs, create_graph=True, allow_unused=True), xs)
        inner = sum((gi * vi).sum() for gi, vi in zip(g, vs))
    if not inner.requires_grad:  # func is linear in its inputs: H = 0
        hv = tuple(_tensor.Tensor._make(np.zeros_like(x.array)) for x in xs)
    else:
        hv = _zeros_for_unused(grad([inner], xs, create_graph=create_graph, allow_unused=True), xs)
    return (out if create_graph else out.detach()), _pack(single_in, hv)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): equal to hvp, the Hessian of a twice differentiable function being symmetric."""
    return hvp(func, inputs, v, create_graph, strict)
