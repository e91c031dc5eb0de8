"""RNN, LSTM, GRU and their cells against PyTorch: outputs, final states, and the gradients of inputs,
initial states and every weight, over layer counts, directions, layouts, bias, projections, unbatched
input and sequence lengths; plus state-dict loading, dropout, truncated BPTT, float64 gradchecks and errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F
from helpers_nn import compare_module, copy_torch_to_gn, numpy_state

# torch's own notice when it runs an LSTM with projections without oneDNN
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


@pytest.fixture(autouse=True)
def _torch_single_thread():
    """torch's recurrent kernels run many tiny multi-threaded ops; on a busy 2-core machine the thread
    hand-offs cost seconds per test. One thread keeps the oracle fast; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _flat(out):
    """(output, (h_n, c_n)) -> (output, h_n, c_n): compare_module wants a flat tuple of tensors."""
    items = []
    for v in out if isinstance(out, (tuple, list)) else (out,):
        items.extend(_flat(v) if isinstance(v, (tuple, list)) else [v])
    return tuple(items)


def _wrapper(lib, module):
    """A module that calls `module(x, states...)` and flattens what it returns. LSTM and LSTMCell take their
    two states as one pair; the wrapper takes them as separate inputs so that both get gradients."""
    paired = isinstance(module, (lib.nn.LSTM, lib.nn.LSTMCell))

    class Wrap(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = module

        def forward(self, x, *states):
            if paired and states:
                states = (tuple(states),)
            return _flat(self.m(x, *states))

    return Wrap()


def _compare(name, kwargs, seq, batch, in_size=4, hidden=5, with_state=False, unbatched=False, **tol):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(in_size, hidden, **kwargs)
    g_mod = getattr(gn.nn, name)(in_size, hidden, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if unbatched:
        inputs = [(seq, in_size)]
    else:
        inputs = [(batch, seq, in_size) if kwargs.get("batch_first") else (seq, batch, in_size)]
    if with_state:
        lead = (layers,) if unbatched else (layers, batch)
        inputs.append(lead + (kwargs.get("proj_size") or hidden,))
        if name == "LSTM":
            inputs.append(lead + (hidden,))
    return compare_module(_wrapper(gn, g_mod), _wrapper(torch, t_mod), inputs, **tol)


CONFIGS = [  # (kwargs, seq, batch, with_state, unbatched)
    ({}, 5, 3, False, False),
    ({}, 1, 2, True, False),
    ({"num_layers": 2}, 7, 3, True, False),
    ({"num_layers": 3, "bidirectional": True}, 5, 2, True, False),
    ({"bidirectional": True}, 1, 3, False, False),
    ({"batch_first": True}, 9, 4, True, False),
    ({"bias": False, "num_layers": 2, "batch_first": True, "bidirectional": True}, 3, 2, True, False),
    ({}, 6, None, False, True),
    ({"num_layers": 2, "bidirectional": True}, 5, None, True, True),
]
PROJ_CONFIGS = [
    ({"proj_size": 3}, 5, 3, True, False),
    ({"proj_size": 2, "num_layers": 2, "bidirectional": True}, 7, 2, True, False),
    ({"proj_size": 3, "bias": False, "batch_first": True}, 1, 3, False, False),
    ({"proj_size": 4, "bidirectional": True}, 5, None, True, True),
]


def _id(cfg):
    kwargs, seq, batch, state, unbatched = cfg
    parts = [f"{k}={v}" for k, v in kwargs.items()] + [f"T{seq}", "unbatched" if unbatched else f"B{batch}"]
    return "-".join(parts + (["h0"] if state else []))


@pytest.mark.parametrize("cfg", CONFIGS + PROJ_CONFIGS, ids=_id)
def test_lstm_against_torch(cfg):
    kwargs, seq, batch, state, unbatched = cfg
    _compare("LSTM", kwargs, seq, batch, with_state=state, unbatched=unbatched)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_gru_against_torch(cfg):
    kwargs, seq, batch, state, unbatched = cfg
    _compare("GRU", kwargs, seq, batch, with_state=state, unbatched=unbatched)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_rnn_against_torch(cfg, nonlinearity):
    kwargs, seq, batch, state, unbatched = cfg
    _compare("RNN", dict(kwargs, nonlinearity=nonlinearity), seq, batch, with_state=state, unbatched=unbatched)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_float64_and_longer_sequence(name):
    torch.manual_seed(1)
    t_mod = getattr(torch.nn, name)(3, 6, num_layers=2, bidirectional=True)
    g_mod = getattr(gn.nn, name)(3, 6, num_layers=2, bidirectional=True)
    compare_module(_wrapper(gn, g_mod), _wrapper(torch, t_mod), [(31, 2, 3)], dtype=np.float64,
                   rtol=1e-10, atol=1e-12, grad_rtol=1e-9, grad_atol=1e-11)


# ---- cells -------------------------------------------------------------------------------------

CELL_CASES = [  # (name, kwargs, batch or None for unbatched, with_state)
    ("RNNCell", {}, 3, True),
    ("RNNCell", {"nonlinearity": "relu"}, 3, True),
    ("RNNCell", {"bias": False}, None, True),
    ("RNNCell", {}, 2, False),
    ("LSTMCell", {}, 3, True),
    ("LSTMCell", {"bias": False}, 2, True),
    ("LSTMCell", {}, None, True),
    ("LSTMCell", {}, 4, False),
    ("GRUCell", {}, 3, True),
    ("GRUCell", {"bias": False}, 3, True),
    ("GRUCell", {}, None, True),
    ("GRUCell", {}, None, False),
]


@pytest.mark.parametrize("name,kwargs,batch,state", CELL_CASES,
                         ids=[f"{c[0]}-{c[1]}-{'unbatched' if c[2] is None else c[2]}-{c[3]}" for c in CELL_CASES])
def test_cell_against_torch(name, kwargs, batch, state):
    torch.manual_seed(2)
    t_mod = getattr(torch.nn, name)(4, 5, **kwargs)
    g_mod = getattr(gn.nn, name)(4, 5, **kwargs)
    lead = () if batch is None else (batch,)
    inputs = [lead + (4,)]
    if state:
        inputs += [lead + (5,)] * (2 if name == "LSTMCell" else 1)
    compare_module(_wrapper(gn, g_mod), _wrapper(torch, t_mod), inputs)


def test_cell_loop_matches_sequence_layer():
    """Unrolling LSTMCell by hand gives the LSTM layer's outputs and gradients."""
    torch.manual_seed(3)
    seq = gn.nn.LSTM(3, 4)
    cell = gn.nn.LSTMCell(3, 4)
    copy_torch_to_gn(torch.nn.LSTM(3, 4), seq)
    cell.load_state_dict({k[:-3]: v for k, v in seq.state_dict().items()})  # weight_ih_l0 -> weight_ih
    x = gn.randn(6, 2, 3, requires_grad=True)
    out, (h, c) = seq(x)
    hc = None
    steps = []
    for t in range(6):
        hc = cell(x[t], hc)
        steps.append(hc[0])
    np.testing.assert_allclose(gn.stack(steps).array, out.array, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hc[1].array, c.array[0], rtol=1e-5, atol=1e-6)
    out.sum().backward()
    g_seq = x.grad.array.copy()
    x.grad = None
    sum(s.sum() for s in steps).backward()
    np.testing.assert_allclose(x.grad.array, g_seq, rtol=1e-4, atol=1e-6)


# ---- state dicts, parameters, repr --------------------------------------------------------------

def test_torch_lstm_state_dict_loads_and_gives_equal_outputs():
    torch.manual_seed(4)
    t_mod = torch.nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=3)
    g_mod = gn.nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=3)
    state = {k: v.numpy() for k, v in t_mod.state_dict().items()}
    assert list(g_mod.state_dict()) == list(state)
    g_mod.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype(np.float32)
    g_out, (g_h, g_c) = g_mod(gn.tensor(x))
    with torch.no_grad():
        t_out, (t_h, t_c) = t_mod(torch.from_numpy(x))
    for g, t in ((g_out, t_out), (g_h, t_h), (g_c, t_c)):
        np.testing.assert_allclose(g.array, t.numpy(), rtol=1e-5, atol=1e-6)
    # and back: glassnet weights into a fresh torch module
    t2 = torch.nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=3)
    t2.load_state_dict({k: torch.from_numpy(v) for k, v in numpy_state(g_mod).items()})
    np.testing.assert_allclose(t2(torch.from_numpy(x))[0].detach().numpy(), g_out.array, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("GRU", {"num_layers": 3, "bias": False, "batch_first": True, "dropout": 0.25}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
    ("RNNCell", {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", {}),
    ("GRUCell", {"bias": False}),
])
def test_parameters_init_and_repr_match_torch(name, kwargs):
    t_mod = getattr(torch.nn, name)(4, 7, **kwargs)
    g_mod = getattr(gn.nn, name)(4, 7, **kwargs)
    t_params = [(k, tuple(v.shape)) for k, v in t_mod.named_parameters()]
    assert [(k, v.shape) for k, v in g_mod.named_parameters()] == t_params
    assert repr(g_mod) == repr(t_mod)
    bound = 1 / np.sqrt(7)
    for p in g_mod.parameters():
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.array).max() <= bound
    everything = np.concatenate([p.array.ravel() for p in g_mod.parameters()])
    assert np.abs(everything).max() > 0.9 * bound  # uniform over the whole range, not a narrower one


def test_rnn_positional_nonlinearity_and_all_weights():
    g = gn.nn.RNN(3, 4, 2, "relu")
    assert g.nonlinearity == "relu" and g.num_layers == 2 and g.mode == "RNN_RELU"
    assert [len(w) for w in g.all_weights] == [4, 4]
    g.flatten_parameters()  # a no-op kept for compatibility


# ---- dropout, truncated BPTT, higher order --------------------------------------------------------

def test_dropout_between_layers_only_in_training():
    torch.manual_seed(5)
    t_mod = torch.nn.LSTM(4, 8, num_layers=3, dropout=0.5)
    g_mod = gn.nn.LSTM(4, 8, num_layers=3, dropout=0.5)
    copy_torch_to_gn(t_mod, g_mod)
    x = np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32)
    gx = gn.tensor(x)
    gn.manual_seed(0)
    train1 = g_mod(gx)[0]
    train2 = g_mod(gx)[0]
    assert train1.shape == (6, 3, 8)
    assert not np.allclose(train1.array, train2.array)  # a fresh mask each call
    g_mod.eval()
    t_mod.eval()
    eval_out, (h, c) = g_mod(gx)
    assert h.shape == c.shape == (3, 3, 8)
    np.testing.assert_allclose(eval_out.array, t_mod(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(train1.array, eval_out.array)
    np.testing.assert_array_equal(g_mod(gx)[0].array, eval_out.array)  # eval is deterministic


def test_dropout_with_one_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        g_mod = gn.nn.GRU(3, 4, dropout=0.5)
    x = gn.randn(5, 2, 3)
    train = g_mod(x)[0]
    g_mod.eval()
    np.testing.assert_array_equal(train.array, g_mod(x)[0].array)


def test_truncated_bptt_with_detached_states():
    gn.manual_seed(6)
    model = gn.nn.LSTM(3, 4, num_layers=2)
    x1 = gn.randn(5, 2, 3, requires_grad=True)
    x2 = gn.randn(5, 2, 3, requires_grad=True)
    _, (h, c) = model(x1)
    out, _ = model(x2, (h.detach(), c.detach()))
    out.sum().backward()
    assert x1.grad is None  # nothing flows past the detached state
    assert x2.grad is not None
    grads_truncated = [p.grad.array.copy() for p in model.parameters()]

    # the same as starting the second chunk from constant states with those values
    model.zero_grad()
    out2, _ = model(x2, (gn.tensor(h.array.copy()), gn.tensor(c.array.copy())))
    out2.sum().backward()
    for a, p in zip(grads_truncated, model.parameters()):
        np.testing.assert_allclose(a, p.grad.array, rtol=1e-6, atol=1e-7)

    # without detaching, the gradient reaches the first chunk
    model.zero_grad()
    _, (h, c) = model(x1)
    model(x2, (h, c))[0].sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.array).sum() > 0


def test_initial_state_gradients_flow_through_all_layers():
    model = gn.nn.GRU(2, 3, num_layers=2, bidirectional=True)
    h0 = gn.randn(4, 1, 3, requires_grad=True)
    out, _ = model(gn.randn(4, 1, 2), h0)
    out.sum().backward()
    assert np.all(np.abs(h0.grad.array).sum(axis=(1, 2)) > 0)


# ---- float64 gradchecks of the fused BPTT -------------------------------------------------------

def _params(rng, gates, in_size, hidden, layers, dirs, bias=True, proj=0):
    out = []
    real = proj or hidden
    for layer in range(layers):
        for _ in range(dirs):
            i = in_size if layer == 0 else real * dirs
            shapes = [(gates * hidden, i), (gates * hidden, real)]
            shapes += [(gates * hidden,)] * (2 if bias else 0)
            shapes += [(proj, hidden)] if proj else []
            out += [gn.tensor(rng.uniform(-0.6, 0.6, s), requires_grad=True) for s in shapes]
    return out


@pytest.mark.parametrize("mode", ["LSTM", "LSTM-proj", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradcheck_float64(mode, bidirectional):
    """seq 3, batch 2, hidden 3, 2 layers: d(outputs, h_n[, c_n]) / d(input, h0[, c0], every weight)."""
    rng = np.random.default_rng(7)
    dirs = 2 if bidirectional else 1
    proj = 2 if mode == "LSTM-proj" else 0
    gates = {"GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}.get(mode, 4)
    x = gn.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = gn.tensor(rng.standard_normal((2 * dirs, 2, proj or 3)) * 0.5, requires_grad=True)
    c0 = gn.tensor(rng.standard_normal((2 * dirs, 2, 3)) * 0.5, requires_grad=True)
    params = _params(rng, gates, 2, 3, 2, dirs, bias=mode != "GRU" or not bidirectional, proj=proj)
    has_bias = len(params) // (2 * dirs) in (4, 5)
    fn = {"GRU": F.gru, "RNN_TANH": F.rnn_tanh, "RNN_RELU": F.rnn_relu}.get(mode)
    if fn is None:
        def run(x, h0, c0, *p):
            return F.lstm(x, (h0, c0), p, has_bias, 2, 0.0, False, bidirectional, False)
        args = [x, h0, c0] + params
    else:
        def run(x, h0, *p):
            return fn(x, h0, p, has_bias, 2, 0.0, False, bidirectional, False)
        args = [x, h0] + params
    assert gn.autograd.gradcheck(run, args)


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_cell_gradcheck_float64(name):
    rng = np.random.default_rng(8)
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    x = gn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = gn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = gn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = [gn.tensor(rng.uniform(-0.7, 0.7, s), requires_grad=True) for s in [(3 * gates, 3), (3 * gates, 3),
                                                                              (3 * gates,), (3 * gates,)]]
    fn = getattr(F, name)
    if name == "lstm_cell":
        assert gn.autograd.gradcheck(lambda x, h, c, *w: fn(x, (h, c), *w), [x, h, c] + w)
    else:
        assert gn.autograd.gradcheck(lambda x, h, *w: fn(x, h, *w), [x, h] + w)


# ---- errors -------------------------------------------------------------------------------------

def test_bad_arguments_give_clear_errors():
    lstm = gn.nn.LSTM(4, 5, num_layers=2)
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(gn.randn(2, 3, 4, 1))
    with pytest.raises(RuntimeError, match="input_size. Expected 4, got 3"):
        lstm(gn.randn(6, 2, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden state size \(2, 2, 5\), got \(1, 2, 5\)"):
        lstm(gn.randn(6, 2, 4), (gn.zeros(1, 2, 5), gn.zeros(2, 2, 5)))
    with pytest.raises(RuntimeError, match=r"Expected cell state size \(2, 2, 5\)"):
        lstm(gn.randn(6, 2, 4), (gn.zeros(2, 2, 5), gn.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match="unbatched 2-D input.*2-D"):
        gn.nn.GRU(4, 5)(gn.randn(6, 4), gn.zeros(1, 1, 5))
    with pytest.raises(TypeError, match="dtype"):
        gn.nn.RNN(4, 5)(gn.randn(6, 2, 4).double())
    with pytest.raises(ValueError, match="nonlinearity"):
        gn.nn.RNN(4, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        gn.nn.RNNCell(4, 5, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size.*only supported for LSTM"):
        gn.nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="proj_size 5 has to be smaller than hidden_size 5"):
        gn.nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="dropout"):
        gn.nn.LSTM(4, 5, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        gn.nn.LSTM(4, 0)
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 3, expected 4"):
        gn.nn.LSTMCell(4, 5)(gn.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"hx has shape \(3, 5\), expected \(2, 5\)"):
        gn.nn.GRUCell(4, 5)(gn.randn(2, 4), gn.zeros(3, 5))
    with pytest.raises(ValueError, match="1D or 2D"):
        gn.nn.RNNCell(4, 5)(gn.randn(1, 2, 4))
    with pytest.raises(ValueError, match=r"lstm: hidden state h has shape"):
        F.lstm(gn.randn(3, 2, 4), (gn.zeros(1, 2, 6), gn.zeros(1, 2, 5)), list(gn.nn.LSTM(4, 5).parameters()),
               True, 1, 0.0, False, False, False)
