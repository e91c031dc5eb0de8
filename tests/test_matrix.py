"""Diagonals, trace and einsum: parity with PyTorch, gradients (also second order), bad equations."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, both, run_case

CASES = [
    both("diagonal", lambda lib, x: lib.diagonal(x), [(3, 4)]),
    both("diagonal_offset_dims", lambda lib, x: lib.diagonal(x, 1, 2, 0), [(3, 2, 4)]),
    both("diagonal_negative_offset", lambda lib, x: lib.diagonal(x, -2, -1, -2), [(2, 5, 3)]),
    both("diagonal_offset_past_end", lambda lib, x: lib.diagonal(x, 7), [(3, 4)]),
    both("diag_vector", lambda lib, v: lib.diag(v), [(4,)]),
    both("diag_vector_offset", lambda lib, v: (lib.diag(v, 1), lib.diag(v, -2)), [(3,)]),
    both("diag_matrix", lambda lib, x: (lib.diag(x), lib.diag(x, -1)), [(3, 4)]),
    both("diag_embed", lambda lib, x: lib.diag_embed(x), [(2, 3)]),
    both("diag_embed_offset_dims", lambda lib, x: lib.diag_embed(x, -1, 0, 2), [(2, 3)]),
    both("trace", lambda lib, x: lib.trace(x), [(3, 4)]),
    Case("methods", lambda x: x.diagonal(1) * 2 + x.diag(1) + x.trace(), [(3, 3)]),
    both("einsum_matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    both("einsum_batched_attention", lambda lib, q, k: lib.einsum("bhqd,bhkd->bhqk", q, k),
         [(2, 2, 3, 4), (2, 2, 5, 4)]),
    both("einsum_implicit_output", lambda lib, a, b: lib.einsum("ij,jk", a, b), [(2, 3), (3, 2)]),
    both("einsum_transpose", lambda lib, a: lib.einsum("ij->ji", a), [(2, 3)]),
    both("einsum_trace", lambda lib, a: lib.einsum("ii", a), [(3, 3)]),
    both("einsum_diagonal", lambda lib, a: lib.einsum("ii->i", a), [(3, 3)]),
    both("einsum_repeated_and_summed", lambda lib, a: lib.einsum("iij->j", a), [(3, 3, 2)]),
    both("einsum_triple_diagonal", lambda lib, a: lib.einsum("iii->i", a), [(2, 2, 2)]),
    both("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), [(3,), (4,)]),
    both("einsum_sum_all", lambda lib, a: lib.einsum("ijk->", a), [(2, 3, 2)]),
    both("einsum_three_operands", lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 2)]),
    both("einsum_ellipsis_broadcast", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
         [(2, 1, 3, 4), (3, 4, 2)]),
    both("einsum_size1_broadcast", lambda lib, a, b: lib.einsum("ij,ij->i", a, b), [(3, 4), (1, 4)]),
    both("einsum_spaces_list", lambda lib, a, b: lib.einsum("b i, b i -> b", [a, b]), [(2, 3), (2, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_einsum_second_order_matches_torch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    grads = []
    for lib in (gn, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = (lib.einsum("ii,ij->j", x * x, y) ** 2).sum()
        gx, gy = (gn.autograd.grad if lib is gn else torch.autograd.grad)(out, [x, y], create_graph=True)
        second = (gn.autograd.grad if lib is gn else torch.autograd.grad)((gx * gy.sum()).sum(), [x, y])
        grads.append([np.asarray(g.tolist()) for g in second])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_einsum_jvp_matches_torch_func():
    from glassnet.autograd.forward_ad import jvp

    rng = np.random.default_rng(1)
    a, b, va, vb = (rng.standard_normal(s) for s in ((3, 4), (4, 2), (3, 4), (4, 2)))
    _, ours = jvp(lambda x, y: gn.einsum("ij,jk->ik", x, y), (gn.tensor(a), gn.tensor(b)),
                  (gn.tensor(va), gn.tensor(vb)))
    _, theirs = torch.func.jvp(lambda x, y: torch.einsum("ij,jk->ik", x, y), (torch.tensor(a), torch.tensor(b)),
                               (torch.tensor(va), torch.tensor(vb)))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: gn.einsum("ij,jk->ik", gn.ones(2, 3)), ValueError, "2 operands but 1 tensors"),
    (lambda: gn.einsum("ij,jk->ik", gn.ones(2, 3), gn.ones(4, 2)), ValueError, "index 'j' has size 3"),
    (lambda: gn.einsum("ijk->i", gn.ones(2, 3)), ValueError, "name 3 dims but the operand has shape"),
    (lambda: gn.einsum("i1->i", gn.ones(2, 3)), ValueError, "must be letters"),
    (lambda: gn.diagonal(gn.ones(2, 3), 0, 1, 1), ValueError, "dim1 and dim2 must be different"),
    (lambda: gn.diag(gn.ones(2, 2, 2)), ValueError, "1-D or 2-D"),
    (lambda: gn.trace(gn.ones(3)), ValueError, "2-D"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()
