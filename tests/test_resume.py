"""Runs that survive anything: SIGINT, SIGTERM and SIGKILL at seeded random points (inside optimizer steps,
losses, evaluations, checkpoint writes and metrics writes), then `glassnet train <recipe> --resume RUN`; the
resumed run must end with exactly the weights, optimizer state and metrics of a run never stopped. One family of
trials per kind of recipe: an image classifier with BatchNorm, augmentation and gradient accumulation; a
character LSTM carrying its hidden state between batches (needs tiny Shakespeare); a GPT with dropout; an
encoder-decoder RNN. Tiny configurations: all trials take well under a minute on 2 cores."""
import json
import math
import os
import signal

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.recipes import get
from glassnet.recipes.mnist import QuickConfig
from glassnet.recipes.sequence import CharConfig, Seq2SeqConfig
from glassnet.recipes.transformers import SortConfig
from glassnet.train.log import read_metrics

from data_available import shakespeare_available
from faults import run_with_fault, trials

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fault injection forks a child process")

FAMILIES = {
    "classifier": ("mnist-cnn-quick", QuickConfig(epochs=2, limit=192, batch_size=32, channels=2, hidden=8,
                                                   augment=True, grad_accum=2, dropout=0.2, pictures=False)),
    "char-rnn": ("char-lstm", CharConfig(iters=10, batch_size=4, seq_len=8, embed_dim=8, hidden_size=12, eval_every=4,
                                        eval_streams=2, train_chars=3000, val_chars=300, sample_chars=10,
                                        reset_prob=0.5, dropout=0.1, pictures=False, warmup=2)),
    "gpt": ("sort-toy", SortConfig(length=3, iters=10, eval_every=4, batch_size=8, n_embd=16, n_layer=1, dropout=0.1,
                                   eval_problems=16, test_problems=16, warmup=2, grad_accum=2)),
    "seq2seq": ("seq2seq-attention", Seq2SeqConfig(task="reverse", length=3, iters=10, eval_every=4, batch_size=8,
                                                   embed_dim=8, hidden_size=12, eval_problems=16, test_problems=16,
                                                   pictures=0, warmup=2)),
}
TRIALS_PER_FAMILY = 6
TIMING = ("seconds", "eval_seconds", "img_per_second", "char_per_second", "seq_per_second")


def _final_state(run_dir):
    state = gn.load(os.path.join(run_dir, "checkpoints", "last.safetensors"))
    return state["model"], state["optimizer"]["state"], state["loop"]["step"]


def _records(run_dir):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(os.path.join(run_dir, "metrics.jsonl"))]


def _assert_same_run(a, b):
    model_a, opt_a, step_a = _final_state(a)
    model_b, opt_b, step_b = _final_state(b)
    assert step_a == step_b
    for k in model_a:
        np.testing.assert_array_equal(model_a[k].array, model_b[k].array, err_msg=k)
    for i in opt_a:
        for k, v in opt_a[i].items():
            np.testing.assert_array_equal(getattr(v, "array", v), getattr(opt_b[i][k], "array", opt_b[i][k]),
                                          err_msg=f"optimizer state {i}/{k}")
    assert _records(a) == _records(b)
    summary_a, summary_b = (json.load(open(os.path.join(d, "summary.json"))) for d in (a, b))
    for key in ("test_accuracy", "test_exact_match", "val_loss", "steps"):
        assert summary_a.get(key) == summary_b.get(key), key


def _sizes(run_dir, config):
    """How often each fault point occurs in a whole run (about: the last micro-batches of an epoch aside)."""
    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    steps, evals = records[-1]["step"], sum(r["split"] == "eval" for r in records)
    return {"optimizer_step": steps, "loss": steps * config.grad_accum, "evaluation": evals,
            "checkpoint_write": evals, "metrics_write": len(records)}


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """An uninterrupted run of each family (in a forked child too, so that the process state is alike)."""
    out = {}
    for family, (name, config) in FAMILIES.items():
        if family == "char-rnn" and not shakespeare_available():
            continue
        run_dir = str(tmp_path_factory.mktemp(family) / "reference")
        assert run_with_fault(get(name), config, run_dir, signal.SIGINT, "optimizer_step", 10 ** 9) == 0
        out[family] = run_dir
    return out


