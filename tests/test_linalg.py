"""torch.linalg: parity with PyTorch (values and gradients, float64 gradcheck), singular and bad inputs.

Singular vectors and eigenvectors are defined up to sign, which LAPACK may choose differently in the two
libraries; the cases check functions that do not depend on it (U * U, U diag(S) Vh, V diag(w) V^T).
"""
import math

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.linalg as gl
from parity import Case, Const, run_case


def la(name, op, inputs, **kw):
    """A case written once: op(linalg_namespace, lib, *args) for glassnet.linalg / torch.linalg."""
    return Case(name, lambda *a: op(gl, gn, *a), inputs, torch_fn=lambda *a: op(torch.linalg, torch, *a), **kw)


def spd(n, batch=()):
    """A symmetric positive-definite constant-free input: the case builds A = X X^T + n I from X."""
    return tuple(batch) + (n, n)


def make_spd(lib, x):
    return x @ x.mT + x.shape[-1] * lib.eye(x.shape[-1], dtype=x.dtype)


def sym(lib, x):
    return (x + x.mT) / 2


CASES = [
    la("inv", lambda L, lib, a: L.inv(a + 3 * lib.eye(3, dtype=a.dtype)), [(3, 3)]),
    la("inv_batched", lambda L, lib, a: L.inv(make_spd(lib, a)), [(2, 3, 3)]),
    la("solve", lambda L, lib, a, b: L.solve(make_spd(lib, a), b), [(3, 3), (3, 2)]),
    la("solve_vector", lambda L, lib, a, b: L.solve(make_spd(lib, a), b), [(3, 3), (3,)]),
    la("solve_batched_broadcast", lambda L, lib, a, b: L.solve(make_spd(lib, a), b), [(2, 3, 3), (3, 1)]),
    la("solve_batched_vector", lambda L, lib, a, b: L.solve(make_spd(lib, a), b), [(2, 3, 3), (2, 3)]),
    la("solve_right", lambda L, lib, a, b: L.solve(make_spd(lib, a), b, left=False), [(3, 3), (2, 3)]),
    la("solve_triangular", lambda L, lib, a, b: L.solve_triangular(a + 3 * lib.eye(3, dtype=a.dtype), b, upper=True),
       [(3, 3), (3, 2)]),
    la("solve_triangular_lower_unit", lambda L, lib, a, b: L.solve_triangular(a, b, upper=False, unitriangular=True),
       [(3, 3), (3, 2)]),
    la("det", lambda L, lib, a: L.det(a), [(3, 3)]),
    la("det_batched", lambda L, lib, a: L.det(a), [(2, 4, 4)]),
    la("slogdet", lambda L, lib, a: tuple(L.slogdet(a)), [(2, 3, 3)]),
    Case("logdet", lambda a: gn.logdet(make_spd(gn, a)), [(3, 3)], torch_fn=lambda a: torch.logdet(make_spd(torch, a))),
    la("cholesky", lambda L, lib, a: L.cholesky(make_spd(lib, a)), [(3, 3)]),
    la("cholesky_upper_batched", lambda L, lib, a: L.cholesky(make_spd(lib, a), upper=True), [(2, 3, 3)]),
    la("qr_square", lambda L, lib, a: tuple(L.qr(a)), [(3, 3)]),
    la("qr_tall_batched", lambda L, lib, a: tuple(L.qr(a)), [(2, 5, 3)]),
    la("qr_complete_values", lambda L, lib, a: tuple(L.qr(a, mode="complete")), [Const(lambda r: r.standard_normal(
        (4, 2)))], gradcheck=False),
    la("eigh_values", lambda L, lib, a: L.eigvalsh(sym(lib, a)), [(4, 4)], domain="distinct"),
    la("eigh_vectors_gauge_free", lambda L, lib, a: (L.eigh(sym(lib, a))[1] ** 2, L.eigh(sym(lib, a))[0]), [(3, 3)]),
    la("eigh_upper", lambda L, lib, a: L.eigh(sym(lib, a), UPLO="U")[0], [(3, 3)]),
    la("svdvals", lambda L, lib, a: L.svdvals(a), [(4, 3)]),
    la("svd_full_default_values", lambda L, lib, a: L.svd(a).S, [(3, 5)]),
    la("svd_gauge_free", lambda L, lib, a: _svd_products(L, a), [(4, 3)]),
    la("svd_wide_gauge_free", lambda L, lib, a: _svd_products(L, a), [(2, 3, 5)]),
    la("pinv_tall", lambda L, lib, a: L.pinv(a), [(4, 3)]),
    la("pinv_wide", lambda L, lib, a: L.pinv(a), [(2, 4)]),
    Case("pinverse", lambda a: gn.pinverse(a), [(3, 2)], torch_fn=lambda a: torch.pinverse(a)),
    la("matrix_rank", lambda L, lib, a: L.matrix_rank(a @ a[:2].mT @ a[:2]), [Const(lambda r: r.standard_normal(
        (4, 3)))], gradcheck=False),
    la("vector_norm", lambda L, lib, a: (L.vector_norm(a), L.vector_norm(a, 3, dim=1), L.vector_norm(a, math.inf, 0)),
       [(3, 4)], domain="distinct"),
    la("vector_norm_negative_ords", lambda L, lib, a: (L.vector_norm(a, -math.inf, 1), L.vector_norm(a, -1, 1),
                                                       L.vector_norm(a, 0)), [(3, 4)], domain="distinct"),
    *(la(f"matrix_norm_{ord}", lambda L, lib, a, o=ord: L.matrix_norm(a, o), [(2, 3, 4)], domain="distinct")
      for ord in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)),
    la("matrix_norm_dims_keepdim", lambda L, lib, a: L.matrix_norm(a, 1, dim=(2, 0), keepdim=True), [(3, 2, 4)],
       domain="distinct"),
    la("norm_default_vector_matrix", lambda L, lib, a: (L.norm(a), L.norm(a, dim=1), L.norm(a, "nuc"),
                                                        L.norm(a[0], 3), L.norm(a, 2, dim=(0, 1))), [(3, 4)]),
    Case("torch_norm_nuc", lambda a: a.norm("nuc"), [(3, 4)]),
    la("matrix_power", lambda L, lib, a: (L.matrix_power(a, 3), L.matrix_power(a, 0),
                                          L.matrix_power(make_spd(lib, a), -2)), [(3, 3)]),
    la("cross", lambda L, lib, a, b: L.cross(a, b), [(2, 3), (2, 3)]),
    Case("cross_first_dim_of_size_3", lambda a, b: gn.cross(a, b), [(4, 3), (4, 3)],
         torch_fn=lambda a, b: torch.cross(a, b, dim=1)),
    la("multi_dot", lambda L, lib, a, b, c: L.multi_dot([a, b, c]), [(3,), (3, 4), (4, 2)]),
    la("vecdot", lambda L, lib, a, b: L.vecdot(a, b), [(3, 4), (3, 4)]),
    la("diagonal", lambda L, lib, a: L.diagonal(a, offset=1), [(2, 3, 4)]),
]


