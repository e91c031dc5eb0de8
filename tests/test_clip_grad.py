"""Gradient clipping and parameter/vector conversion against PyTorch."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.nn import utils as gutils

TU = torch.nn.utils
SHAPES = [(3, 4), (5,), (2, 1, 3)]


def make(lib, seed=0, scale=1.0, with_none=True):
    """Parameters with known gradients; the last one has no gradient."""
    rng = np.random.default_rng(seed)
    params = []
    for i, shape in enumerate(SHAPES + ([(2,)] if with_none else [])):
        value = rng.standard_normal(shape).astype(np.float32)
        p = lib.tensor(value, requires_grad=True)
        if i < len(SHAPES):
            p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(np.float32))
        params.append(p)
    return params


def grads(params):
    return [None if p.grad is None else np.array(p.grad.numpy() if isinstance(p.grad, torch.Tensor) else p.grad.array)
            for p in params]


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), "inf", 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    gp, tp = make(gn), make(torch)
    total_g = gutils.clip_grad_norm_(gp, max_norm, norm_type=norm_type)
    total_t = TU.clip_grad_norm_(tp, max_norm, norm_type=float(norm_type))
    assert isinstance(total_g, gn.Tensor) and total_g.shape == () and total_g.dtype == np.float32
    np.testing.assert_allclose(total_g.item(), total_t.item(), rtol=1e-6)
    for g, t in zip(grads(gp), grads(tp)):
        if t is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-7)
    after = gutils.get_total_norm([p.grad for p in gp if p.grad is not None], norm_type).item()
    assert after <= max_norm * (1 + 1e-5) or max_norm > total_t.item()


def test_clip_grad_norm_scales_only_when_needed():
    gp = make(gn)
    before = grads(gp)
    total = gutils.clip_grad_norm_(gp, 1e6).item()
    for b, a in zip(before, grads(gp)):
        if b is not None:
            np.testing.assert_array_equal(a, b)
    gutils.clip_grad_norm_(gp, 1.0)
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads(gp) if g is not None))
    assert abs(norm - 1.0) < 1e-5 and total > 1.0


def test_clip_grad_norm_single_tensor_and_empty():
    p = gn.tensor([3.0, 4.0], requires_grad=True)
    p.grad = gn.tensor([3.0, 4.0])
    assert gutils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.array, [0.6, 0.8], rtol=1e-5)
    total = gutils.clip_grad_norm_([gn.tensor([1.0], requires_grad=True)], 1.0)
    assert total.item() == 0.0 and total.dtype == np.float32
    with pytest.warns(UserWarning, match="empty"):
        gutils.clip_grad_norm_((q for q in []), 1.0)


def test_clip_grad_norm_nonfinite():
    gp, tp = make(gn), make(torch)
    gp[0].grad.array[0, 0] = np.nan
    tp[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        gutils.clip_grad_norm_(gp, 1.0, error_if_nonfinite=True)
    assert np.isnan(gutils.clip_grad_norm_(gp, 1.0).item()) and np.isnan(TU.clip_grad_norm_(tp, 1.0).item())
    with pytest.raises(ValueError, match="norm_type"):
        gutils.clip_grad_norm_(make(gn), 1.0, norm_type="fro")


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    gp, tp = make(gn, scale=3.0), make(torch, scale=3.0)
    g_total = gutils.get_total_norm([p.grad for p in gp if p.grad is not None], 2.0)
    t_total = TU.get_total_norm([p.grad for p in tp if p.grad is not None], 2.0)
    np.testing.assert_allclose(g_total.item(), t_total.item(), rtol=1e-6)
    gutils.clip_grads_with_norm_(gp, 2.0, g_total)
    TU.clip_grads_with_norm_(tp, 2.0, t_total)
    for g, t in zip(grads(gp), grads(tp)):
        if t is not None:
            np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("clip_value", [0.3, 1.0, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    gp, tp = make(gn), make(torch)
    assert gutils.clip_grad_value_(gp, clip_value) is None
    TU.clip_grad_value_(tp, clip_value)
    for g, t in zip(grads(gp), grads(tp)):
        if t is None:
            assert g is None
        else:
            np.testing.assert_array_equal(g, t)
            assert np.abs(g).max() <= clip_value
    with pytest.raises(ValueError, match="clip_value"):
        gutils.clip_grad_value_(gp, -1.0)


def test_parameters_to_vector_and_back():
    gp, tp = make(gn, with_none=False), make(torch, with_none=False)
    gv, tv = gutils.parameters_to_vector(gp), TU.parameters_to_vector(tp)
    assert gv.shape == tuple(tv.shape) == (12 + 5 + 6,)
    np.testing.assert_array_equal(gv.array, tv.detach().numpy())
    # Differentiable: d(sum(v * w))/dp = w, reshaped to each parameter.
    w = np.arange(gv.shape[0], dtype=np.float32)
    for p in gp + tp:
        p.grad = None
    (gv * gn.tensor(w)).sum().backward()
    (tv * torch.tensor(w)).sum().backward()
    for g, t in zip(gp, tp):
        np.testing.assert_array_equal(g.grad.array, t.grad.numpy())
    new = gn.tensor(np.linspace(-1, 1, gv.shape[0]).astype(np.float32))
    gutils.vector_to_parameters(new, gp)
    TU.vector_to_parameters(torch.tensor(new.array.copy()), tp)
    for g, t in zip(gp, tp):
        assert g.shape == tuple(t.shape)
        np.testing.assert_array_equal(g.array, t.detach().numpy())


def test_vector_to_parameters_errors():
    gp = make(gn, with_none=False)
    with pytest.raises(TypeError, match="expected a Tensor"):
        gutils.vector_to_parameters(np.zeros(23, np.float32), gp)
    with pytest.raises(ValueError, match="23 elements"):
        gutils.vector_to_parameters(gn.zeros(24), gp)
    with pytest.raises(ValueError, match="23 elements"):
        gutils.vector_to_parameters(gn.zeros(23, 1), gp)
    with pytest.raises(ValueError, match="no parameters"):
        gutils.parameters_to_vector([])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_total_norm_of_large_gradients_is_accurate(dtype):
    """The 2-norm is summed chunk by chunk (BLAS dot products added in float64): over gradients larger
    than a chunk it agrees with a float64 reference to the dtype's precision."""
    rng = np.random.default_rng(3)
    arrays = [(rng.standard_normal(n) * 3).astype(dtype) for n in (100_003, 70_000, 5)]
    params = []
    for a in arrays:
        p = gn.tensor(np.zeros_like(a), requires_grad=True)
        p.grad = gn.tensor(a)
        params.append(p)
    want = np.sqrt(sum(np.sum(a.astype(np.float64) ** 2) for a in arrays))
    got = gutils.clip_grad_norm_(params, 1.0)
    assert got.dtype == dtype
    np.testing.assert_allclose(float(got.item()), want, rtol={np.float16: 1e-3, np.float32: 1e-6, np.float64: 1e-12}[dtype])
    norm_after = np.sqrt(sum(np.sum(p.grad.array.astype(np.float64) ** 2) for p in params))
    assert abs(norm_after - 1.0) < {np.float16: 1e-2, np.float32: 1e-5, np.float64: 1e-9}[dtype]
