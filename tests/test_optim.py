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
