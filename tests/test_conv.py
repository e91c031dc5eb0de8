"""Convolutions: parity with torch over a table of random configurations, gradchecks, modules, errors."""
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
import glassnet.ops.conv as conv_ops
from glassnet import nn
from parity import Case, run_case

TOL = dict(rtol=1e-4, atol=1e-4, grad_rtol=1e-4, grad_atol=1e-4)


def _conv_case(name, d, shape_x, shape_w, bias, kw, gradcheck=False):
    g_fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    t_fn = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[d]
    inputs = [shape_x, shape_w] + ([(shape_w[0],)] if bias else [])
    return Case(name, lambda *a: g_fn(*a, **kw), inputs, torch_fn=lambda *a: t_fn(*a, **kw),
                gradcheck=gradcheck, **TOL)


def _transpose_case(name, d, shape_x, shape_w, bias, groups, kw, gradcheck=False):
    g_fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]
    t_fn = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}[d]
    inputs = [shape_x, shape_w] + ([(shape_w[1] * groups,)] if bias else [])
    return Case(name, lambda *a: g_fn(*a, groups=groups, **kw), inputs,
                torch_fn=lambda *a: t_fn(*a, groups=groups, **kw), gradcheck=gradcheck, **TOL)


def _random_conv2d_cases(n, seed=1234):
    """Random valid conv2d configurations: kernels 1-5, odd sizes, strides 1-3, paddings (ints, tuples,
    'same', 'valid'), dilations 1-2, groups 1 / 2 / depthwise, bias on and off."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        r = tuple(int(v) for v in rng.integers(1, 3, 2))
        size = tuple(int(v) for v in 2 * rng.integers(2, 7, 2) + 1)  # odd: 5..13
        groups_kind = rng.choice(["1", "2", "depthwise"])
        if groups_kind == "1":
            groups, cin, cout = 1, int(rng.integers(1, 4)), int(rng.integers(1, 5))
        elif groups_kind == "2":
            groups, cin, cout = 2, 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
        else:
            cin = int(rng.integers(2, 5))
            groups, cout = cin, cin * int(rng.integers(1, 3))
        pad_kind = rng.choice(["int", "tuple", "same", "valid"])
        if pad_kind == "same":
            s = (1, 1)
            padding = "same"
        elif pad_kind == "valid":
            padding = "valid"
        elif pad_kind == "int":
            padding = int(rng.integers(0, 3))
        else:
            padding = tuple(int(v) for v in rng.integers(0, 3, 2))
        pads = (0, 0) if isinstance(padding, str) else ((padding,) * 2 if isinstance(padding, int) else padding)
        if padding != "same" and any(n + 2 * p < rr * (kk - 1) + 1 for n, p, kk, rr in zip(size, pads, k, r)):
            continue
        bias = bool(rng.integers(0, 2))
        batch = int(rng.integers(1, 3))
        kw = dict(stride=s, padding=padding, dilation=r, groups=groups)
        name = f"conv2d_k{k}_s{s}_p{padding}_d{r}_g{groups}_c{cin}-{cout}_x{size}_b{int(bias)}"
        cases.append(_conv_case(name, 2, (batch, cin) + size, (cout, cin // groups) + k, bias, kw))
    return cases


def _random_transpose2d_cases(n, seed=99):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        r = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        op = tuple(int(rng.integers(0, max(ss, rr))) for ss, rr in zip(s, r))
        size = tuple(int(v) for v in 2 * rng.integers(1, 4, 2) + 1)
        groups = int(rng.choice([1, 2]))
        cin, cout_g = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
        out = [(n - 1) * ss - 2 * pp + rr * (kk - 1) + oo + 1 for n, ss, pp, rr, kk, oo in zip(size, s, p, r, k, op)]
        if min(out) <= 0:
            continue
        bias = bool(rng.integers(0, 2))
        kw = dict(stride=s, padding=p, output_padding=op, dilation=r)
        name = f"conv_t2d_k{k}_s{s}_p{p}_op{op}_d{r}_g{groups}_x{size}_b{int(bias)}"
        cases.append(_transpose_case(name, 2, (2, cin) + size, (cin, cout_g) + k, bias, groups, kw))
    return cases


CASES = _random_conv2d_cases(40) + _random_transpose2d_cases(16) + [
    # float64 gradchecks on small configurations
    _conv_case("gc_conv2d_basic", 2, (2, 2, 5, 5), (3, 2, 3, 3), True, {}, gradcheck=True),
    _conv_case("gc_conv2d_stride_pad_dil_groups", 2, (1, 4, 7, 6), (4, 2, 2, 3), True,
               dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2), gradcheck=True),
    _conv_case("gc_conv2d_same_even", 2, (1, 2, 5, 4), (2, 2, 2, 4), False, dict(padding="same"), gradcheck=True),
    _conv_case("gc_conv1d_depthwise", 1, (2, 3, 9), (6, 1, 3), True, dict(stride=2, padding=1, groups=3),
               gradcheck=True),
    _transpose_case("gc_conv_t2d", 2, (1, 2, 3, 4), (2, 2, 3, 2), True, 1,
                    dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2)), gradcheck=True),
    _transpose_case("gc_conv_t2d_dil_groups", 2, (1, 4, 3, 3), (4, 1, 2, 2), False, 2,
                    dict(stride=1, padding=1, output_padding=1, dilation=2), gradcheck=True),
    # conv1d / conv3d / other transposes
    _conv_case("conv1d", 1, (3, 4, 17), (5, 4, 4), True, dict(stride=3, padding=2, dilation=2)),
    _conv_case("conv1d_same_groups", 1, (2, 4, 11), (6, 2, 4), False, dict(padding="same", groups=2)),
    _conv_case("conv1d_valid_k1", 1, (2, 3, 7), (2, 3, 1), True, dict(padding="valid")),
    _conv_case("conv3d", 3, (2, 2, 5, 6, 4), (4, 1, 2, 3, 2), True, dict(stride=(1, 2, 1), padding=1, groups=2)),
    _transpose_case("conv_t1d", 1, (2, 3, 7), (3, 2, 4), True, 1, dict(stride=3, padding=1, output_padding=2)),
    _transpose_case("conv_t3d", 3, (1, 2, 3, 2, 3), (2, 2, 2, 3, 2), True, 1, dict(stride=2, output_padding=1)),
    # unbatched inputs
    _conv_case("conv2d_unbatched", 2, (3, 7, 9), (4, 3, 3, 3), True, dict(padding=1)),
    _transpose_case("conv_t2d_unbatched", 2, (3, 4, 5), (3, 2, 3, 3), True, 1, dict(stride=2)),
    # MNIST-like
    _conv_case("conv2d_mnist_like", 2, (4, 1, 28, 28), (8, 1, 3, 3), True, {}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(gn.zeros(2, 4, 8, 8), gn.zeros(5, 3, 3, 3)), "has 4 channels"),
    (lambda: F.conv2d(gn.zeros(8, 8), gn.zeros(5, 3, 3, 3)), "expected a 3-D"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3)), "4-D weight"),
    (lambda: F.conv2d(gn.zeros(1, 4, 8, 8), gn.zeros(5, 2, 3, 3), groups=2), "not divisible by groups"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3), padding="full"), "'same' or 'valid'"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3), padding="same", stride=2), "strided"),
    (lambda: F.conv2d(gn.zeros(1, 3, 2, 8), gn.zeros(5, 3, 3, 3)), "smaller than the dilated kernel"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3), gn.zeros(4)), "bias must have shape"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3), stride=0), "stride must be positive"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3), padding=(1, 2, 3)), "tuple of 2 ints"),
    (lambda: F.conv2d(gn.zeros(1, 3, 8, 8), gn.zeros(5, 3, 3, 3, dtype=gn.float64)), "same dtype"),
    (lambda: F.conv_transpose2d(gn.zeros(1, 3, 4, 4), gn.zeros(3, 2, 3, 3), stride=2, output_padding=2),
     "output_padding"),
    (lambda: F.conv_transpose2d(gn.zeros(1, 4, 4, 4), gn.zeros(3, 2, 3, 3)), "has 4 channels"),
    (lambda: nn.Conv2d(3, 8, 3)(gn.zeros(8, 4, 28, 28)),
     "Conv2d: expected input with 3 channels, got shape (8, 4, 28, 28)"),
    (lambda: nn.Conv2d(3, 8, 3)(gn.zeros(3, 8, 1, 28, 28)), "Conv2d: expected a 3-D (unbatched) or 4-D"),
    (lambda: nn.Conv2d(3, 8, 3, groups=2), "in_channels (3) must be divisible by groups (2)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels (6) must be divisible by groups (4)"),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="mirror"), "padding_mode"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"), "only 'zeros'"),
])
def test_errors(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


# ---- modules ---------------------------------------------------------------------------------------

MODULES = [
    ("Conv1d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1), (2, 4, 11)),
    ("Conv2d", dict(in_channels=3, out_channels=8, kernel_size=3), (2, 3, 9, 9)),
    ("Conv2d", dict(in_channels=4, out_channels=8, kernel_size=(3, 2), stride=(2, 1), padding=1,
                    dilation=2, groups=2, bias=False), (2, 4, 9, 8)),
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=4, padding="same"), (2, 3, 7, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=3, padding=2, padding_mode="reflect"), (2, 2, 6, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=3, padding=1, padding_mode="circular"), (2, 2, 6, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=3, padding="same", padding_mode="replicate"),
     (2, 2, 6, 7)),
    ("Conv3d", dict(in_channels=2, out_channels=3, kernel_size=2), (1, 2, 4, 4, 4)),
    ("ConvTranspose1d", dict(in_channels=3, out_channels=2, kernel_size=3, stride=2), (2, 3, 5)),
    ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1,
                             groups=2), (2, 4, 5, 5)),
    ("ConvTranspose3d", dict(in_channels=2, out_channels=2, kernel_size=2, stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, kwargs, shape", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_matches_torch(name, kwargs, shape):
    g_mod = getattr(nn, name)(**kwargs)
    t_mod = getattr(torch.nn, name)(**kwargs)
    g_state, t_state = g_mod.state_dict(), t_mod.state_dict()
    assert list(g_state) == list(t_state)
    for key in t_state:
        assert tuple(g_state[key].shape) == tuple(t_state[key].shape), key
    assert repr(g_mod) == repr(t_mod)
    g_mod.load_state_dict({k: gn.tensor(v.numpy()) for k, v in t_state.items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = g_mod(gx), t_mod(tx)
    np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    gy.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (gname, gp), (tname, tp) in zip(g_mod.named_parameters(), t_mod.named_parameters()):
        assert gname == tname
        np.testing.assert_allclose(gp.grad.array, tp.grad.numpy(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("cls, args, fan_in", [
    ("Conv2d", (6, 16, 5), 6 * 25),
    ("Conv2d", (8, 4, (3, 2)), 8 * 6),
    ("Conv2d", (8, 8, 3, 1, 1, 1, 4), 2 * 9),
    ("ConvTranspose2d", (16, 32, 3), 32 * 9),  # torch computes fan_in from the weight's dim 1 (out/groups)
    ("ConvTranspose2d", (4, 6, 3, 1, 0, 0, 2), 3 * 9),
])
def test_default_init(cls, args, fan_in):
    gn.manual_seed(0)
    m = getattr(nn, cls)(*args)
    bound = 1 / np.sqrt(fan_in)
    # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight too
    for p in (m.weight, m.bias):
        assert np.abs(p.array).max() <= bound + 1e-7
        assert np.abs(p.array).max() > 0.5 * bound
    assert m.weight.dtype == np.float32 and m.weight.requires_grad


def test_conv_transpose_output_size():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = gn.randn(1, 2, 4, 5)
    assert m(x).shape == (1, 3, 7, 9)
    assert m(x, output_size=(8, 10)).shape == (1, 3, 8, 10)
    assert m(x, output_size=[1, 3, 8, 9]).shape == (1, 3, 8, 9)
    with pytest.raises(ValueError, match="not reachable"):
        m(x, output_size=(9, 9))


def test_conv_module_training_step_reduces_loss():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 2, 3))
    x = gn.randn(8, 1, 8, 8)
    target = gn.randn(8, 2, 2, 2)
    losses = []
    for _ in range(5):
        loss = ((model(x) - target) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with gn.no_grad():
            for p in model.parameters():
                p.array -= 0.1 * p.grad.array
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ---- chunks ----------------------------------------------------------------------------------------
# The three routines run over the batch in chunks whose columns fit in the cache: several samples, or
# slabs of output rows of one sample. With a budget of 1 byte every output row of every sample is its
# own chunk; with 2,000 bytes the 2-D cases run in slabs of a few rows. These cases check the chunk loop
# (padding and halo rows per slab, the scatter-add into the padded gradient, accumulation of dw) against
# torch.

CHUNK_CASES = [
    _conv_case("chunk_conv2d_direct_stride", 2, (3, 3, 9, 7), (4, 3, 3, 3), True, dict(stride=2)),  # no crop
    _conv_case("chunk_conv2d_pad_stride", 2, (3, 4, 9, 8), (6, 4, 3, 3), True, dict(stride=2, padding=1)),
    _conv_case("chunk_conv2d_dil_groups", 2, (3, 4, 9, 10), (6, 2, 2, 3), True,
               dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=2)),
    _conv_case("chunk_conv2d_same_even", 2, (3, 2, 7, 6), (3, 2, 4, 2), False, dict(padding="same")),
    _conv_case("chunk_conv2d_depthwise", 2, (3, 3, 7, 7), (6, 1, 3, 3), True, dict(padding=1, groups=3)),
    _conv_case("chunk_conv1d", 1, (3, 4, 17), (5, 4, 4), True, dict(stride=3, padding=2, dilation=2)),
    _conv_case("chunk_conv3d", 3, (3, 2, 5, 6, 4), (4, 1, 2, 3, 2), True, dict(stride=(1, 2, 1), padding=1, groups=2)),
    _transpose_case("chunk_conv_t2d", 2, (3, 4, 4, 5), (4, 3, 3, 2), True, 2,
                    dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    _transpose_case("chunk_conv_t2d_direct", 2, (3, 2, 4, 3), (2, 3, 3, 3), True, 1, dict(stride=2)),
    _transpose_case("chunk_conv_t1d_dil", 1, (3, 3, 6), (3, 2, 3), True, 1, dict(stride=2, padding=2, dilation=2)),
    _transpose_case("chunk_conv_t3d", 3, (3, 2, 3, 2, 3), (2, 2, 2, 3, 2), False, 1, dict(stride=2, output_padding=1)),
]


@pytest.mark.parametrize("chunk_bytes", [1, 2000], ids=["rows", "slabs"])
@pytest.mark.parametrize("case", CHUNK_CASES, ids=str)
def test_parity_in_small_chunks(case, chunk_bytes, monkeypatch):
    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", chunk_bytes)
    run_case(case)


@pytest.mark.parametrize("transposed", [False, True])
def test_chunked_equals_whole_batch(transposed, monkeypatch):
    """The same values (to rounding) whether the batch is one chunk or cut into single output rows."""
    rng = np.random.default_rng(3)
    x = gn.tensor(rng.standard_normal((5, 4, 9, 7)).astype(np.float32), requires_grad=True)
    w = gn.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), requires_grad=True)
    fn = (lambda: F.conv_transpose2d(x, w, stride=2, padding=1, groups=2)) if transposed else \
        (lambda: F.conv2d(x, w, stride=(2, 1), padding=1, groups=2))
    results = []
    for chunk_bytes in (1 << 30, 1):
        monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", chunk_bytes)
        x.grad = w.grad = None
        y = fn()
        (y * y).sum().backward()
        results.append((y.array, x.grad.array, w.grad.array))
    for whole, pieces in zip(*results):  # matrix products of other sizes round differently
        np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-5)


def test_mnist_cnn_layer_matches_torch():
    """The second layer of the MNIST example CNN (32 -> 64 channels, 3x3, 26x26 input): two samples' columns
    exceed the chunk budget, so every sample runs as its own chunk with the default setting."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 32, 26, 26)).astype(np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) / 17).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal((3, 64, 24, 24)).astype(np.float32)
    assert 2 * 32 * 9 * 24 * 24 * 4 > conv_ops._CHUNK_BYTES
    gx, gw, gb = (gn.tensor(v, requires_grad=True) for v in (x, w, b))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    gy, ty = F.conv2d(gx, gw, gb), TF.conv2d(tx, tw, tb)
    np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    (gy * gn.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    for ours, theirs in ((gx, tx), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_large_image_runs_in_slabs_of_rows(monkeypatch):
    """One 8 x 120 x 130 image, 3x3 kernel, stride (1, 2), has 2.2 MB of columns: they are built slab by
    slab, so the scratch buffer stays within the chunk budget, and the result still matches torch."""
    monkeypatch.setattr(conv_ops, "_scratch", threading.local())  # fresh scratch buffers for this thread
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 8, 120, 130)).astype(np.float32)
    w = (rng.standard_normal((4, 8, 3, 3)) / 8).astype(np.float32)
    gx, gw = gn.tensor(x, requires_grad=True), gn.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    gy, ty = F.conv2d(gx, gw, stride=(1, 2)), TF.conv2d(tx, tw, stride=(1, 2))
    np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    (gy * gy).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(gw.grad.array, tw.grad.numpy(), rtol=1e-4, atol=1e-2)
    assert 8 * 9 * 118 * 64 * 4 > 2 * conv_ops._CHUNK_BYTES
    assert conv_ops._scratch.cols.nbytes <= conv_ops._CHUNK_BYTES


@pytest.mark.parametrize("name, args, shape", [
    ("Conv1d", (3, 4, 3), (0, 3, 9)),
    ("Conv2d", (3, 4, 3, 1, 1), (0, 3, 9, 9)),
    ("Conv3d", (2, 2, 2), (0, 2, 4, 4, 4)),
    ("ConvTranspose2d", (3, 4, 3, 2), (0, 3, 5, 5)),
])
def test_empty_batch(name, args, shape):
    """A batch of 0 samples: an empty output, an empty input gradient and zero parameter gradients, as in torch."""
    g_mod, t_mod = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    gx, tx = gn.zeros(*shape, requires_grad=True), torch.zeros(*shape, requires_grad=True)
    gy, ty = g_mod(gx), t_mod(tx)
    assert gy.shape == tuple(ty.shape)
    gy.sum().backward()
    ty.sum().backward()
    assert gx.grad.shape == tuple(tx.grad.shape) == shape
    for gp, tp in zip(g_mod.parameters(), t_mod.parameters()):
        assert gp.grad.shape == tuple(tp.grad.shape)
        np.testing.assert_array_equal(gp.grad.array, tp.grad.numpy())
