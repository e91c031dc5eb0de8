import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, both, run_case

CASES = [
    Case("reshape", lambda x: x.reshape(4, 6), [(2, 3, 4)]),
    Case("reshape_tuple", lambda x: x.reshape((3, 8)), [(2, 3, 4)]),
    Case("reshape_infer", lambda x: x.reshape(-1, 4), [(2, 3, 4)]),
    Case("reshape_infer_middle", lambda x: x.reshape(2, -1, 2), [(2, 3, 4)]),
    Case("reshape_to_scalar", lambda x: x.reshape(()), [(1, 1)]),
    Case("reshape_empty", lambda x: x.reshape(-1, 3), [(0, 3)], gradcheck=False),
    Case("view_infer", lambda x: x.view(-1), [(3, 4)]),
    Case("view_as", lambda x, y: x.view_as(y), [(3, 4), (2, 6)]),
    Case("flatten_all", lambda x: x.flatten(), [(2, 3, 4)]),
    Case("flatten_range", lambda x: x.flatten(1, 2), [(2, 3, 4, 5)]),
    Case("flatten_neg", lambda x: x.flatten(-3, -2), [(2, 3, 4, 5)]),
    Case("flatten_start", lambda x: x.flatten(1), [(2, 3, 4)]),
    Case("flatten_0d", lambda x: x.flatten(), [()]),
    Case("squeeze_all", lambda x: x.squeeze(), [(1, 3, 1, 2, 1)]),
    Case("squeeze_dim", lambda x: x.squeeze(2), [(1, 3, 1, 2)]),
    Case("squeeze_dim_not_one", lambda x: x.squeeze(1), [(1, 3, 1)]),
    Case("squeeze_neg_dim", lambda x: x.squeeze(-1), [(3, 1)]),
    Case("squeeze_tuple", lambda x: x.squeeze((0, -2, 1)), [(1, 3, 1, 2)]),
    Case("squeeze_0d", lambda x: x.squeeze(), [()]),
    Case("unsqueeze_front", lambda x: x.unsqueeze(0), [(3, 4)]),
    Case("unsqueeze_back", lambda x: x.unsqueeze(2), [(3, 4)]),
    Case("unsqueeze_neg", lambda x: x.unsqueeze(-1), [(3, 4)]),
    Case("unsqueeze_neg_middle", lambda x: x.unsqueeze(-3), [(3, 4)]),
    Case("unsqueeze_0d", lambda x: x.unsqueeze(-1), [()]),
    Case("transpose", lambda x: x.transpose(0, 1), [(3, 4)]),
    Case("transpose_neg", lambda x: x.transpose(-1, 0), [(2, 3, 4)]),
    Case("transpose_same", lambda x: x.transpose(1, 1), [(2, 3)]),
    Case("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    Case("permute_tuple_neg", lambda x: x.permute((1, -1, 0)), [(2, 3, 4)]),
    Case("T_2d", lambda x: x.T, [(3, 4)]),
    Case("mT", lambda x: x.mT, [(2, 3, 4)]),
    Case("mT_then_op", lambda x: x.mT * 2.0, [(3, 4)]),
    Case("expand", lambda x: x.expand(3, 4), [(3, 1)]),
    Case("expand_keep", lambda x: x.expand(2, -1, 4), [(3, 1)]),
    Case("expand_tuple", lambda x: x.expand((2, 3)), [(3,)]),
    Case("expand_0d", lambda x: x.expand(2, 3), [()]),
    Case("expand_as", lambda x, y: x.expand_as(y), [(1, 4), (3, 4)]),
    Case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), [(3, 1)]),
    Case("broadcast_to_same", lambda x: x.broadcast_to((3, 4)) * 1.0, [(3, 4)]),
    Case("cast_to_float64", lambda x: x.double() * 2, [(3, 4)], gradcheck=False),
    Case("cast_to_float32", lambda x: x.to(gn.float32) if isinstance(x, gn.Tensor) else x.to(torch.float32),
         [(3, 4)], gradcheck=False),
    Case("cast_roundtrip", lambda x: x.double().float() ** 2, [(3,)], gradcheck=False),
    Case("chain", lambda x: x.reshape(4, 6).T.unsqueeze(0).expand(2, -1, -1).flatten(0, 1), [(2, 3, 4)]),
    both("movedim", lambda lib, x: lib.movedim(x, 0, -1), [(2, 3, 4)]),
    both("movedim_several", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    Case("moveaxis_swapaxes_methods", lambda x: x.moveaxis(-1, 1).swapaxes(0, 2).swapdims(0, 1), [(2, 3, 4)]),
    both("t", lambda lib, x, v: (lib.t(x), v.t()), [(2, 3), (4,)]),
    both("unflatten", lambda lib, x: lib.unflatten(x, 1, (2, -1)), [(3, 6)]),
    both("ravel", lambda lib, x: lib.ravel(x.T), [(2, 3)]),
    both("atleast", lambda lib, a, b, c: (lib.atleast_1d(a), lib.atleast_2d(b), lib.atleast_3d(c), lib.atleast_3d(b)),
         [(), (3,), (2, 3)]),
    both("roll", lambda lib, x: lib.roll(x, 1, 0), [(3, 4)]),
    both("squeeze_unsqueeze_axis", lambda lib, x: (lib.squeeze(x, axis=1), lib.unsqueeze(x, axis=0)), [(2, 1, 3)]),
    both("roll_several_negative", lambda lib, x: lib.roll(x, (-1, 5), (1, 2)), [(2, 3, 4)]),
    both("roll_flat", lambda lib, x: lib.roll(x, 3), [(2, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_cast_gradient_dtype():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == gn.float64
    (y * y).sum().backward()
    assert x.grad.dtype == gn.float32
    np.testing.assert_allclose(x.grad.array, [2.0, 4.0])


def test_cast_to_int_has_no_grad():
    x = gn.tensor([1.5, 2.5], requires_grad=True)
    y = x.long()
    assert y.dtype == gn.int64 and not y.requires_grad
    np.testing.assert_array_equal(y.array, [1, 2])


def test_shape_ops_second_order():
    x = gn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = (x.T.reshape(-1).unsqueeze(0).expand(2, -1) ** 2).sum()
    (g,) = gn.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.array, 4 * x.array)
    (h,) = gn.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.array, np.full((2, 3), 4.0))


def _raises(exc, *words):
    return pytest.raises(exc, match=".*".join(words))


def test_bad_shapes():
    x = gn.zeros(2, 3)
    with _raises(ValueError, "reshape", r"\(4, 2\)", r"\(2, 3\)"):
        x.reshape(4, 2)
    with _raises(ValueError, "reshape", r"\(-1, -1\)"):
        x.reshape(-1, -1)
    with _raises(ValueError, "reshape", r"\(-2, -3\)"):
        x.reshape(-2, -3)
    with _raises(ValueError, "reshape", r"\(-1, 0\)"):
        gn.zeros(0).reshape(-1, 0)
    with _raises(TypeError, "ints"):
        x.reshape(2.0, 3)
    with _raises(IndexError, "squeeze", "dimension 2"):
        x.squeeze(2)
    with _raises(ValueError, "squeeze", "more than once"):
        gn.zeros(1, 2).squeeze((0, -2))
    with _raises(IndexError, "unsqueeze", "dimension 3"):
        x.unsqueeze(3)
    with _raises(IndexError, "transpose", "dimension 2"):
        x.transpose(0, 2)
    with _raises(ValueError, "permute", r"\(0, 0\)"):
        x.permute(0, 0)
    with _raises(ValueError, "permute", "1 dims"):
        x.permute(0)
    with _raises(ValueError, "flatten", "start_dim"):
        gn.zeros(2, 3, 4).flatten(2, 1)
    with _raises(ValueError, "broadcast", r"\(2, 3\)", r"\(3, 3\)"):
        x.expand(3, 3)
    with _raises(ValueError, "expand", r"\(-1, 2, 3\)"):
        x.expand(-1, 2, 3)
    with _raises(ValueError, "expand", r"\(3,\)"):
        x.expand(3)


def test_new_shape_op_errors():
    x = gn.zeros(2, 3)
    with _raises(ValueError, "movedim", "same length"):
        gn.movedim(x, (0, 1), 0)
    with _raises(ValueError, "unflatten", "do not multiply"):
        gn.unflatten(x, 1, (2, 2))
    with _raises(ValueError, "roll", "same length"):
        gn.roll(x, (1, 2), 0)
    with _raises(ValueError, "t", "at most 2"):
        gn.zeros(1, 2, 3).t()
    with _raises(IndexError, "roll", "dimension 2"):
        gn.roll(x, 1, 2)
