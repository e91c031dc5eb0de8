"""The metrics log of a run: one JSON object per line, appended as training goes."""
import json
import os


class MetricsLog:
    def __init__(self, path):
        self.path = os.fspath(path)

    def write(self, **record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_after(self, step):
        """Drop records past `step` (a resumed run rewrites what came after its checkpoint)."""
        rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        with open(self.path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)


def read_metrics(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
