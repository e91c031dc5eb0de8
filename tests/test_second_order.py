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
    "max_pool2d_overlapping": (lambda x: F(gn).max_pool2d(x * x, 2, stride=1), [(1, 2, 3, 3)]),
    "max_pool2d_tiles": (lambda x: F(gn).max_pool2d(x * x, 2), [(1, 2, 4, 4)]),
    "avg_pool_interpolate": (lambda x: F(gn).interpolate(F(gn).avg_pool2d(x * x, 2, stride=1, padding=1), size=(2, 3),
                                                         mode="bilinear"), [(1, 2, 3, 3)]),
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


# ---- end to end: programs that need second derivatives, against the same program in PyTorch -------
def _same_weights(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * 0.4 for s in shapes]


CRITIC = [(4, 1, 3, 3), (4,), (6, 4, 3, 3), (6,), (1, 6)]


def critic(lib, x, w1, b1, w2, b2, w3):
    """A small convolutional critic: conv - leaky relu - avg pool - conv - leaky relu - global max - linear."""
    h = F(lib).leaky_relu(F(lib).conv2d(x, w1, b1, stride=2, padding=1), 0.2)
    h = F(lib).avg_pool2d(h, 2, stride=1)
    h = F(lib).leaky_relu(F(lib).conv2d(h, w2, b2, padding=1), 0.2)
    return F(lib).linear(F(lib).adaptive_max_pool2d(h, 1).flatten(1), w3)


def wgan_gp_critic_loss(lib, real, fake, eps, params, weight=10.0):
    """The WGAN-GP critic loss (Gulrajani et al. 2017): D(fake) - D(real) + 10 (|grad D(x_hat)| - 1)^2,
    x_hat on the line between a real and a fake sample; its gradient goes through the gradient of D."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = lib.autograd.grad(critic(lib, x_hat, *params).sum(), [x_hat], create_graph=True)
    penalty = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    return critic(lib, fake, *params).mean() - critic(lib, real, *params).mean() + weight * penalty


def test_wgan_gp_gradient_penalty_through_a_conv_critic():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((3, 1, 8, 8)), rng.standard_normal((3, 1, 8, 8))
    eps = rng.random((3, 1, 1, 1))
    grads = {}
    for lib in (gn, torch):
        params = _leaves(lib, _same_weights(CRITIC))
        loss = wgan_gp_critic_loss(lib, lib.tensor(real), lib.tensor(fake), lib.tensor(eps), params)
        loss.backward()
        grads[lib] = [_values(lib, p.grad) for p in params]
    _assert_close(grads[gn], grads[torch], "WGAN-GP critic", "parameter gradient")
    params = _leaves(gn, _same_weights(CRITIC))  # the penalty really contributes to the weights' gradients
    loss = wgan_gp_critic_loss(gn, gn.tensor(real), gn.tensor(fake), gn.tensor(eps), params, weight=0.0)
    without = gn.autograd.grad(loss, params)
    assert all(np.abs(a - b.array).max() > 1e-3 for a, b in zip(grads[gn][::2], without[::2]))


def test_hessian_vector_product_of_a_tiny_gpt():
    from test_models import TorchGPT

    from glassnet.models import GPT

    torch.manual_seed(0)
    ref = TorchGPT(11, 6, 2, 2, 8).double()
    with torch.no_grad():  # non-trivial LayerNorm parameters and biases
        for name, p in ref.named_parameters():
            if "ln" in name or "bias" in name:
                p.add_(0.1 * torch.randn_like(p))
    model = GPT(11, 6, 2, 2, 8).double()
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    names = [n for n, _ in ref.named_parameters()]
    ours = dict(model.named_parameters())
    v = [rng.standard_normal(tuple(p.shape)) for p in ref.parameters()]

    def hvp(lib, loss, params):
        grads = lib.autograd.grad(loss, params, create_graph=True)
        return [_values(lib, h) for h in lib.autograd.grad(sum((g * lib.tensor(d)).sum() for g, d in zip(grads, v)),
                                                           params)]

    g_hv = hvp(gn, model(gn.tensor(idx), gn.tensor(targets))[1], [ours[n] for n in names])
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        t_hv = hvp(torch, ref(torch.tensor(idx), torch.tensor(targets))[1], list(ref.parameters()))
    _assert_close(g_hv, t_hv, "GPT", "Hessian-vector product")


MAML_NET = [(3, 1, 3, 3), (3,), (4, 12), (4,)]


def maml_net(lib, x, w1, b1, w2, b2):
    h = F(lib).max_pool2d(F(lib).relu(F(lib).conv2d(x, w1, b1)), 2)  # (N, 3, 2, 2)
    return F(lib).linear(h.flatten(1), w2, b2)


def maml_outer_loss(lib, params, support, query, inner_lr=0.4, first_order=False):
    """One MAML inner step (Finn et al. 2017): adapt on the support set with a gradient step kept in
    the graph, then the loss of the adapted weights on the query set (first_order: the step detached)."""
    (xs, ys), (xq, yq) = support, query
    inner = F(lib).cross_entropy(maml_net(lib, xs, *params), ys)
    grads = lib.autograd.grad(inner, params, create_graph=not first_order)
    if first_order:
        grads = [g.detach() for g in grads]
    fast = [p - inner_lr * g for p, g in zip(params, grads)]
    return F(lib).cross_entropy(maml_net(lib, xq, *fast), yq)


def test_maml_inner_step():
    rng = np.random.default_rng(2)
    xs, xq = rng.standard_normal((6, 1, 6, 6)), rng.standard_normal((5, 1, 6, 6))
    ys, yq = rng.integers(0, 4, 6), rng.integers(0, 4, 5)
    grads = {}
    for lib in (gn, torch):
        params = _leaves(lib, _same_weights(MAML_NET, seed=3))
        loss = maml_outer_loss(lib, params, (lib.tensor(xs), lib.tensor(ys)), (lib.tensor(xq), lib.tensor(yq)))
        grads[lib] = [_values(lib, g) for g in lib.autograd.grad(loss, params)]
    _assert_close(grads[gn], grads[torch], "MAML", "meta-gradient")
    # the second-order term is really there: first-order MAML (the inner gradient detached) differs
    params = _leaves(gn, _same_weights(MAML_NET, seed=3))
    loss = maml_outer_loss(gn, params, (gn.tensor(xs), gn.tensor(ys)), (gn.tensor(xq), gn.tensor(yq)),
                           first_order=True)
    first_order = [g.array for g in gn.autograd.grad(loss, params)]
    assert max(np.abs(a - b).max() for a, b in zip(grads[gn], first_order)) > 1e-3
