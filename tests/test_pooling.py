"""Pooling and interpolate: parity with torch over tables of configurations, ties, modules, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
import glassnet.ops.pooling as pooling_ops
from glassnet import nn
from parity import Case, run_case


def _case(name, fn_name, shape, kw, domain="distinct", gradcheck=False):
    g_fn, t_fn = getattr(F, fn_name), getattr(TF, fn_name)
    return Case(name, lambda x: g_fn(x, **kw), [shape], torch_fn=lambda x: t_fn(x, **kw), domain=domain,
                gradcheck=gradcheck, rtol=1e-5, atol=1e-6, grad_rtol=1e-5, grad_atol=1e-6)


def _random_max_pool2d(n, seed=7):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        r = tuple(int(v) for v in rng.integers(1, 3, 2))
        size = tuple(int(v) for v in rng.integers(4, 12, 2))
        ceil = bool(rng.integers(0, 2))
        idx = bool(rng.integers(0, 2))
        if any(n + 2 * pp < rr * (kk - 1) + 1 for n, pp, kk, rr in zip(size, p, k, r)):
            continue
        kw = dict(kernel_size=k, stride=s, padding=p, dilation=r, ceil_mode=ceil, return_indices=idx)
        cases.append(_case(f"max_pool2d_k{k}_s{s}_p{p}_d{r}_c{int(ceil)}_i{int(idx)}_x{size}", "max_pool2d",
                           (2, 3) + size, kw))
    return cases


def _random_avg_pool2d(n, seed=8):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        size = tuple(int(v) for v in rng.integers(4, 12, 2))
        ceil = bool(rng.integers(0, 2))
        include = bool(rng.integers(0, 2))
        div = None if rng.random() < 0.7 else int(rng.integers(1, 7))
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include,
                  divisor_override=div)
        cases.append(_case(f"avg_pool2d_k{k}_s{s}_p{p}_c{int(ceil)}_inc{int(include)}_div{div}_x{size}",
                           "avg_pool2d", (2, 3) + size, kw, domain="real"))
    return cases


CASES = _random_max_pool2d(30) + _random_avg_pool2d(30) + [
    # gradchecks (float64 central differences) on small configurations
    _case("gc_max_pool2d", "max_pool2d", (1, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
          gradcheck=True),
    _case("gc_max_pool2d_tiles", "max_pool2d", (2, 2, 4, 6), dict(kernel_size=2), gradcheck=True),
    _case("gc_avg_pool2d", "avg_pool2d", (1, 2, 5, 6),
          dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), "real", True),
    _case("gc_adaptive_max", "adaptive_max_pool2d", (1, 2, 5, 7), dict(output_size=(3, 4)), gradcheck=True),
    _case("gc_adaptive_avg", "adaptive_avg_pool2d", (1, 2, 5, 7), dict(output_size=(3, 4)), "real", True),
    _case("gc_bilinear", "interpolate", (1, 2, 3, 4), dict(size=(5, 7), mode="bilinear"), "real", True),
    _case("gc_nearest", "interpolate", (1, 2, 3, 4), dict(scale_factor=(2, 0.5)), "real", True),
    # 1-d and 3-d
    _case("max_pool1d", "max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    _case("max_pool1d_dil_idx", "max_pool1d", (2, 3, 11), dict(kernel_size=2, dilation=3, return_indices=True)),
    _case("max_pool1d_unbatched", "max_pool1d", (3, 10), dict(kernel_size=2)),
    _case("avg_pool1d", "avg_pool1d", (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                                                       count_include_pad=False), "real"),
    _case("max_pool3d", "max_pool3d", (1, 2, 5, 4, 6), dict(kernel_size=2, stride=(1, 2, 2), padding=1,
                                                            return_indices=True)),
    _case("avg_pool3d", "avg_pool3d", (1, 2, 5, 4, 6), dict(kernel_size=(2, 3, 2), padding=1), "real"),
    _case("max_pool2d_unbatched", "max_pool2d", (3, 8, 9), dict(kernel_size=2, return_indices=True)),
    _case("avg_pool2d_unbatched", "avg_pool2d", (3, 8, 9), dict(kernel_size=3, stride=2), "real"),
    _case("max_pool2d_mnist", "max_pool2d", (4, 8, 24, 24), dict(kernel_size=2)),
    # adaptive pools, divisible and not
    *[_case(f"adaptive_avg_pool2d_{o}_x{s}", "adaptive_avg_pool2d", (2, 3) + s, dict(output_size=o), "real")
      for o, s in [((3, 4), (9, 7)), (5, (9, 7)), (1, (6, 5)), ((None, 3), (4, 7)), ((7, 7), (7, 7)),
                   ((4, 4), (8, 8)), ((5, 9), (3, 4))]],
    *[_case(f"adaptive_max_pool2d_{o}_x{s}", "adaptive_max_pool2d", (2, 3) + s,
            dict(output_size=o, return_indices=True))
      for o, s in [((3, 4), (9, 7)), (5, (9, 7)), (1, (6, 5)), ((None, 3), (4, 7)), ((4, 4), (8, 8)),
                   ((5, 9), (3, 4))]],
    _case("adaptive_avg_pool1d", "adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4), "real"),
    _case("adaptive_max_pool1d", "adaptive_max_pool1d", (2, 3, 10), dict(output_size=4, return_indices=True)),
    _case("adaptive_avg_pool3d", "adaptive_avg_pool3d", (1, 2, 5, 4, 6), dict(output_size=(2, 3, 4)), "real"),
    _case("adaptive_max_pool3d", "adaptive_max_pool3d", (1, 2, 5, 4, 6), dict(output_size=(2, 3, 4))),
    _case("adaptive_avg_unbatched", "adaptive_avg_pool2d", (3, 7, 5), dict(output_size=3), "real"),
    # interpolate
    *[_case(f"interpolate_{i}_{kw}", "interpolate", shape, kw, "real") for i, (shape, kw) in enumerate([
        ((2, 3, 5, 7), dict(scale_factor=2)),
        ((2, 3, 5, 7), dict(scale_factor=3)),
        ((2, 3, 5, 7), dict(size=(9, 4))),
        ((2, 3, 5, 7), dict(size=(5, 7))),
        ((2, 3, 6, 7), dict(scale_factor=(0.5, 1.7))),
        ((2, 3, 6, 7), dict(scale_factor=1.5, recompute_scale_factor=True)),
        ((2, 3, 5, 7), dict(size=(11, 3), mode="nearest-exact")),
        ((2, 3, 5, 7), dict(scale_factor=2, mode="bilinear")),
        ((2, 3, 5, 7), dict(scale_factor=2, mode="bilinear", align_corners=True)),
        ((2, 3, 5, 7), dict(size=(3, 12), mode="bilinear")),
        ((2, 3, 5, 7), dict(size=(1, 12), mode="bilinear", align_corners=True)),
        ((2, 3, 5, 7), dict(scale_factor=(0.6, 2.5), mode="bilinear")),
        ((2, 3, 9), dict(size=20, mode="linear")),
        ((2, 3, 9), dict(scale_factor=2)),
        ((2, 3, 6, 7), dict(size=(4, 3), mode="area")),
        ((1, 2, 3, 4, 3), dict(scale_factor=2, mode="trilinear")),
        ((1, 2, 3, 4, 3), dict(size=(2, 5, 4))),
    ])],
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


@pytest.mark.parametrize("fn, kw", [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)),
    ("adaptive_max_pool2d", dict(output_size=(3, 4))),
])
def test_max_pool_ties_follow_torch(fn, kw):
    """Windows with equal values (ReLU zeros, repeated integers, -inf, NaN): the gradient goes where torch's goes."""
    rng = np.random.default_rng(0)
    x = np.maximum(rng.integers(-3, 3, (2, 3, 9, 10)), 0).astype(np.float32)
    x[0, 0, :3, :3] = -np.inf
    x[1, 1, 4, 4] = np.nan
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy = getattr(F, fn)(gx, return_indices=True, **kw)
    ty = getattr(TF, fn)(tx, return_indices=True, **kw)
    np.testing.assert_array_equal(gy[0].array, ty[0].detach().numpy())
    np.testing.assert_array_equal(gy[1].array, ty[1].numpy())
    w = rng.standard_normal(gy[0].shape).astype(np.float32)
    (gy[0] * gn.tensor(w)).sum().backward()
    (ty[0] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn, shape, kw", [
    ("max_pool2d", (2, 3, 8, 10), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 9, 11), dict(kernel_size=2)),  # a last row and column that no window covers
    ("max_pool2d", (2, 3, 8, 9), dict(kernel_size=(2, 3), stride=(2, 3))),
    ("max_pool2d", (3, 8, 9), dict(kernel_size=4)),  # unbatched
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3)),
    ("max_pool3d", (1, 2, 4, 6, 5), dict(kernel_size=2)),
    ("adaptive_max_pool2d", (2, 3, 8, 6), dict(output_size=(4, 2))),  # equal windows: tiles too
])
@pytest.mark.parametrize("block_bytes", [None, 1], ids=["one-block", "plane-blocks"])
def test_tiled_max_pool_matches_general_path_and_torch(fn, shape, kw, block_bytes, monkeypatch):
    """Windows that tile the input take the gather-free path (MaxPoolTiles); with ties (ReLU zeros,
    repeated integers, -inf) and NaN its values and gradient equal torch's and the general path's
    (return_indices=True goes through the general path), also with every plane its own block."""
    if block_bytes is not None:
        monkeypatch.setattr(pooling_ops, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(1)
    x = np.maximum(rng.integers(-3, 3, shape), 0).astype(np.float32)
    x.reshape(-1)[:5] = -np.inf
    x.reshape(-1)[-7] = np.nan
    w = None
    grads = []
    for lib, f, indices in ((gn, getattr(F, fn), False), (gn, getattr(F, fn), True), (torch, getattr(TF, fn), False)):
        xt = lib.tensor(x, requires_grad=True)
        y = f(xt, return_indices=True, **kw)[0] if indices else f(xt, **kw)
        if lib is gn:
            assert (type(y.grad_fn).__name__ == "MaxPoolTiles") != indices
        values = y.array if lib is gn else y.detach().numpy()
        if w is None:
            w = rng.standard_normal(values.shape).astype(np.float32)
            first = values
        np.testing.assert_array_equal(values, first)
        (y * lib.tensor(w)).sum().backward()
        grads.append(xt.grad.array if lib is gn else xt.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])


