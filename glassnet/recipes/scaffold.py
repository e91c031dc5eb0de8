"""What every recipe run does around the training loop: the run folder, resuming, the final test, the
summary, the examples and the curves.

The run folder (what `glassnet report` and other tools read):

    config.json              {"recipe": name, <every config field>: value}; rewritten when a resumed
                             run is extended (--epochs / --iters)
    metrics.jsonl            one JSON object per line, appended while training; a resumed run first
                             drops the lines after its checkpoint's step. Fields:
                               split "train": step, epoch (epoch-based recipes and character models:
                                 passes over the data, fractional), loss (and accuracy for classifiers):
                                 means since the previous train record, lr, seconds (training time so
                                 far, evaluations excluded)
                               split "eval": step, epoch, the evaluation's metrics (val_loss,
                                 test_loss, test_accuracy, test_exact_match, ...), train_loss (and
                                 train_accuracy): means since the previous evaluation, eval_seconds,
                                 <unit>_per_second (img, char, tok or seq per second of training)
    checkpoints/last.safetensors, checkpoints/best.safetensors   (glassnet.train.checkpoint)
    summary.json             written at the end (also after a stop or a divergence): recipe, status
                             ("finished", "stopped" or "diverged"), message (why it stopped), steps,
                             epochs, train_loss, train_seconds, <unit>_per_second, best (monitored
                             metric -> best value), the final test's metrics (finished runs), what the
                             recipe's report adds (wrong_examples, sample, plot paths, ...), seconds
                             (wall time of this invocation), run_dir. NaN and infinities are null.
    examples.txt             toy tasks: held-out problems with the model's answer, "ok" or "WRONG"
    samples.txt              text models: generated text
    plots/*.png              curves.png for every recipe, and each recipe's own pictures
    report.html              the run on one self-contained page (glassnet.viz.report), written with
                             summary.json (also after a stop or a divergence)
"""
import dataclasses
import json
import os
import signal
import tempfile
import time

from ..nn.utils import evaluating
from ..random import manual_seed
from ..serialization import remove_stale_temporaries
from ..train.checkpoint import CheckpointError, load_checkpoint
from ..train.data_parallel import distribute
from ..train.log import json_safe, read_metrics, write_text
from ..train.loop import TrainingDiverged, train
from ..train.signals import StopSignals, signal_name
from .config import LENGTH_FIELDS, check_config, option_name

__all__ = ["run", "evaluate", "fresh_run_dir", "holds_run", "write_file", "examples_text", "resume_conflicts",
           "check_recipe", "load_weights", "clear_run", "RESUMABLE"]

# the fields a resumed run may change: how long it trains, where the data is, what the end writes
RESUMABLE = LENGTH_FIELDS + ("data_dir", "pictures", "sample_chars", "temperature", "test_problems",
                             "final_eval_iters")


_RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "examples.txt", "samples.txt", "report.html")


def holds_run(run_dir):
    """Whether run_dir already holds (part of) a run."""
    return any(os.path.exists(os.path.join(run_dir, name)) for name in _RUN_FILES) or \
        any(name.endswith(".safetensors") and not name.startswith(".")  # not a killed write's temporary
            for name in _listdir(os.path.join(run_dir, "checkpoints")))


def _listdir(path):
    return os.listdir(path) if os.path.isdir(path) else []


