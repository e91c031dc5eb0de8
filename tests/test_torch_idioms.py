"""Small pieces of PyTorch's API that the compatibility suite (test_compat_programs.py) found missing or
different, each checked against PyTorch where PyTorch can run it here."""
import numpy as np
import pytest
import torch

import glassnet as gn


@pytest.mark.parametrize("lib", [gn, torch], ids=["glassnet", "torch"])
def test_zero_dim_tensors_format_as_their_value(lib):
    correct = lib.tensor(402)
    assert "{}/{} ({:.0f}%)".format(correct, 500, 100.0 * correct / 500) == "402/500 (80%)"
    assert f"{lib.tensor(2.5):.3f}" == "2.500" and f"{lib.tensor(True)}" == "True"
    assert f"{lib.ones(2)}" == str(lib.ones(2))
    with pytest.raises(TypeError):
        f"{lib.ones(2):.2f}"


@pytest.mark.parametrize("method, args", [("new_zeros", ((2, 3),)), ("new_zeros", (2, 3)), ("new_ones", ((4,),)),
                                          ("new_empty", ((0, 2),)), ("new_full", ((2, 2), 7.5)),
                                          ("new_tensor", ([[1, 2], [3, 4]],))])
@pytest.mark.parametrize("dtype", [None, "int64", "float64"])
def test_new_factories_take_the_dtype_of_their_tensor(method, args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(gn, dtype)}
    tkwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    ours = getattr(gn.ones(1, dtype=gn.float32), method)(*args, **kwargs)
    ref = getattr(torch.ones(1, dtype=torch.float32), method)(*args, **tkwargs)
    assert ours.shape == tuple(ref.shape) and str(ours.dtype) == str(ref.dtype).removeprefix("torch.")
    if method != "new_empty":
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert not ours.requires_grad and getattr(gn.ones(1), method)(*args, requires_grad=True).requires_grad


def test_legacy_tensor_types_are_types():
    x = gn.ones(2)
    assert isinstance(x, gn.FloatTensor) and not isinstance(x, gn.LongTensor)
    assert isinstance(gn.LongTensor([1]), gn.LongTensor) and not isinstance(np.ones(2), gn.FloatTensor)
    assert x.type(gn.DoubleTensor).dtype == np.float64 and x.type(np.int32).dtype == np.int32
    assert gn.FloatTensor.dtype == gn.float32 and gn.FloatTensor(2, 3).shape == (2, 3)


def test_buffer_assigned_as_attribute_is_registered():
    class Counter(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.count = gn.nn.Buffer(gn.zeros(()))
            self.scratch = gn.nn.Buffer(gn.ones(2), persistent=False)

    m = Counter()
    assert [n for n, _ in m.named_buffers()] == ["count", "scratch"] and list(m.state_dict()) == ["count"]
    m.count = gn.ones(())                                  # a plain tensor replaces a registered buffer
    assert list(m.state_dict()) == ["count"] and m.count.item() == 1
    source = gn.ones(3, requires_grad=True)
    b = gn.nn.Buffer(source)
    assert b.requires_grad and b.grad_fn is None and np.shares_memory(b.array, source.array)
    m.other = 3
    with pytest.raises(KeyError, match="attribute 'other' already exists"):
        m.other = gn.nn.Buffer(gn.ones(1))
    m.weight = gn.nn.Parameter(gn.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'Buffer' as parameter 'weight'"):
        m.weight = gn.nn.Buffer(gn.ones(1))


def test_buffer_matches_torch_state_dict():
    def build(lib):
        m = lib.nn.Module()
        m.mask = lib.nn.Buffer(lib.tril(lib.ones(3, 3)))
        m.tmp = lib.nn.Buffer(lib.ones(1), persistent=False)
        return m

    ours, ref = build(gn).state_dict(), build(torch).state_dict()
    assert list(ours) == list(ref) == ["mask"]
    np.testing.assert_array_equal(ours["mask"].numpy(), ref["mask"].numpy())


def test_compile_gives_back_its_model_and_accelerator_says_none():
    model = gn.nn.Linear(2, 2)
    assert gn.compile(model) is model and gn.compile(model, mode="max-autotune", fullgraph=True) is model
    assert gn.compile()(len) is len and gn.compiler.disable(len) is len and not gn.compiler.is_compiling()
    with pytest.raises(TypeError, match="compile: expected a Module or a function"):
        gn.compile(3)
    assert gn.accelerator.is_available() is False and gn.accelerator.current_accelerator() is None
    assert gn.accelerator.device_count() == 0 and gn.cuda.is_bf16_supported() is False
