"""The metrics log of a run: metrics.jsonl, one JSON object per line, appended as training goes.

Each record has a `split` ("train": the running training loss since the previous train record;
"eval": an evaluation) and the optimizer `step` it was written at; see glassnet.recipes.scaffold for
the fields. A resumed run first truncates the log to its checkpoint's step, so the log never holds
the same step twice. A line cut short by a killed process is skipped when reading.
"""
import json
import math
import os

__all__ = ["MetricsLog", "read_metrics", "json_safe", "write_text"]


def json_safe(value):
    """`value` with every NaN or infinity replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_text(path, text):
    """Write `text` to `path` through `path`.tmp and a rename: a kill leaves the old file or the new one."""
    tmp = os.fspath(path) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return os.fspath(path)


class MetricsLog:
    def __init__(self, path):
        self.path = os.fspath(path)

    def write(self, **record):
        line = json.dumps(json_safe(record)) + "\n"
        with open(self.path, "a") as f:
            f.write(line)

    def truncate_after(self, step):
        """Keep only the records up to `step` (a resumed run writes again what came after its checkpoint)."""
        rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        write_text(self.path, "".join(json.dumps(r) + "\n" for r in rows))


def read_metrics(path):
    """The records of a metrics log (an empty list when there is none); a cut-off last line is skipped."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # the partial line of a process killed while writing it
    return records