def _svd_products(L, a):
    U, S, Vh = L.svd(a, full_matrices=False)
    return U ** 2, S, Vh ** 2, (U * S.unsqueeze(-2)) @ Vh


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    values = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]]
    grads = []
    for lib in (gn, torch):
        a = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        lib.linalg.det(a).backward()
        grads.append(np.asarray(a.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-12)


@pytest.mark.parametrize("name, fn", [
    ("inv", lambda L, a: L.inv(a + 3 * np_eye(a)).sum()),
    ("det", lambda L, a: L.det(a)),
    ("cholesky", lambda L, a: (L.cholesky(a @ a.mT + 3 * np_eye(a)) ** 2).sum()),
    ("solve", lambda L, a: (L.solve(a + 3 * np_eye(a), a) ** 2).sum()),
    ("eigvalsh", lambda L, a: (L.eigvalsh(a + a.mT) ** 3).sum()),
    ("pinv", lambda L, a: (L.pinv(a[:, :2]) ** 2).sum()),
])
def test_second_order_matches_torch(name, fn):
    x = np.random.default_rng(3).standard_normal((3, 3))
    results = []
    for L, lib in ((gl, gn), (torch.linalg, torch)):
        a = lib.tensor(x, requires_grad=True)
        grad = gn.autograd.grad if lib is gn else torch.autograd.grad
        (g,) = grad(fn(L, a), [a], create_graph=True)
        (h,) = grad((g * g).sum(), [a])
        results.append(np.asarray(h.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-10)


def np_eye(a):
    lib = gn if isinstance(a, gn.Tensor) else torch
    return lib.eye(a.shape[-1], dtype=a.dtype)


def test_linalg_jvp_matches_torch_func():
    from glassnet.autograd.forward_ad import jvp

    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 3))
    for fname in ("inv", "det"):
        _, ours = jvp(getattr(gl, fname), (gn.tensor(a),), (gn.tensor(v),))
        _, theirs = torch.func.jvp(getattr(torch.linalg, fname), (torch.tensor(a),), (torch.tensor(v),))
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-10, err_msg=fname)


@pytest.mark.parametrize("call, error, words", [
    (lambda: gl.inv(gn.ones(2, 3)), ValueError, r"inv: expected a square matrix .* got shape \(2, 3\)"),
    (lambda: gl.inv(gn.zeros(2, 2)), RuntimeError, "linalg.inv: Singular matrix"),
    (lambda: gl.cholesky(-gn.eye(2)), RuntimeError, "linalg.cholesky: .*not positive-definite"),
    (lambda: gl.det(gn.tensor([[1, 2], [3, 4]])), TypeError, "det: expected a float32 or float64 tensor"),
    (lambda: gl.solve(gn.eye(3), gn.ones(2, 1)), ValueError, "solve: A of shape .* do not fit"),
    (lambda: gl.qr(gn.ones(2, 2), mode="full"), ValueError, "qr: mode must be"),
    (lambda: gl.matrix_norm(gn.ones(2, 2), 3), ValueError, "matrix_norm: ord must be one of"),
    (lambda: gl.norm(gn.ones(2, 2, 2), 2), ValueError, "linalg.norm: with ord=2 and dim=None"),
    (lambda: gl.eigh(gn.eye(2), UPLO="X"), ValueError, "eigh: UPLO must be"),
    (lambda: gl.cross(gn.ones(2), gn.ones(2)), ValueError, "cross: dimension -1 must have size 3"),
    (lambda: gl.svd(gn.ones(2, 3, requires_grad=True))[0].sum().backward(), NotImplementedError,
     "full_matrices=False"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()