@pytest.mark.parametrize("family", list(FAMILIES))
def test_killed_and_resumed_runs_end_exactly_like_an_uninterrupted_one(family, references, tmp_path, capsys):
    if family not in references:
        pytest.skip("tiny Shakespeare not found (set GLASSNET_DATA)")
    name, config = FAMILIES[family]
    stopped = 0
    for i, (signum, point, k) in enumerate(trials(TRIALS_PER_FAMILY, sorted(FAMILIES).index(family),
                                                  _sizes(references[family], config))):
        run_dir = str(tmp_path / f"trial{i}")
        code = run_with_fault(get(name), config, run_dir, signum, point, k)
        expected = {signal.SIGINT: (130, 0), signal.SIGTERM: (143, 0), signal.SIGKILL: (-signal.SIGKILL, 0)}[signum]
        assert code in expected, (signum, point, k, code)  # 0: the run ended before the k-th point
        stopped += code != 0
        if code == -signal.SIGKILL:
            assert os.path.isdir(run_dir)
        assert cli.main(["train", name, "--resume", run_dir]) == 0, (signum, point, k)
        assert not [f for f in os.listdir(os.path.join(run_dir, "checkpoints")) if f.startswith(".")]
        _assert_same_run(references[family], run_dir)
    capsys.readouterr()
    assert stopped >= TRIALS_PER_FAMILY - 1  # (a fault in the last moments may find the run already done)


def test_the_stop_waits_for_the_step_and_saves_it(tmp_path, capfd):
    """SIGINT inside the 2nd optimizer step (of 3 per epoch): the step completes, is checkpointed, and the run
    exits with 130 and names the way to continue."""
    name, config = FAMILIES["classifier"]
    assert run_with_fault(get(name), config, str(tmp_path / "run"), signal.SIGINT, "optimizer_step", 2) == 130
    state = gn.load(str(tmp_path / "run" / "checkpoints" / "last.safetensors"))
    assert state["loop"]["step"] == 2
    assert (state["batches"]["epoch"], state["batches"]["index"]) == (0, 4)  # 2 steps of 2 micro-batches
    steps = {int(s["step"].array) for s in state["optimizer"]["state"].values()}
    assert steps == {2}  # every parameter's Adam step counter agrees: no half-applied update
    tracked = [v.array for k, v in state["model"].items() if k.endswith("num_batches_tracked")]
    assert tracked and all(t == 4 for t in tracked)  # each micro-batch counted once
    summary = json.load(open(tmp_path / "run" / "summary.json"))
    assert summary["status"] == "stopped" and summary["stopped_by"] == "SIGINT"
    assert "continue with: glassnet train mnist-cnn-quick --resume" in capfd.readouterr().out


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    """A learning rate far too high: the loss becomes NaN; the run stops with one clear line, exit status 1, and
    the last checkpoint written before stays as it was."""
    name, config = FAMILIES["gpt"]
    args = ["train", name, "--length", "3", "--iters", "40", "--eval-every", "2", "--batch-size", "8", "--n-embd", "16",
            "--n-layer", "1", "--eval-problems", "8", "--test-problems", "8", "--lr", "1e6", "--warmup", "0",
            "--clip-grad-norm", "0", "--out", str(tmp_path / "run")]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("glassnet: error: the training loss became nan at step") or "inf" in err
    assert "last good checkpoint is" in err and "last.safetensors" in err
    assert err.endswith(f"(run folder {tmp_path / 'run'}, report: {tmp_path / 'run' / 'report.html'})")
    state = gn.load(str(tmp_path / "run" / "checkpoints" / "last.safetensors"))
    assert all(np.isfinite(v.array).all() for v in state["model"].values())
    summary = json.load(open(tmp_path / "run" / "summary.json"))
    assert summary["status"] == "diverged" and "became" in summary["message"]
    assert all(v is None or not isinstance(v, float) or math.isfinite(v) for v in summary.values())
