"""One self-contained HTML page for a training run (`glassnet report RUN`, written at the end of every run).

It reads the run folder that the recipes write (its format: glassnet.recipes.scaffold) and writes
run_dir/report.html, in this order:

    header            the recipe, the status (and why a run stopped or diverged), the run folder, wall time
    key results       the final test's metrics and the best value of the monitored one (summary.json),
                      then what the training did (steps, time, throughput), in readable names and units
    training curves   the pictures whose file name starts with "curves" (drawn from metrics.jsonl when
                      there is none)
    configuration     config.json
    pictures          every other picture under plots/, each captioned from its file name
    samples           text (generated samples) as preformatted text, lists of examples as tables,
                      examples.txt and samples.txt
    metrics log       the last record of each split of metrics.jsonl

The rules are general (a value's shape and name decide how it is shown), so a new recipe needs no code
here. Pictures are embedded (base64), the page uses no script and no file beside it: it can be mailed or
archived on its own and read offline.
"""
import base64
import html
import json
import os
import re
from dataclasses import dataclass, field

from ._report_format import DASH, duration, readable, table_html, value_html

__all__ = ["write_report", "render_report"]

_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".svg": "image/svg+xml"}
_HEADER = ("recipe", "status", "message", "stopped_by", "run_dir", "checkpoint", "seconds", "plots")
_TRAINING = ("steps", "epochs", "train_loss", "train_accuracy", "train_seconds")
_NOT_RESULTS = ("split", "step", "epoch", "eval_seconds")  # fields of an eval record that are no result
_RUN_TEXTS = ("examples.txt", "samples.txt")

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1200px;
       color: #1d2125; padding: 1em 1.5em 4em; line-height: 1.45; }
