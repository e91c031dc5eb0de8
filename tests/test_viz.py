"""glassnet.viz: every picture renders headless to a non-empty image; the numbers behind them are right."""
import json
import os
import shutil
import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn, optim, viz
from glassnet.viz import graph as graph_module


def _png_ok(path, min_bytes=2000):
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(path) > min_bytes


def _mlp():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# ---- graph ----------------------------------------------------------------------------------------
def test_graph_of_a_times_b_sum_has_exactly_the_expected_nodes():
    a = gn.randn(2, 3, requires_grad=True)
    b = gn.randn(2, 3, requires_grad=True)
    loss = (a * b).sum()
    nodes = viz.graph_nodes(loss)
    assert [(n.kind, n.name, n.shape, n.inputs) for n in nodes] == [
        ("leaf", "leaf", (2, 3), []),
        ("leaf", "leaf", (2, 3), []),
        ("op", "Mul", (2, 3), [0, 1]),
        ("op", "Sum", (), [2]),
    ]
    assert nodes[0].tensor is a and nodes[1].tensor is b
    assert nodes[0].grad_norm is None
    loss.backward()
    assert nodes[0].grad_norm == pytest.approx(float(np.linalg.norm(b.array)), rel=1e-6)
    assert "|grad|" in nodes[0].label()


def test_graph_shared_input_constants_and_names():
    w = gn.randn(3, requires_grad=True)
    y = (w * 2 + w).exp()  # w used twice, one Python-scalar constant
    nodes = viz.graph_nodes(y, params={"w": w})
    kinds = [(n.kind, n.name) for n in nodes]
    assert kinds.count(("leaf", "w")) == 1 and ("const", "const") in kinds
    assert [n.name for n in nodes if n.kind == "op"] == ["Mul", "Add", "Exp"]
    add = next(n for n in nodes if n.name == "Add")
    leaf = next(n.index for n in nodes if n.kind == "leaf")
    assert leaf in add.inputs
    for n in nodes:  # inputs always come first
        assert all(i < n.index for i in n.inputs)


def test_graph_of_a_leaf_and_freed_graph_error():
    x = gn.randn(2, requires_grad=True)
    assert [n.kind for n in viz.graph_nodes(x)] == ["leaf"]
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        viz.graph_nodes(y)