def test_tiled_max_pool_non_contiguous_input():
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 6)).astype(np.float32)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = F.max_pool2d(gx.transpose(2, 3), 2), TF.max_pool2d(tx.transpose(2, 3), 2)
    np.testing.assert_array_equal(gy.array, ty.detach().numpy())
    (gy * gy).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_array_equal(gx.grad.array, tx.grad.numpy())


@pytest.mark.parametrize("fn, kw", [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=1, padding=1, return_indices=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=2)),
    ("adaptive_max_pool2d", dict(output_size=4)),
    ("adaptive_avg_pool2d", dict(output_size=4)),
    ("interpolate", dict(scale_factor=2, mode="bilinear")),
])
def test_empty_batch(fn, kw):
    """A batch of 0 samples pools to an empty output with an empty gradient, as in torch."""
    gx, tx = gn.zeros(0, 3, 6, 6, requires_grad=True), torch.zeros(0, 3, 6, 6, requires_grad=True)
    gy, ty = getattr(F, fn)(gx, **kw), getattr(TF, fn)(tx, **kw)
    if isinstance(ty, tuple):
        assert gy[1].shape == tuple(ty[1].shape)
        gy, ty = gy[0], ty[0]
    assert gy.shape == tuple(ty.shape)
    gy.sum().backward()
    ty.sum().backward()
    assert gx.grad.shape == tuple(tx.grad.shape)


