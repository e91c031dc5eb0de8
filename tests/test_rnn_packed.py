"""Variable-length sequences: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence and the
recurrent layers on a PackedSequence, against PyTorch (values, final states at each sequence's last step,
gradients)."""
import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import glassnet as gn
from glassnet.nn.utils import rnn

LENGTHS = [3, 5, 1, 5, 2]


def _sequences(rng, feature=3, lengths=LENGTHS):
    return [rng.standard_normal((n, feature)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    seqs = _sequences(np.random.default_rng(0))
    g = [gn.tensor(s, requires_grad=True) for s in seqs]
    t = [torch.tensor(s, requires_grad=True) for s in seqs]
    ours = rnn.pad_sequence(g, batch_first, -1.0, padding_side)
    theirs = trnn.pad_sequence(t, batch_first, -1.0, padding_side)
    np.testing.assert_array_equal(ours.array, theirs.detach().numpy())
    w = np.random.default_rng(1).standard_normal(ours.shape).astype(np.float32)
    (ours * gn.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_array_equal(a.grad.array, b.grad.numpy())


@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_unpack(enforce_sorted, batch_first):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    seqs = _sequences(np.random.default_rng(0), lengths=lengths)
    g_pad = rnn.pad_sequence([gn.tensor(s) for s in seqs], batch_first).requires_grad_()
    t_pad = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first).requires_grad_()
    ours = rnn.pack_padded_sequence(g_pad, lengths, batch_first, enforce_sorted)
    theirs = trnn.pack_padded_sequence(t_pad, torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.array, theirs.data.detach().numpy())
    np.testing.assert_array_equal(ours.batch_sizes.array, theirs.batch_sizes.numpy())
    for a, b in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None) and (a is None or np.array_equal(a.array, b.numpy()))
    g_back, g_len = rnn.pad_packed_sequence(ours, batch_first, padding_value=0.5, total_length=7)
    t_back, t_len = trnn.pad_packed_sequence(theirs, batch_first, padding_value=0.5, total_length=7)
    np.testing.assert_array_equal(g_back.array, t_back.detach().numpy())
    np.testing.assert_array_equal(g_len.array, t_len.numpy())
    w = np.random.default_rng(1).standard_normal(g_back.shape).astype(np.float32)
    (g_back * gn.tensor(w)).sum().backward()
    (t_back * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(g_pad.grad.array, t_pad.grad.numpy())
    unpacked = rnn.unpack_sequence(rnn.pack_sequence([gn.tensor(s) for s in seqs], enforce_sorted))
    for a, s in zip(unpacked, seqs):
        np.testing.assert_array_equal(a.array, s)


LAYERS = [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2, batch_first=True)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("RNN", dict(num_layers=3, bias=False)),
]


@pytest.mark.parametrize("kind, kw", LAYERS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(LAYERS)])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_sequences(kind, kw, with_state):
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, **kw).double()
    ours = getattr(gn.nn, kind)(3, 4, **kw).double()
    ours.load_state_dict({k: gn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    seqs = [s.astype(np.float64) for s in _sequences(rng)]
    bf = kw.get("batch_first", False)
    g_in = rnn.pad_sequence([gn.tensor(s) for s in seqs], bf).requires_grad_()
    t_in = trnn.pad_sequence([torch.tensor(s) for s in seqs], bf).requires_grad_()
    g_packed = rnn.pack_padded_sequence(g_in, LENGTHS, bf, enforce_sorted=False)
    t_packed = trnn.pack_padded_sequence(t_in, torch.tensor(LENGTHS), bf, enforce_sorted=False)
    g_args, t_args = (g_packed,), (t_packed,)
    if with_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        h0 = rng.standard_normal((layers, len(LENGTHS), kw.get("proj_size") or 4))
        c0 = rng.standard_normal((layers, len(LENGTHS), 4))
        g_args += ((gn.tensor(h0), gn.tensor(c0)),) if kind == "LSTM" else (gn.tensor(h0),)
        t_args += ((torch.tensor(h0), torch.tensor(c0)),) if kind == "LSTM" else (torch.tensor(h0),)
    g_out, g_state = ours(*g_args)
    t_out, t_state = theirs(*t_args)
    assert isinstance(g_out, rnn.PackedSequence)
    np.testing.assert_array_equal(g_out.batch_sizes.array, t_out.batch_sizes.numpy())
    np.testing.assert_allclose(g_out.data.array, t_out.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_states = list(g_state) if kind == "LSTM" else [g_state]
    t_states = list(t_state) if kind == "LSTM" else [t_state]
    for a, b in zip(g_states, t_states):
        np.testing.assert_allclose(a.array, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_pad, _ = rnn.pad_packed_sequence(g_out, bf)
    t_pad, _ = trnn.pad_packed_sequence(t_out, bf)
    w = rng.standard_normal(t_pad.shape)
    loss_g = (g_pad * gn.tensor(w)).sum() + sum((s * s).sum() for s in g_states)
    loss_t = (t_pad * torch.tensor(w)).sum() + sum((s * s).sum() for s in t_states)
    loss_g.backward()
    loss_t.backward()
    np.testing.assert_allclose(g_in.grad.array, t_in.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.array, q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_errors():
    x = gn.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        rnn.pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3 sequences"):
        rnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="every length must be positive"):
        rnn.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match="a length of 5 exceeds the 4 steps"):
        rnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        rnn.pad_packed_sequence(rnn.pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(ValueError, match="sequence 1 has shape"):
        rnn.pad_sequence([gn.zeros(2, 3), gn.zeros(2, 4)])


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_second_derivative_through_packed_layers(kind):
    """A gradient penalty through a packed bidirectional layer: d/dW of |d loss / d input|^2, as in torch."""
    torch.manual_seed(1)
    theirs = getattr(torch.nn, kind)(3, 4, bidirectional=True).double()
    ours = getattr(gn.nn, kind)(3, 4, bidirectional=True).double()
    ours.load_state_dict({k: gn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    seqs = [s.astype(np.float64) for s in _sequences(np.random.default_rng(4))]
    results = []
    for lib, module, utils in ((gn, ours, rnn), (torch, theirs, trnn)):
        padded = utils.pad_sequence([lib.tensor(s) for s in seqs]).requires_grad_()
        out, _ = module(utils.pack_padded_sequence(padded, LENGTHS, enforce_sorted=False))
        loss = (out.data ** 2).sum()
        (g,) = lib.autograd.grad(loss, padded, create_graph=True)
        (g ** 2).sum().backward()
        results.append([p.grad for p in module.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.array, b.numpy(), rtol=1e-8, atol=1e-10)
