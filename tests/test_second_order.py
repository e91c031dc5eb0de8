"""Second derivatives through every fused layer, against torch.autograd.grad(create_graph=True) in float64.

For a layer f with differentiable inputs x_1..x_n (parameters included), a fixed random weighting w of
its outputs and fixed random directions v_i:

    L = sum(w * sin(f(x)))          (the sine makes the upstream gradient depend on x as well)
    g_i = dL/dx_i                   (create_graph=True: through the layer's recorded backward)
    H_i = d(sum_i v_i . g_i)/dx_i   (a Hessian-vector product)

g and H must match PyTorch's. The first-order g is also checked to equal the fast path's (the NumPy
backward used by an ordinary backward()), so both routes of each fused op agree.
"""
import numpy as np
import pytest
import torch
from fused_cases import IDX, MODULES, OPS, F, module_pair

import glassnet as gn
from glassnet.autograd import gradcheck


# ---- the runner ---------------------------------------------------------------------------------
def _leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _values(lib, t):
    return None if t is None else (t.detach().numpy() if lib is torch else t.array)


def hessian_vector(lib, fn, tensors, seed=1):
    """(g, H) of the module docstring for fn(*tensors); tensors are leaves that require grad."""
    if lib is torch:  # PyTorch's fused CPU attention kernels have no double backward: its math kernel
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            return _hessian_vector(lib, fn, tensors, seed)
    return _hessian_vector(lib, fn, tensors, seed)


def _hessian_vector(lib, fn, tensors, seed):
    rng = np.random.default_rng(seed)
    out = fn(*tensors)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o.sin() * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
    grads = lib.autograd.grad(loss, tensors, create_graph=True, allow_unused=True)
    directions = [rng.standard_normal(tuple(t.shape)) for t in tensors]
    total = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, directions) if g is not None)
    second = lib.autograd.grad(total, tensors, allow_unused=True)
    return [_values(lib, g) for g in grads], [_values(lib, h) for h in second]


def _assert_close(ours, theirs, name, what):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a is None or b is None:  # unused: zero
            a = np.zeros_like(b) if a is None else a
            b = np.zeros_like(a) if b is None else b
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name}: {what} of input {i}")


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_second_derivatives_match_torch(op):
    rng = np.random.default_rng(0)
    arrays = [(op.make or (lambda r, s: r.standard_normal(s)))(rng, s) for s in op.shapes]
    g_first, g_second = hessian_vector(gn, lambda *t: op.fn(gn, *t), _leaves(gn, arrays))
    t_first, t_second = hessian_vector(torch, lambda *t: op.fn(torch, *t), _leaves(torch, arrays))
    _assert_close(g_first, t_first, op.name, "gradient")
    _assert_close(g_second, t_second, op.name, "Hessian-vector product")
    # the fast first-order path (no graph recorded) gives the same gradient
    leaves = _leaves(gn, arrays)
    out = op.fn(gn, *leaves)
    outs = out if isinstance(out, tuple) else (out,)
    w = np.random.default_rng(1)
    loss = sum((o.sin() * gn.tensor(w.standard_normal(o.shape))).sum() for o in outs)
    fast = gn.autograd.grad(loss, leaves, allow_unused=True)
    _assert_close([_values(gn, g) for g in fast], g_first, op.name, "fast-path gradient")


# ---- modules: the layer's own parameters are differentiated too ----------------------------------
@pytest.mark.parametrize("name", list(MODULES))
def test_module_second_derivatives_match_torch(name):
    build, call, shape = MODULES[name]
    ours, ref = module_pair(build)
    x = np.random.default_rng(0).standard_normal(shape)
    names = [n for n, _ in ref.named_parameters()]
    g_params, t_params = dict(ours.named_parameters()), dict(ref.named_parameters())
    g_in = [gn.tensor(x, requires_grad=True)] + [g_params[n] for n in names]
    t_in = [torch.tensor(x, requires_grad=True)] + [t_params[n] for n in names]
    g_first, g_second = hessian_vector(gn, lambda x, *p: call(ours, x), g_in)
    t_first, t_second = hessian_vector(torch, lambda x, *p: call(ref, x), t_in)
    _assert_close(g_first, t_first, name, "gradient")
    _assert_close(g_second, t_second, name, "Hessian-vector product")


# ---- dropout: the same mask in both libraries ----------------------------------------------------
def test_dropout_second_derivatives_with_the_drawn_mask():
    x = np.random.default_rng(0).standard_normal((4, 6))
    gn.manual_seed(0)
    scale = F(gn).dropout(gn.tensor(np.ones((4, 6))), 0.4).array  # the mask the next call draws, scaled
    gn.manual_seed(0)
    g_first, g_second = hessian_vector(gn, lambda t: F(gn).dropout(t * t, 0.4), _leaves(gn, [x]))
    t_first, t_second = hessian_vector(torch, lambda t: t * t * torch.tensor(scale), _leaves(torch, [x]))
    assert (scale == 0).any() and (scale > 0).any()
    _assert_close(g_first, t_first, "dropout", "gradient")
    _assert_close(g_second, t_second, "dropout", "Hessian-vector product")


# ---- float64 central differences of the create_graph gradients -----------------------------------
GRADCHECKS = {
    "sdpa_causal": (lambda q, k, v: F(gn).scaled_dot_product_attention(q, k, v, is_causal=True),
                    [(2, 3, 4), (2, 3, 4), (2, 3, 2)]),
    "lstm": (lambda x, h, c, *ps: F(gn).lstm(x, (h, c), ps, True, 1, 0.0, True, False, False)[0],
             [(3, 2, 2), (1, 2, 3), (1, 2, 3), (12, 2), (12, 3), (12,), (12,)]),
    "gru_reverse": (lambda x, h, *ps: F(gn).gru(x, h, ps, False, 1, 0.0, True, True, False)[0],
                    [(3, 2, 2), (2, 2, 3), (9, 2), (9, 3), (9, 2), (9, 3)]),
    "group_norm": (lambda x, w, b: F(gn).group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    "conv2d": (lambda x, w, b: F(gn).conv2d(x, w, b, stride=2, padding=1, groups=2),
               [(1, 2, 4, 5), (2, 1, 3, 2), (2,)]),
    "conv_transpose1d": (lambda x, w: F(gn).conv_transpose1d(x, w, stride=2, output_padding=1), [(2, 2, 3), (2, 1, 2)]),
    "embedding": (lambda w: F(gn).embedding(gn.tensor(IDX), w, scale_grad_by_freq=True), [(7, 2)]),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck_of_the_gradient(name):
    """The gradient computed with create_graph=True, as a function of the inputs, is differentiated by
    central differences: the second-order route against finite differences of the first-order one."""
    fn, shapes = GRADCHECKS[name]
    rng = np.random.default_rng(3)
    inputs = [gn.tensor(rng.standard_normal(s) * 0.7, requires_grad=True) for s in shapes]
    weights = [gn.tensor(rng.standard_normal(fn(*inputs).shape))]

    def gradient(*xs):
        with gn.enable_grad():  # gradcheck's finite differences run under no_grad
            loss = (fn(*xs).tanh() * weights[0]).sum()
            return gn.autograd.grad(loss, list(xs), create_graph=True, allow_unused=True)

    assert gradcheck(lambda *xs: tuple(g for g in gradient(*xs) if g is not None), inputs, atol=1e-6, rtol=1e-4)
