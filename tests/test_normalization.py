import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from parity import Case, Const, run_case


def _pos(shape):
    return Const(lambda rng: rng.uniform(0.5, 2.0, size=shape))


def _case(name, g, t, inputs, **kw):
    return Case(name, g, inputs, torch_fn=t, **kw)


CASES = [
    # batch_norm, training (batch statistics), with and without affine parameters
    _case("bn_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [(4, 3), (3,), (3,)]),
    _case("bn_train_3d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True, eps=1e-3), [(3, 2, 5), (2,), (2,)]),
    _case("bn_train_4d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [(2, 3, 3, 4), (3,), (3,)]),
    _case("bn_train_noaffine", lambda x: F.batch_norm(x, None, None, training=True),
          lambda x: TF.batch_norm(x, None, None, training=True), [(3, 2, 2, 2)]),
    _case("bn_train_weight_only", lambda x, w: F.batch_norm(x, None, None, w, training=True),
          lambda x, w: TF.batch_norm(x, None, None, w, training=True), [(5, 3, 2), (3,)]),
    # batch_norm, eval (running statistics)
    _case("bn_eval_4d", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b),
          lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b), [(2, 3, 2, 3), Const(lambda r: r.normal(size=3)),
                                                             _pos((3,)), (3,), (3,)]),
    _case("bn_eval_noaffine", lambda x, m, v: F.batch_norm(x, m, v, eps=0.1),
          lambda x, m, v: TF.batch_norm(x, m, v, eps=0.1), [(4, 2), Const(lambda r: r.normal(size=2)), _pos((2,))]),
    # layer_norm
    _case("ln_last", lambda x, w, b: F.layer_norm(x, (5,), w, b), lambda x, w, b: TF.layer_norm(x, (5,), w, b),
          [(3, 4, 5), (5,), (5,)]),
    _case("ln_two_dims", lambda x, w, b: F.layer_norm(x, [3, 4], w, b, eps=1e-3),
          lambda x, w, b: TF.layer_norm(x, [3, 4], w, b, eps=1e-3), [(2, 3, 4), (3, 4), (3, 4)]),
    _case("ln_noaffine_1d", lambda x: F.layer_norm(x, 6), lambda x: TF.layer_norm(x, (6,)), [(6,)]),
    _case("ln_weight_only", lambda x, w: F.layer_norm(x, (4,), w), lambda x, w: TF.layer_norm(x, (4,), w),
          [(2, 3, 4), (4,)]),
    # group_norm
    _case("gn_4d", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
          [(2, 4, 3, 3), (4,), (4,)]),
    _case("gn_2d_one_group", lambda x, w, b: F.group_norm(x, 1, w, b), lambda x, w, b: TF.group_norm(x, 1, w, b),
          [(3, 6), (6,), (6,)]),
    _case("gn_3d_channels_groups", lambda x: F.group_norm(x, 3, eps=1e-3), lambda x: TF.group_norm(x, 3, eps=1e-3),
          [(2, 3, 5)]),
    # instance_norm
    _case("in_4d_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
          lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [(2, 3, 3, 4), (3,), (3,)]),
    _case("in_3d", lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [(2, 3, 5)]),
    _case("in_running_stats", lambda x, m, v: F.instance_norm(x, m, v, use_input_stats=False),
          lambda x, m, v: TF.instance_norm(x, m, v, use_input_stats=False),
          [(2, 3, 4), Const(lambda r: r.normal(size=3)), _pos((3,))]),
    # rms_norm
    _case("rms_weight", lambda x, w: F.rms_norm(x, (5,), w), lambda x, w: TF.rms_norm(x, (5,), w),
          [(3, 4, 5), (5,)]),
    _case("rms_two_dims_eps", lambda x, w: F.rms_norm(x, (2, 3), w, eps=1e-2),
          lambda x, w: TF.rms_norm(x, (2, 3), w, eps=1e-2), [(4, 2, 3), (2, 3)]),
    _case("rms_noweight", lambda x: F.rms_norm(x, [4]), lambda x: TF.rms_norm(x, [4]), [(3, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


# ---- second derivatives (create_graph through the fused op) --------------------------------------

def _second_order(lib, fn, arrays):
    if lib is gn:
        xs = [gn.tensor(a, requires_grad=True) for a in arrays]
        grads = gn.autograd.grad(fn(*xs), xs, gn.tensor(np.cos(np.arange(np.prod(fn(*xs).shape)))
                                                         .reshape(fn(*xs).shape)), create_graph=True)
        sum(((g * g).sum() for g in grads), gn.tensor(0.0, dtype=np.float64)).backward()
        return [np.zeros(x.shape) if x.grad is None else x.grad.array for x in xs]
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    grads = torch.autograd.grad(out, xs, torch.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)),
                                create_graph=True)
    sum((g * g).sum() for g in grads).backward()
    return [np.zeros(x.shape) if x.grad is None else x.grad.numpy() for x in xs]


SECOND_ORDER = [
    ("batch_norm", lambda f: lambda x, w, b: f.batch_norm(x, None, None, w, b, training=True),
     [(4, 3, 2), (3,), (3,)]),
    ("layer_norm", lambda f: lambda x, w, b: f.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    ("group_norm", lambda f: lambda x, w, b: f.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    ("instance_norm", lambda f: lambda x, w, b: f.instance_norm(x, weight=w, bias=b), [(2, 2, 5), (2,), (2,)]),
    ("rms_norm", lambda f: lambda x, w: f.rms_norm(x, (4,), w), [(3, 4), (4,)]),
    ("batch_norm_eval", lambda f: lambda x, w, b: f.batch_norm(
        x, (torch.tensor if f is TF else gn.tensor)(np.array([0.1, -0.2, 0.3])),
        (torch.tensor if f is TF else gn.tensor)(np.array([1.5, 0.7, 2.0])), w, b), [(4, 3), (3,), (3,)]),
]


@pytest.mark.parametrize("name,make,shapes", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_order(name, make, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    got = _second_order(gn, make(F), arrays)
    ref = _second_order(torch, make(TF), arrays)
    for k, (a, b) in enumerate(zip(got, ref)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name} input {k}")


def test_gradcheck_second_order_layer_norm():
    """Central differences of the create_graph gradient (float64) through the composite backward."""
    rng = np.random.default_rng(2)
    x = gn.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    w = gn.tensor(rng.standard_normal(5), requires_grad=True)
    v = gn.tensor(rng.standard_normal((2, 5)))

    def first_grad(x, w):
        with gn.enable_grad():  # gradcheck evaluates fn under no_grad for the differences
            return gn.autograd.grad(F.layer_norm(x, (5,), w), [x, w], v, create_graph=True)

    gn.autograd.gradcheck(first_grad, [x, w])


# ---- modules ------------------------------------------------------------------------------------

def _copy_params(g_mod, t_mod):
    with torch.no_grad():
        for (gname, gp), (tname, tp) in zip(g_mod.named_parameters(), t_mod.named_parameters()):
            assert gname == tname
            tp.copy_(torch.from_numpy(gp.array.copy()))


def _check_state(g_mod, t_mod, rtol=1e-5, atol=1e-6):
    g_sd, t_sd = g_mod.state_dict(), t_mod.state_dict()
    assert list(g_sd) == list(t_sd)
    for k in t_sd:
        assert g_sd[k].shape == tuple(t_sd[k].shape), k
        assert g_sd[k].dtype == t_sd[k].numpy().dtype, k
        np.testing.assert_allclose(g_sd[k].array, t_sd[k].numpy(), rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("cls,shape,kw", [
    ("BatchNorm2d", (4, 3, 5, 5), {}),
    ("BatchNorm2d", (4, 3, 2, 3), {"momentum": None}),
    ("BatchNorm2d", (3, 3, 4, 4), {"momentum": 0.3, "eps": 1e-3}),
    ("BatchNorm1d", (8, 3), {}),
    ("BatchNorm1d", (4, 3, 7), {"momentum": None, "affine": False}),
    ("BatchNorm1d", (6, 3), {"bias": False}),
    ("InstanceNorm2d", (2, 3, 4, 5), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (2, 3, 4, 5), {"track_running_stats": True, "momentum": None}),
])
def test_running_stats_match_torch(cls, shape, kw):
    rng = np.random.default_rng(0)
    g_mod, t_mod = getattr(gn.nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    if g_mod.weight is not None:
        g_mod.weight.array[...] = rng.uniform(0.5, 1.5, 3)
    _copy_params(g_mod, t_mod)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        gy, ty = g_mod(gx), t_mod(tx)
        np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-5, atol=2e-5)
        up = rng.standard_normal(shape).astype(np.float32)
        (gy * gn.tensor(up)).sum().backward()
        (ty * torch.from_numpy(up)).sum().backward()
        np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        _check_state(g_mod, t_mod)
    for (_, gp), (_, tp) in zip(g_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(gp.grad.array, tp.grad.numpy(), rtol=1e-4, atol=1e-4)
    g_mod.eval()
    t_mod.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(g_mod(gn.tensor(x)).array, t_mod(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    _check_state(g_mod, t_mod)  # eval does not change the statistics


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    x = np.random.default_rng(1).standard_normal((5, 2, 3)).astype(np.float32)
    g_mod, t_mod = gn.nn.BatchNorm1d(2, track_running_stats=False), torch.nn.BatchNorm1d(2, track_running_stats=False)
    g_mod.eval()
    t_mod.eval()
    np.testing.assert_allclose(g_mod(gn.tensor(x)).array, t_mod(torch.tensor(x)).detach().numpy(), atol=1e-5)
    assert list(g_mod.state_dict()) == list(t_mod.state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("make", [
    lambda nn: nn.BatchNorm1d(4), lambda nn: nn.BatchNorm2d(4, affine=False), lambda nn: nn.BatchNorm3d(4),
    lambda nn: nn.InstanceNorm2d(4), lambda nn: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
    lambda nn: nn.LayerNorm([3, 4]), lambda nn: nn.LayerNorm(4, bias=False),
    lambda nn: nn.LayerNorm(4, elementwise_affine=False), lambda nn: nn.GroupNorm(2, 4),
    lambda nn: nn.GroupNorm(2, 4, affine=False), lambda nn: nn.RMSNorm([2, 4]), lambda nn: nn.RMSNorm(4, 1e-3, False),
])
def test_state_dict_and_repr_match_torch(make):
    g_mod, t_mod = make(gn.nn), make(torch.nn)
    _check_state(g_mod, t_mod, rtol=0, atol=0)
    assert repr(g_mod) == repr(t_mod)
    assert [n for n, _ in g_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]


@pytest.mark.parametrize("cls,args,shape", [
    ("LayerNorm", ((4, 6),), (2, 3, 4, 6)),
    ("GroupNorm", (3, 6), (2, 6, 4, 4)),
    ("RMSNorm", (6,), (5, 6)),
    ("InstanceNorm2d", (3,), (3, 4, 5)),  # unbatched (C, H, W)
])
def test_other_modules_match_torch(cls, args, shape):
    rng = np.random.default_rng(3)
    g_mod, t_mod = getattr(gn.nn, cls)(*args), getattr(torch.nn, cls)(*args)
    for p in g_mod.parameters():
        p.array[...] = rng.standard_normal(p.shape)
    _copy_params(g_mod, t_mod)
    x = rng.standard_normal(shape).astype(np.float32)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = g_mod(gx), t_mod(tx)
    np.testing.assert_allclose(gy.array, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    (gy * gy).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(gx.grad.array, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (_, gp), (_, tp) in zip(g_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(gp.grad.array, tp.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_float64_module_and_rms_default_eps():
    x = np.random.default_rng(4).standard_normal((3, 4)) * 1e-9
    g = gn.nn.RMSNorm(4, dtype=gn.float64)
    t = torch.nn.RMSNorm(4, dtype=torch.float64)
    np.testing.assert_allclose(g(gn.tensor(x)).array, t(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(F.rms_norm(gn.tensor(x32), (4,)).array, TF.rms_norm(torch.tensor(x32), (4,)).numpy(),
                               rtol=1e-5)


# ---- errors -------------------------------------------------------------------------------------

def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input with 3 channels at dim 1, got shape "
                                         r"\(2, 4, 5, 5\)"):
        gn.nn.BatchNorm2d(3)(gn.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input .*got 3D input of shape \(2, 3, 5\)"):
        gn.nn.BatchNorm2d(3)(gn.randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input"):
        gn.nn.BatchNorm1d(3)(gn.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training"):
        gn.nn.BatchNorm1d(3)(gn.randn(1, 3))
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end with normalized_shape "
                                         r"\(4,\)"):
        F.layer_norm(gn.randn(2, 3), (4,))
    with pytest.raises(ValueError, match=r"group_norm: the number of channels 5 .* not divisible by num_groups=2"):
        F.group_norm(gn.randn(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by num_groups \(2\)"):
        gn.nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\): input's size at dim=1"):
        gn.nn.InstanceNorm2d(3, affine=True)(gn.randn(2, 4, 3, 3))
    with pytest.warns(UserWarning, match="affine=False"):
        gn.nn.InstanceNorm2d(3)(gn.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(4,\), expected \(3,\)"):
        F.batch_norm(gn.randn(2, 3), None, None, gn.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean has shape \(2,\), expected \(3,\)"):
        F.batch_norm(gn.randn(2, 3), gn.zeros(2), gn.ones(2))


def test_no_silent_side_effects_in_eval():
    bn = gn.nn.BatchNorm1d(2)
    bn.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bn(gn.randn(1, 2))  # a batch of one is fine in eval mode
    assert int(bn.num_batches_tracked.item()) == 0
    assert bn.num_batches_tracked.dtype == np.int64


# ---- float16: statistics accumulated in float32 --------------------------------------------------------
def _half_pair(shape, seed):
    """The same float16 values (magnitude ~100: float16 sums of squares would overflow) in both libraries."""
    a = (np.random.default_rng(seed).standard_normal(shape) * 100 + 50).astype(np.float16)
    return gn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _assert_half_close(ours, theirs, tol):
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.array.astype(np.float32), theirs.detach().numpy().astype(np.float32),
                               rtol=tol, atol=tol)


def test_layer_norm_float16_matches_torch():
    gx, tx = _half_pair((4, 256), 0)
    gw, tw = _half_pair((256,), 1)
    gb, tb = _half_pair((256,), 2)
    y, ty = F.layer_norm(gx, (256,), gw, gb), TF.layer_norm(tx, (256,), tw, tb)
    assert np.abs(y.array).max() > 1  # not all zeros (float16 statistics overflowed to inf before)
    _assert_half_close(y, ty, 0.5)  # outputs ~1e4 (weights and biases ~100): a few float16 ulps
    dy = np.random.default_rng(3).standard_normal((4, 256)).astype(np.float16)
    y.backward(gn.tensor(dy))
    ty.backward(torch.tensor(dy))
    for ours, theirs in ((gx, tx), (gw, tw), (gb, tb)):
        scale = np.abs(theirs.grad.numpy().astype(np.float32)).max()
        _assert_half_close(ours.grad, theirs.grad, 4e-3 * scale)


def test_batch_norm_float16_matches_torch():
    gx, tx = _half_pair((8, 3, 16), 4)
    g_mean, g_var = gn.zeros(3, dtype=gn.float16), gn.ones(3, dtype=gn.float16)
    t_mean, t_var = torch.zeros(3, dtype=torch.float16), torch.ones(3, dtype=torch.float16)
    y = F.batch_norm(gx, g_mean, g_var, training=True)
    ty = TF.batch_norm(tx, t_mean, t_var, training=True)
    assert np.abs(y.array).max() > 0.5
    _assert_half_close(y, ty, 4e-3)
    _assert_half_close(g_mean, t_mean, 1e-2)
    _assert_half_close(g_var, t_var, 1.0)  # running variance ~1000: float16 ulp 0.5
    dy = np.random.default_rng(5).standard_normal((8, 3, 16)).astype(np.float16)
    y.backward(gn.tensor(dy))
    ty.backward(torch.tensor(dy))
    _assert_half_close(gx.grad, tx.grad, 1e-4)
