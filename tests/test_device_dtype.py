"""Devices, `.to`, legacy constructors, factories' keywords and PyTorch's promotion rules."""
import numpy as np
import pytest
import torch

import glassnet as gn


def test_device_objects_like_torch():
    assert str(gn.device("cpu")) == "cpu" and repr(gn.device("cuda:1")) == "device(type='cuda', index=1)"
    assert gn.device("cpu") == "cpu" and gn.zeros(2).device == gn.device("cpu")
    assert gn.device(gn.device("cpu")).type == "cpu"
    with pytest.raises(ValueError, match="unknown device type"):
        gn.device("tpu")
    assert not gn.cuda.is_available() and gn.cuda.device_count() == 0
    assert not gn.backends.mps.is_available()


def test_the_usual_device_idiom_runs_on_the_cpu():
    device = gn.device("cuda" if gn.cuda.is_available() else "cpu")
    model = gn.nn.Linear(3, 2).to(device)
    x = gn.randn(4, 3, device=device).to(device)
    assert model(x).device == device


@pytest.mark.parametrize("call", [
    lambda: gn.zeros(2, device="cuda"),
    lambda: gn.arange(3, device="cuda:0"),
    lambda: gn.ones(2).to("cuda"),
    lambda: gn.ones(2).cuda(),
    lambda: gn.nn.Linear(2, 2).to("cuda"),
    lambda: gn.nn.Linear(2, 2).cuda(),
    lambda: gn.tensor([1.0], device="mps"),
])
def test_a_gpu_device_raises_a_clear_error(call):
    with pytest.raises(RuntimeError, match="not available: glassnet computes with NumPy on the CPU"):
        call()


def test_to_forms():
    x = gn.arange(3)
    assert x.to("cpu") is x and x.to(gn.float32).dtype == np.float32
    assert x.to("cpu", gn.float64).dtype == np.float64 and x.to(gn.zeros(1, dtype=gn.float16)).dtype == np.float16
    assert x.to(dtype=gn.float32, device="cpu").dtype == np.float32
    assert x.to("cpu", copy=True) is not x
    m = gn.nn.Linear(2, 2).to(gn.float64)
    assert m.weight.dtype == np.float64 and m.to(device="cpu", dtype=gn.float32).weight.dtype == np.float32


def test_tensor_api_small_pieces():
    x = gn.arange(6.0).reshape(2, 3)
    t = x.transpose(0, 1)
    assert not t.is_contiguous() and t.contiguous().is_contiguous() and x.contiguous() is x
    assert t.stride() == torch.arange(6.0).reshape(2, 3).transpose(0, 1).stride()
    assert f"{x.sum():.3f}" == "15.000" and f"{x}" == str(x)
    assert x.type() == "torch.FloatTensor" and x.type("torch.LongTensor").dtype == np.int64
    assert gn.is_tensor(x) and gn.numel(x) == 6 and x.get_device() == -1 and not x.is_cuda


def test_legacy_constructors():
    assert gn.Tensor(2, 3).shape == (2, 3) and gn.Tensor(2, 3).dtype == np.float32
    assert gn.Tensor([1, 2]).dtype == np.float32  # torch.Tensor(data) is always the default float
    assert gn.Tensor(np.array([1.0], np.float64)).dtype == np.float32
    assert gn.FloatTensor(3).shape == (3,) and gn.LongTensor([1, 2]).dtype == np.int64
    assert gn.Tensor().shape == (0,)


def test_factory_keywords():
    assert gn.empty(size=(2, 4)).shape == (2, 4) and gn.zeros(size=[3]).shape == (3,)
    assert gn.randn(3, dtype=gn.float16).dtype == np.float16 and gn.rand(2, dtype=gn.float16).dtype == np.float16
    with pytest.raises(ValueError, match="non-negative ints"):
        gn.zeros(-1)


@pytest.mark.parametrize("args, shape", [((2, (5,)), (5,)), ((10, (3,)), (3,)), ((3, 10, (2, 2)), (2, 2))])
def test_randint_signatures(args, shape):
    gn.manual_seed(0)
    r = gn.randint(*args)
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    assert r.shape == shape and r.dtype == np.int64 and r.min() >= low and r.max() < high
    assert gn.randint(0, 5, size=(4,)).shape == (4,)


def test_randint_covers_its_range():
    gn.manual_seed(1)
    assert set(gn.randint(10, (2000,)).tolist()) == set(range(10))


def test_multinomial_normal_bernoulli():
    gn.manual_seed(0)
    w = gn.tensor([0.0, 1.0, 3.0])
    draws = gn.multinomial(w, 4000, replacement=True)
    counts = np.bincount(draws.array, minlength=3) / 4000
    assert counts[0] == 0 and abs(counts[2] - 0.75) < 0.03
    rows = gn.multinomial(gn.tensor([[1.0, 1, 1, 1], [0, 0, 1, 1]]), 2)
    assert rows.shape == (2, 2) and set(rows[1].tolist()) == {2, 3}
    with pytest.raises(ValueError, match="without replacement"):
        gn.multinomial(gn.tensor([0.0, 1.0]), 2)
    n = gn.normal(gn.zeros(5000), gn.full((5000,), 2.0))
    assert abs(n.std().item() - 2) < 0.1
    assert gn.normal(1.0, 0.0, size=(3,)).tolist() == [1, 1, 1]
    b = gn.bernoulli(gn.full((5000,), 0.3))
    assert abs(b.mean().item() - 0.3) < 0.03


@pytest.mark.parametrize("a, b", [
    (np.ones(3, np.float32), np.array(1.0, np.float64)),
    (np.ones(3, np.float16), np.array(1.0, np.float32)),
    (np.ones(3, np.int32), np.array(1, np.int64)),
    (np.ones(3, np.int32), np.array(1.5, np.float64)),
    (np.ones(3, bool), np.array(2, np.int64)),
    (np.array(2.0, np.float64), np.array(1.0, np.float32)),
])
def test_zero_dim_promotion_like_torch(a, b):
    ours = (gn.tensor(a) + gn.tensor(b)).dtype
    theirs = (torch.tensor(a) + torch.tensor(b)).dtype
    assert str(ours) == str(theirs).replace("torch.", "")


def test_bfloat16_is_named_and_refused_clearly():
    assert repr(gn.bfloat16) == "glassnet.bfloat16"
    table = {"float32": gn.float32, "bfloat16": gn.bfloat16, "float16": gn.float16}  # nanoGPT's table
    assert table["float16"] == np.float16
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        gn.zeros(2, dtype=gn.bfloat16)


def test_grad_modes_as_decorators_and_switches():
    @gn.no_grad
    def bare(x):
        return x * 2

    assert not bare(gn.ones(2, requires_grad=True)).requires_grad
    gn.set_grad_enabled(False)
    assert not gn.is_grad_enabled()
    gn.set_grad_enabled(True)
    with gn.set_grad_enabled(False):
        assert not gn.is_grad_enabled()
    assert gn.is_grad_enabled()

    @gn.set_grad_enabled(False)
    def off(x):
        return x * 2

    assert gn.is_grad_enabled() and not off(gn.ones(2, requires_grad=True)).requires_grad
    with gn.inference_mode():
        assert not gn.is_grad_enabled()
    with gn.inference_mode(False):
        assert gn.is_grad_enabled()


def test_retain_grad_holds_the_value_after_hooks_like_torch():
    grads = []
    for lib in (gn, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        y.sum().backward()
        grads.append((y.grad.numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
