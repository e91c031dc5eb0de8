"""In-place operations: PyTorch's results and gradients, version counters and the modified-input error."""
import numpy as np
import pytest
import torch

import glassnet as gn


def _pair(shape=(3, 4), seed=0, requires_grad=True):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return gn.tensor(x, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad)


INPLACE = {
    "add_": lambda t, o: t.add_(o, alpha=2),
    "sub_": lambda t, o: t.sub_(o),
    "mul_": lambda t, o: t.mul_(o),
    "div_": lambda t, o: t.div_(o.abs() + 1),
    "iadd": lambda t, o: t.__iadd__(o),
    "isub": lambda t, o: t.__isub__(o),
    "imul": lambda t, o: t.__imul__(o),
    "itruediv": lambda t, o: t.__itruediv__(o.abs() + 1),
    "addcmul_": lambda t, o: t.addcmul_(o, o, value=0.5),
    "addcdiv_": lambda t, o: t.addcdiv_(o, o.abs() + 1, value=0.5),
    "lerp_": lambda t, o: t.lerp_(o, 0.3),
    "clamp_": lambda t, o: t.clamp_(-0.5, 0.5),
    "exp_": lambda t, o: t.exp_(),
    "tanh_": lambda t, o: t.tanh_(),
    "sigmoid_": lambda t, o: t.sigmoid_(),
    "relu_": lambda t, o: t.relu_(),
    "neg_": lambda t, o: t.neg_(),
    "pow_": lambda t, o: t.pow_(2),
    "setitem_row": lambda t, o: t.__setitem__(1, o[0]),
    "setitem_mask": lambda t, o: t.__setitem__(t > 0, 0.0),
    "setitem_slice_tensor": lambda t, o: t.__setitem__((slice(None), slice(1, 3)), o[:, :2] * 3),
    "copy_": lambda t, o: t.copy_(o[0]),
    "fill_": lambda t, o: t.fill_(0.25),
    "zero_": lambda t, o: t.zero_(),
    "masked_fill_": lambda t, o: t.masked_fill_(o > 0, 1.5),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_values_and_gradients_match_torch(name):
    """y = x * w (a non-leaf), y.<op>_(other), loss = sum(y * c): values and every gradient as torch."""
    op = INPLACE[name]
    gx, tx = _pair(seed=1)
    go, to = _pair(seed=2)
    c = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib, x, o in ((gn, gx, go), (torch, tx, to)):
        y = x * 1.5
        out = op(y, o)
        assert out is y or name.startswith("setitem")
        (y * lib.tensor(c)).sum().backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy(),
                        None if o.grad is None else o.grad.numpy().copy()))
    (gy, gxg, gog), (ty, txg, tog) = results
    np.testing.assert_allclose(gy, ty, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gxg, txg, rtol=1e-5, atol=1e-6)
    assert (gog is None) == (tog is None)
    if gog is not None:
        np.testing.assert_allclose(gog, tog, rtol=1e-5, atol=1e-6)


def test_outside_the_graph_inplace_changes_the_storage_and_its_views():
    x = gn.arange(6.0).reshape(2, 3)
    row = x[1]
    row.add_(10)
    assert x.tolist() == [[0, 1, 2], [13, 14, 15]]
    x += 1
    assert row.tolist() == [14, 15, 16]
    assert x._version == row._version == 2


@pytest.mark.parametrize("modify", [
    lambda t: t.zero_(),
    lambda t: t.fill_(1.0),
    lambda t: t.__setitem__(0, 5.0),
    lambda t: t.copy_(gn.ones(3)),
    lambda t: t.add_(1),
], ids=["zero_", "fill_", "setitem", "copy_", "add_"])
def test_changing_a_saved_tensor_raises_torchs_error(modify):
    w = gn.randn(3, requires_grad=True)
    x = gn.randn(3)
    y = (x * w).sum()  # the product saves x for w's gradient
    with gn.no_grad():
        modify(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_optimizer_step_between_two_backwards_raises():
    lin = gn.nn.Linear(3, 2)
    opt = gn.optim.SGD(lin.parameters(), lr=0.1)
    out = lin(gn.randn(4, 3)).pow(2).sum()
    out.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_modified_output_of_an_op_that_reads_its_output_raises():
    x = gn.randn(3, requires_grad=True)
    y = x.exp()
    y.add_(1)  # exp's backward reads y
    with pytest.raises(RuntimeError, match="output 0 of Exp"):
        y.sum().backward()


def test_allowed_cases_do_not_raise():
    """Changing a tensor that no backward reads is fine, as in PyTorch (x * 2 does not save x)."""
    w = gn.randn(3, requires_grad=True)
    x = w * 1
    y = (x * 2).sum() + (x + 1).sum()
    x.add_(1)
    y.backward()
    np.testing.assert_allclose(w.grad.array, [3, 3, 3])


def test_leaf_that_requires_grad_cannot_change_in_place_while_recording():
    w = gn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with gn.no_grad():
        w.add_(1)
    w.data.mul_(3)  # through .data: not recorded, not counted
    assert w.tolist() == [3, 3, 3] and w._version == 1


def test_inplace_dtype_and_shape_rules():
    i = gn.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="does not match the shape"):
        gn.zeros(3).add_(gn.ones(2, 3))
    f = gn.zeros(2, 3)
    f += gn.ones(3)  # the operand broadcasts; the tensor changed in place does not
    assert f.sum().item() == 6


def test_view_of_a_tensor_that_requires_grad_is_refused_clearly():
    x = gn.randn(2, 3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="view"):
        x[0].add_(1)


def test_random_inplace_fills():
    gn.manual_seed(0)
    t = gn.empty(10000)
    t.normal_(2.0, 0.5)
    assert abs(t.mean().item() - 2.0) < 0.02 and abs(t.std().item() - 0.5) < 0.02
    t.uniform_(-1, 1)
    assert -1 <= t.min().item() and t.max().item() < 1
    t.bernoulli_(0.25)
    assert set(np.unique(t.array)) <= {0.0, 1.0} and abs(t.mean().item() - 0.25) < 0.02
