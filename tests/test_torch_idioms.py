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


@pytest.mark.parametrize("values, weights, minlength", [([0, 3, 3, 1], None, 0), ([2, 2], [0.5, 1.5], 5),
                                                        ([], None, 3), ([1, 4], [1.0, 2.0], 0)])
def test_bincount_matches_torch(values, weights, minlength):
    def run(lib):
        w = None if weights is None else lib.tensor(weights, dtype=lib.float64)
        return lib.bincount(lib.tensor(values, dtype=lib.int64), weights=w, minlength=minlength)

    ours, ref = run(gn), run(torch)
    assert ours.tolist() == ref.tolist() and str(ours.dtype) == str(ref.dtype).removeprefix("torch.")


@pytest.mark.parametrize("bins, lo, hi", [(4, -2, 4), (3, 0, 0), (10, 0.5, 0.6), (1, -10, 10)])
def test_histc_matches_torch(bins, lo, hi):
    data = np.random.default_rng(0).normal(size=200).astype(np.float32)
    ours = gn.histc(gn.tensor(data), bins=bins, min=lo, max=hi)
    ref = torch.histc(torch.tensor(data), bins=bins, min=lo, max=hi)
    assert ours.tolist() == ref.tolist() and ours.dtype == gn.float32
    assert gn.tensor([2.0, 2.0]).histc(bins=4).tolist() == torch.tensor([2.0, 2.0]).histc(bins=4).tolist()


