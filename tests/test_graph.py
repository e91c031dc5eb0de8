"""GCNConv and GATConv against dense PyTorch computations of the same formulas (values and gradients of
the input and every parameter), float64 gradchecks, the options (edge weights, improved, cached, no
normalisation, averaged heads, attention weights) and bad input."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.nn import GATConv, GCNConv
from real_data import real_data_dir


def _graph(rng, n=7, e=16):
    """A random directed graph without self-loops, with one isolated node (n - 1)."""
    src, dst = rng.integers(0, n - 1, e), rng.integers(0, n - 1, e)
    keep = src != dst
    return np.stack([src[keep], dst[keep]])


def _dense_gcn_matrix(edges, n, weights=None, loop_weight=1.0):
    a = torch.zeros(n, n, dtype=torch.float64)
    w = torch.ones(edges.shape[1], dtype=torch.float64) if weights is None else torch.tensor(weights)
    a.index_put_((torch.tensor(edges[1]), torch.tensor(edges[0])), w, accumulate=True)  # row = target
    a = a + loop_weight * torch.eye(n, dtype=torch.float64)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def _backward_both(out_g, out_t, rng):
    w = rng.standard_normal(out_t.shape)
    (out_g * gn.tensor(w.astype(out_g.dtype))).sum().backward()
    (out_t * torch.tensor(w, dtype=out_t.dtype)).sum().backward()


def _torch_params(module):
    return {k: torch.tensor(v.array.astype(np.float64), requires_grad=True) for k, v in module.named_parameters()}


@pytest.mark.parametrize("improved, use_weights", [(False, False), (True, False), (False, True)])
def test_gcn_matches_a_dense_torch_computation(improved, use_weights):
    rng = np.random.default_rng(0)
    edges, n = _graph(rng), 7
    weights = rng.uniform(0.5, 2.0, edges.shape[1]) if use_weights else None
    conv = GCNConv(5, 3, improved=improved)
    x0 = rng.standard_normal((n, 5)).astype(np.float32)
    x = gn.tensor(x0, requires_grad=True)
    out = conv(x, gn.tensor(edges), None if weights is None else gn.tensor(weights.astype(np.float32)))
    p = _torch_params(conv)
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    out_t = _dense_gcn_matrix(edges, n, weights, 2.0 if improved else 1.0) @ (xt @ p["lin.weight"].T) + p["bias"]
    np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    _backward_both(out, out_t, rng)
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    for name, param in conv.named_parameters():
        np.testing.assert_allclose(param.grad.array, p[name].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def _dense_gat(edges, n, x, p, heads, channels, concat, slope=0.2):
    h = (x @ p["lin.weight"].T).reshape(n, heads, channels)
    s_src, s_dst = (h * p["att_src"]).sum(-1), (h * p["att_dst"]).sum(-1)  # (N, H)
    mask = torch.zeros(n, n, dtype=torch.bool)
    mask[edges[1], edges[0]] = True
    mask |= torch.eye(n, dtype=torch.bool)
    e = torch.nn.functional.leaky_relu(s_dst.T[:, :, None] + s_src.T[:, None, :], slope)  # (H, target, source)
    alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=-1)
    out = torch.einsum("hij,jhc->ihc", alpha, h)
    return (out.reshape(n, heads * channels) if concat else out.mean(1)) + p["bias"]


@pytest.mark.parametrize("heads, concat", [(1, True), (3, True), (2, False)])
def test_gat_matches_a_dense_torch_computation(heads, concat):
    rng = np.random.default_rng(1)
    edges, n = np.unique(_graph(rng), axis=1), 7  # the dense reference holds one score per pair
    conv = GATConv(5, 4, heads=heads, concat=concat)
    gn.nn.init.normal_(conv.bias)
    x0 = rng.standard_normal((n, 5)).astype(np.float32)
    x = gn.tensor(x0, requires_grad=True)
    out = conv(x, edges)
    p = _torch_params(conv)
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    out_t = _dense_gat(edges, n, xt, p, heads, 4, concat)
    np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    _backward_both(out, out_t, rng)
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    for name, param in conv.named_parameters():
        assert np.abs(param.grad.array).sum() > 0, f"{name} got no gradient"
        np.testing.assert_allclose(param.grad.array, p[name].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("layer", [lambda: GCNConv(3, 2), lambda: GATConv(3, 2, heads=2),
                                   lambda: GATConv(3, 2, heads=2, concat=False)])
def test_gradcheck_float64(layer):
    rng = np.random.default_rng(2)
    conv = layer().double()
    edges = _graph(rng, 5, 9)
    x = gn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    params = [p for _, p in conv.named_parameters()]  # perturbed in place by gradcheck
    gn.autograd.gradcheck(lambda x, *ps: conv(x, edges), [x] + params)


def test_gat_attention_weights_sum_to_one_per_target_and_dropout_only_in_training():
    rng = np.random.default_rng(3)
    conv = GATConv(4, 2, heads=3, dropout=0.5)
    x, edges = gn.randn(6, 4), _graph(rng, 6, 10)
    conv.eval()
    out, (edges_with_loops, alpha) = conv(x, edges, return_attention_weights=True)
    sums = np.zeros((6, 3))
    np.add.at(sums, edges_with_loops.array[1], alpha.array)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-6)
    np.testing.assert_allclose(conv(x, edges).array, out.array)
    conv.train()
    assert not np.allclose(conv(x, edges).array, out.array)


def test_gcn_options():
    rng = np.random.default_rng(4)
    edges = _graph(rng)
    x = gn.randn(7, 3)
    plain = GCNConv(3, 2, normalize=False, bias=False)
    expected = np.zeros((7, 2), np.float32)
    h = x.array @ plain.lin.weight.array.T
    np.add.at(expected, edges[1], h[edges[0]])
    np.testing.assert_allclose(plain(x, edges).array, expected, rtol=1e-5, atol=1e-6)
    cached = GCNConv(3, 2, cached=True)
    first = cached(x, edges).array
    np.testing.assert_allclose(cached(x, edges[:, :2]).array, first)  # the first graph is kept
    assert list(GCNConv(3, 2).state_dict()) == ["bias", "lin.weight"]
    assert list(GATConv(3, 2).state_dict()) == ["att_src", "att_dst", "bias", "lin.weight"]


@pytest.mark.parametrize("call, match", [
    (lambda: GCNConv(3, 2)(gn.randn(4, 3), np.array([0, 1])), r"shape \(2, num_edges\)"),
    (lambda: GCNConv(3, 2)(gn.randn(4, 3), np.array([[0, 4], [1, 1]])), "node 4, but x has 4 nodes"),
    (lambda: GATConv(3, 2)(gn.randn(4, 3), np.array([[0, -1], [1, 1]])), "node -1"),
    (lambda: GCNConv(3, 2)(gn.randn(4, 2), np.array([[0], [1]])), r"in_channels=3\), got \(4, 2\)"),
    (lambda: GATConv(3, 2)(gn.randn(3), np.array([[0], [1]])), "num_nodes, in_channels"),
    (lambda: GCNConv(3, 2)(gn.randn(4, 3), np.array([[0], [1]]), gn.ones(2)), r"edge_weight must have shape \(1,\)"),
    (lambda: GCNConv(3, 2)(gn.randn(4, 3), np.array([[0], [1]]), gn.ones(1, requires_grad=True)), "constants"),
    (lambda: GCNConv(3, 2)(gn.randn(4, 3), np.array([[0.0], [1.0]])), "integers"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, IndexError), match=match):
        call()


# ---- the Cora data set ------------------------------------------------------------------------------

def test_cora_loads_the_standard_split():
    from glassnet.datasets import Cora

    real_data_dir("cora", "cora.npz")
    cora = Cora(normalize_features=True)
    assert cora.x.shape == (2708, 1433) and cora.x.dtype == np.float32 and cora.edge_index.shape == (2, 10556)
    np.testing.assert_allclose(cora.x.array.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np.bincount(cora.y.array[cora.train_idx.array]), [20] * 7)
    splits = [set(cora.train_idx.tolist()), set(cora.val_idx.tolist()), set(cora.test_idx.tolist())]
    assert [len(s) for s in splits] == [140, 500, 1000] and not (splits[0] & splits[2]) and not (splits[1] & splits[2])


def test_cora_refuses_a_damaged_copy_and_says_where_it_looked(tmp_path, monkeypatch):
    from glassnet.datasets import ChecksumError, Cora

    raw = bytearray((real_data_dir("cora", "cora.npz") / "cora" / "cora.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "cora").mkdir()
    (tmp_path / "cora" / "cora.npz").write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="SHA-256"):
        Cora(root=tmp_path)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="(?s)could not find cora.npz.*GLASSNET_DATA"):
        Cora()


# ---- the recipes, briefly ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, epochs, threshold", [("gcn-cora", 60, 0.75), ("gat-cora", 40, 0.70)])
def test_a_short_cora_training_classifies_most_test_papers(name, epochs, threshold, tmp_path):
    """An untrained network is right on about 1 paper in 7; a few dozen epochs reach most of the way."""
    from glassnet.recipes import get

    real_data_dir("cora", "cora.npz")
    recipe = get(name)
    summary = recipe.run(recipe.config(epochs=epochs, pictures=(name == "gcn-cora")), tmp_path / "run")
    assert summary["status"] == "finished" and summary["test_nodes"] == 1000
    assert summary["test_accuracy"] > threshold, summary["test_accuracy"]
    if name == "gcn-cora":
        assert (tmp_path / "run" / "plots" / "node_embeddings.png").stat().st_size > 10000
