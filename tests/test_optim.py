"""Optimizers against PyTorch: 100 steps on the same small model from the same weights, state_dict
round trips, parameter groups and argument errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import optim

RNG = np.random.default_rng(1234)
W1 = (RNG.standard_normal((4, 8)) * 0.5).astype(np.float32)
W2 = (RNG.standard_normal((8, 3)) * 0.5).astype(np.float32)
W3 = RNG.standard_normal((5,)).astype(np.float32)  # in the optimizer, never gets a gradient
X = RNG.standard_normal((16, 4)).astype(np.float32)
Y = RNG.standard_normal((16, 3)).astype(np.float32)


def loss_fn(x, y, w1, w2, sign=1.0):
    """Mean squared error of y ~ softsign(x @ w1) @ w2 (written with methods both libraries share)."""
    h = x @ w1
    h = h / (1 + h.abs())
    return ((h @ w2 - y) ** 2).mean() * sign


def make_params(lib, weights=(W1, W2, W3), dtype=np.float32):
    if lib is gn:
        return [gn.tensor(w.astype(dtype), requires_grad=True) for w in weights]
    return [torch.tensor(w.astype(dtype), requires_grad=True) for w in weights]


def train(lib, params, opt, steps, sign=1.0):
    dtype = params[0].detach().numpy().dtype
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(x, y, params[0], params[1], sign).backward()
        opt.step()


def numpy_of(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.array


# (id, factory(optim_module, params) -> optimizer, sign of the objective: -1 with maximize=True)
CONFIGS = [
    ("sgd", lambda o, p: o.SGD(p, lr=0.1), 1),
    ("sgd_momentum", lambda o, p: o.SGD(p, lr=0.05, momentum=0.9), 1),
    ("sgd_nesterov_wd", lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2), 1),
    ("sgd_dampening_maximize", lambda o, p: o.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, maximize=True), -1),
    ("sgd_groups", lambda o, p: o.SGD([{"params": p[:1]}, {"params": p[1:], "lr": 0.02, "momentum": 0.5}], lr=0.1), 1),
    ("adam", lambda o, p: o.Adam(p, lr=1e-2), 1),
    ("adam_amsgrad_wd", lambda o, p: o.Adam(p, lr=1e-2, amsgrad=True, weight_decay=0.1), 1),
    ("adam_maximize_betas", lambda o, p: o.Adam(p, lr=5e-3, betas=(0.8, 0.99), eps=1e-6, maximize=True), -1),
    ("adamw", lambda o, p: o.AdamW(p, lr=1e-2), 1),
    ("adamw_amsgrad_groups", lambda o, p: o.AdamW([{"params": p[:1], "weight_decay": 0.5}, {"params": p[1:]}],
                                                  lr=1e-2, amsgrad=True), 1),
    ("rmsprop", lambda o, p: o.RMSprop(p, lr=3e-3), 1),
    ("rmsprop_centered_momentum_wd", lambda o, p: o.RMSprop(p, lr=1e-3, centered=True, momentum=0.9,
                                                            weight_decay=0.01), 1),
    ("rmsprop_momentum_maximize", lambda o, p: o.RMSprop(p, lr=1e-3, alpha=0.9, momentum=0.5, maximize=True), -1),
    ("adagrad", lambda o, p: o.Adagrad(p, lr=0.1), 1),
    ("adagrad_decay_init_wd", lambda o, p: o.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1,
                                                     weight_decay=0.01), 1),
    ("adagrad_maximize", lambda o, p: o.Adagrad(p, lr=0.05, maximize=True), -1),
    ("adadelta", lambda o, p: o.Adadelta(p), 1),
    ("adadelta_wd_rho", lambda o, p: o.Adadelta(p, lr=0.5, rho=0.8, weight_decay=0.01), 1),
    ("adadelta_maximize", lambda o, p: o.Adadelta(p, maximize=True), -1),
    ("nadam", lambda o, p: o.NAdam(p, lr=1e-2), 1),
    ("nadam_decay_wd", lambda o, p: o.NAdam(p, lr=5e-3, momentum_decay=1e-2, weight_decay=0.05), 1),
    ("nadam_decoupled_maximize", lambda o, p: o.NAdam(p, lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True,
                                                      maximize=True), -1),
    ("radam", lambda o, p: o.RAdam(p, lr=1e-2), 1),
    ("radam_wd_betas", lambda o, p: o.RAdam(p, lr=1e-2, betas=(0.8, 0.9), weight_decay=0.05), 1),
    ("radam_decoupled_maximize", lambda o, p: o.RAdam(p, lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True,
                                                      maximize=True), -1),
    ("adamax", lambda o, p: o.Adamax(p, lr=1e-2), 1),
    ("adamax_wd_maximize", lambda o, p: o.Adamax(p, lr=1e-2, betas=(0.8, 0.99), weight_decay=0.05, maximize=True), -1),
    ("asgd", lambda o, p: o.ASGD(p, lr=0.05), 1),
    ("asgd_averaging_wd", lambda o, p: o.ASGD(p, lr=0.05, lambd=1e-2, alpha=0.5, t0=20, weight_decay=0.01), 1),
    ("asgd_groups_maximize", lambda o, p: o.ASGD([{"params": p[:1]}, {"params": p[1:], "lr": 0.02}], lr=0.05, t0=5,
                                                 maximize=True), -1),
]


def assert_close(got, want, what, rtol=1e-5, atol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    diff = np.max(np.abs(got.astype(np.float64) - want)) if got.size else 0.0
    assert got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol), \
        f"{what}: max abs diff {diff:.3e} (max |value| {np.max(np.abs(want)):.3e})"


@pytest.mark.parametrize("name,factory,sign", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_matches_torch_100_steps(name, factory, sign):
    gp, tp = make_params(gn), make_params(torch)
    gopt, topt = factory(optim, gp), factory(torch.optim, tp)
    train(gn, gp, gopt, 100, sign)
    train(torch, tp, topt, 100, sign)
    assert np.abs(gp[0].array - W1).max() > 1e-2, "the parameters barely moved: the test would prove nothing"
    for i, (g, t) in enumerate(zip(gp, tp)):
        assert g.dtype == np.float32
        assert_close(g.array, numpy_of(t), f"{name}: parameter {i} after 100 steps")
    np.testing.assert_array_equal(gp[2].array, W3)  # no gradient: untouched
    # The state has PyTorch's names and values.
    gsd, tsd = gopt.state_dict(), topt.state_dict()
    assert sorted(gsd["state"]) == sorted(tsd["state"])
    for index, tstate in tsd["state"].items():
        gstate = gsd["state"][index]
        assert sorted(gstate) == sorted(tstate), f"{name}: state keys of parameter {index}"
        for key, tval in tstate.items():
            assert_close(numpy_of(gstate[key]), tval.numpy(), f"{name}: state[{index}][{key!r}]", rtol=1e-4, atol=1e-6)
    for gg, tg in zip(gsd["param_groups"], tsd["param_groups"]):
        assert gg["params"] == tg["params"]
        for key, value in gg.items():
            if key in tg:
                assert value == tg[key], f"{name}: param_group option {key}"


@pytest.mark.parametrize("name,factory,sign", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_same_gradients_give_same_updates(name, factory, sign):
    """The optimizer alone: both get torch's gradients every step, so only the update rule can differ."""
    gp, tp = make_params(gn), make_params(torch)
    gopt, topt = factory(optim, gp), factory(torch.optim, tp)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(100):
        topt.zero_grad()
        loss_fn(x, y, tp[0], tp[1], sign).backward()
        for g, t in zip(gp, tp):
            g.grad = None if t.grad is None else gn.tensor(t.grad.numpy().copy())
        gopt.step()
        topt.step()
    for i, (g, t) in enumerate(zip(gp, tp)):
        assert_close(g.array, numpy_of(t), f"{name}: parameter {i}", rtol=1e-6, atol=1e-6)


