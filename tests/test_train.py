"""The training toolkit: metrics, the one loop (gradient accumulation, clipping, evaluation cadence, the
learning-rate schedule, a deferred stop and an exact resume), batch sources, the run folder, and a short real
run. (Fault injection with real signals in child processes: test_resume.py; the command line: test_cli.py.)"""
import json
import math
import os
import signal

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli, nn, optim
from glassnet.recipes import get
from glassnet.recipes.mnist import QuickConfig
from glassnet.train import DrawnBatches, EpochBatches, Experiment, WarmupCosineLR, load_checkpoint, train
from glassnet.train.evaluation import classification_loss
from glassnet.train.log import MetricsLog, read_metrics
from glassnet.train.metrics import RunningAverage, accuracy, confusion_matrix, topk_accuracy
from glassnet.utils.data import DataLoader, TensorDataset

from faults import signalling


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


def test_warmup_cosine_schedule():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = WarmupCosineLR(opt, total=110, warmup=10, min_lr=0.1)
    lrs = []
    for _ in range(120):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1) and lrs[4] == pytest.approx(0.5) and lrs[9] == pytest.approx(1.0)
    assert lrs[10] == pytest.approx(1.0) and lrs[60] == pytest.approx(0.55)  # half way down the cosine
    assert lrs[110] == pytest.approx(0.1) and lrs[119] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    again = WarmupCosineLR(optim.SGD(model.parameters(), lr=1.0), total=5)
    again.load_state_dict(sched.state_dict())  # the plan (total, warmup, min_lr) travels with the state
    assert (again.total, again.warmup, again.min_lr, again.last_epoch) == (110, 10, 0.1, 120)
    with pytest.raises(ValueError, match="total must be a positive int"):
        WarmupCosineLR(opt, total=0)


# ---- the loop, on a tiny classifier with BatchNorm and dropout -----------------------------------------------------
def _experiment(steps_per_epoch_batches=10, epochs=2, grad_accum=3, stop_at=None):
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal((80, 6)).astype(np.float32))
    y = gn.tensor(rng.integers(0, 3, 80))
    loader = DataLoader(TensorDataset(x, y), batch_size=80 // steps_per_epoch_batches, shuffle=True,
                        generator=gn.Generator(1))
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    per_epoch = -(-len(loader) // grad_accum)
    exp = Experiment(model, opt, EpochBatches(loader), steps=epochs * per_epoch, loss=classification_loss,
                     evaluate=lambda m: {"test_loss": float(nn.functional.cross_entropy(m(x), y).item())},
                     eval_every=per_epoch, scheduler=optim.lr_scheduler.OneCycleLR(opt, 1e-2, total_steps=epochs * per_epoch),
                     monitor="test_loss", grad_accum=grad_accum, clip_grad_norm=0.5, log_every=2)
    if stop_at is not None:  # SIGINT arrives inside the optimizer step `stop_at`
        exp.optimizer.step = signalling(exp.optimizer.step, signal.SIGINT, stop_at, [0])
    return exp


def _strip(records):
    return [{k: v for k, v in r.items() if "second" not in k} for r in records]


def test_the_loop_counts_steps_epochs_and_evaluations(tmp_path):
    exp = _experiment()
    result = train(exp, tmp_path, config={"recipe": "test"})
    assert result.step == 8 and result.stopped_by is None  # 2 epochs of ceil(10 / 3) = 4 steps
    records = read_metrics(tmp_path / "metrics.jsonl")
    evals = [r for r in records if r["split"] == "eval"]
    assert [(r["step"], r["epoch"]) for r in evals] == [(4, 1.0), (8, 2.0)]
    assert [r["step"] for r in records if r["split"] == "train"] == [2, 4, 6, 8]
    assert all("train_accuracy" in r and "test_loss" in r for r in evals)
    state = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    assert state["loop"]["step"] == 8 and state["batches"]["epoch"] == 2
    tracked = state["model"]["1.num_batches_tracked"]
    assert int(tracked.array) == 20  # each micro-batch once (the last step of an epoch takes the one left over);
    # the evaluations ran in eval mode, so they counted none
    best = load_checkpoint(tmp_path / "checkpoints" / "best.safetensors")
    assert best["loop"]["best"] == min(r["test_loss"] for r in evals)


@pytest.mark.parametrize("stop_at", [1, 3, 4, 6])
def test_a_stop_inside_a_step_then_resume_equals_the_uninterrupted_run(tmp_path, stop_at, capsys):
    full = _experiment()
    train(full, tmp_path / "full", config={"recipe": "test"})
    part = _experiment(stop_at=stop_at)
    result = train(part, tmp_path / "part", config={"recipe": "test"})
    assert result.stopped_by == signal.SIGINT and result.step == stop_at  # the step finished, then it stopped
    resumed = _experiment()
    state = load_checkpoint(tmp_path / "part" / "checkpoints" / "last.safetensors")
    assert train(resumed, tmp_path / "part", config={"recipe": "test"}, resume=state).step == 8
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)
    assert _strip(read_metrics(tmp_path / "full" / "metrics.jsonl")) == \
        _strip(read_metrics(tmp_path / "part" / "metrics.jsonl"))
    assert "stopping at the next safe point" in capsys.readouterr().err


