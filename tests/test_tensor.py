"""Tensor attributes, factories, dtypes and promotion, randomness, and errors for bad input."""
import numpy as np
import pytest
import torch

import glassnet as gn


def test_default_dtypes_follow_torch():
    for data in ([1.0, 2.0], [1, 2], [True, False], 3.5, 7, [[1, 2], [3, 4]]):
        assert gn.tensor(data).dtype == torch.tensor(data).numpy().dtype
    assert gn.tensor(np.zeros(2)).dtype == gn.float64  # NumPy arrays keep their dtype, as torch.tensor does
    assert gn.zeros(2, 3).dtype == gn.float32 and gn.arange(5).dtype == gn.int64
    assert gn.arange(0, 1, 0.25).dtype == gn.float32


@pytest.mark.parametrize("a_dtype,b", [("float32", 2), ("float32", 2.5), ("int64", 2.5), ("int64", 3),
                                       ("bool", 1), ("float64", 2.0)])
def test_scalar_promotion_matches_torch(a_dtype, b):
    a = np.array([1, 0, 1]).astype(a_dtype)
    ops = [lambda x, y: x + y, lambda x, y: x * y] + ([lambda x, y: y - x] if a_dtype != "bool" else [])
    for op in ops:
        ours = op(gn.tensor(a), b)
        theirs = op(torch.tensor(a), b)
        assert ours.dtype == theirs.numpy().dtype, (a_dtype, b)
        np.testing.assert_allclose(ours.array, theirs.numpy())


@pytest.mark.parametrize("da,db", [("float32", "float64"), ("int64", "float32"), ("int64", "int32"),
                                   ("float32", "bool")])
def test_tensor_promotion_matches_torch(da, db):
    a, b = np.ones(2, da), np.ones(2, db)
    assert (gn.tensor(a) + gn.tensor(b)).dtype == (torch.tensor(a) + torch.tensor(b)).numpy().dtype


def test_integer_division_is_true_division():
    x = gn.tensor([1, 2, 3]) / 2
    assert x.dtype == gn.float32 and x.tolist() == [0.5, 1.0, 1.5]


def test_mixed_dtype_gradient_comes_back_in_input_dtype():
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    b = gn.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == gn.float32 and b.grad.dtype == gn.float64
    assert a.grad.tolist() == [3.0, 4.0]


def test_attributes():
    x = gn.randn(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.numel() == 24 and len(x) == 2 and x.dim() == 3
    assert gn.tensor(2.5).item() == 2.5
    assert gn.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert isinstance(x.numpy(), np.ndarray)
    assert x.double().dtype == gn.float64 and x.long().dtype == gn.int64 and x.to(gn.float64).float().dtype == gn.float32
    c = x.clone()
    c.array[0] = 0
    assert not np.all(x.array[0] == 0)
    r = gn.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(r) and "grad_fn=<MulBackward>" in repr(r * 2)


def test_numpy_on_tensor_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="detach"):
        gn.tensor([1.0], requires_grad=True).numpy()


def test_item_on_many_elements_raises():
    with pytest.raises(RuntimeError, match="3 elements"):
        gn.zeros(3).item()


def test_cast_is_differentiable():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == gn.float32 and x.grad.tolist() == [3.0, 3.0]


def test_factories():
    assert gn.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert gn.ones((2,)).tolist() == [1.0, 1.0]
    assert gn.full((2,), 7).dtype == gn.int64 and gn.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert gn.arange(1, 7, 2).tolist() == [1, 3, 5]
    np.testing.assert_allclose(gn.linspace(0, 1, 5).array, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(gn.linspace(5, 10, 3, dtype=gn.int64).array, [5, 7, 10])  # torch's truncation
    with pytest.raises(TypeError, match="linspace: dtype bool"):
        gn.linspace(5, 10, 3, dtype=gn.bool)
    assert gn.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert gn.empty(3, 2).shape == (3, 2)
    x = gn.randn(4, 5, dtype=gn.float64)
    assert gn.zeros_like(x).dtype == gn.float64 and gn.ones_like(x).shape == (4, 5)
    assert gn.full_like(x, 2.0).array.max() == 2.0
    r = gn.randint(3, 9, (1000,))
    assert r.dtype == gn.int64 and r.array.min() == 3 and r.array.max() == 8
    u = gn.rand(10000)
    assert 0 <= u.array.min() and u.array.max() < 1 and abs(u.array.mean() - 0.5) < 0.02
    n = gn.randn(10000)
    assert abs(n.array.std() - 1) < 0.03
    assert gn.randn(2, 2, requires_grad=True).requires_grad


def test_seeds_reproduce():
    gn.manual_seed(123)
    a = gn.randn(5)
    gn.manual_seed(123)
    b = gn.randn(5)
    assert a.tolist() == b.tolist()
    g1, g2 = gn.Generator().manual_seed(7), gn.Generator().manual_seed(7)
    assert gn.rand(3, generator=g1).tolist() == gn.rand(3, generator=g2).tolist()
    state = g1.get_state()
    x = gn.randn(3, generator=g1)
    g1.set_state(state)
    assert gn.randn(3, generator=g1).tolist() == x.tolist()


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\), \(4,\) cannot be broadcast"):
        gn.zeros(2, 3) + gn.zeros(4)
    with pytest.raises(ValueError, match=r"mul: shapes"):
        gn.zeros(2, 3) * gn.zeros(3, 2)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        gn.zeros(2, 3) @ gn.zeros(4, 5)
    with pytest.raises(ValueError, match="matmul: both arguments need at least 1 dimension"):
        gn.matmul(gn.tensor(1.0), gn.zeros(3))


def test_numpy_array_operand_is_rejected_clearly():
    with pytest.raises(TypeError, match="NumPy array"):
        gn.add(gn.zeros(2), np.zeros(2))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 4\) is invalid for a tensor of shape \(3, 5\)"):
        gn.zeros(3, 5).reshape(4, 4)


def test_inplace_on_leaf_requiring_grad_raises():
    p = gn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        p.fill_(1.0)
    with gn.no_grad():
        p.fill_(1.0)
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_malloc_tuning_removes_page_faults_of_repeated_large_temporaries():
    """The same 8 MB temporaries allocated and freed every step should not fault once warmed up."""
    import resource
    import subprocess
    import sys

    code = ("import resource, numpy as np, glassnet\n"
            "for _ in range(3): a = np.ones(2**21, np.float32); b = a * 2; del a, b\n"
            "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20): a = np.ones(2**21, np.float32); b = a * 2; del a, b\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)\n")
    tuned = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    default = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env={**__import__("os").environ, "GLASSNET_MALLOC": "default"}).stdout)
    assert default > 1000 and tuned < 100, (default, tuned)
