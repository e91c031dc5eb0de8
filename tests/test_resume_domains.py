"""The Cora, CartPole and spoken-digit recipes survive SIGINT, SIGTERM and SIGKILL at random points as the others do
(the fault injection of tests/faults.py): `--resume` must end with exactly the weights, optimizer state, metrics and
final test of a run never stopped. For DQN that covers the replay buffer, the target network, the generators, the
best policy kept and the environment's position (restored by replaying the episode's actions)."""
import json
import os
import signal

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.recipes import get
from glassnet.train.log import read_metrics

from faults import run_with_fault, trials
from real_data import real_data_dir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fault injection forks a child process")


def _families():
    dqn, gcn, speech = get("dqn-cartpole"), get("gcn-cora"), get("speech-digits")
    return {
        "dqn": (dqn, dqn.config(iters=40, learning_starts=64, train_freq=8, gradient_steps=4, target_update=4,
                                batch_size=16, hidden=16, buffer_size=500, exploration_steps=100, eval_every=15,
                                eval_episodes=2, test_episodes=2, pictures=False), "cartpole"),
        "gcn": (gcn, gcn.config(epochs=12, eval_every=4, hidden=4, pictures=False), "cora"),
        "speech": (speech, speech.config(epochs=2, limit=64, val_fraction=0.25, d_model=16, layers=1, heads=2,
                                         dim_feedforward=32, batch_size=16, beam_width=1, pictures=False), "speech"),
    }


TRIALS = {"dqn": 4, "gcn": 4, "speech": 2}
SUMMARY_KEYS = ("steps", "test_return", "test_accuracy", "test_wer", "test_loss")


def _needs(data):
    if data == "cartpole":
        pytest.importorskip("gymnasium")
    elif data == "cora":
        real_data_dir("cora", "cora.npz")
    else:
        real_data_dir("spoken-digits", "train.npz")


def _records(run_dir):
    """metrics.jsonl without the timings (seconds and throughputs differ from run to run)."""
    return [{k: v for k, v in r.items() if "seconds" not in k and not k.endswith("_per_second")}
            for r in read_metrics(os.path.join(run_dir, "metrics.jsonl"))]


def _assert_same_run(a, b):
    state_a, state_b = (gn.load(os.path.join(d, "checkpoints", "last.safetensors")) for d in (a, b))
    assert state_a["loop"]["step"] == state_b["loop"]["step"]
    for k in state_a["model"]:
        np.testing.assert_array_equal(state_a["model"][k].array, state_b["model"][k].array, err_msg=k)
    for i, values in state_a["optimizer"]["state"].items():
        for k, v in values.items():
            other = state_b["optimizer"]["state"][i][k]
            np.testing.assert_array_equal(getattr(v, "array", v), getattr(other, "array", other), err_msg=f"{i}/{k}")
    assert _records(a) == _records(b)
    summary_a, summary_b = (json.load(open(os.path.join(d, "summary.json"))) for d in (a, b))
    for key in SUMMARY_KEYS:
        assert summary_a.get(key) == summary_b.get(key), key


def _sizes(run_dir):
    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    steps, evals = records[-1]["step"], sum(r["split"] == "eval" for r in records)
    return {"optimizer_step": steps, "loss": steps, "evaluation": evals, "checkpoint_write": evals,
            "metrics_write": len(records)}


@pytest.mark.parametrize("family", list(TRIALS))
def test_killed_and_resumed_runs_end_exactly_like_an_uninterrupted_one(family, tmp_path, capsys):
    recipe, config, data = _families()[family]
    _needs(data)
    reference = str(tmp_path / "reference")
    assert run_with_fault(recipe, config, reference, signal.SIGINT, "optimizer_step", 10 ** 9) == 0
    stopped = 0
    for i, (signum, point, k) in enumerate(trials(TRIALS[family], list(TRIALS).index(family), _sizes(reference))):
        run_dir = str(tmp_path / f"trial{i}")
        code = run_with_fault(recipe, config, run_dir, signum, point, k)
        assert code in {signal.SIGINT: (130, 0), signal.SIGTERM: (143, 0), signal.SIGKILL: (-signal.SIGKILL, 0)}[signum]
        stopped += code != 0
        assert cli.main(["train", recipe.name, "--resume", run_dir]) == 0, (signum, point, k)
        _assert_same_run(reference, run_dir)
    capsys.readouterr()
    assert stopped >= TRIALS[family] - 1