def test_max_pool_float64_and_no_grad():
    x = gn.randn(2, 3, 8, 8, dtype=gn.float64)
    y = F.max_pool2d(x, 2)
    assert y.dtype == np.float64 and not y.requires_grad
    with gn.no_grad():
        y = F.max_pool2d(gn.randn(2, 3, 8, 8, requires_grad=True), 2)
    assert y.grad_fn is None


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
@pytest.mark.parametrize("fn, shape, kw", [
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1)),  # padding next to the type's minimum
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),  # the tiled path
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, dilation=2, padding=1)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=3, stride=1, padding=1, return_indices=True)),
    ("max_pool3d", (1, 2, 5, 6, 7), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
])
def test_max_pool_of_integers_matches_torch(dtype, fn, shape, kw):
    info = np.iinfo(dtype)
    a = np.random.default_rng(3).integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    a.flat[0] = a.flat[-1] = info.min
    got, want = getattr(F, fn)(gn.tensor(a), **kw), getattr(TF, fn)(torch.from_numpy(a.copy()), **kw)
    for g, t in zip(*((got, want) if kw.get("return_indices") else ((got,), (want,)))):
        assert g.numpy().dtype == t.numpy().dtype
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("kw", [dict(scale_factor=2.5), dict(size=(9, 4))])
def test_interpolate_of_uint8_images_matches_torch(mode, kw):
    a = np.random.default_rng(4).integers(0, 256, size=(2, 3, 5, 7)).astype(np.uint8)
    got = F.interpolate(gn.tensor(a), mode=mode, **kw)
    assert got.dtype == gn.uint8
    np.testing.assert_array_equal(got.numpy(), TF.interpolate(torch.from_numpy(a), mode=mode, **kw).numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(gn.zeros(8, 8), 2), "expected a 3-D (unbatched) or 4-D"),
    (lambda: F.max_pool2d(gn.zeros(1, 1, 8, 8), 3, padding=2), "at most half of kernel_size"),
    (lambda: F.max_pool2d(gn.zeros(1, 1, 2, 2), 3), "too small"),
    (lambda: F.max_pool2d(gn.zeros(1, 1, 8, 8), 0), "kernel_size must be positive"),
    (lambda: F.max_pool2d(gn.zeros(1, 1, 8, 8), (2, 2, 2)), "tuple of 2 ints"),
    (lambda: F.max_pool2d(gn.zeros(1, 1, 8, 8, dtype=gn.bool), 2), "floating point or integer input, got dtype bool"),
    (lambda: F.avg_pool2d(gn.zeros(1, 1, 8, 8, dtype=gn.uint8), 2), "floating point input, got dtype uint8"),
    (lambda: F.adaptive_max_pool2d(gn.zeros(1, 1, 8, 8, dtype=gn.int64), 2), "floating point input"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8, dtype=gn.int64), size=4), "got dtype int64 with mode 'nearest'"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8, dtype=gn.uint8), size=4, mode="bilinear"), "mode 'bilinear'"),
    (lambda: F.max_pool2d(gn.zeros(2, 0, 8, 8), 2), "has an empty dimension"),
    (lambda: F.avg_pool1d(gn.zeros(0, 8), 2), "has an empty dimension"),
    (lambda: F.avg_pool2d(gn.zeros(1, 1, 8, 8), 2, divisor_override=0), "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(gn.zeros(1, 1, 8, 8), (2, 0)), "positive"),
    (lambda: F.adaptive_max_pool2d(gn.zeros(1, 1, 8, 8), (2, 2, 2)), "tuple of 2 ints"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8)), "exactly one of size and scale_factor"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8), size=4, scale_factor=2), "exactly one of size and scale_factor"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8), size=4, mode="bilinear"), "needs a 4-D input"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8), size=4, align_corners=True), "align_corners"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8), size=4, mode="cubic"), "unknown mode"),
    (lambda: F.interpolate(gn.zeros(1, 1, 8, 8), size=(4, 4, 4)), "size"),
])
def test_errors(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


MODULES = [
    ("MaxPool1d", dict(kernel_size=3, stride=2), (2, 3, 11)),
    ("MaxPool2d", dict(kernel_size=2), (2, 3, 8, 9)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 8, 9)),
    ("MaxPool3d", dict(kernel_size=2), (1, 2, 4, 4, 5)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 11)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 8, 9)),
    ("AvgPool2d", dict(kernel_size=2, divisor_override=3), (2, 3, 8, 9)),
    ("AvgPool3d", dict(kernel_size=2), (1, 2, 4, 4, 5)),
    ("AdaptiveAvgPool1d", dict(output_size=4), (2, 3, 11)),
    ("AdaptiveAvgPool2d", dict(output_size=(3, 5)), (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d", dict(output_size=1), (2, 3, 8, 9)),
    ("AdaptiveMaxPool1d", dict(output_size=4), (2, 3, 11)),
    ("AdaptiveMaxPool2d", dict(output_size=(3, 5)), (2, 3, 8, 9)),
    ("AdaptiveMaxPool2d", dict(output_size=(3, 5), return_indices=True), (2, 3, 8, 9)),
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", dict(size=(7, 3), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=(1.5, 2), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", dict(size=(6, 7)), (2, 3, 4, 5)),
]


@pytest.mark.parametrize("name, kwargs, shape", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_matches_torch(name, kwargs, shape):
    g_mod, t_mod = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(g_mod) == repr(t_mod)
    assert list(g_mod.state_dict()) == list(t_mod.state_dict()) == []
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = g_mod(gx), t_mod(tx)
    if isinstance(ty, tuple):
        np.testing.assert_array_equal(gy[1].array, ty[1].numpy())
        gy, ty = gy[0], ty[0]
    np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    (gy * gy).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