def test_long_chain_is_not_recursive():
    x = gn.randn(2, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes = viz.graph_nodes(y)
    assert sum(n.kind == "op" for n in nodes) == 3000


def test_draw_graph_matplotlib_png_and_svg(tmp_path):
    model = _mlp()
    loss = F.cross_entropy(model(gn.randn(5, 4)), gn.tensor([0, 1, 2, 0, 1]))
    nodes = viz.graph_nodes(loss, dict(model.named_parameters()))
    loss.backward()
    fig = viz.draw_graph(nodes, tmp_path / "graph.png", engine="matplotlib")
    assert fig.axes
    _png_ok(tmp_path / "graph.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("Linear") for t in texts) and any("0.weight" in t and "|grad|" in t for t in texts)
    viz.draw_graph(nodes, tmp_path / "graph.svg", engine="matplotlib")
    assert "<svg" in (tmp_path / "graph.svg").read_text()[:500]


def test_dot_source_and_engine_choice(tmp_path, monkeypatch):
    a = gn.randn(2, requires_grad=True)
    src = viz.to_dot((a.exp() * a).sum())
    assert src.startswith("digraph") and src.count("->") == 4 and "Exp" in src and "Mul" in src
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="dot"):
        viz.draw_graph((a * a).sum(), engine="dot")
    fig = viz.draw_graph((a * a).sum())  # auto without dot: matplotlib
    assert fig.axes
    with pytest.raises(ValueError, match="engine"):
        viz.draw_graph((a * a).sum(), engine="tikz")


def test_draw_graph_through_a_dot_program(tmp_path, monkeypatch):
    """The Graphviz path: DOT source on stdin, -T<format> -o <file>; a stand-in `dot` checks the calls."""
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(f"""#!{sys.executable}
import sys
args = sys.argv[1:]
out, fmt = args[args.index("-o") + 1], [a for a in args if a.startswith("-T")][0][2:]
source = sys.stdin.read()
assert source.startswith("digraph") and "Mul" in source
if fmt == "png":
    import numpy as np
    import matplotlib.image as mpimg
    mpimg.imsave(out, np.zeros((20, 30, 3)))
else:
    open(out, "w").write("<svg>" + fmt + "</svg>")
""")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    a = gn.randn(2, requires_grad=True)
    fig = viz.draw_graph((a * a).sum(), tmp_path / "g.png")  # auto: dot is on PATH
    assert fig.axes[0].images[0].get_array().shape[:2] == (20, 30)
    _png_ok(tmp_path / "g.png", 50)
    viz.draw_graph((a * a).sum(), tmp_path / "g.svg", engine="dot")
    assert (tmp_path / "g.svg").read_text() == "<svg>svg</svg>"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_draw_graph_with_dot(tmp_path):
    a = gn.randn(2, requires_grad=True)
    viz.draw_graph((a * a).sum(), tmp_path / "g.png", engine="dot")
    _png_ok(tmp_path / "g.png", 500)


# ---- gradient flow --------------------------------------------------------------------------------
def test_gradient_monitor_numbers_are_the_parameter_gradient_norms(tmp_path):
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = viz.GradientMonitor(model)
    for step in range(3):
        before = {n: p.array.copy() for n, p in model.named_parameters()}
        opt.zero_grad()
        F.mse_loss(model(gn.randn(6, 4)), gn.randn(6, 3)).backward()
        opt.step()
        entry = monitor.record()
        assert entry["step"] == step
        for name, p in model.named_parameters():
            assert entry["grad_norm"][name] == pytest.approx(float(np.linalg.norm(p.grad.array)), rel=1e-6)
            expected = np.linalg.norm(p.array - before[name]) / np.linalg.norm(before[name])
            assert entry["update_ratio"][name] == pytest.approx(float(expected), rel=1e-5)
            # SGD: the update is lr * grad
            assert np.linalg.norm(p.array - before[name]) == pytest.approx(0.1 * entry["grad_norm"][name], rel=1e-4)
    assert monitor.names() == [n for n, _ in model.named_parameters()]
    steps, values = monitor.series("0.weight")
    assert steps.tolist() == [0, 1, 2] and len(values) == 3
    fig = viz.plot_gradient_flow(monitor, tmp_path / "flow.png")
    assert len(fig.axes) == 2
    _png_ok(tmp_path / "flow.png")
    viz.plot_gradient_flow(model, tmp_path / "snapshot.png")  # a module: one snapshot
    _png_ok(tmp_path / "snapshot.png")


def test_gradient_monitor_warns_on_vanishing_and_exploding():
    model = _mlp()
    monitor = viz.GradientMonitor(model)
    for p in model.parameters():
        p.grad = gn.zeros(*p.shape)
    with pytest.warns(RuntimeWarning, match=r"vanishing gradients.*< 1e-07.*0\.weight"):
        monitor.record()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitor.record()  # warned once per parameter: silent now
    for p in model.parameters():
        p.grad = gn.full(p.shape, 1e4)
    with pytest.warns(RuntimeWarning, match=r"exploding gradients.*> 1000"):
        monitor.record()


def test_gradient_flow_without_gradients_is_a_clear_error():
    with pytest.raises(ValueError, match="no parameter has a gradient"):
        viz.plot_gradient_flow(_mlp())


# ---- activations ----------------------------------------------------------------------------------
def test_activation_stats_and_dead_relus():
    y = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 3.0, 1.0, 0.0]])
    s = viz.activation_stats(y)
    assert s["dead_fraction"] == 0.25  # only unit 0 is zero for every example
    assert s["zero_fraction"] == 0.5
    assert s["mean"] == pytest.approx(y.mean()) and s["std"] == pytest.approx(y.std())
    assert s["hist"].sum() == y.size


def test_activation_monitor_records_each_layer(tmp_path):
    model = _mlp()
    x = gn.randn(10, 4)
    with viz.ActivationMonitor(model) as monitor:
        out = model(x)
        hidden = model[1](model[0](x)).array
        latest = monitor.latest()
        assert list(latest) == ["0", "1", "2"]
        assert latest["1"]["mean"] == pytest.approx(float(hidden.mean()), rel=1e-6)
        assert latest["1"]["dead_fraction"] == pytest.approx(float((hidden == 0).all(0).mean()))
        assert latest["2"]["shape"] == tuple(out.shape)
        assert "ReLU" in monitor.table()
        fig = viz.plot_activations(monitor, tmp_path / "act.png")
        assert len([a for a in fig.axes if a.has_data()]) == 3
    _png_ok(tmp_path / "act.png")
    n = len(monitor.stats["0"])
    model(x)  # hooks removed by the with block
    assert len(monitor.stats["0"]) == n
    only = viz.ActivationMonitor(model, modules=(nn.ReLU,))
    assert only.names == ["1"]
    with pytest.raises(KeyError, match="no module named"):
        viz.ActivationMonitor(model, modules=["nope"])


