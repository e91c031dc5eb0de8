"""The engine: graph walk, accumulation, retain_graph, hooks, grad modes, higher-order gradients."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.autograd import GradcheckError, gradcheck


def test_deep_chain_is_iterative():
    x = gn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_tensor_used_several_times_accumulates():
    x = gn.tensor([2.0, 3.0], requires_grad=True)
    y = x * x + x.exp() * x  # x enters four times
    y.sum().backward()
    xv = np.array([2.0, 3.0], np.float32)
    np.testing.assert_allclose(x.grad.array, 2 * xv + np.exp(xv) * (1 + xv), rtol=1e-6)


def test_grad_accumulates_across_backward_calls():
    x = gn.tensor([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_second_backward_without_retain_graph_raises():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    first = x.grad.array.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.array, 2 * first)


def test_saved_arrays_are_freed_after_backward():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._released and not hasattr(node, "inputs")


def test_backward_on_non_scalar_needs_gradient():
    x = gn.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs, got shape \(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(gn.ones(2, 3))
    assert np.all(x.grad.array == 2)


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        gn.tensor([1, 2, 3], requires_grad=True)


def test_backward_of_constant_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gn.tensor([1.0]).sum().backward()


def test_no_grad_context_and_decorator():
    x = gn.randn(3, requires_grad=True)
    with gn.no_grad():
        y = x * 2
        assert not gn.is_grad_enabled()
        with gn.enable_grad():
            z = x * 2
    assert gn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @gn.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_leaf_hook_can_replace_the_gradient():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_hooks_match_torch_order():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: g * 2)
        h.retain_grad()
        (h * h).sum().backward()
        return x.grad.tolist(), h.grad.tolist()

    assert run(gn) == run(torch)


def test_detach_and_leaf_flags():
    x = gn.randn(2, requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    np.testing.assert_array_equal(d.array, y.array)


def test_autograd_grad_does_not_touch_dot_grad():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (g,) = gn.autograd.grad((x ** 2).sum(), x)
    assert x.grad is None
    assert g.tolist() == [2.0, 4.0]


def test_autograd_grad_unused_input():
    x = gn.tensor([1.0], requires_grad=True)
    z = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        gn.autograd.grad((x * 2).sum(), [x, z])
    assert gn.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(gn.autograd.Function):
        def forward(self, x):
            return x * x

        def backward(self, dy):
            return dy * self.inputs[0] * 2.01

    x = gn.randn(4, dtype=gn.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="analytic .* numerical"):
        gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [gn.randn(3, requires_grad=True)])


# ---- second-order gradients against torch.autograd.grad(create_graph=True) -------------------------------
SECOND_ORDER = {
    "mul_pow": lambda x, y: (x * y ** 3).sum(),
    "div": lambda x, y: (x / (y * y + 1)).sum(),
    "exp_log": lambda x, y: ((x.exp() + 1).log() * y).sum(),
    "sqrt_sin_cos": lambda x, y: ((x * x + 1).sqrt() * y.sin() + x.cos()).sum(),
    "matmul": lambda x, y: ((x @ y.T) ** 2).sum(),
    "broadcast": lambda x, y: ((x.sum(1, keepdim=True) * y) ** 2).mean(),
    "reshape_transpose": lambda x, y: (x.reshape(3, 2).T.exp() * y.reshape(2, 3)).sum(),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_against_torch(name):
    f = SECOND_ORDER[name]
    rng = np.random.default_rng(0)
    xv, yv, w = rng.standard_normal((3, 2, 3))
    results = []
    for lib in (gn, torch):
        x = lib.tensor(xv, requires_grad=True)
        y = lib.tensor(yv, requires_grad=True)
        gx, gy = lib.autograd.grad(f(x, y), [x, y], create_graph=True)
        inner = (gx * lib.tensor(w)).sum() + (gy * gy).sum()
        hx, hy = lib.autograd.grad(inner, [x, y])
        results.append([t.detach().numpy() for t in (gx, gy, hx, hy)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_hessian_vector_product():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = gn.tensor([1.0, -1.0], dtype=gn.float64, requires_grad=True)
    A = gn.tensor(a)
    f = 0.5 * (x @ A @ x)
    (g,) = gn.autograd.grad(f, x, create_graph=True)
    v = gn.tensor([1.0, 2.0], dtype=gn.float64)
    (hv,) = gn.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.array, a @ v.array)


def test_post_accumulate_grad_hooks_run_as_soon_as_a_leaf_is_done():
    """The first layer's weight is done before the backward reaches the input: its hook must fire early."""
    from glassnet.autograd import engine

    order = []
    w1 = gn.randn(3, 3, requires_grad=True)
    w2 = gn.randn(3, 3, requires_grad=True)
    x = gn.randn(2, 3, requires_grad=True)
    w2.register_post_accumulate_grad_hook(lambda t: order.append(("w2", t.grad is not None)))
    x.register_post_accumulate_grad_hook(lambda t: order.append(("x", t.grad is not None)))

    def queue(grad):
        engine.queue_callback(lambda: order.append(("end", True)))

    w1.register_hook(queue)
    h = (x @ w1).tanh()
    (h @ w2).sum().backward()
    assert order == [("w2", True), ("x", True), ("end", True)]
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        h.register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        engine.queue_callback(print)
