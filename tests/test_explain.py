"""glassnet.explain: every walk-through runs, prints, and its numbers agree with autograd."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import explain


def test_topics_registry_and_listing(capsys):
    assert set(explain.TOPICS) == {"backprop", "reverse-vs-forward", "conv-backward", "vanishing-gradients",
                                   "softmax-cross-entropy"}
    assert explain.main() is None
    out = capsys.readouterr().out
    assert all(name in out for name in explain.TOPICS)
    with pytest.raises(ValueError, match="unknown topic 'nope'.*backprop"):
        explain.main("nope")


def test_backprop(capsys):
    forward, grads, auto = explain.main("backprop")
    assert "dL/da" in capsys.readouterr().out
    assert math.isclose(forward["L"], math.log(1 + math.exp(-2.5)) * 1.5)
    s = 1 / (1 + math.exp(2.5))  # sigmoid(a*b + c)
    q = math.log(1 + math.exp(-2.5))
    expected = {"a": q + 1.5 * s * -2.0, "b": 1.5 * s * 1.5, "c": 1.5 * s}
    for name in "abc":
        assert math.isclose(grads[name], expected[name], rel_tol=1e-12)
        assert math.isclose(auto[name], expected[name], rel_tol=1e-12)


def test_reverse_vs_forward(capsys):
    rows = explain.main("reverse-vs-forward", sizes=(3, 12), m=8)
    out = capsys.readouterr().out
    assert "forward mode" in out and "reverse mode" in out
    assert [r["n"] for r in rows] == [3, 12] and [r["passes"] for r in rows] == [3, 12]
    assert all(r["max_diff"] < 1e-12 and r["forward_s"] > 0 and r["reverse_s"] > 0 for r in rows)
    from glassnet.explain.reverse_vs_forward import gradients

    rg, fg, _, _ = gradients(5, m=4, seed=3)
    np.testing.assert_allclose(fg, rg, rtol=1e-12)


def test_conv_backward(capsys):
    results = explain.main("conv-backward", settings=((1, 0), (2, 1), (3, 2)), x_shape=(2, 2, 6, 7),
                           w_shape=(3, 2, 3, 2))
    assert set(results) == {(1, 0), (2, 1), (3, 2)}
    for diffs in results.values():
        assert len(diffs) == 4 and max(diffs.values()) < 1e-10
    assert "conv_transpose2d" in capsys.readouterr().out


def test_conv_backward_formulas_are_not_trivially_equal():
    """The NumPy formulas really compute gradients: a wrong kernel orientation is detected."""
    from glassnet.explain.conv_backward import input_grad_by_full_correlation

    rng = np.random.default_rng(0)
    dy, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 3, 3, 3))
    right = input_grad_by_full_correlation(dy, w, 1, 0, (6, 6))
    wrong = input_grad_by_full_correlation(dy, w[:, :, ::-1, ::-1].copy(), 1, 0, (6, 6))
    assert right.shape == (1, 3, 6, 6) and np.abs(right - wrong).max() > 0.1


def test_vanishing_gradients(capsys, tmp_path):
    results = explain.main("vanishing-gradients", depth=8, width=16, batch=32, plot_path=tmp_path / "vg.png")
    out = capsys.readouterr().out
    assert "relu+res+bn" in out and (tmp_path / "vg.png").stat().st_size > 2000
    assert all(len(v) == 8 for v in results.values())
    sig, relu = results["sigmoid"], results["relu"]
    assert sig[0] / sig[-1] < 1e-3  # deep sigmoid: the first layer's gradient has all but vanished
    assert 0.05 < relu[0] / relu[-1] < 20  # ReLU + He keeps the scale
    assert results["relu+res+bn"][0] / results["relu+res+bn"][-1] > 0.1


def test_vanishing_gradient_numbers_are_autograd_norms():
    from glassnet.explain import vanishing_gradients as vg

    norms = vg.layer_grad_norms("relu+bn", depth=3, width=8, batch=16, seed=1)
    gn.manual_seed(1)
    model = vg.build("relu+bn", 3, 8)
    rng = np.random.default_rng(1)
    x = gn.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    t = gn.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    ((model(x) - t) ** 2).mean().backward()
    for i in range(3):
        assert norms[i] == pytest.approx(float(np.linalg.norm(model[i].linear.weight.grad.array)), rel=1e-5)
    with pytest.raises(ValueError, match="unknown variant"):
        vg.build("tanh", 2, 4)


def test_softmax_cross_entropy(capsys):
    r = explain.main("softmax-cross-entropy", batch=4, classes=3, seed=2)
    out = capsys.readouterr().out
    assert "p - onehot" in out
    onehot = np.eye(3)[r["y"]]
    np.testing.assert_allclose(r["autograd"], (r["p"] - onehot) / 4, atol=1e-14)
    np.testing.assert_allclose(r["numeric"], r["autograd"], atol=1e-7)
    np.testing.assert_allclose(r["p"].sum(1), 1.0)
    assert not np.isfinite(r["naive"]).all() and np.isfinite(r["stable"]).all()