# ---- conv, sequences, curves ----------------------------------------------------------------------
class _TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.head = nn.Linear(6 * 8 * 8, 2)

    def forward(self, x):
        return self.head(self.conv(x).relu().flatten(1))


def test_feature_maps_and_filters(tmp_path):
    gn.manual_seed(0)
    model = _TinyCNN()
    x = gn.randn(2, 1, 8, 8)
    maps = viz.feature_maps(model, x, "conv")
    np.testing.assert_allclose(maps, model.conv(x).array, rtol=1e-6)
    assert model.training  # mode restored
    fig = viz.plot_feature_maps(model, x, model.conv, tmp_path / "fm.png")
    assert sum(a.has_data() for a in fig.axes) == 7  # the input and 6 channels
    _png_ok(tmp_path / "fm.png")
    viz.plot_conv_filters(model.conv, tmp_path / "filters.png")
    _png_ok(tmp_path / "filters.png", 1000)
    with pytest.raises(ValueError, match=r"expected \(N, C, H, W\)"):
        viz.feature_maps(model, x, "head")


def test_attention_and_hidden_states(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.random((2, 3, 4, 5))
    w /= w.sum(-1, keepdims=True)
    fig = viz.plot_attention(gn.tensor(w), list("abcde"), list("wxyz"), tmp_path / "att.png")
    assert sum(bool(a.images) for a in fig.axes) == 6  # 2 layers x 3 heads (plus a colorbar)
    _png_ok(tmp_path / "att.png")
    assert sum(bool(a.images) for a in viz.plot_attention(w[0, 0]).axes) == 1
    with pytest.raises(ValueError, match="5 positions"):
        viz.plot_attention(w[0, 0], src_tokens=list("abc"))
    fig = viz.plot_hidden_states(rng.standard_normal((7, 1, 12)), list("abcdefg"), tmp_path / "h.png")
    _png_ok(tmp_path / "h.png")
    assert fig.axes[0].images[0].get_array().shape == (12, 7)


def _fake_run(run_dir):
    os.makedirs(run_dir / "plots")
    (run_dir / "config.json").write_text(json.dumps({"recipe": "mnist-test", "lr": 0.001, "epochs": 2}))
    (run_dir / "summary.json").write_text(json.dumps({"recipe": "mnist-test", "test_accuracy": 0.975}))
    rows = [dict(split="train", epoch=1, step=s, loss=1.0 / (s + 1), accuracy=0.5 + 0.01 * s) for s in range(0, 40, 10)]
    rows.append(dict(split="test", epoch=1, step=40, loss=0.3, accuracy=0.9))
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def test_curves_from_a_run(tmp_path):
    _fake_run(tmp_path / "run")
    fig = viz.plot_run_curves(tmp_path / "run", tmp_path / "curves.png")
    assert len(fig.axes) == 2 and fig.axes[0].get_lines()
    _png_ok(tmp_path / "curves.png")
    viz.plot_confusion_matrix(np.array([[5, 1], [2, 7]]), tmp_path / "cm.png", ["a", "b"])
    _png_ok(tmp_path / "cm.png")
    with pytest.raises(FileNotFoundError):
        viz.plot_run_curves(tmp_path / "missing")


def test_html_report_embeds_the_pictures(tmp_path):
    import base64

    run = tmp_path / "run"
    _fake_run(run)
    viz.plot_filters(np.random.default_rng(0).standard_normal((4, 1, 3, 3)), run / "plots" / "filters.png")
    (run / "plots" / "extra").mkdir()
    viz.plot_image_grid(np.zeros((2, 5, 5)), ["x", "y"], run / "plots" / "extra" / "grid.svg")
    path = viz.report.write_report(run)
    assert path == os.path.join(str(run), "report.html")
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "mnist-test" in text and "97.50 %" in text and "test accuracy" in text and "0.001" in text
    pngs = text.count('src="data:image/png;base64,')
    assert pngs == 2  # curves drawn from metrics.jsonl + plots/filters.png
    assert text.count('src="data:image/svg+xml;base64,') == 1
    assert "plots/filters.png" in text and "plots/extra/grid.svg" in text
    with open(run / "plots" / "filters.png", "rb") as f:
        assert base64.b64encode(f.read()).decode() in text  # the file itself, embedded
    assert "src=\"http" not in text and "src=\"plots" not in text  # self-contained
    with pytest.raises(FileNotFoundError):
        viz.report.write_report(tmp_path / "nothing")
