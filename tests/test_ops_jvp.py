"""Forward mode: each op's jvp rule (written in its Function class, next to its backward) against
torch.func.jvp on the same primal and tangent, float64: compositions of the core ops, then the fused
layers of tests/fused_cases.py with a tangent on every input."""
import math

import numpy as np
import pytest
import torch
from fused_cases import MODULES, OPS, module_pair

import glassnet as gn
from glassnet.autograd.forward_ad import jvp

IDX = [[0, 2, 1, 1], [2, 0, 0, 1]]


def F(lib):
    return lib.nn.functional


def spd(lib, t):
    return t[:, :3] @ t[:, :3].mT + 3 * lib.eye(3, dtype=t.dtype)


def _index_put(lib, t, v):
    """t with t[[0, 2], [1, 3]] = v, out of place."""
    if lib is torch:
        return torch.index_put(t, (torch.tensor([0, 2]), torch.tensor([1, 3])), v)
    from glassnet.ops.inplace import index_put

    return index_put(t, ([0, 2], [1, 3]), v)


CASES = {
    # special functions
    "erf": lambda lib, t: lib.erf(t), "erfc": lambda lib, t: lib.erfc(t), "erfinv": lambda lib, t: lib.erfinv(t.tanh()),
    # reductions and cumulative ops
    "prod": lambda lib, t: lib.prod(t, 1), "prod_all": lambda lib, t: t.prod(),
    "amax": lambda lib, t: lib.amax(t, 1), "max_dim": lambda lib, t: lib.max(t, 1)[0],
    "max_all": lambda lib, t: t.max(),
    "var": lambda lib, t: lib.var(t, 1), "std_keepdim": lambda lib, t: lib.std(t, 0, keepdim=True),
    "logsumexp": lambda lib, t: lib.logsumexp(t, 1), "norm2": lambda lib, t: t.norm(dim=1),
    "norm1": lambda lib, t: t.norm(1), "norm3": lambda lib, t: t.norm(3, 0),
    "norminf": lambda lib, t: t.norm(math.inf, 1),
    "cummax": lambda lib, t: lib.cummax(t, 1)[0], "logcumsumexp": lambda lib, t: lib.logcumsumexp(t, 0),
    "median": lambda lib, t: lib.median(t, 1)[0], "sort": lambda lib, t: lib.sort(t, 0)[0],
    "quantile": lambda lib, t: lib.quantile(t, 0.3, 1),
    # indexing, scatter, slicing
    "getitem": lambda lib, t: t[[0, 0, 2], 1:], "flip": lambda lib, t: t.flip(0),
    "repeat": lambda lib, t: t.repeat(2, 1),
    "pad": lambda lib, t: F(lib).pad(t, (1, -1, 2, 0)),
    "pad_reflect": lambda lib, t: F(lib).pad(t, (2, 1), mode="reflect"),
    "masked_fill": lambda lib, t: t.masked_fill(lib.tensor([True, False, True, False]), 2.0),
    "gather": lambda lib, t: t.gather(0, lib.tensor(IDX)),
    "scatter_add": lambda lib, t: t.scatter_add(0, lib.tensor(IDX[:1]), t[1:2] * 2),
    "scatter": lambda lib, t: t.scatter(0, lib.tensor(IDX[:1]), t[1:2] * t[2:3]),
    "scatter_reduce_amax": lambda lib, t: t.scatter_reduce(1, lib.tensor(IDX), t[:2] * 2, "amax"),
    "index_add": lambda lib, t: t.index_add(0, lib.tensor([2, 0]), t[:2] * 3),
    "tril_triu": lambda lib, t: t.tril(-1) + t.triu(1), "roll": lambda lib, t: lib.roll(t, (1, -1), (0, 1)),
    "unfold": lambda lib, t: t.unfold(1, 2, 1), "diagonal": lambda lib, t: lib.diagonal(t, 1),
    "diag_embed": lambda lib, t: lib.diag_embed(t), "einsum": lambda lib, t: lib.einsum("ij,kj->ik", t, t * t),
    "index_put": lambda lib, t: _index_put(lib, t.sin(), t[2, 1:3] * 2),
    "parameters_to_vector": lambda lib, t: lib.nn.utils.parameters_to_vector([t, t[1:].cos()]),
    # linear algebra
    "inv": lambda lib, t: lib.linalg.inv(spd(lib, t)), "det": lambda lib, t: lib.linalg.det(t[:, :3]),
    "slogdet": lambda lib, t: lib.linalg.slogdet(t[:, :3])[1], "solve": lambda lib, t: lib.linalg.solve(spd(lib, t), t),
    "cholesky": lambda lib, t: lib.linalg.cholesky(spd(lib, t)), "qr": lambda lib, t: lib.linalg.qr(t.mT)[1],
    "eigh": lambda lib, t: lib.linalg.eigh(spd(lib, t))[1] ** 2, "svd": lambda lib, t: lib.linalg.svd(t, False)[0] ** 2,
    "pinv": lambda lib, t: lib.linalg.pinv(t),
    # complex values and the FFT
    "rfft_abs": lambda lib, t: lib.fft.rfft(t).abs(), "irfft": lambda lib, t: lib.fft.irfft(lib.fft.rfft(t) * 2, n=4),
    "angle_real_imag": lambda lib, t: lib.angle(lib.fft.fft(t)) + lib.real(lib.fft.fft(t)) * lib.imag(lib.fft.fft(t)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_jvp_matches_torch_func(name):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    f = CASES[name]
    _, ours = jvp(lambda t: f(gn, t), (gn.tensor(x),), (gn.tensor(v),))
    _, theirs = torch.func.jvp(lambda t: f(torch, t), (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-9, atol=1e-12)


# ---- the fused layers (tests/fused_cases.py: the table the second-order tests use) ----------------
def _torch_jvp(fn, primals, tangents):
    """torch.func.jvp with PyTorch's math attention kernel (its fused CPU kernels have no forward mode)."""
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        return torch.func.jvp(fn, tuple(torch.tensor(p) for p in primals), tuple(torch.tensor(t) for t in tangents))


def _assert_tangents(ours, theirs, name):
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.array, b.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_fused_layer_jvp_matches_torch_func(op):
    """Tangents on every input (parameters included) at once."""
    rng = np.random.default_rng(0)
    primals = [rng.standard_normal(s) for s in op.shapes]
    tangents = [rng.standard_normal(s) for s in op.shapes]
    _, ours = jvp(lambda *t: op.fn(gn, *t), tuple(map(gn.tensor, primals)), tuple(map(gn.tensor, tangents)))
    _, theirs = _torch_jvp(lambda *t: op.fn(torch, *t), primals, tangents)
    _assert_tangents(ours, theirs, op.name)


@pytest.mark.parametrize("name", list(MODULES))
def test_module_jvp_matches_torch_func(name):
    build, call, shape = MODULES[name]
    ours, ref = module_pair(build)
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(shape), rng.standard_normal(shape)
    _, g_tangent = jvp(lambda a: call(ours, a), (gn.tensor(x),), (gn.tensor(v),))
    _, t_tangent = _torch_jvp(lambda a: call(ref, a), [x], [v])
    _assert_tangents(g_tangent, t_tangent, name)


def test_dropout_jvp_scales_the_tangent_by_the_drawn_mask():
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    gn.manual_seed(1)
    y, tangent = jvp(lambda t: gn.nn.functional.dropout(t, 0.3), (gn.tensor(x),), (gn.tensor(v),))
    scale = y.array / x  # the mask / (1 - p) that was drawn
    assert set(np.round(np.unique(scale), 9)) == {0, round(1 / 0.7, 9)}
    np.testing.assert_allclose(tangent.array, v * scale, rtol=1e-12)


def test_backward_hook_nodes_pass_tangents_through():
    ours, ref = module_pair(lambda lib: lib.nn.Linear(4, 3))
    ours.register_full_backward_hook(lambda module, grad_input, grad_output: None)
    ours.register_full_backward_pre_hook(lambda module, grad_output: None)
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _, g_tangent = jvp(ours, (gn.tensor(x, requires_grad=True),), (gn.tensor(v),))
    _, t_tangent = torch.func.jvp(ref, (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(g_tangent.array, t_tangent.detach().numpy(), rtol=1e-12)
