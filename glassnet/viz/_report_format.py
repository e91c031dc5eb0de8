"""How the run report shows a value: readable names, numbers with their units, and nested values as small
HTML tables (never a raw dict or list).

The rules are general, driven by a metric's name, so that every recipe's summary reads well:
    *_seconds, seconds        a duration (12.3 s, 4 min 05 s, 1 h 02 min)
    <unit>_per_second         a throughput (717 img/s)
    accuracy, exact_match, iou, map, ap50, precision, recall, f1, wer, cer, error rate
                              a fraction, shown in % when it lies in [0, 1]
    None, NaN                 "—"
"""
import html
import math
import re

__all__ = ["readable", "format_value", "number", "duration", "value_html", "table_html", "grid_html", "is_fraction",
           "in_percent", "is_scalar"]

DASH = "\u2014"

_NAMES = {"lr": "learning rate", "seconds": "training time", "train_seconds": "training time",
          "eval_seconds": "evaluation time", "steps": "optimizer steps", "step": "step"}
_WORDS = {"val": "validation", "lr": "learning rate", "img": "images", "seq": "sequences", "tok": "tokens",
          "char": "characters", "iou": "IoU", "map": "mAP", "map50": "mAP@0.5", "map75": "mAP@0.75",
          "ap50": "AP@0.5", "wer": "WER", "cer": "CER", "nll": "NLL", "elbo": "ELBO", "psnr": "PSNR",
          "fid": "FID", "kl": "KL"}
_FRACTION = re.compile(r"(accuracy|exact_match|iou|(^|_)m?ap\d*($|_)|precision|recall|(^|_)f1($|_)|(^|_)[wc]er($|_)"
                       r"|error_rate)")
_RATE = re.compile(r"((^|_)[wc]er($|_)|error_rate)")  # error rates: fractions that may exceed 1 (WER 1.2 = 120 %)


def readable(name):
    """'test_accuracy' -> 'test accuracy', 'img_per_second' -> 'images per second', 'lr' -> 'learning rate'."""
    name = str(name)
    if name in _NAMES:
        return _NAMES[name]
    if name.endswith("_per_second"):
        return f"{readable(name[: -len('_per_second')])} per second"
    return " ".join(_WORDS.get(word, word) for word in name.split("_")) if "_" in name or name in _WORDS else name


def is_fraction(name):
    """Whether a metric of this name is a fraction (shown in % when it lies in [0, 1])."""
    return bool(_FRACTION.search(str(name)))


def in_percent(name, values):
    """Whether these values of the metric `name` are shown in %: fractions in [0, 1], error rates >= 0."""
    top = math.inf if _RATE.search(str(name)) else 1
    return is_fraction(name) and all(isinstance(v, float) and 0 <= v <= top for v in values)


def is_scalar(value):
    return value is None or isinstance(value, (bool, int, float, str))


def format_value(name, value):
    """A scalar as text, with the unit its name implies."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value if value != "" else DASH
    if isinstance(value, float) and math.isinf(value):
        return "\u221e" if value > 0 else "\u2212\u221e"
    name = str(name)
    if name == "seconds" or name.endswith("_seconds"):
        return duration(value)
    if name.endswith("_per_second"):
        return (f"{value:,.0f}" if value >= 100 else number(value)) + f" {name[: -len('_per_second')]}/s"
    if in_percent(name, [value]):
        return f"{100 * value:.2f} %"
    if isinstance(value, int):
        return f"{value:,}"
    return number(value)


def number(value):
    """A float with four significant digits, in scientific notation only when very large or small."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.3g}"
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def duration(seconds):
    """12.3 s, 4 min 05 s, 1 h 02 min."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def value_html(name, value):
    """Any JSON value as HTML: a scalar as escaped text, a dict or list as a small table."""
    if is_scalar(value):
        return html.escape(format_value(name, value))
    if not value:
        return "none"  # wrong_examples: [] - nothing was wrong
    if isinstance(value, dict):
        return _dict_html(name, value)
    if all(is_scalar(v) for v in value):
        shown = ", ".join(format_value(name, v) for v in value[:12])
        return html.escape(shown + (f", \u2026 ({len(value)} values)" if len(value) > 12 else ""))
    if all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(k for row in value for k in row))
        return grid_html(columns, [[row.get(k) for k in columns] for row in value], "nested")
    return "<br>".join(value_html(name, v) for v in value)


def _dict_html(name, mapping):
    """A flat dict of a few scalars as one header row over one value row; anything else as name | value rows.
    The values keep the parent's name for their units (test_iou_per_class -> % values)."""
    if mapping and len(mapping) <= 12 and all(is_scalar(v) for v in mapping.values()):
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in mapping)
        cells = "".join(f"<td>{value_html(_unit_name(name, k), v)}</td>" for k, v in mapping.items())
        return f'<table class="nested"><tr>{head}</tr><tr>{cells}</tr></table>'
    return table_html([(html.escape(str(k)), value_html(_unit_name(name, k), v)) for k, v in mapping.items()],
                      "nested")


def _unit_name(parent, key):
    """The name whose unit rule applies to an entry of a nested value: the key when it names a metric
    (best: {val_loss: ...}), else the parent's (test_iou_per_class: {'3': 0.8})."""
    key = str(key)
    return key if "_" in key or is_fraction(key) else parent


def table_html(rows, css="keyvalue"):
    """(name html, value html) pairs as a two-column table."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{css}">{body}</table>'


def grid_html(columns, rows, css="grid"):
    """Rows of values under a header of readable column names."""
    head = "".join(f"<th>{html.escape(readable(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{value_html(c, v)}</td>" for c, v in zip(columns, row)) + "</tr>"
                   for row in rows)
    return f'<table class="{css}"><tr>{head}</tr>{body}</table>'

