"""Progress bars (tqdm): one for training steps, one for each evaluation.

The training bar counts optimizer steps and shows the loss, the learning rate and the throughput in
the run's own unit (img/s for images, char/s or tok/s for text, seq/s for problems). The time spent
in evaluations is left out of the throughput and of the time left: `with bar.paused():` around an
evaluation restarts tqdm's clock afterwards, so the estimate does not jump after each evaluation.
"""
import contextlib
import sys
import time

__all__ = ["Progress", "progress_bar"]


def _tqdm(**kwargs):
    from tqdm.auto import tqdm

    return tqdm(dynamic_ncols=True, mininterval=0.5, file=sys.stderr, **kwargs)


class Progress:
    def __init__(self, total, desc, unit="item", initial=0):
        self.bar = _tqdm(total=total, initial=initial, desc=desc, unit="step", leave=True)
        self.unit = unit
        self.items = 0
        self.start = time.perf_counter()
        self.paused_seconds = 0.0

    @property
    def seconds(self):
        """Wall time since the bar started, evaluation pauses left out."""
        return max(time.perf_counter() - self.start - self.paused_seconds, 1e-9)

    @property
    def rate(self):
        """Items (images, characters, tokens, problems) per second of training."""
        return self.items / self.seconds

    def update(self, items, **values):
        self.items += items
        shown = {k: f"{v:.4g}" for k, v in values.items()}
        shown[f"{self.unit}/s"] = f"{self.rate:.0f}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def write(self, text):
        self.bar.write(text, file=sys.stderr)

    @contextlib.contextmanager
    def paused(self):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.paused_seconds += time.perf_counter() - began
            self.bar.unpause()

    def close(self):
        self.bar.close()


def progress_bar(iterable, desc, total=None, unit="batch"):
    """`iterable` with a transient bar (gone when done), for evaluations."""
    return _tqdm(iterable=iterable, desc=desc, total=total, unit=unit, leave=False)
