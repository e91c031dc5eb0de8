"""Forward-mode AD (glassnet.autograd.jvp, forward_ad) against torch.func.jvp."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd import forward_ad
from glassnet.autograd import function as function_module


def _positive(shape):
    return lambda rng: np.abs(rng.standard_normal(shape)) + 0.5


def _normal(shape):
    return lambda rng: rng.standard_normal(shape)


# (name, function written with methods both libraries share or a pair (gn_fn, torch_fn), input makers)
CASES = [
    ("add", lambda a, b: a + b, [_normal((3, 4)), _normal((3, 4))]),
    ("add_broadcast", lambda a, b: a + b, [_normal((3, 4)), _normal((4,))]),
    ("add_scalar", lambda a: 2.5 + a, [_normal((3,))]),
    ("sub_broadcast", lambda a, b: a - b, [_normal((2, 1, 4)), _normal((3, 1))]),
    ("mul", lambda a, b: a * b, [_normal((3, 4)), _normal((3, 4))]),
    ("mul_broadcast", lambda a, b: a * b, [_normal((5, 1)), _normal((1, 6))]),
    ("div", lambda a, b: a / b, [_normal((3, 4)), _positive((3, 4))]),
    ("rdiv_scalar", lambda a: 1.0 / a, [_positive((4,))]),
    ("pow_tensor", lambda a, b: a ** b, [_positive((3, 4)), _normal((3, 4))]),
    ("pow_scalar", lambda a: a ** 3, [_normal((3, 4))]),
    ("rpow", lambda a: 2.0 ** a, [_normal((5,))]),
    ("neg", lambda a: -a, [_normal((3, 4))]),
    ("matmul", lambda a, b: a @ b, [_normal((3, 4)), _normal((4, 5))]),
    ("matmul_batched", lambda a, b: a @ b, [_normal((2, 3, 4)), _normal((4, 2))]),
    ("matmul_vec", lambda a, b: a @ b, [_normal((3, 4)), _normal((4,))]),
    ("dot", lambda a, b: a @ b, [_normal((4,)), _normal((4,))]),
    ("exp", lambda a: a.exp(), [_normal((3, 4))]),
    ("log", lambda a: a.log(), [_positive((3, 4))]),
    ("log1p", lambda a: a.log1p(), [_positive((3, 4))]),
    ("sin", lambda a: a.sin(), [_normal((3, 4))]),
    ("cos", lambda a: a.cos(), [_normal((3, 4))]),
    ("sqrt", lambda a: a.sqrt(), [_positive((3, 4))]),
    ("rsqrt", lambda a: a.rsqrt(), [_positive((3, 4))]),
    ("abs", lambda a: a.abs(), [_positive((3, 4))]),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), [_normal((3, 4))]),
    ("tanh", lambda a: a.tanh(), [_normal((3, 4))]),
    ("sigmoid", lambda a: a.sigmoid(), [_normal((3, 4))]),
    ("relu", lambda a: a.relu(), [_normal((3, 4))]),
    ("leaky_relu", (lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1)), [_normal((3, 4))]),
    ("maximum", lambda a, b: a.maximum(b), [_normal((3, 4)), _normal((3, 4))]),
    ("sum_all", lambda a: a.sum(), [_normal((3, 4))]),
    ("sum_dim", lambda a: a.sum(1), [_normal((3, 4, 2))]),
    ("sum_keepdim", lambda a: a.sum((0, 2), keepdim=True), [_normal((3, 4, 2))]),
    ("mean", lambda a: a.mean(0), [_normal((3, 4))]),
    ("reshape", lambda a: a.reshape(4, 3), [_normal((3, 4))]),
    ("transpose", lambda a: a.transpose(0, 1), [_normal((3, 4))]),
    ("permute", lambda a: a.permute(2, 0, 1), [_normal((2, 3, 4))]),
    ("expand", lambda a: a.expand(3, 4), [_normal((1, 4))]),
    ("unsqueeze_squeeze", lambda a: a.unsqueeze(0).squeeze(0).flatten(), [_normal((3, 4))]),
    ("getitem_basic", lambda a: a[1:, ::2], [_normal((3, 4))]),
    ("getitem_int", lambda a: a[1], [_normal((3, 4))]),
    ("getitem_advanced", (lambda a: a[gn.tensor([0, 2, 0])], lambda a: a[torch.tensor([0, 2, 0])]),
     [_normal((3, 4))]),
    ("softmax", lambda a: a.softmax(-1), [_normal((3, 5))]),
    ("softmax_dim0", lambda a: a.softmax(0), [_normal((3, 5))]),
    ("log_softmax", lambda a: a.log_softmax(1), [_normal((3, 5))]),
    ("linear", (F.linear, TF.linear), [_normal((2, 3, 4)), _normal((5, 4)), _normal((5,))]),
    ("linear_nobias", (F.linear, TF.linear), [_normal((3, 4)), _normal((5, 4))]),
    ("cat", (lambda a, b: gn.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1)), [_normal((2, 3)), _normal((2, 4))]),
    ("stack", (lambda a, b: gn.stack([a, b], 0), lambda a, b: torch.stack([a, b], 0)),
     [_normal((2, 3)), _normal((2, 3))]),
    ("split", lambda a: a.split(2, 1), [_normal((3, 5))]),
    ("mlp", (lambda x, w1, w2: F.linear(F.linear(x, w1).tanh(), w2).softmax(-1),
             lambda x, w1, w2: TF.linear(TF.linear(x, w1).tanh(), w2).softmax(-1)),
     [_normal((4, 3)), _normal((6, 3)), _normal((2, 6))]),
    ("chain", lambda a, b: ((a * b).exp() + (a.sin() + 1.5) / (1 + b * b)).sqrt().log().mean(),
     [_normal((3, 4)), _normal((3, 4))]),
]


def _run(fns, makers, seed=0, dtype=np.float64):
    gn_fn, torch_fn = fns if isinstance(fns, tuple) else (fns, fns)
    rng = np.random.default_rng(seed)
    primals = [m(rng).astype(dtype) for m in makers]
    tangents = [rng.standard_normal(p.shape).astype(dtype) for p in primals]
    out, tan = gn.autograd.jvp(gn_fn, tuple(gn.tensor(p) for p in primals), tuple(gn.tensor(t) for t in tangents))
    t_out, t_tan = torch.func.jvp(torch_fn, tuple(torch.tensor(p) for p in primals),
                                  tuple(torch.tensor(t) for t in tangents))
    return out, tan, t_out, t_tan


def _pairs(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        return list(zip(a, b))
    return [(a, b)]


@pytest.mark.parametrize("name,fns,makers", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_torch(name, fns, makers):
    out, tan, t_out, t_tan = _run(fns, makers)
    for g, t in _pairs(out, t_out) + _pairs(tan, t_tan):
        assert g.shape == tuple(t.shape), name
        assert g.dtype == np.float64
        np.testing.assert_allclose(g.array, t.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_jvp_float32_keeps_dtype():
    out, tan, t_out, t_tan = _run(lambda a, b: (a @ b).tanh(), [_normal((3, 4)), _normal((4, 2))], dtype=np.float32)
    assert tan.dtype == np.float32
    np.testing.assert_allclose(tan.array, t_tan.numpy(), rtol=1e-5, atol=1e-6)


def test_jvp_is_jacobian_times_vector():
    """Tangent of e_i gives column i of the Jacobian, computed independently by reverse mode."""
    x = gn.tensor(np.random.default_rng(1).standard_normal(4))
    f = lambda a: (a.sin() * a.sum()).softmax(0)  # noqa: E731
    for i in range(4):
        e = np.zeros(4)
        e[i] = 1.0
        _, col = gn.autograd.jvp(f, (x,), (gn.tensor(e),))
        xr = gn.tensor(x.array, requires_grad=True)
        rows = [gn.autograd.grad(f(xr)[j], xr)[0].array[i] for j in range(4)]
        np.testing.assert_allclose(col.array, rows, rtol=1e-12, atol=1e-14)


def test_single_tensor_arguments_and_unused_output_gets_zero_tangent():
    x = gn.tensor([1.0, 2.0])
    out, tan = gn.autograd.jvp(lambda a: (a * 3, gn.ones(2)), x, gn.tensor([1.0, -1.0]))
    assert isinstance(out, tuple) and len(tan) == 2
    np.testing.assert_allclose(tan[0].array, [3.0, -3.0])
    np.testing.assert_array_equal(tan[1].array, [0.0, 0.0])


def test_has_aux():
    x = gn.tensor([0.5, 1.5])
    out, tan, aux = gn.autograd.jvp(lambda a: (a.exp(), "aux"), (x,), (gn.ones(2),), has_aux=True)
    assert aux == "aux"
    np.testing.assert_allclose(tan.array, np.exp([0.5, 1.5]), rtol=1e-6)


def test_constant_inputs_have_no_tangent():
    c = gn.tensor([2.0, 3.0])
    _, tan = gn.autograd.jvp(lambda a: a * c + c.exp(), (gn.tensor([1.0, 1.0]),), (gn.tensor([1.0, 10.0]),))
    np.testing.assert_allclose(tan.array, [2.0, 30.0])


class _Twice(function_module.Function):
    """An op written without a jvp rule."""

    def forward(self, x):
        return 2 * x

    def backward(self, dy):
        return 2 * dy


def test_missing_rule_raises_naming_the_operation():
    with pytest.raises(NotImplementedError, match="_Twice"):
        gn.autograd.jvp(_Twice.apply, (gn.randn(3),), (gn.randn(3),))
    assert function_module._forward_hook is None  # the level is closed even after an error


def test_ops_without_tangent_inputs_need_no_rule():
    with forward_ad.dual_level():
        y = _Twice.apply(gn.randn(3))  # no input has a tangent: no rule needed
        assert forward_ad.unpack_dual(y).tangent is None


def test_no_rule_is_attached_at_run_time():
    """Every rule is written in its class: opening a dual level changes no Function class."""
    from glassnet.ops import activation, arithmetic

    before = {cls: cls.__dict__.get("jvp") for cls in (arithmetic.Add, activation.ReLU, activation.Tanh)}
    with forward_ad.dual_level():
        pass
    assert before == {cls: cls.__dict__.get("jvp") for cls in before}


def test_argument_errors():
    with pytest.raises(ValueError, match="shape"):
        gn.autograd.jvp(lambda a: a, (gn.zeros(3),), (gn.zeros(4),))
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        gn.autograd.jvp(lambda a, b: a, (gn.zeros(3), gn.zeros(3)), (gn.zeros(3),))
    with pytest.raises(ValueError, match="dtype"):
        gn.autograd.jvp(lambda a: a, (gn.zeros(3),), (gn.zeros(3, dtype=gn.float64),))
    with pytest.raises(RuntimeError, match="dual_level"):
        forward_ad.make_dual(gn.zeros(2), gn.zeros(2))
    with forward_ad.dual_level():
        with pytest.raises(RuntimeError, match="nested"):
            with forward_ad.dual_level():
                pass


def test_dual_level_api_and_reverse_mode_alongside():
    """make_dual / unpack_dual like torch.autograd.forward_ad; the reverse graph still works inside."""
    x = gn.tensor([0.3, -0.7], requires_grad=True)
    with forward_ad.dual_level():
        d = forward_ad.make_dual(x, gn.tensor([1.0, 0.0]))
        y = (d * d).sum()
        primal, tangent = forward_ad.unpack_dual(y)
        assert forward_ad.unpack_dual(primal).tangent is None
        np.testing.assert_allclose(tangent.item(), 2 * 0.3, rtol=1e-6)
        y.backward()
    np.testing.assert_allclose(x.grad.array, [0.6, -1.4], rtol=1e-6)
    assert function_module._forward_hook is None

