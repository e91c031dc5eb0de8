"""L-BFGS against PyTorch: same closures from the same weights, with and without the strong-Wolfe line
search; the time-sequence-prediction pattern (an LSTM cell fitted with a closure); state_dict; errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import optim
from test_optim import W1, W2, X, Y, loss_fn, make_params


def _fit(lib, params, opt, steps, dtype=np.float32):
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    losses = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(x, y, params[0], params[1])
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    return losses


CONFIGS = [
    ("default", {}),
    ("strong_wolfe", {"line_search_fn": "strong_wolfe"}),
    ("short_history", {"lr": 0.5, "max_iter": 7, "history_size": 3}),
    ("wolfe_short_history_few_evals", {"line_search_fn": "strong_wolfe", "history_size": 2, "max_eval": 9}),
]


@pytest.mark.parametrize("name, kw", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_matches_torch(name, kw):
    gp, tp = make_params(gn, (W1, W2), np.float64), make_params(torch, (W1, W2), np.float64)
    gopt, topt = optim.LBFGS(gp, **kw), torch.optim.LBFGS(tp, **kw)
    g_losses, t_losses = _fit(gn, gp, gopt, 4, np.float64), _fit(torch, tp, topt, 4, np.float64)
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-6)
    assert g_losses[-1] < 0.5 * g_losses[0]  # it really optimised
    for g, t in zip(gp, tp):
        np.testing.assert_allclose(g.array, t.detach().numpy(), rtol=1e-5, atol=1e-7)
    gs, ts = gopt.state[gp[0]], topt.state[tp[0]]
    assert sorted(gs) == sorted(ts)
    assert gs["func_evals"] == ts["func_evals"] and gs["n_iter"] == ts["n_iter"]
    assert len(gs["old_dirs"]) == len(ts["old_dirs"])


def test_float32_matches_torch():
    gp, tp = make_params(gn, (W1, W2)), make_params(torch, (W1, W2))
    kw = {"line_search_fn": "strong_wolfe", "history_size": 10}
    g_losses = _fit(gn, gp, optim.LBFGS(gp, **kw), 3)
    t_losses = _fit(torch, tp, torch.optim.LBFGS(tp, **kw), 3)
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-3)


def _sine_model(lib, hidden=8):
    """The time-sequence-prediction example in small: an LSTM cell reads a sine wave step by step and a
    linear layer predicts the next value."""
    nn = lib.nn

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTMCell(1, hidden)
            self.linear = nn.Linear(hidden, 1)

        def forward(self, input):
            h = lib.zeros(input.size(0), hidden, dtype=lib.double)
            c = lib.zeros(input.size(0), hidden, dtype=lib.double)
            outputs = []
            for input_t in input.split(1, dim=1):
                h, c = self.lstm(input_t, (h, c))
                outputs += [self.linear(h)]
            return lib.cat(outputs, dim=1)

    return Sequence().double()


def test_time_sequence_prediction_pattern():
    t = np.arange(12)[None, :] + np.arange(6)[:, None] * 3
    data = np.sin(t / 4.0)
    torch.manual_seed(0)
    t_model = _sine_model(torch)
    g_model = _sine_model(gn)
    g_model.load_state_dict({k: gn.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    results = []
    for lib, model in ((gn, g_model), (torch, t_model)):
        x, y = lib.tensor(data[:, :-1]), lib.tensor(data[:, 1:])
        criterion = lib.nn.MSELoss()
        opt = (optim if lib is gn else torch.optim).LBFGS(model.parameters(), lr=0.8)
        losses = []

        def closure():
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss

        for _ in range(3):
            losses.append(float(opt.step(closure)))
        results.append(losses)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    assert results[0][-1] < 0.2 * results[0][0]


def test_state_dict_round_trip_and_scheduler():
    ref = make_params(gn, (W1, W2), np.float64)
    ref_losses = _fit(gn, ref, optim.LBFGS(ref, max_iter=4), 4, np.float64)
    first = make_params(gn, (W1, W2), np.float64)
    opt = optim.LBFGS(first, max_iter=4)
    _fit(gn, first, opt, 2, np.float64)
    saved = opt.state_dict()
    second = [gn.tensor(p.array.copy(), requires_grad=True) for p in first]
    resumed = optim.LBFGS(second, max_iter=4)
    resumed.load_state_dict(saved)
    losses = _fit(gn, second, resumed, 2, np.float64)
    np.testing.assert_allclose(losses, ref_losses[2:], rtol=1e-12)
    sched = optim.lr_scheduler.StepLR(resumed, step_size=1, gamma=0.5)
    sched.step()
    assert resumed.param_groups[0]["lr"] == 0.5


def test_errors():
    p = [gn.zeros(3, requires_grad=True)]
    with pytest.raises(ValueError, match="only line_search_fn='strong_wolfe'"):
        optim.LBFGS(p, line_search_fn="backtracking")
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": p}, {"params": [gn.zeros(2, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="LBFGS.step needs a closure"):
        optim.LBFGS(p).step()