@pytest.mark.parametrize("call, message", [
    (lambda: gn.bincount(gn.tensor([1, -1])), r"non-negative integers, got shape \(2,\) of int64 \(smallest value -1\)"),
    (lambda: gn.bincount(gn.tensor([[1]])), "expected a 1-D tensor"),
    (lambda: gn.bincount(gn.tensor([1.0])), "of float32"),
    (lambda: gn.bincount(gn.tensor([1, 2]), weights=gn.ones(3)), "weights of shape \\(3,\\) do not match"),
    (lambda: gn.histc(gn.tensor([1, 2])), "histc: expected a floating-point tensor, got int64"),
    (lambda: gn.histc(gn.ones(2), min=3, max=1), "need bins > 0 and min <= max"),
    (lambda: gn.histc(gn.ones(2), bins=0), "bins=0"),
])
def test_counting_refuses_bad_input(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_dtype_facts_match_torch():
    for name in ("float32", "float16", "float64", "bfloat16"):
        ours, ref = gn.finfo(getattr(gn, name)), torch.finfo(getattr(torch, name))
        for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(ours, field) == getattr(ref, field), (name, field)
    for name in ("int64", "int32", "int16", "int8", "uint8"):
        ours, ref = gn.iinfo(getattr(gn, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.max, ours.min, ours.dtype) == (ref.bits, ref.max, ref.min, ref.dtype)
    assert gn.finfo().eps == torch.finfo().eps and isinstance(gn.finfo(gn.float16).max, float)
    with pytest.raises(TypeError, match="finfo: expected a floating dtype, got int64"):
        gn.finfo(gn.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        gn.iinfo(gn.float32)


def test_size_is_a_tuple_with_numel():
    size = gn.Size([2, 3, 4])
    assert size == (2, 3, 4) == gn.ones(2, 3, 4).shape and size.numel() == 24 and gn.Size().numel() == 1
    assert isinstance(size[1:], gn.Size) and size[1:].numel() == 12 and size[0] == 2
    assert repr(size) == "glassnet.Size([2, 3, 4])"
    with pytest.raises(TypeError, match="Size: expected non-negative ints"):
        gn.Size([2, -1])


def test_settings_are_checked_and_read_back():
    before = gn.get_float32_matmul_precision()
    gn.set_float32_matmul_precision("medium")
    assert gn.get_float32_matmul_precision() == "medium"
    gn.set_float32_matmul_precision(before)
    with pytest.raises(ValueError, match="expected one of highest, high, medium, got 'fast'"):
        gn.set_float32_matmul_precision("fast")
    gn.use_deterministic_algorithms(True)
    assert gn.are_deterministic_algorithms_enabled()
    gn.use_deterministic_algorithms(False)
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int, got 0"):
        gn.set_num_threads(0)
    assert gn.get_num_threads() >= 1


def test_no_grad_on_a_generator_covers_each_step_and_not_the_caller():
    x = gn.ones(2, requires_grad=True)

    @gn.no_grad()
    def doubling(t):
        while True:
            t = t * 2
            received = yield t.requires_grad, gn.is_grad_enabled()
            if received == "stop":
                return

    steps = doubling(x)
    assert next(steps) == (False, False) and gn.is_grad_enabled()
    assert steps.send(None) == (False, False) and gn.is_grad_enabled()
    with pytest.raises(StopIteration):
        steps.send("stop")
    assert gn.is_grad_enabled()


TWINS = [("floor_", ()), ("ceil_", ()), ("round_", ()), ("trunc_", ()), ("frac_", ()), ("sign_", ()), ("sin_", ()),
         ("cos_", ()), ("tanh_", ()), ("log1p_", ()), ("expm1_", ()), ("reciprocal_", ()), ("square_", ()),
         ("erf_", ()), ("erfinv_", ()), ("fmod_", (0.3,)), ("remainder_", (0.3,)), ("hypot_", (1.5,)),
         ("atan2_", (0.5,)), ("copysign_", (-1.0,)), ("clamp_min_", (0.1,)), ("clamp_max_", (0.1,)),
         ("eq_", (0.25,)), ("gt_", (0.0,)), ("logical_not_", ()), ("cumsum_", (1,)), ("cumprod_", (0,)),
         ("tril_", ()), ("triu_", (1,)), ("subtract_", (2.0,)), ("multiply_", (3.0,)), ("divide_", (4.0,)),
         ("nan_to_num_", ()), ("negative_", ()), ("absolute_", ())]


@pytest.mark.parametrize("name, args", TWINS, ids=[n for n, _ in TWINS])
def test_in_place_twins_match_torch(name, args):
    values = np.array([[-0.75, 0.25, 0.5], [0.9, -0.1, 0.0]], np.float32)
    ours, ref = gn.tensor(values), torch.tensor(values)
    assert getattr(ours, name)(*(gn.tensor(a) if isinstance(a, float) else a for a in args)) is ours
    getattr(ref, name)(*(torch.tensor(a) if isinstance(a, float) else a for a in args))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    assert ours._version == 1


def test_in_place_twin_is_recorded_for_autograd():
    def run(lib):
        w = lib.tensor([0.3, -0.7, 1.1], requires_grad=True)
        y = w * 2
        y.erf_().clamp_min_(-0.5)
        y.sum().backward()
        return w.grad.tolist()

    np.testing.assert_allclose(run(gn), run(torch), rtol=1e-6)
    w = gn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_: a leaf tensor that requires grad"):
        w.floor_()


def test_metadata_and_conversion_methods_match_torch():
    for lib in (gn, torch):
        x = lib.ones(2, 3)
        assert (x.nelement(), x.ndimension(), x.itemsize, x.nbytes, x.is_cpu, x.is_signed()) == (6, 2, 4, 24, True, True)
        assert str(x.type_as(lib.ones(1, dtype=lib.int64)).dtype).endswith("int64")
        assert [str(f().dtype).removeprefix("torch.") for f in (x.short, x.char, x.byte)] == ["int16", "int8", "uint8"]
        assert lib.is_floating_point(x) and not lib.is_floating_point(x.long()) and lib.is_nonzero(lib.tensor([2]))
        assert x.data_ptr() == x.view(6).data_ptr() != x.clone().data_ptr()
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        gn.ones(2).bfloat16()
    with pytest.raises(RuntimeError, match="is_nonzero: expected a tensor with one element, got 2"):
        gn.is_nonzero(gn.ones(2))


@pytest.mark.parametrize("dtype", ["int32", "float16", "uint8", "float64"])
def test_view_with_a_dtype_reads_the_same_bytes(dtype):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours, ref = gn.tensor(x, requires_grad=True).view(getattr(gn, dtype)), torch.tensor(x).view(getattr(torch, dtype))
    assert ours.shape == tuple(ref.shape) and not ours.requires_grad
    np.testing.assert_array_equal(ours.array, ref.numpy())
    with pytest.raises(RuntimeError, match="last dim must be contiguous"):
        gn.tensor(x)[:, ::2].view(gn.float16)