h1 { font-size: 1.7em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; padding-bottom: 0.2em; border-bottom: 2px solid #e3e6ea; }
h3 { font-size: 1em; margin: 1.4em 0 0.4em; }
nav { font-size: 0.9em; color: #666; } nav a { color: #2458a6; margin-right: 1em; text-decoration: none; }
.status { display: inline-block; font-size: 0.55em; vertical-align: middle; padding: 0.15em 0.6em;
          border-radius: 1em; color: white; background: #6c757d; margin-left: 0.4em; }
.status-finished { background: #2e7d32; } .status-stopped { background: #b26a00; }
.status-diverged { background: #c62828; } .status-incomplete { background: #6c757d; }
.message { background: #fff4e0; border-left: 4px solid #b26a00; padding: 0.5em 0.9em; }
.message.diverged { background: #fdecea; border-left-color: #c62828; }
table { border-collapse: collapse; font-size: 0.92em; margin: 0.3em 0; }
td, th { border: 1px solid #dde1e5; padding: 0.3em 0.75em; text-align: left; vertical-align: top; }
th { background: #f5f6f8; font-weight: 600; }
td.num, .grid td { font-variant-numeric: tabular-nums; }
tr.group th { background: #e9edf2; text-align: left; font-size: 0.95em; }
table.nested { font-size: 0.95em; margin: 0; } table.nested th { font-weight: 500; }
table.facts th { background: none; border: none; padding: 0.1em 1em 0.1em 0; color: #555; font-weight: 500; }
table.facts td { border: none; padding: 0.1em 0; }
.columns { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
.pictures { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { margin: 0.6em 0; max-width: 100%; }
figcaption { color: #444; font-size: 0.9em; margin-top: 0.2em; } figcaption code { color: #777; }
img { max-width: 100%; height: auto; border: 1px solid #eceef0; }
pre { background: #f7f7f9; border: 1px solid #e3e6ea; padding: 0.7em 1em; white-space: pre-wrap;
      max-height: 32em; overflow: auto; font-size: 0.88em; line-height: 1.35; }
pre .wrong { color: #b00020; }
code, pre, .examples td { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.examples td { font-size: 0.9em; }
.muted { color: #777; }
"""


@dataclass
class _Picture:
    name: str  # path under plots/
    data: bytes
    mime: str

    @property
    def is_curve(self):
        return os.path.basename(self.name).startswith("curves")


@dataclass
class _Run:
    path: str
    config: dict
    summary: dict
    records: list
    pictures: list
    texts: dict = field(default_factory=dict)  # examples.txt / samples.txt -> text

    @property
    def recipe(self):
        return self.summary.get("recipe") or self.config.get("recipe") or os.path.basename(self.path.rstrip("/"))

    @property
    def status(self):
        return self.summary.get("status", "incomplete")


def _read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        try:
            value = json.load(f)
        except ValueError as e:
            raise ValueError(f"write_report: {path} is not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise ValueError(f"write_report: {path} should hold a JSON object, found {type(value).__name__}")
    return value


def _load(run_dir):
    from ..train.log import read_metrics

    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"write_report: no run folder at {run_dir!r}")
    if not any(os.path.exists(os.path.join(run_dir, name)) for name in ("config.json", "summary.json",
                                                                          "metrics.jsonl")):
        raise FileNotFoundError(f"write_report: {run_dir!r} holds no run (no config.json, summary.json or "
                                f"metrics.jsonl)")
    summary = _read_json(os.path.join(run_dir, "summary.json"))
    texts = {}
    for name in _RUN_TEXTS:
        if os.path.exists(os.path.join(run_dir, name)):
            with open(os.path.join(run_dir, name), encoding="utf-8") as f:
                texts[name] = f.read()
    return _Run(run_dir, _read_json(os.path.join(run_dir, "config.json")), summary,
                read_metrics(os.path.join(run_dir, "metrics.jsonl")), _pictures(run_dir, summary), texts)


def _pictures(run_dir, summary):
    """Every image under plots/: first in the order of summary.json's `plots` (curves first), then by path."""
    plots_dir = os.path.join(run_dir, "plots")
    found = {}
    for root, dirs, files in os.walk(plots_dir):
        dirs.sort()
        for name in sorted(files):
            mime = _IMAGE_TYPES.get(os.path.splitext(name)[1].lower())
            if mime:
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    name = os.path.relpath(full, plots_dir)
                    found[name] = _Picture(name, f.read(), mime)
    listed_dir = os.path.join(summary.get("run_dir") or run_dir, "plots")
    listed = [os.path.relpath(p, listed_dir) for p in summary.get("plots") or [] if isinstance(p, str)]
    order = [name for name in listed if name in found] + [name for name in found if name not in listed]
    return [found[name] for name in order]


# ---- sections ---------------------------------------------------------------------------------------------
def _header(run):
    """The recipe and status, why the run stopped (and how to continue it), the run folder and times."""
    s = run.summary
    status = run.status + (f" ({s['stopped_by']})" if s.get("stopped_by") else "")
    title = (f'<h1>{html.escape(run.recipe)}<span class="status status-{html.escape(run.status)}">'
             f"{html.escape(status)}</span></h1>")
    message = s.get("message")
    if not s:
        message = "no summary.json: the run is still going, or it was killed before its end"
    if run.status in ("stopped", "incomplete"):
        message = f"{message or run.status}; continue it with: glassnet train {run.recipe} --resume {run.path}"
    if message:
        title += f'<p class="message {html.escape(run.status)}">{html.escape(str(message))}</p>'
    return title + table_html(_facts(s, run.path), "facts")


def _facts(summary, path):
    facts = [("run folder", f"<code>{html.escape(os.path.abspath(path))}</code>")]
    for key, label, note in (("seconds", "wall time", "this invocation"),
                             ("train_seconds", "training time", "all sessions, evaluations excluded")):
        if summary.get(key) is not None:
            facts.append((label, f'{html.escape(duration(summary[key]))} <span class="muted">({note})</span>'))
    if summary.get("checkpoint"):
        facts.append(("checkpoint", f"<code>{html.escape(str(summary['checkpoint']))}</code>"))
    return facts


def _is_text(value):
    return isinstance(value, str) and ("\n" in value or len(value) > 120)


def _is_example_list(value):
    return isinstance(value, list) and value and all(isinstance(v, str) for v in value)


def _is_shown_file(run, value):
    """Whether value is the path of a file that the report shows (summary.json's examples: .../examples.txt)."""
    return isinstance(value, str) and os.path.basename(value) in {*run.texts, *(p.name for p in run.pictures)}


def _results(run):
    """The key results: the final test's metrics (or, for a run that did not finish, its last evaluation),
    the best value of the monitored metric, then the training's own figures."""
    training = [(k, v) for k, v in run.summary.items() if k in _TRAINING or k.endswith("_per_second")]
    groups = [_final_results(run), ("best during training (the monitored metric)", _best(run.summary), "best "),
              ("training", training, "")]
    body = []
    for title, rows, prefix in groups:
        if rows:
            body.append(f'<tr class="group"><th colspan="2">{html.escape(title)}</th></tr>')
            body.extend(f'<tr><th>{html.escape(prefix + readable(k))}</th><td class="num">{value_html(k, v)}</td></tr>'
                        for k, v in rows)
    if not body:
        why = "the run stopped before its first evaluation" if run.summary else "no summary.json and no evaluation"
        return f'<p class="muted">No results: {why}.</p>'
    return f'<table class="results">{"".join(body)}</table>'


def _final_results(run):
    """(title, rows, prefix) of the final results: summary.json's metrics, else the last evaluation's."""
    final = [(k, v) for k, v in run.summary.items() if k not in _HEADER + _TRAINING and k != "best"
             and not k.endswith("_per_second") and not _is_text(v) and not _is_example_list(v)
             and not _is_shown_file(run, v)]
    evals = [r for r in run.records if r.get("split") == "eval"]
    if final or not evals:
        return "final results", final, ""
    last = evals[-1]
    rows = [(k, v) for k, v in last.items() if k not in _NOT_RESULTS and not k.startswith("train_")
            and not k.endswith("_per_second")]
    return f"last evaluation, at step {last.get('step', '?')} (no final test: the run did not finish)", rows, ""


def _best(summary):
    best = summary.get("best")
    return list(best.items()) if isinstance(best, dict) else []


def _figure(picture, caption=None):
    """The picture embedded, captioned with `caption` or else its file's name and path."""
    uri = f"data:{picture.mime};base64,{base64.b64encode(picture.data).decode('ascii')}"
    text = html.escape(caption) if caption else \
        f"{html.escape(_caption(picture.name))} <code>plots/{html.escape(picture.name)}</code>"
    alt = html.escape(caption or _caption(picture.name))
    return f'<figure><img src="{uri}" alt="{alt}"><figcaption>{text}</figcaption></figure>'


def _caption(name):
    """'confusion_matrix.png' -> 'Confusion matrix', 'attention_0.png' -> 'Attention 0'."""
    words = re.sub(r"[_\-]+", " ", os.path.splitext(name)[0].replace(os.sep, " / ")).strip()
    return words[:1].upper() + words[1:]


def _curves(run):
    curves = [p for p in run.pictures if p.is_curve]
    if curves:
        return "".join(_figure(p) for p in curves)
    if not run.records:
        return '<p class="muted">No metrics were logged (metrics.jsonl is missing or empty).</p>'
    from ._figure import png_bytes
    from .plots import plot_training_curves

    drawn = _Picture("curves.png", png_bytes(plot_training_curves(run.records, title=run.recipe)), "image/png")
    return _figure(drawn, "Curves drawn from metrics.jsonl")


def _configuration(run):
    items = [(k, v) for k, v in run.config.items() if k != "recipe"]
    if not items:
        return '<p class="muted">No config.json.</p>'
    rows = [(f"<code>{html.escape(str(k))}</code>", value_html("", v)) for k, v in items]
    half = -(-len(rows) // 2) if len(rows) > 10 else len(rows)
    return '<div class="columns">' + "".join(table_html(rows[i:i + half]) for i in range(0, len(rows), half)) + "</div>"


def _other_pictures(run):
    others = [p for p in run.pictures if not p.is_curve]
    if not others:
        return f'<p class="muted">No {"other " if run.pictures else ""}pictures.</p>'
    return '<div class="pictures">' + "".join(_figure(p) for p in others) + "</div>"


def _texts(run):
    """Generated text and examples: summary entries that are text (unless a run file holds it: samples.txt
    holds the whole of summary.json's sample) or lists of strings, then the run's text files."""
    parts = []
    for k, v in run.summary.items():
        if k in _HEADER:
            continue
        if _is_text(v) and not any(v.strip() in text for text in run.texts.values()):
            parts.append(f"<h3>{html.escape(readable(k))}</h3>{_pre(html.escape(v))}")
        elif _is_example_list(v):
            parts.append(f"<h3>{html.escape(readable(k))}</h3>{_examples_table(v)}")
    for name, text in run.texts.items():
        if text.strip():
            parts.append(f"<h3><code>{html.escape(name)}</code></h3>{_pre(_marked_lines(text))}")
    return "".join(parts) or '<p class="muted">No samples or examples.</p>'


def _pre(escaped):
    """Preformatted text, every newline kept: a browser drops one newline right after <pre>, so one is added."""
    return f"<pre>\n{escaped}</pre>"


def _examples_table(lines):
    """One row per example; columns split at runs of three or more spaces when every example has as many."""
    cells = [re.split(r"\s{3,}", line.strip()) for line in lines]
    if len({len(c) for c in cells}) != 1:
        cells = [[line] for line in lines]
    body = "".join(f"<tr><td class=\"muted\">{i}</td>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for i, row in enumerate(cells, 1))
    return f'<table class="examples">{body}</table>'


def _marked_lines(text):
    """Escaped text in which the lines that end in WRONG (examples.txt) are marked."""
    return "\n".join(f'<span class="wrong">{html.escape(line)}</span>' if line.rstrip().endswith("WRONG")
                     else html.escape(line) for line in text.split("\n"))


def _log(run):
    """The last record of each split, side by side, and how many records there are."""
    if not run.records:
        return '<p class="muted">No metrics.jsonl records.</p>'
    last = {}
    for record in sorted(run.records, key=lambda r: r.get("split") != "train"):  # train first; stable
        last[record.get("split", "?")] = record
    fields = list(dict.fromkeys(k for r in last.values() for k in r if k != "split"))
    counts = ", ".join(f"{sum(r.get('split', '?') == split for r in run.records)} {split}" for split in last)
    head = "".join(f"<th>{html.escape(str(split))} (last)</th>" for split in last)
    body = "".join(f"<tr><th>{html.escape(readable(k))}</th>" +
                   "".join(f'<td class="num">{value_html(k, r[k]) if k in r else DASH}</td>' for r in last.values())
                   + "</tr>" for k in fields)
    return (f"<p>{len(run.records)} records in <code>metrics.jsonl</code> ({html.escape(counts)}).</p>"
            f'<table class="log"><tr><th></th>{head}</tr>{body}</table>')


_SECTIONS = (("results", "Key results", _results), ("curves", "Training curves", _curves),
             ("configuration", "Configuration", _configuration), ("pictures", "Pictures", _other_pictures),
             ("samples", "Samples and examples", _texts), ("log", "Metrics log", _log))


def render_report(run_dir):
    """The HTML text of the report for `run_dir`."""
    run = _load(run_dir)
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title, _ in _SECTIONS)
    sections = "\n".join(f'<section id="{key}"><h2>{title}</h2>\n{render(run)}</section>'
                         for key, title, render in _SECTIONS)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(run.recipe)}: run report</title><style>{_STYLE}</style></head>\n<body>\n"
            f"<header>{_header(run)}<nav>{nav}</nav></header>\n{sections}\n</body></html>\n")


def write_report(run_dir, path=None):
    """Write the report of `run_dir` to `path` (default run_dir/report.html, replaced atomically); return
    the path."""
    from ..train.log import write_text

    text = render_report(run_dir)
    path = os.fspath(path) if path is not None else os.path.join(os.fspath(run_dir), "report.html")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return write_text(path, text)
