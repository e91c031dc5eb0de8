"""Learning-rate schedulers against PyTorch: the sequence of lrs (and momenta) over 80 steps, and a
state_dict round trip in the middle that continues identically."""
import math
import warnings

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import optim
from glassnet.optim import lr_scheduler as gsched

TS = torch.optim.lr_scheduler
STEPS = 80


def make_params(lib):
    return [lib.tensor(np.ones((2, 2), np.float32), requires_grad=True),
            lib.tensor(np.ones(3, np.float32), requires_grad=True)]


def sgd(o, p):
    return o.SGD([{"params": p[:1]}, {"params": p[1:], "lr": 0.05}], lr=0.1, momentum=0.9)


def adam(o, p):
    return o.Adam([{"params": p[:1]}, {"params": p[1:], "lr": 0.02}], lr=0.01, betas=(0.9, 0.99))


class Scale:
    """A callable object: its attributes are saved in the state_dict (unlike a lambda)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


# (id, optimizer factory, scheduler factory(lr_scheduler module, optimizer))
SCHEDULES = [
    ("lambda", sgd, lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.97 ** e])),
    ("lambda_object", sgd, lambda s, o: s.LambdaLR(o, Scale(0.95))),
    ("multiplicative", sgd, lambda s, o: s.MultiplicativeLR(o, lambda e: 0.96)),
    ("step", sgd, lambda s, o: s.StepLR(o, step_size=7, gamma=0.5)),
    ("multistep", sgd, lambda s, o: s.MultiStepLR(o, milestones=[5, 20, 20, 45], gamma=0.3)),
    ("constant", sgd, lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=12)),
    ("linear", sgd, lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=30)),
    ("exponential", sgd, lambda s, o: s.ExponentialLR(o, gamma=0.93)),
    ("polynomial", sgd, lambda s, o: s.PolynomialLR(o, total_iters=50, power=2.0)),
    ("cosine", sgd, lambda s, o: s.CosineAnnealingLR(o, T_max=17, eta_min=1e-3)),
    ("cosine_warm_restarts", sgd, lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4)),
    ("onecycle_cos_sgd", sgd, lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    ("onecycle_linear_three_phase_adam", adam,
     lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=8, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                               three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    ("onecycle_no_momentum", sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False)),
    ("cyclic_triangular_sgd", sgd, lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=7)),
    ("cyclic_triangular2", sgd, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=5, step_size_down=9,
                                                         mode="triangular2", base_momentum=0.7, max_momentum=0.95)),
    ("cyclic_exp_range_adam", adam, lambda s, o: s.CyclicLR(o, 0.001, 0.01, step_size_up=6, mode="exp_range",
                                                             gamma=0.97)),
    ("cyclic_scale_fn", sgd, lambda s, o: s.CyclicLR(o, 0.001, 0.01, step_size_up=4, scale_fn=Scale(0.9),
                                                     scale_mode="iterations", cycle_momentum=False)),
    ("sequential_linear_cosine", sgd,
     lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=10), s.CosineAnnealingLR(o, T_max=40)],
                                 milestones=[10])),
    ("sequential_three", sgd,
     lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=5), s.ExponentialLR(o, gamma=0.9),
                                     s.StepLR(o, step_size=10)], milestones=[8, 30])),
    ("sequential_lambda", sgd,
     lambda s, o: s.SequentialLR(o, [s.LambdaLR(o, lambda e: 0.5 + e / 20), s.MultiStepLR(o, [10, 25])],
                                 milestones=[12])),
    ("chained", sgd,
     lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.3, total_iters=4), s.ExponentialLR(o, gamma=0.95)])),
]


def record(opt):
    """lr and momentum (or beta1) of every group."""
    out = []
    for g in opt.param_groups:
        out.append(g["lr"])
        out.append(g["betas"][0] if "betas" in g else g["momentum"])
    return out


def drive(opt, sched, steps):
    seq = []
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(record(opt) + list(sched.get_last_lr()))
    return seq


def assert_same_sequence(got, want, what):
    got, want = np.array(got, dtype=np.float64), np.array(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shapes {got.shape} vs {want.shape}"
    bad = np.argwhere(~np.isclose(got, want, rtol=1e-12, atol=0))
    assert bad.size == 0, f"{what}: first difference at step {bad[0][0]}: {got[bad[0][0]]} vs {want[bad[0][0]]}"


def _plain(value):
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


@pytest.mark.parametrize("name,make_opt,make_sched", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_sequence_matches_torch(name, make_opt, make_sched):
    gopt = make_opt(optim, make_params(gn))
    topt = make_opt(torch.optim, make_params(torch))
    gs, ts = make_sched(gsched, gopt), make_sched(TS, topt)
    assert_same_sequence([record(gopt)], [record(topt)], f"{name} after construction")
    assert_same_sequence(drive(gopt, gs, STEPS), drive(topt, ts, STEPS), name)
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in gopt.param_groups] == [g.get(key) for g in topt.param_groups], key


@pytest.mark.parametrize("name,make_opt,make_sched", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_state_dict_round_trip(name, make_opt, make_sched):
    half = STEPS // 2
    opt = make_opt(optim, make_params(gn))
    sched = make_sched(gsched, opt)
    drive(opt, sched, half)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert _plain(sched_state), f"{name}: the scheduler's state_dict holds something that is not a plain value"
    assert "optimizer" not in sched_state
    expected = drive(opt, sched, STEPS - half)

    fresh_opt = make_opt(optim, make_params(gn))
    fresh = make_sched(gsched, fresh_opt)
    fresh_opt.load_state_dict(opt_state)
    fresh.load_state_dict(sched_state)
    assert_same_sequence(drive(fresh_opt, fresh, STEPS - half), expected, f"{name} resumed")


def test_lambda_state_dict_saves_callable_objects_only():
    opt = sgd(optim, make_params(gn))
    sched = gsched.LambdaLR(opt, [lambda e: 1.0, Scale(0.9)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.9}]
    other = gsched.LambdaLR(sgd(optim, make_params(gn)), [lambda e: 1.0, Scale(0.5)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.9


METRICS = [1.0, 0.9, 0.85, 0.86, 0.86, 0.87, 0.849, 0.85, 0.85, 0.85, 0.85, 0.84999, 0.7, 0.7, 0.7, 0.7, 0.7,
           0.71, 0.72, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]

PLATEAU = [
    ("min_rel", dict(patience=2)),
    ("min_abs_cooldown", dict(threshold_mode="abs", threshold=0.01, patience=1, cooldown=2, factor=0.5)),
    ("max_rel_min_lr", dict(mode="max", patience=0, factor=0.3, min_lr=[0.01, 0.02])),
    ("max_abs_eps", dict(mode="max", threshold_mode="abs", threshold=0.0, patience=3, eps=0.03)),
]


@pytest.mark.parametrize("name,kwargs", PLATEAU, ids=[p[0] for p in PLATEAU])
def test_reduce_on_plateau_matches_torch(name, kwargs):
    gopt, topt = sgd(optim, make_params(gn)), sgd(torch.optim, make_params(torch))
    gs, ts = gsched.ReduceLROnPlateau(gopt, **kwargs), TS.ReduceLROnPlateau(topt, **kwargs)
    got, want = [], []
    for i, m in enumerate(METRICS):
        gopt.step()
        topt.step()
        gs.step(gn.tensor(m) if i % 2 else m)
        ts.step(m)
        got.append(record(gopt) + gs.get_last_lr() + [gs.num_bad_epochs, gs.cooldown_counter])
        want.append(record(topt) + ts.get_last_lr() + [ts.num_bad_epochs, ts.cooldown_counter])
        if i == 10:  # round trip in the middle
            state = gs.state_dict()
            assert _plain(state)
            opt_state = gopt.state_dict()
            gopt = sgd(optim, make_params(gn))
            gopt.load_state_dict(opt_state)
            gs = gsched.ReduceLROnPlateau(gopt, **kwargs)
            gs.load_state_dict(state)
    assert_same_sequence(got, want, name)
    assert gopt.param_groups[0]["lr"] < 0.1  # the schedule did reduce


def test_scheduler_before_optimizer_warns():
    opt = sgd(optim, make_params(gn))
    sched = gsched.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    opt2 = sgd(optim, make_params(gn))
    sched2 = gsched.StepLR(opt2, 3)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_closed_form_with_epoch_argument():
    gopt, topt = sgd(optim, make_params(gn)), sgd(torch.optim, make_params(torch))
    gs, ts = gsched.StepLR(gopt, 4, gamma=0.5), TS.StepLR(topt, 4, gamma=0.5)
    gopt.step()
    topt.step()
    with pytest.warns(UserWarning):
        gs.step(13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts.step(13)
    assert gs.get_last_lr() == ts.get_last_lr() == [0.1 * 0.5 ** 3, 0.05 * 0.5 ** 3]
    assert gs.last_epoch == 13


def test_errors():
    opt = sgd(optim, make_params(gn))
    with pytest.raises(TypeError, match="Optimizer"):
        gsched.StepLR("not an optimizer", 3)
    with pytest.raises(ValueError, match="lr_lambdas"):
        gsched.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="function"):
        gsched.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="step_size"):
        gsched.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max"):
        gsched.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="start_factor"):
        gsched.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps"):
        gsched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="max_lr has 3 values"):
        gsched.OneCycleLR(opt, max_lr=[0.1, 0.2, 0.3], total_steps=10)
    with pytest.raises(ValueError, match="momentum or betas"):
        gsched.CyclicLR(optim.Adagrad(make_params(gn)), 0.01, 0.1)
    with pytest.raises(ValueError, match="mode"):
        gsched.CyclicLR(opt, 0.01, 0.1, mode="square")
    with pytest.raises(ValueError, match="factor"):
        gsched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        gsched.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="milestone"):
        gsched.SequentialLR(opt, [gsched.StepLR(opt, 2), gsched.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        gsched.SequentialLR(opt, [gsched.StepLR(sgd(optim, make_params(gn)), 2)], milestones=[])
    with pytest.raises(KeyError, match="initial_lr"):
        gsched.StepLR(sgd(optim, make_params(gn)), 2, last_epoch=5)
    short_opt = sgd(optim, make_params(gn))
    short = gsched.OneCycleLR(short_opt, max_lr=0.1, total_steps=3)
    short_opt.step()
    for _ in range(3):
        short.step()
    with pytest.raises(ValueError, match="total_steps=3"):
        short.step()


def test_cosine_values_follow_the_closed_form():
    opt = optim.SGD(make_params(gn), lr=0.2)
    sched = gsched.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for t in range(1, 11):
        opt.step()
        sched.step()
        assert math.isclose(opt.param_groups[0]["lr"], 0.01 + 0.19 * (1 + math.cos(math.pi * t / 10)) / 2,
                            rel_tol=1e-9, abs_tol=1e-12)