def _plain(value):
    """True when a state_dict holds only Tensors and plain Python values (nothing that would need pickle)."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, gn.Tensor))


@pytest.mark.parametrize("name,factory,sign", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_state_dict_round_trip(name, factory, sign):
    # Uninterrupted: 20 steps.
    ref = make_params(gn)
    train(gn, ref, factory(optim, ref), 20, sign)
    # Interrupted: 10 steps, save, load into a fresh optimizer over copies of the weights, 10 more.
    first = make_params(gn)
    opt = factory(optim, first)
    train(gn, first, opt, 10, sign)
    saved = opt.state_dict()
    assert _plain(saved)
    resumed = make_params(gn, [p.array.copy() for p in first])
    fresh = factory(optim, resumed)
    fresh.load_state_dict(saved)
    train(gn, first, opt, 3, sign)  # the old optimizer going on must not disturb the loaded copy
    train(gn, resumed, fresh, 10, sign)
    for i, (a, b) in enumerate(zip(resumed, ref)):
        np.testing.assert_array_equal(a.array, b.array, err_msg=f"{name}: parameter {i} after resuming")


def test_load_state_dict_restores_group_options_and_checks_sizes():
    p = make_params(gn)
    opt = optim.SGD(p, lr=0.1, momentum=0.9)
    opt.param_groups[0]["lr"] = 0.01
    saved = opt.state_dict()
    fresh = optim.SGD(make_params(gn), lr=0.5)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.01 and fresh.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="parameter group 0 has 3 parameters"):
        optim.SGD(make_params(gn)[:2]).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": p[:1]}, {"params": p[1:]}]).load_state_dict(saved)


def test_state_dict_indices_follow_groups_like_torch():
    gp, tp = make_params(gn), make_params(torch)
    gopt = optim.Adam([{"params": [gp[1]]}, {"params": [gp[0], gp[2]], "lr": 0.1}])
    topt = torch.optim.Adam([{"params": [tp[1]]}, {"params": [tp[0], tp[2]], "lr": 0.1}])
    train(gn, gp, gopt, 2)
    train(torch, tp, topt, 2)
    gsd, tsd = gopt.state_dict(), topt.state_dict()
    assert [g["params"] for g in gsd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert sorted(gsd["state"]) == sorted(tsd["state"]) == [0, 1]
    assert float(gsd["state"][0]["step"].array) == 2.0


def test_float64_parameters_update_in_float64():
    gp, tp = make_params(gn, dtype=np.float64), make_params(torch, dtype=np.float64)
    gopt, topt = optim.Adam(gp, lr=1e-2, amsgrad=True), torch.optim.Adam(tp, lr=1e-2, amsgrad=True)
    train(gn, gp, gopt, 30)
    train(torch, tp, topt, 30)
    assert gp[0].dtype == np.float64 and gopt.state[gp[0]]["exp_avg"].dtype == np.float64
    for g, t in zip(gp, tp):
        assert_close(g.array, numpy_of(t), "float64 Adam", rtol=1e-12, atol=1e-14)


def test_zero_grad():
    p = make_params(gn)
    opt = optim.SGD(p, lr=0.1)
    loss_fn(gn.tensor(X), gn.tensor(Y), p[0], p[1]).backward()
    grad = p[0].grad
    opt.zero_grad(set_to_none=False)
    assert p[0].grad is grad and not grad.array.any() and p[2].grad is None
    opt.zero_grad()
    assert p[0].grad is None and p[1].grad is None


def test_closure_is_called_with_grad_enabled():
    p = make_params(gn)
    opt = optim.SGD(p, lr=0.1)
    before = p[0].array.copy()

    def closure():
        opt.zero_grad()
        loss = loss_fn(gn.tensor(X), gn.tensor(Y), p[0], p[1])
        loss.backward()
        return loss

    with gn.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, gn.Tensor) and loss.item() > 0
    assert not np.array_equal(p[0].array, before)


def test_add_param_group_and_named_parameters():
    p = make_params(gn)
    opt = optim.Adam([p[0]], lr=1e-3)
    opt.add_param_group({"params": p[1], "lr": 1e-2})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["params"] == [p[1]]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 1e-2
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p[0]]})
    named = optim.SGD([("w1", p[0]), ("w2", p[1])], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w1", "w2"]
    assert named.param_groups[0]["params"] == [p[0], p[1]]
    # Adagrad initializes the state of groups added later too.
    ada = optim.Adagrad([p[0]])
    ada.add_param_group({"params": [p[1]]})
    loss_fn(gn.tensor(X), gn.tensor(Y), p[0], p[1]).backward()
    ada.step()
    assert float(ada.state[p[1]]["step"].array) == 1.0


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.Adadelta])
def test_errors_common(cls):
    p = make_params(gn)
    with pytest.raises(ValueError, match="learning rate"):
        cls(p, lr=-0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    with pytest.raises(ValueError, match="weight_decay"):
        cls(p, weight_decay=-1)
    with pytest.raises(ValueError, match="learning rate"):
        cls([{"params": p[:1]}, {"params": p[1:], "lr": -1.0}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        cls([{"params": p[:2]}, {"params": p[1:]}])
    with pytest.raises(ValueError, match="non-leaf"):
        cls([p[0] * 2])
    with pytest.raises(ValueError, match="floating-point"):
        cls([gn.tensor([1, 2, 3])])
    with pytest.raises(TypeError, match="single Tensor"):
        cls(p[0])
    with pytest.raises(TypeError, match="set"):
        cls(set(p))
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        cls([p[0], np.zeros(3)])


def test_errors_specific():
    p = make_params(gn)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(p, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(p, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True)
    for betas in [(1.0, 0.999), (0.9, -0.1), (0.9,)]:
        with pytest.raises(ValueError, match="beta"):
            optim.Adam(p, betas=betas)
    with pytest.raises(ValueError, match="epsilon"):
        optim.AdamW(p, eps=-1e-8)
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop(p, alpha=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        optim.RMSprop(p, momentum=-0.1)
    with pytest.raises(ValueError, match="lr_decay"):
        optim.Adagrad(p, lr_decay=-1)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad(p, initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam(p, differentiable=True)
    opt = optim.SGD(p)
    p[0].grad = gn.zeros(3, 3)
    with pytest.raises(RuntimeError, match="gradient of shape"):
        opt.step()


# ---- flat buffers: the parameters of a group updated together (optim/_flat.py) --------------------
def _pair(factory, weights=(W1, W2, W3), dtypes=None):
    """glassnet and torch parameters from the same weights (dtypes per parameter) and their optimizers."""
    dtypes = dtypes or [np.float32] * len(weights)
    gp = [gn.tensor(w.astype(d), requires_grad=True) for w, d in zip(weights, dtypes)]
    tp = [torch.tensor(w.astype(d), requires_grad=True) for w, d in zip(weights, dtypes)]
    return gp, tp, factory(optim, gp), factory(torch.optim, tp)


def _loss_step(lib, params, opt, set_to_none=True, sign=1.0):
    dtype = params[0].detach().numpy().dtype
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    opt.zero_grad(set_to_none=set_to_none)
    w2 = params[1] if params[1].dtype == params[0].dtype else params[1].to(params[0].dtype)
    loss_fn(x, y, params[0], w2, sign).backward()
    opt.step()


def _assert_same(gp, tp, what, rtol=1e-5, atol=1e-6):
    for i, (g, t) in enumerate(zip(gp, tp)):
        assert_close(g.array, numpy_of(t), f"{what}: parameter {i}", rtol=rtol, atol=atol)


ADAM = ("adam_amsgrad_wd", lambda o, p: o.Adam(p, lr=1e-2, amsgrad=True, weight_decay=0.1))
SGD_M = ("sgd_nesterov_wd", lambda o, p: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2))


def test_a_group_lives_in_one_flat_buffer_and_the_state_tensors_are_views_of_it():
    gp, tp, gopt, topt = _pair(ADAM[1])
    for _ in range(3):
        _loss_step(gn, gp, gopt)
        _loss_step(torch, tp, topt)
    base = gp[0].array.base
    assert base is not None and base.ndim == 1 and gp[1].array.base is base  # the two with gradients
    assert gp[2].array.base is None  # never had a gradient: never moved
    m0, m1 = gopt.state[gp[0]]["exp_avg"], gopt.state[gp[1]]["exp_avg"]
    assert m0.array.base is m1.array.base and m0.array.base is not base
    saved = gopt.state_dict()["state"][0]["exp_avg"]  # the optimizer's own tensor, live, as in PyTorch
    before = saved.array.copy()
    _loss_step(gn, gp, gopt)
    _loss_step(torch, tp, topt)
    assert not np.array_equal(saved.array, before)
    _assert_same(gp, tp, "adam on flat buffers")


@pytest.mark.parametrize("name,factory", [ADAM, SGD_M], ids=["adam", "sgd"])
def test_gradients_kept_between_steps(name, factory):
    """zero_grad(set_to_none=False): the gradients stay where backward adds into them (the optimizer reads
    them there, copying nothing); same result as torch."""
    gp, tp, gopt, topt = _pair(factory)
    for _ in range(5):
        _loss_step(gn, gp, gopt, set_to_none=False)
        _loss_step(torch, tp, topt, set_to_none=False)
    grad_view = gp[0].grad.array
    _loss_step(gn, gp, gopt, set_to_none=False)
    _loss_step(torch, tp, topt, set_to_none=False)
    assert gp[0].grad.array is grad_view
    _assert_same(gp, tp, f"{name}, gradients kept")


@pytest.mark.parametrize("name,factory", [ADAM, SGD_M], ids=["adam", "sgd"])
def test_replacing_data_grad_or_state_midway_is_seen(name, factory):
    gp, tp, gopt, topt = _pair(factory)
    for _ in range(3):
        _loss_step(gn, gp, gopt)
        _loss_step(torch, tp, topt)
    new = (RNG.standard_normal(W1.shape) * 0.3).astype(np.float32)
    gp[0].data = gn.tensor(new.copy())  # p.data = ...: new storage, the flat view is lost
    with torch.no_grad():
        tp[0].data = torch.tensor(new.copy())
    for _ in range(3):
        _loss_step(gn, gp, gopt)
        _loss_step(torch, tp, topt)
    _assert_same(gp, tp, f"{name} after p.data = ...")
    assert gp[0].array.base is gp[1].array.base  # flattened again
    # p.grad = a tensor the user keeps: its values are used, its storage is left alone
    grads = [(RNG.standard_normal(w.shape) * 0.1).astype(np.float32) for w in (W1, W2)]
    mine = [gn.tensor(g.copy()) for g in grads]
    arrays = [m.array for m in mine]
    for g, t, m, a in zip(gp, tp, mine, grads):
        g.grad, t.grad = m, torch.tensor(a.copy())
    gopt.step()
    topt.step()
    assert all(m.array is a for m, a in zip(mine, arrays))
    np.testing.assert_array_equal(mine[0].array, grads[0])
    _assert_same(gp, tp, f"{name} after p.grad = ...")
    # a state tensor replaced by the user
    key = "exp_avg" if name.startswith("adam") else "momentum_buffer"
    gopt.state[gp[1]][key] = gn.tensor(gopt.state[gp[1]][key].array * 0.5)
    topt.state[tp[1]][key].mul_(0.5)
    _loss_step(gn, gp, gopt)
    _loss_step(torch, tp, topt)
    _assert_same(gp, tp, f"{name} after replacing state {key}")


def test_a_parameter_sharing_memory_with_a_numpy_array_stays_in_it():
    """Parameter(array) shares the array (as torch.from_numpy would): updates show in the user's array."""
    mine = W1.copy()
    gp = [gn.nn.Parameter(mine), gn.tensor(W2.copy(), requires_grad=True)]
    tp = [torch.tensor(W1.copy(), requires_grad=True), torch.tensor(W2.copy(), requires_grad=True)]
    gopt, topt = ADAM[1](optim, gp), ADAM[1](torch.optim, tp)
    for _ in range(5):
        _loss_step(gn, gp, gopt)
        _loss_step(torch, tp, topt)
    assert gp[0].array is mine
    np.testing.assert_allclose(mine, tp[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    _assert_same(gp, tp, "shared-memory parameter")


def test_parameters_that_have_no_gradient_on_some_steps():
    """A parameter without a gradient is skipped (no state, no update); the rest are still right."""
    gp, tp, gopt, topt = _pair(ADAM[1])
    for step in range(8):
        for lib, params, opt in ((gn, gp, gopt), (torch, tp, topt)):
            x, y = lib.tensor(X), lib.tensor(Y)
            opt.zero_grad()
            w1 = params[0] if step % 3 else params[0].detach()  # no gradient for w1 every third step
            loss_fn(x, y, w1, params[1]).backward()
            opt.step()
    _assert_same(gp, tp, "gradients on some steps")
    assert float(gopt.state[gp[0]]["step"].array) == float(topt.state[tp[0]]["step"]) == 5.0
    assert float(gopt.state[gp[1]]["step"].array) == 8.0


def test_mixed_dtypes_in_a_group_and_groups_added_later():
    gp, tp, gopt, topt = _pair(lambda o, p: o.Adam(p[:1], lr=1e-2), dtypes=[np.float32, np.float64, np.float32])
    for lib, params, opt in ((gn, gp, gopt), (torch, tp, topt)):
        opt.add_param_group({"params": params[1:], "lr": 5e-3})
    for _ in range(5):
        _loss_step(gn, gp, gopt)
        _loss_step(torch, tp, topt)
    assert gp[1].dtype == np.float64 and gopt.state[gp[1]]["exp_avg"].dtype == np.float64
    _assert_same(gp, tp, "mixed dtypes and an added group")


@pytest.mark.parametrize("name,factory,sign", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_load_state_dict_into_a_stepped_optimizer(name, factory, sign):
    """Loading replaces the state tensors of an optimizer whose buffers are already flat; the next
    steps use the loaded values (same as an optimizer that never stopped)."""
    ref = make_params(gn)
    ref_opt = factory(optim, ref)
    train(gn, ref, ref_opt, 6, sign)
    saved = {"state": {i: {k: gn.tensor(v.array.copy()) for k, v in s.items()}
                       for i, s in ref_opt.state_dict()["state"].items()},
             "param_groups": ref_opt.state_dict()["param_groups"]}
    other = make_params(gn)
    opt = factory(optim, other)
    train(gn, other, opt, 2, sign)  # its own flat buffers, different values
    for p, r in zip(other, ref):
        p.array[...] = r.array
    opt.load_state_dict(saved)
    train(gn, other, opt, 4, sign)
    train(gn, ref, ref_opt, 4, sign)
    for i, (a, b) in enumerate(zip(other, ref)):
        np.testing.assert_array_equal(a.array, b.array, err_msg=f"{name}: parameter {i}")


def test_a_step_counts_as_an_in_place_change_of_each_parameter():
    gp = make_params(gn)
    opt = optim.SGD(gp, lr=0.1)
    x, y = gn.tensor(X), gn.tensor(Y)
    loss_fn(x, y, gp[0], gp[1]).backward()
    versions = [p._version for p in gp]
    stale = loss_fn(x, y, gp[0], gp[1])  # recorded before the step
    opt.step()
    assert [p._version for p in gp] == [versions[0] + 1, versions[1] + 1, versions[2]]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()


def test_a_user_optimizer_that_writes_its_own_step():
    """Subclassing Optimizer as in PyTorch (a `step` over param_groups) still works, and a scheduler knows
    it was stepped."""

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.array -= group["lr"] * np.sign(p.grad.array)

    p = make_params(gn)
    opt = SignSGD(p, lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    loss_fn(gn.tensor(X), gn.tensor(Y), p[0], p[1]).backward()
    expected = W1 - 0.1 * np.sign(p[0].grad.array)
    opt.step()
    sched.step()
    np.testing.assert_allclose(p[0].array, expected)
    assert opt.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("name,factory,sign", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_parameters_larger_and_smaller_than_a_chunk(name, factory, sign):
    """Large parameters are updated in several chunks, small ones share a chunk (their gradients copied
    side by side): every element gets torch's update all the same."""
    from glassnet.optim._flat import CHUNK

    rng = np.random.default_rng(7)
    shapes = [(CHUNK + 5, 2), (7,), (3, 1000), (CHUNK - 3,), (5, 3)]
    weights = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    targets = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    gp, tp = make_params(gn, weights), make_params(torch, weights)
    gopt, topt = factory(optim, gp), factory(torch.optim, tp)
    for step in range(4):
        for lib, params, opt in ((gn, gp, gopt), (torch, tp, topt)):
            opt.zero_grad(set_to_none=step % 2 == 0)
            loss = sum(((p - lib.tensor(t)) ** 2).mean() for p, t in zip(params, targets)) * sign
            loss.backward()
            opt.step()
    _assert_same(gp, tp, name, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda o, p: o.NAdam(p, lr=1e-2), lambda o, p: o.RAdam(p, lr=1e-2),
                                  lambda o, p: o.Adamax(p, lr=1e-2)], ids=["nadam", "radam", "adamax"])
def test_one_cycle_drives_the_new_optimizers_like_torch(make):
    """OneCycleLR changes lr and beta1 each step; both reach the update rule as in torch."""
    gp, tp = make_params(gn), make_params(torch)
    gopt, topt = make(optim, gp), make(torch.optim, tp)
    gs = optim.lr_scheduler.OneCycleLR(gopt, max_lr=0.05, total_steps=30)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=30)
    x, y = gn.tensor(X), gn.tensor(Y)
    tx, ty = torch.tensor(X), torch.tensor(Y)
    for _ in range(30):
        gopt.zero_grad()
        loss_fn(x, y, gp[0], gp[1]).backward()
        gopt.step()
        gs.step()
        topt.zero_grad()
        loss_fn(tx, ty, tp[0], tp[1]).backward()
        topt.step()
        ts.step()
    assert gopt.param_groups[0]["betas"] == topt.param_groups[0]["betas"]
    for g, t in zip(gp, tp):
        assert_close(g.array, numpy_of(t), "after 30 one-cycle steps")
