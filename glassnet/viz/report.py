"""One self-contained HTML page for a training run (`glassnet report <run>`).

It reads the run folder written by the recipes (config.json, metrics.jsonl, summary.json, plots/)
and writes run_dir/report.html: the final metrics, the configuration, the training curves (drawn from
metrics.jsonl unless plots/curves.png exists) and every picture under plots/, embedded as base64
(PNG, JPEG, SVG), so the file can be mailed or archived on its own.
"""
import base64
import html
import json
import os

__all__ = ["write_report", "render_report"]

_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

_STYLE = """
body { font-family: -apple-system, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
th { background: #f4f4f4; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _table(mapping):
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                   for k, v in mapping.items())
    return f"<table>{rows}</table>"


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def _figure(data, mime, caption):
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _pictures(plots_dir):
    """(relative name, bytes, mime) of every image under plots_dir, sorted by path."""
    found = []
    for root, dirs, files in os.walk(plots_dir):
        dirs.sort()
        for name in sorted(files):
            mime = _IMAGE_TYPES.get(os.path.splitext(name)[1].lower())
            if mime:
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    found.append((os.path.relpath(full, plots_dir), f.read(), mime))
    return found


def render_report(run_dir):
    """The HTML text of the report for `run_dir`."""
    from ..train.log import read_metrics
    from ._figure import png_bytes
    from .plots import plot_curves

    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"write_report: no run folder at {run_dir!r}")
    config = _read_json(os.path.join(run_dir, "config.json"))
    summary = _read_json(os.path.join(run_dir, "summary.json"))
    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    pictures = _pictures(os.path.join(run_dir, "plots"))
    title = (summary or {}).get("recipe") or (config or {}).get("recipe") or os.path.basename(run_dir.rstrip("/"))
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(str(title))} report</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(str(title))}</h1>",
             f"<p>run folder: <code>{html.escape(os.path.abspath(run_dir))}</code></p>"]
    parts.append("<h2>Final metrics</h2>")
    parts.append(_table(summary) if summary else "<p>No summary.json (the run did not finish).</p>")
    if records:
        last = {}
        for r in records:
            last[r.get("split", "?")] = r
        parts.append("<h2>Last logged records</h2>")
        parts.extend(f"<h3>{html.escape(str(split))}</h3>{_table(r)}" for split, r in last.items())
    parts.append("<h2>Training curves</h2>")
    has_curves = any(os.path.basename(name) == "curves.png" for name, _, _ in pictures)
    if records and not has_curves:
        parts.append(_figure(png_bytes(plot_curves(records)), "image/png", "loss and accuracy (metrics.jsonl)"))
    elif not records and not has_curves:
        parts.append("<p>No metrics.jsonl records.</p>")
    if pictures:
        parts.append("<h2>Pictures</h2>")
        parts.extend(_figure(data, mime, f"plots/{name}") for name, data, mime in pictures)
    parts.append("<h2>Configuration</h2>")
    parts.append(_table(config) if config else "<p>No config.json.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(run_dir, path=None):
    """Write the report of `run_dir` to `path` (default run_dir/report.html); return the path."""
    text = render_report(run_dir)
    path = os.fspath(path) if path is not None else os.path.join(os.fspath(run_dir), "report.html")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
