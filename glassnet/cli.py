"""The command line: `glassnet train <recipe>`, `list`, `eval`, `sample`, `explain <topic>`, `report <run>`.

A recipe's config fields become its flags (`glassnet train mnist-cnn --help` lists them). A run writes
a folder (default runs/<recipe>-<time>): config.json, metrics.jsonl, checkpoints/{last,best}.safetensors,
plots/*.png and summary.json.
"""
import argparse
import dataclasses
import json
import os
import sys
import time

from . import recipes


def _add_config_flags(parser, config_cls):
    for f in dataclasses.fields(config_cls):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        if isinstance(default, bool):
            parser.add_argument(flag, default=default, action=argparse.BooleanOptionalAction,
                                help=f.metadata.get("help", ""))
        else:
            kind = type(default) if default is not None else str
            parser.add_argument(flag, type=kind, default=default,
                                help=f"{f.metadata.get('help', '')} (default: {default})")


def _build_parser():
    parser = argparse.ArgumentParser(prog="glassnet", description="glassnet: train and inspect models.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the recipes, with one-line descriptions")
    train = sub.add_parser("train", help="train a recipe: glassnet train <recipe> [flags]")
    train_sub = train.add_subparsers(dest="recipe", required=True, metavar="recipe")
    for name, recipe in recipes.all_recipes().items():
        p = train_sub.add_parser(name, help=recipe.description, description=recipe.description)
        _add_config_flags(p, recipe.config)
        p.add_argument("--out", help="run folder (default: runs/<recipe>-<time>)")
        p.add_argument("--resume", metavar="RUN_OR_CHECKPOINT",
                       help="continue a run from its last checkpoint, exactly as if never stopped")
    explain = sub.add_parser("explain", help="a walk-through whose numbers are checked against autograd")
    explain.add_argument("topic", nargs="?", help="one of: " + ", ".join(_explain_topics()))
    report = sub.add_parser("report", help="write one self-contained HTML page for a run folder")
    report.add_argument("run")
    sample = sub.add_parser("sample", help="stream text from a trained language model (run folder or checkpoint)")
    sample.add_argument("path")
    sample.add_argument("--prompt", default="\n", help="text to start from (\\n for a newline)")
    sample.add_argument("--length", type=int, default=500, help="characters (tokens) to generate")
    sample.add_argument("--temperature", type=float, default=0.8, help="below 1 sharper, above 1 flatter")
    sample.add_argument("--top-k", type=int, default=0, help="keep only the k most likely tokens (0: all)")
    sample.add_argument("--seed", type=int, default=None, help="seed for a reproducible sample")
    ev = sub.add_parser("eval", help="evaluate a run folder or a checkpoint file on its test set")
    ev.add_argument("path")
    ev.add_argument("--data-dir", help="where the data set is (default: GLASSNET_DATA, the cache, a download)")
    return parser


def _explain_topics():
    from .explain import TOPICS

    return list(TOPICS)


def _checkpoint_path(path):
    if os.path.isdir(path):
        return os.path.join(path, "checkpoints", "last.safetensors")
    return path


def train(args):
    from .train.checkpoint import load_checkpoint

    recipe = recipes.get(args.recipe)
    names = {f.name for f in dataclasses.fields(recipe.config)}
    config = recipe.config(**{k: v for k, v in vars(args).items() if k in names})
    resume = None
    if args.resume:
        resume = _checkpoint_path(args.resume)
        saved = load_checkpoint(resume)["config"]
        config = recipe.config(**{k: saved.get(k, getattr(config, k)) for k in names})
        run_dir = args.out or (args.resume if os.path.isdir(args.resume) else os.path.dirname(os.path.dirname(resume)))
    else:
        run_dir = args.out or os.path.join("runs", f"{recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump({"recipe": recipe.name, **dataclasses.asdict(config)}, f, indent=2)
    print(f"glassnet train {recipe.name} -> {run_dir}")
    summary = recipe.run(config, run_dir, resume=resume)
    _print_summary(summary)
    return 130 if summary.get("interrupted") else 0


def evaluate(args):
    from .train.checkpoint import load_checkpoint

    path = _checkpoint_path(args.path)
    state = load_checkpoint(path)
    config = state["config"]
    recipe = recipes.get(config["recipe"])
    names = {f.name for f in dataclasses.fields(recipe.config)}
    cfg = recipe.config(**{k: v for k, v in config.items() if k in names})
    if args.data_dir:
        cfg = dataclasses.replace(cfg, data_dir=args.data_dir)
    _print_summary(recipe.evaluate(cfg, state))
    return 0


def _print_summary(summary):
    width = max(len(k) for k in summary)
    print("\nsummary")
    for k, v in summary.items():
        print(f"  {k:<{width}}  {v:.4f}" if isinstance(v, float) else f"  {k:<{width}}  {v}")


def main(argv=None):
    args = _build_parser().parse_args(argv)
    if args.command == "list":
        for name, recipe in recipes.all_recipes().items():
            print(f"{name:<18} {recipe.description}")
        return 0
    try:
        if args.command == "explain":
            from . import explain

            explain.main(args.topic)
            return 0
        if args.command == "sample":
            from .generate import sample_command

            return sample_command(args)
        if args.command == "report":
            from .viz.report import write_report

            print(write_report(args.run))
            return 0
        return train(args) if args.command == "train" else evaluate(args)
    except (FileNotFoundError, KeyError, ValueError) as e:
        print(f"glassnet: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
