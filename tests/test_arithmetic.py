import pytest

from parity import Case, run_case

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


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)
