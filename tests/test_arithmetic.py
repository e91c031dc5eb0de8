import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, both, run_case

CASES = [
    Case("add", lambda a, b: a + b, [(3, 4), (3, 4)]),
    Case("add_broadcast", lambda a, b: a + b, [(2, 1, 4), (3, 1)]),
    Case("add_scalar", lambda a: 2.5 + a, [(3,)]),
    Case("sub_broadcast", lambda a, b: a - b, [(4,), (3, 4)]),
    Case("rsub_scalar", lambda a: 1 - a, [(2, 3)]),
    Case("mul_broadcast", lambda a, b: a * b, [(2, 3, 1), (1, 4)]),
    Case("mul_size1_empty", lambda a, b: a * b, [(0, 3), (1, 3)]),
    Case("div", lambda a, b: a / b, [(3, 4), (4,)], domain="nonzero"),
    Case("rdiv_scalar", lambda a: 2 / a, [(5,)], domain="nonzero"),
    Case("pow_scalar", lambda a: a ** 3, [(3, 4)]),
    Case("pow_tensor", lambda a, b: a ** b, [(3, 4), (4,)], domain="positive"),
    Case("rpow", lambda a: 2.0 ** a, [(3,)]),
    Case("neg", lambda a: -a, [(2, 3)]),
    Case("matmul_2d", lambda a, b: a @ b, [(3, 4), (4, 5)]),
    Case("matmul_vec_vec", lambda a, b: a @ b, [(4,), (4,)]),
    Case("matmul_mat_vec", lambda a, b: a @ b, [(3, 4), (4,)]),
    Case("matmul_vec_mat", lambda a, b: a @ b, [(4,), (4, 2)]),
    Case("matmul_batched_broadcast", lambda a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)]),
    Case("matmul_batch_vec", lambda a, b: a.matmul(b), [(2, 3, 4), (4,)]),
]


CASES += [
    both("remainder", lambda lib, a, b: lib.remainder(a * 3.1 + 0.1, b), [(3, 4), (4,)], domain="nonzero"),
    Case("mod_operator", lambda a, b: (a * 3.1 + 0.1) % b + (a % 0.7), [(3, 4), (3, 4)], domain="nonzero"),
    both("fmod", lambda lib, a, b: lib.fmod(a * 3.1 + 0.1, b), [(3, 4), (3, 1)], domain="nonzero"),
    both("fmod_scalar", lambda lib, a: lib.fmod(a * 3, -1.5), [(5,)]),
    # torch's // has no derivative (an error); glassnet's is zero, as torch's div(rounding_mode="floor")
    Case("floordiv_operator", lambda a, b: a * (a * 1.1 // b) + 3.1 // b, [(3, 4), (4,)], domain="nonzero",
         torch_fn=lambda a, b: a * torch.div(a * 1.1, b, rounding_mode="floor") + (3.1 / b).floor()),
    both("div_floor", lambda lib, a, b: a * lib.div(a * 4.3, b, rounding_mode="floor"), [(3, 4), (3, 4)],
         domain="nonzero"),
    both("div_trunc", lambda lib, a, b: b * lib.div(a * 4.3, b, rounding_mode="trunc"), [(3, 4), (4,)],
         domain="nonzero"),
    both("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=-2.5), [(3, 4), (4,)]),
    both("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=3), [(3, 4), (3, 4)]),
    both("rsub", lambda lib, a, b: lib.rsub(a, b, alpha=2), [(3, 4), (3, 4)]),
    both("float_power", lambda lib, a: lib.float_power(a, 3), [(4,)]),
    both("addcmul", lambda lib, x, a, b: lib.addcmul(x, a, b, value=0.5), [(3, 4), (3, 4), (4,)]),
    both("addcdiv", lambda lib, x, a, b: lib.addcdiv(x, a, b, value=-2), [(3, 4), (3, 4), (4,)], domain="nonzero"),
    both("int_floor_trunc_remainder", lambda lib, a, b: (lib.div(a, b, rounding_mode="floor"),
         lib.div(a, b, rounding_mode="trunc"), lib.remainder(a, b), lib.fmod(a, b), a // b, a % b), [
        Const(lambda r: np.arange(-7, 8)), Const(lambda r: np.array([3, -3, 2, -2, 5] * 3))], gradcheck=False),
    both("mm", lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 5)]),
    Case("mm_method", lambda a, b: a.mm(b.t()), [(3, 4), (5, 4)]),
    both("bmm", lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    both("mv", lambda lib, a, v: lib.mv(a, v), [(3, 4), (4,)]),
    both("dot", lambda lib, a, b: lib.dot(a, b), [(5,), (5,)]),
    both("outer", lambda lib, a, b: lib.outer(a, b), [(3,), (4,)]),
    Case("ger_method", lambda a, b: a.ger(b), [(3,), (2,)]),
    both("addmm", lambda lib, x, a, b: lib.addmm(x, a, b, beta=0.5, alpha=-2), [(5,), (3, 4), (4, 5)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide"])
def test_integer_division_by_zero_is_an_error(op):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(gn, op)(gn.tensor([5, 3]), gn.tensor([1, 0]))


def test_float_division_by_zero_rounded_like_torch():
    a, b = [1.0, -1.0, 0.0, 5.0], [0.0, 0.0, 0.0, -0.0]
    for mode in ("floor", "trunc"):
        ours = gn.div(gn.tensor(a), gn.tensor(b), rounding_mode=mode)
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        np.testing.assert_array_equal(ours.array, theirs.numpy())


def test_floor_division_matches_python_on_many_values():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(500) * 10, rng.standard_normal(500) * 3
    for mode in ("floor", "trunc"):
        ours = gn.div(gn.tensor(a), gn.tensor(b), rounding_mode=mode).array
        np.testing.assert_array_equal(ours, torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy())


def test_div_bad_rounding_mode():
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'floor' or 'trunc', got 'round'"):
        gn.div(gn.ones(2), gn.ones(2), rounding_mode="round")


@pytest.mark.parametrize("op, shapes, message", [
    ("mm", [(3,), (3, 4)], "expected 2-D and 2-D tensors, got shapes (3,) and (3, 4)"),
    ("mm", [(2, 3, 4), (4, 5)], "expected 2-D and 2-D"),
    ("bmm", [(3, 4), (4, 5)], "expected 3-D and 3-D"),
    ("bmm", [(2, 3, 4), (1, 4, 5)], "batch sizes differ"),
    ("mv", [(3, 4), (4, 1)], "expected 2-D and 1-D"),
    ("dot", [(3,), (4,)], "different lengths 3 and 4"),
    ("outer", [(3, 1), (4,)], "expected 1-D and 1-D"),
    ("mm", [(3, 4), (5, 2)], "cannot be multiplied"),
])
def test_fixed_rank_products_refuse_other_shapes(op, shapes, message):
    """torch.mm and friends do not broadcast as matmul does; neither do glassnet's (torch raises too)."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(gn, op)(*(gn.ones(s) for s in shapes))
    with pytest.raises(RuntimeError):
        getattr(torch, op)(*(torch.ones(s) for s in shapes))