def fresh_run_dir(run_dir):
    """run_dir, or run_dir-2, -3, ... when it already holds a run (a run never appends to another's log)."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"--out: {run_dir} is a file, not a folder")
    candidate, n = run_dir, 1
    while holds_run(candidate):
        n += 1
        candidate = f"{run_dir}-{n}"
    return candidate


def _write_json(path, value):
    write_text(path, json.dumps(json_safe(value), indent=2) + "\n")


def write_file(run_dir, name, text):
    """Write a text file of the run (examples.txt, samples.txt); returns its path."""
    return write_text(os.path.join(run_dir, name), text)


def examples_text(task, problems, answers, ok, shown=40):
    """(examples.txt's text, the first wrong answers) for held-out problems of a toy task."""
    lines = [f"{task.describe(p)}   model: {task.decode(a)}   {'ok' if good else 'WRONG'}"
             for p, a, good in zip(problems[:shown], answers[:shown], ok[:shown])]
    wrong = [f"{task.describe(p)}   model: {task.decode(a)}" for p, a, good in zip(problems, answers, ok) if not good]
    return "\n".join(lines) + "\n", wrong[:10]


def resume_conflicts(config, saved):
    """The flags whose values in `config` differ from the checkpoint's `saved` config, resumable ones aside."""
    return [option_name(f.name) for f in dataclasses.fields(config)
            if f.name not in RESUMABLE and f.name in saved and saved[f.name] != getattr(config, f.name)]


def check_recipe(recipe, saved, where):
    """Refuse a saved run (its config dict) of another recipe."""
    if saved.get("recipe") != recipe.name:
        raise CheckpointError(f"{where} is a run of the recipe {saved.get('recipe')!r}, not of {recipe.name!r}: "
                              f"continue it with glassnet train {saved.get('recipe')} --resume ...")


def _check_length(recipe, config, checkpoint, path):
    """Refuse a resume that asks for fewer epochs / steps than the checkpoint has done."""
    done = checkpoint["batches"]["epoch"] if recipe.length_field == "epochs" else checkpoint["loop"]["step"]
    wanted = getattr(config, recipe.length_field)
    if wanted < done:
        raise ValueError(f"{option_name(recipe.length_field)} {wanted} is less than the {done} {recipe.length_field} "
                         f"that {path} has done already")


def _open_checkpoint(recipe, config, path):
    checkpoint = load_checkpoint(path)
    saved = checkpoint["config"]
    check_recipe(recipe, saved, path)
    conflicts = resume_conflicts(config, saved)
    if conflicts:
        raise ValueError(f"{', '.join(conflicts)} would change the run being resumed; a resumed run keeps its "
                         f"configuration (only {', '.join(option_name(f) for f in LENGTH_FIELDS)} extend it): "
                         f"start a new run to change them")
    _check_length(recipe, config, checkpoint, path)
    return checkpoint


def _prepare(recipe, config, run_dir, resume):
    if resume is None:
        run_dir = fresh_run_dir(run_dir)
    os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
    remove_stale_temporaries(os.path.join(run_dir, "checkpoints"))
    for name in _RUN_FILES:  # what a killed write of the run's own files left
        if os.path.exists(os.path.join(run_dir, name + ".tmp")):
            os.remove(os.path.join(run_dir, name + ".tmp"))
    _write_json(os.path.join(run_dir, "config.json"), {"recipe": recipe.name, **dataclasses.asdict(config)})
    return run_dir


def load_weights(recipe, model, checkpoint, where):
    """Load the checkpoint's weights into `model`, refusing (CheckpointError) weights that do not fit it."""
    try:
        model.load_state_dict(checkpoint["model"])
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{where} does not fit the {recipe.name} model built from its configuration: {e}") \
            from None


def clear_run(run_dir):
    """Remove the files of a run that never reached a checkpoint, so that it can start again in its folder."""
    for name in _RUN_FILES:
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            os.remove(path)


def run(recipe, config, run_dir, resume=None, distributed=False):
    """Train `recipe` with `config` into run_dir (a new folder name if it holds another run), continuing
    from the checkpoint file `resume`; write the run folder and return the summary dict. With
    `distributed`, this process is one rank of an MPI job (glassnet.train.data_parallel): rank 0 writes
    the run folder, the others train into a scratch folder that is removed at the end."""
    started = time.perf_counter()
    check_config(config)
    checkpoint = _open_checkpoint(recipe, config, resume) if resume is not None else None
    manual_seed(config.seed)
    exp = recipe.build(config)  # before the run folder is made: a run that cannot start leaves no folder behind
    if checkpoint is not None:
        load_weights(recipe, exp.model, checkpoint, resume)
    if distributed and not distribute(exp):
        with tempfile.TemporaryDirectory(prefix="glassnet-rank-") as scratch:
            return _run(recipe, config, exp, _prepare(recipe, config, scratch, None), checkpoint, started)
    return _run(recipe, config, exp, _prepare(recipe, config, os.fspath(run_dir), resume), checkpoint, started)


def _run(recipe, config, exp, run_dir, checkpoint, started):
    summary = {"recipe": recipe.name}
    saved = {"recipe": recipe.name, **dataclasses.asdict(config)}
    with StopSignals() as stop:
        try:
            result = train(exp, run_dir, config=saved, resume=checkpoint, stop=stop, desc=recipe.name)
        except TrainingDiverged as e:
            summary.update(status="diverged", message=str(e))
            _finish(recipe, run_dir, summary, started)
            e.run_dir = run_dir  # for the command line's last line
            raise
        summary.update(_outcome(exp, result))
        if summary["status"] == "finished":
            summary.update(_final(exp, result, run_dir, stop))
        return _finish(recipe, run_dir, summary, started)


def _final(exp, result, run_dir, stop):
    """The final test and the report of a finished run, each skipped once a stop is requested."""
    out = {}
    if not stop.requested:
        out.update(_test(exp) if exp.test is not None else result.metrics)
    if not stop.requested and exp.report is not None:
        out.update(exp.report(exp.model, run_dir))
    if stop.requested:
        out.update(stopped_by=signal.Signals(stop.requested).name,
                   message=f"{signal_name(stop.requested)} after training: the final test or report was cut short; "
                           f"--resume writes them")
    return out


def _outcome(exp, result):
    """The summary entries of the loop's result."""
    out = {"status": "finished" if result.step >= exp.steps else "stopped", "steps": result.step}
    if result.stopped_by is not None:
        out["stopped_by"] = signal.Signals(result.stopped_by).name
        out["message"] = f"{signal_name(result.stopped_by)} at step {result.step}: saved {result.checkpoint}"
    epochs = getattr(exp.batches, "epochs", None)
    if epochs is not None:
        out["epochs"] = round(epochs, 4)
    out.update({"train_loss": result.train_loss, "train_seconds": result.seconds})
    if result.rate:  # none when a resumed run had no steps left to train (only its final test)
        out[f"{exp.unit}_per_second"] = result.rate
    out["checkpoint"] = result.checkpoint
    if exp.monitor is not None and exp.monitor in result.metrics:
        out["best"] = {exp.monitor: result.best}
    return out


def _finish(recipe, run_dir, summary, started):
    """Draw the curves, write summary.json and report.html; returns the summary."""
    from ..viz.plots import plot_training_curves
    from ..viz.report import write_report

    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    if records:
        path = os.path.join(run_dir, "plots", "curves.png")
        plot_training_curves(records, path, title=recipe.name)
        summary.setdefault("plots", []).insert(0, path)
    summary.update(seconds=time.perf_counter() - started, run_dir=run_dir)
    _write_json(os.path.join(run_dir, "summary.json"), summary)
    write_report(run_dir)
    return json_safe(summary)


def evaluate(recipe, config, checkpoint):
    """The final test of a checkpoint's weights (a loaded checkpoint dict), as `glassnet eval` shows it."""
    check_config(config)
    manual_seed(config.seed)
    exp = recipe.build(config)
    load_weights(recipe, exp.model, checkpoint, "the checkpoint")
    with evaluating(exp.model):
        results = (exp.test or exp.evaluate)(exp.model)
    return {"recipe": recipe.name, "step": checkpoint["loop"]["step"], **results}


def _test(exp):
    with evaluating(exp.model):
        return exp.test(exp.model)