def test_a_stop_during_an_evaluation_waits_for_it(tmp_path):
    exp = _experiment()
    exp.evaluate = signalling(exp.evaluate, signal.SIGTERM, 1, [0])
    result = train(exp, tmp_path, config={"recipe": "test"})
    assert result.stopped_by == signal.SIGTERM and result.step == 4
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl") if r["split"] == "eval"] == [4]


def test_an_extended_run_keeps_the_schedules_last_learning_rate(tmp_path):
    exp = _experiment(epochs=1)
    train(exp, tmp_path, config={"recipe": "test"})
    last_lr = exp.optimizer.param_groups[0]["lr"]
    longer = _experiment(epochs=3)  # OneCycleLR planned for 12 steps; the checkpoint's plan is 4
    state = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    assert train(longer, tmp_path, config={"recipe": "test"}, resume=state).step == 12
    assert longer.scheduler.total_steps == 4 and longer.optimizer.param_groups[0]["lr"] == last_lr
    steps = [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl") if r["split"] == "eval"]
    assert steps == [4, 8, 12]


def test_a_nan_loss_raises_before_the_step_is_applied(tmp_path):
    model = nn.Linear(2, 1)
    before = model.weight.array.copy()
    losses = iter([1.0, float("nan")])

    def loss(m, batch):
        return (m(batch) * 0).sum() + next(losses)

    exp = Experiment(model, optim.SGD(model.parameters(), lr=0.1), DrawnBatches(lambda: gn.ones(3, 2)), steps=5,
                     loss=loss)
    with pytest.raises(gn.train.TrainingDiverged, match="became nan at step 2.*no checkpoint had been written"):
        train(exp, tmp_path, config={"recipe": "test"})
    np.testing.assert_array_equal(model.weight.array, before)  # the first step's gradient was zero


def test_epoch_batches_resume_mid_epoch_with_the_same_order():
    data = TensorDataset(gn.arange(20))
    seen = EpochBatches(DataLoader(data, batch_size=3, shuffle=True, generator=gn.Generator(5)))
    order = [seen.next()[0].tolist() for _ in range(11)]  # 7 per epoch: into the second epoch
    again = EpochBatches(DataLoader(data, batch_size=3, shuffle=True, generator=gn.Generator(5)))
    for _ in range(9):
        again.next()
    state = again.state_dict()
    fresh = EpochBatches(DataLoader(data, batch_size=3, shuffle=True, generator=gn.Generator(99)))
    fresh.load_state_dict(state)
    assert [fresh.next()[0].tolist() for _ in range(2)] == order[9:11]
    with pytest.raises(ValueError, match="needs its own generator"):
        EpochBatches(DataLoader(data, batch_size=3, shuffle=True))


def test_metrics_log_truncates_and_skips_a_cut_line(tmp_path):
    log = MetricsLog(tmp_path / "m.jsonl")
    for step in (1, 2, 3):
        log.write(split="train", step=step, loss=float(step), bad=math.nan)
    with open(tmp_path / "m.jsonl", "a") as f:
        f.write('{"split": "tr')  # a process killed while writing
    assert [r["step"] for r in read_metrics(tmp_path / "m.jsonl")] == [1, 2, 3]
    assert read_metrics(tmp_path / "m.jsonl")[0]["bad"] is None  # JSON has no NaN
    log.truncate_after(2)
    assert [r["step"] for r in read_metrics(tmp_path / "m.jsonl")] == [1, 2]


def test_evaluating_restores_each_modules_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model[1].eval()
    with nn.utils.evaluating(model):
        assert not model.training and not gn.is_grad_enabled()
    assert model.training and not model[1].training and gn.is_grad_enabled()


# ---- the recipes' run folder ---------------------------------------------------------------------------------
TINY = dict(limit=512, channels=4, hidden=16, epochs=1, pictures=False)


def test_quick_recipe_run_folder_and_summary(tmp_path):
    summary = get("mnist-cnn-quick").run(QuickConfig(**{**TINY, "pictures": True}), str(tmp_path / "run"))
    for name in ("config.json", "metrics.jsonl", "summary.json", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors", "plots/curves.png", "plots/confusion_matrix.png",
                 "plots/misclassified.png", "plots/filters.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0, name
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["status"] == "finished" and saved["epochs"] == 1 and 0.1 < saved["test_accuracy"] <= 1
    assert saved["img_per_second"] > 0 and saved == summary
    again = get("mnist-cnn-quick").run(QuickConfig(**TINY), str(tmp_path / "run"))  # never appends to a run
    assert again["run_dir"] == str(tmp_path / "run-2")
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == saved


def test_the_recipe_refuses_bad_values_from_python(tmp_path):
    with pytest.raises(ValueError, match="--epochs: must be a positive integer, got 0"):
        get("mnist-cnn-quick").run(QuickConfig(**{**TINY, "epochs": 0}), str(tmp_path))


needs_mnist = pytest.mark.skipif(
    not os.environ.get("GLASSNET_DATA"), reason="set GLASSNET_DATA to the folder holding mnist/ (CI does)")


@needs_mnist
def test_short_training_on_real_mnist_reaches_accuracy(tmp_path):
    config = QuickConfig(sample=False, limit=12000, epochs=1, channels=8, hidden=64, batch_size=64, lr=3e-3,
                         pictures=False)
    summary = get("mnist-cnn-quick").run(config, str(tmp_path / "real"))
    assert summary["test_accuracy"] >= 0.95, summary


def test_cli_list_train_eval_on_the_embedded_sample(tmp_path, capsys):
    assert cli.main(["list"]) == 0
    assert "mnist-cnn-quick" in capsys.readouterr().out
    out = tmp_path / "run"
    assert cli.main(["train", "mnist-cnn-quick", "--epochs", "1", "--limit", "512", "--channels", "4", "--hidden",
                     "16", "--no-pictures", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == f"run folder {out} (plots: {out / 'plots'}, report: {out / 'report.html'})"
    summary = json.loads((out / "summary.json").read_text())
    assert cli.main(["eval", str(out)]) == 0
    assert f"{summary['test_accuracy']:.4f}" in capsys.readouterr().out


def test_experiment_checks_its_settings():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        Experiment(model, opt, DrawnBatches(lambda: None), steps=1, mode="best")
    with pytest.raises(ValueError, match="grad_accum must be a positive int"):
        Experiment(model, opt, DrawnBatches(lambda: None), steps=1, grad_accum=0)


def test_weights_that_do_not_fit_the_model_are_refused():
    from glassnet.recipes.scaffold import load_weights
    from glassnet.train import CheckpointError

    with pytest.raises(CheckpointError, match="x.safetensors does not fit the mnist-cnn-quick model"):
        load_weights(get("mnist-cnn-quick"), nn.Linear(2, 2), {"model": {"weight": gn.ones(3, 3)}}, "x.safetensors")


def test_stale_files_of_a_killed_run_are_removed_when_it_resumes(tmp_path):
    run = tmp_path / "run"
    get("mnist-cnn-quick").run(QuickConfig(**TINY), str(run))
    (run / "summary.json.tmp").write_text("{")
    (run / "checkpoints" / ".tmp-x.safetensors").write_bytes(b"half")
    get("mnist-cnn-quick").run(QuickConfig(**TINY), str(run), resume=str(run / "checkpoints" / "last.safetensors"))
    assert not (run / "summary.json.tmp").exists()
    assert sorted(os.listdir(run / "checkpoints")) == ["best.safetensors", "last.safetensors"]


def test_progress_leaves_evaluation_pauses_out_of_the_rate_and_the_time_left():
    import time

    from glassnet.train.progress import Progress

    progress = Progress(10, "test", unit="img")
    progress.update(100)
    with progress.paused():
        time.sleep(0.3)  # an evaluation
    progress.update(100)
    assert progress.seconds < 0.25 and progress.rate > 200 / 0.25
    assert progress.bar.format_dict["elapsed"] < 0.25  # tqdm's clock (and so its time left) skips the pause too
    progress.close()
