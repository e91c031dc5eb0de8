import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, run_case

CASES = [
    Case("exp", lambda x: x.exp(), [(3, 4)]),
    Case("log", lambda x: x.log(), [(3, 4)], domain="positive"),
    Case("log1p", lambda x: x.log1p(), [(5,)], domain="positive"),
    Case("sqrt", lambda x: x.sqrt(), [(2, 3)], domain="positive"),
    Case("rsqrt", lambda x: x.rsqrt(), [(2, 3)], domain="positive"),
    Case("abs", lambda x: x.abs(), [(4, 3)], domain="nonzero"),
    Case("sign", lambda x: x.sign() * x, [(4,)], domain="nonzero"),
    Case("sin", lambda x: x.sin(), [(3, 2)]),
    Case("cos", lambda x: x.cos(), [(3, 2)]),
    Case("clamp_both", lambda x: x.clamp(-0.5, 0.5), [(4, 5)], domain="distinct"),
    Case("clamp_min", lambda x: x.clamp(min=0.2), [(4, 5)], domain="distinct"),
    Case("clamp_max_functional", lambda x: gn.clamp(x, max=0.1), [(6,)], torch_fn=lambda x: torch.clamp(x, max=0.1),
         domain="distinct"),
    Case("maximum", lambda a, b: a.maximum(b), [(3, 4), (4,)], domain="distinct"),
    Case("minimum", lambda a, b: a.minimum(b), [(3, 1), (1, 4)], domain="distinct"),
    Case("maximum_ties", lambda a, b: a.maximum(b), [Const(lambda r: np.array([1.0, 2.0, 3.0])), (3,)],
         torch_fn=lambda a, b: torch.maximum(a.float(), b)),
    Case("where", lambda c, a, b: gn.where(c, a, b), [Const(lambda r: r.random((3, 4)) > 0.5), (3, 4), (4,)],
         torch_fn=lambda c, a, b: torch.where(c, a, b)),
    Case("where_method", lambda c, a, b: a.where(c, b), [Const(lambda r: r.random((2, 1)) > 0.5), (2, 3), (1, 3)]),
    Case("empty", lambda x: x.exp() + x.sin(), [(0, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_maximum_splits_gradient_at_ties_like_torch():
    for lib in (gn, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([1.0, 3.0], requires_grad=True)
        a.maximum(b).sum().backward()
        assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_match_torch(op):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, (2, 5)).astype(np.float32), rng.integers(0, 3, (5,)).astype(np.float32)
    ours = getattr(gn.tensor(a), op)(gn.tensor(b))
    theirs = getattr(torch.tensor(a), op)(torch.tensor(b))
    assert ours.dtype == gn.bool and not ours.requires_grad
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    np.testing.assert_array_equal(getattr(gn.tensor(a), op)(1.0).array, getattr(torch.tensor(a), op)(1.0).numpy())


def test_where_requires_bool_condition():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        gn.where(gn.ones(2), gn.ones(2), gn.zeros(2))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        gn.zeros(2).clamp()
