"""Embedding: the functional lookup and nn.Embedding against PyTorch (values, gradients with repeated
indices, padding_idx, max_norm, scale_grad_by_freq), from_pretrained, errors, second-order gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from helpers_nn import compare_module
from parity import Case, Const, run_case


def _ids(shape, n, dtype=np.int64):
    return Const(lambda rng: rng.integers(0, n, size=shape).astype(dtype))


def _with_repeats(shape, n):
    """Indices from a small range, so that most rows are hit several times, and index 0 at least twice."""

    def make(rng):
        t = rng.integers(0, n, size=shape)
        t.flat[:2] = 0
        return t

    return Const(make)


# gradcheck=False where the gradient is by design not the true derivative (padding row, freq scaling)
CASES = [
    Case("embedding_1d", lambda w, i: F.embedding(i, w), [(10, 4), _ids((6,), 10)],
         torch_fn=lambda w, i: TF.embedding(i, w)),
    Case("embedding_2d_repeats", lambda w, i: F.embedding(i, w), [(5, 3), _with_repeats((4, 7), 5)],
         torch_fn=lambda w, i: TF.embedding(i, w)),
    Case("embedding_scalar_index", lambda w, i: F.embedding(i, w), [(6, 3), Const(lambda rng: np.array(4))],
         torch_fn=lambda w, i: TF.embedding(i, w)),
    Case("embedding_empty", lambda w, i: F.embedding(i, w), [(6, 3), Const(lambda rng: np.zeros((0, 2), np.int64))],
         torch_fn=lambda w, i: TF.embedding(i, w), gradcheck=False),
    Case("embedding_padding", lambda w, i: F.embedding(i, w, padding_idx=2), [(5, 3), _with_repeats((3, 8), 5)],
         torch_fn=lambda w, i: TF.embedding(i, w, padding_idx=2), gradcheck=False),  # padding row: zero grad by design
    Case("embedding_padding_negative", lambda w, i: F.embedding(i, w, padding_idx=-1), [(5, 3), _ids((20,), 5)],
         torch_fn=lambda w, i: TF.embedding(i, w, padding_idx=-1), gradcheck=False),
    Case("embedding_scale_grad_by_freq", lambda w, i: F.embedding(i, w, scale_grad_by_freq=True),
         [(4, 3), _with_repeats((2, 9), 4)], torch_fn=lambda w, i: TF.embedding(i, w, scale_grad_by_freq=True),
         gradcheck=False),
    Case("embedding_scale_and_padding", lambda w, i: F.embedding(i, w, padding_idx=0, scale_grad_by_freq=True),
         [(4, 3), _with_repeats((12,), 4)],
         torch_fn=lambda w, i: TF.embedding(i, w, padding_idx=0, scale_grad_by_freq=True), gradcheck=False),
    Case("embedding_int32_ids", lambda w, i: F.embedding(i, w), [(7, 2), _ids((3, 3), 7, np.int32)],
         torch_fn=lambda w, i: TF.embedding(i, w)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_repeated_indices_accumulate_exactly():
    w = gn.zeros(4, 2, requires_grad=True)
    idx = gn.tensor([[1, 1, 3], [1, 0, 3]])
    F.embedding(idx, w).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [[1, 1], [3, 3], [0, 0], [2, 2]])


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -2}, {"scale_grad_by_freq": True},
                                    {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_module_against_torch(kwargs):
    t = torch.nn.Embedding(9, 5, **kwargs)
    g = gn.nn.Embedding(9, 5, **kwargs)
    idx = np.random.default_rng(1).integers(0, 9, (4, 6))
    idx[0, :3] = [1, 1, 7]  # repeats, and the (normalised) padding index
    compare_module(g, t, [idx])


def test_max_norm_renormalises_used_rows_in_place():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], np.float32)
    g, t = gn.tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    out_g = F.embedding(gn.tensor([0, 1]), g, max_norm=1.0)
    out_t = TF.embedding(torch.tensor([0, 1]), t, max_norm=1.0)
    np.testing.assert_allclose(out_g.array, out_t.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(g.array, t.detach().numpy(), rtol=1e-6)
    assert np.allclose(g.array[2], [6.0, 8.0])  # unused row untouched


def test_padding_row_initialised_to_zero_and_init_stats():
    gn.manual_seed(0)
    emb = gn.nn.Embedding(400, 50, padding_idx=3)
    w = emb.weight.array
    assert w.shape == (400, 50) and w.dtype == np.float32
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02  # N(0, 1)
    assert emb.padding_idx == 3
    assert gn.nn.Embedding(10, 2, padding_idx=-1).padding_idx == 9


def test_padding_row_gets_no_gradient_and_stays_fixed():
    emb = gn.nn.Embedding(5, 3, padding_idx=0)
    opt = gn.optim.SGD(emb.parameters(), lr=0.5)
    idx = gn.tensor([[0, 1, 0], [2, 0, 4]])
    for _ in range(3):
        opt.zero_grad()
        (emb(idx) ** 2).sum().backward()
        assert np.all(emb.weight.grad.array[0] == 0)
        opt.step()
    assert np.all(emb.weight.array[0] == 0)


def test_state_dict_and_repr_match_torch():
    t = torch.nn.Embedding(7, 3, padding_idx=2, max_norm=2.0)
    g = gn.nn.Embedding(7, 3, padding_idx=2, max_norm=2.0)
    assert list(g.state_dict()) == list(t.state_dict()) == ["weight"]
    assert repr(g) == repr(t)
    assert repr(gn.nn.Embedding(4, 2)) == repr(torch.nn.Embedding(4, 2))


def test_from_pretrained():
    table = gn.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    emb = gn.nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    assert emb.num_embeddings == 4 and emb.embedding_dim == 3
    np.testing.assert_array_equal(emb(gn.tensor([3, 0])).array, [[9, 10, 11], [0, 1, 2]])
    assert np.shares_memory(emb.weight.array, table.array)  # like torch: the given tensor is the table

    trainable = gn.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    np.testing.assert_array_equal(trainable.weight.array[1], [3, 4, 5])  # a given table is not re-initialised
    trainable(gn.tensor([1, 2, 2])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.array, [[0] * 3, [0] * 3, [2] * 3, [0] * 3])

    with pytest.raises(ValueError, match="2-D"):
        gn.nn.Embedding.from_pretrained(gn.zeros(3))


def test_frozen_weight_gives_output_without_grad():
    emb = gn.nn.Embedding(3, 2, _weight=gn.ones(3, 2), _freeze=True)
    out = emb(gn.tensor([0, 2]))
    assert not out.requires_grad
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        gn.nn.Embedding(3, 2, _weight=gn.ones(2, 2))


def test_index_errors_name_embedding_index_and_size():
    emb = gn.nn.Embedding(65, 4)
    with pytest.raises(IndexError, match=r"Embedding.*index 70.*num_embeddings=65"):
        emb(gn.tensor([1, 70, 3]))
    with pytest.raises(IndexError, match=r"Embedding.*index -1.*num_embeddings=65"):
        emb(gn.tensor([[0, -1]]))
    with pytest.raises(TypeError, match="Embedding.*integer"):
        emb(gn.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        gn.nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(gn.tensor([0]), gn.zeros(3, 2), padding_idx=-4)
    with pytest.raises(ValueError, match="2-D"):
        F.embedding(gn.tensor([0]), gn.zeros(3))
    with pytest.raises(NotImplementedError, match="sparse"):
        gn.nn.Embedding(3, 2, sparse=True)


def test_second_order_gradient_matches_torch():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[0, 1, 1], [4, 0, 2]])
    wg, wt = gn.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    for lib, weight, index, f in ((gn, wg, gn.tensor(idx), F), (torch, wt, torch.from_numpy(idx), TF)):
        out = f.embedding(index, weight, padding_idx=1)
        y = (out ** 3).sum()
        (g,) = (gn.autograd.grad if lib is gn else torch.autograd.grad)(y, [weight], create_graph=True)
        (g * g).sum().backward()
    np.testing.assert_allclose(wg.grad.array, wt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_gradcheck_float64_with_repeats():
    rng = np.random.default_rng(3)
    w = gn.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    idx = gn.tensor([[0, 3, 3], [1, 0, 3]])
    assert gn.autograd.gradcheck(lambda w: F.embedding(idx, w) ** 2, [w])
