"""Training toolkit: metrics, checkpoints, exact resume, the command line end to end, and a short real run."""
import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.recipes import get
from glassnet.recipes.mnist import MLPConfig, QuickConfig
from glassnet.train.checkpoint import load_checkpoint
from glassnet.train.metrics import RunningAverage, accuracy, confusion_matrix, topk_accuracy

TINY = dict(sample=True, limit=640, batch_size=64, hidden=32, epochs=2, augment=False)


def test_metrics_by_hand():
    logits = gn.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25]])
    targets = gn.tensor([1, 0, 1, 1])
    assert accuracy(logits, targets) == 0.5
    assert topk_accuracy(logits, targets, k=2) == 1.0
    cm = confusion_matrix(np.array([1, 0, 2, 0]), np.array([1, 0, 1, 1]), 3)
    assert cm.tolist() == [[1, 0, 0], [1, 1, 1], [0, 0, 0]]
    avg = RunningAverage()
    avg.update(1.0, 3)
    avg.update(2.0, 1)
    assert avg.value == 1.25
    with pytest.raises(ValueError, match="topk_accuracy"):
        topk_accuracy(logits, targets, k=4)


def _weights(run_dir):
    return {k: v.array for k, v in load_checkpoint(os.path.join(run_dir, "checkpoints", "last.safetensors"))[
        "model"].items()}


def test_interrupted_then_resumed_run_equals_uninterrupted(tmp_path):
    recipe = get("mnist-mlp")
    config = MLPConfig(**TINY, grad_accum=2, clip_grad_norm=1.0)
    full = recipe.run(config, str(tmp_path / "full"))
    part = recipe.run(config, str(tmp_path / "resumed"), stop_after_steps=3)  # as if Ctrl-C came then
    assert part["interrupted"] and part["steps"] == 3
    ckpt = load_checkpoint(tmp_path / "resumed" / "checkpoints" / "last.safetensors")
    assert ckpt["epoch"] == 0 and ckpt["batch"] == 6  # 3 steps of 2 accumulated batches
    resumed = recipe.run(config, str(tmp_path / "resumed"),
                         resume=str(tmp_path / "resumed" / "checkpoints" / "last.safetensors"))
    assert resumed["steps"] == full["steps"]
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert resumed["test_accuracy"] == full["test_accuracy"]


def test_cli_list_train_eval_on_the_embedded_sample(tmp_path, capsys):
    assert cli.main(["list"]) == 0
    assert "mnist-cnn-quick" in capsys.readouterr().out
    out = tmp_path / "run"
    args = ["train", "mnist-cnn-quick", "--epochs", "1", "--limit", "512", "--channels", "4", "--hidden", "16",
            "--out", str(out)]
    assert cli.main(args) == 0
    for name in ("config.json", "metrics.jsonl", "summary.json", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors", "plots/curves.png", "plots/confusion_matrix.png",
                 "plots/misclassified.png", "plots/filters.png"):
        assert (out / name).exists() and (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 1 and 0.1 < summary["test_accuracy"] <= 1.0
    capsys.readouterr()
    assert cli.main(["eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{summary['test_accuracy']:.4f}" in printed


def test_cli_help_lists_recipe_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "mnist-cnn", "--help"])
    text = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--lr", "--seed", "--data-dir", "--out", "--resume", "--channels"):
        assert flag in text


def test_unknown_recipe_is_a_clear_error():
    with pytest.raises(SystemExit):
        cli.main(["train", "no-such-recipe"])


needs_mnist = pytest.mark.skipif(
    not os.environ.get("GLASSNET_DATA"), reason="set GLASSNET_DATA to the folder holding mnist/ (CI does)")


@needs_mnist
def test_short_training_on_real_mnist_reaches_accuracy(tmp_path):
    config = QuickConfig(sample=False, limit=12000, epochs=1, channels=8, hidden=64, batch_size=64, lr=3e-3)
    summary = get("mnist-cnn-quick").run(config, str(tmp_path / "real"))
    assert summary["test_accuracy"] >= 0.95, summary
