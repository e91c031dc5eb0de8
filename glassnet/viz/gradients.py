"""Gradient flow: per-layer gradient norms and update-to-weight ratios over training.

    monitor = viz.GradientMonitor(model)
    for x, y in loader:
        optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()
        monitor.record()                      # after the step: reads .grad and the weight change
    viz.plot_gradient_flow(monitor, "gradient_flow.png")

What is recorded for each parameter with a gradient, at each `record()`:

* grad_norm     ||g||_2, the L2 norm of its .grad;
* update_ratio  ||w_now - w_before|| / ||w_before||, where w_before is the value at the previous
                `record()` (or at construction): the relative size of the optimizer's step. Around 1e-3
                per step is the usual healthy range; much smaller means the layer barely learns, much
                larger that it is being thrown around.

Warnings (`warnings.warn`, once per parameter and kind): a gradient norm below
`vanish_threshold` = 1e-7 means the gradient has vanished (that layer no longer learns; typical of
deep sigmoid/tanh stacks); above `explode_threshold` = 1e3 it is exploding (lower the learning rate,
clip the gradient norm, normalise). Both thresholds can be changed in the constructor.
"""
import warnings

import numpy as np

from ._figure import finish, new_figure

__all__ = ["GradientMonitor", "plot_gradient_flow", "VANISH_THRESHOLD", "EXPLODE_THRESHOLD"]

VANISH_THRESHOLD = 1e-7
EXPLODE_THRESHOLD = 1e3


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


class GradientMonitor:
    """Record gradient norms and update-to-weight ratios of `model`'s parameters at each `record()`."""

    def __init__(self, model, vanish_threshold=VANISH_THRESHOLD, explode_threshold=EXPLODE_THRESHOLD):
        self.model = model
        self.vanish_threshold = vanish_threshold
        self.explode_threshold = explode_threshold
        self.history = []  # one dict per record: {"step", "grad_norm": {name: v}, "update_ratio": {name: v}}
        self._before = {name: p.array.copy() for name, p in model.named_parameters()}
        self._warned = set()

    def record(self, step=None):
        """Read every parameter's gradient norm and its change since the last record; return the entry."""
        grad_norm, update_ratio = {}, {}
        for name, p in self.model.named_parameters():
            before = self._before.get(name)
            if before is not None and before.shape == p.array.shape:
                base = _norm(before)
                update_ratio[name] = _norm(p.array - before) / base if base > 0 else float("nan")
            self._before[name] = p.array.copy()
            if p.grad is not None:
                grad_norm[name] = _norm(p.grad.array)
        entry = {"step": len(self.history) if step is None else step, "grad_norm": grad_norm,
                 "update_ratio": update_ratio}
        self.history.append(entry)
        self._check(grad_norm, entry["step"])
        return entry

    def _check(self, grad_norm, step):
        for kind, bad in (("vanishing", {n: v for n, v in grad_norm.items() if v < self.vanish_threshold}),
                          ("exploding", {n: v for n, v in grad_norm.items()
                                         if v > self.explode_threshold or not np.isfinite(v)})):
            new = {n: v for n, v in bad.items() if (n, kind) not in self._warned}
            if not new:
                continue
            self._warned.update((n, kind) for n in new)
            limit = (f"< {self.vanish_threshold:g}" if kind == "vanishing" else f"> {self.explode_threshold:g}")
            listed = ", ".join(f"{n} ({v:.3g})" for n, v in new.items())
            advice = ("those layers have stopped learning; try ReLU-like activations, He init, residual "
                      "connections or normalisation" if kind == "vanishing" else
                      "lower the learning rate, clip the gradient norm or add normalisation")
            warnings.warn(f"GradientMonitor: {kind} gradients at step {step}: norm {limit} in {listed}; {advice}",
                          RuntimeWarning, stacklevel=3)

    def names(self):
        """Parameter names in model order that have at least one recorded gradient."""
        seen = dict.fromkeys(n for e in self.history for n in e["grad_norm"])
        return [n for n, _ in self.model.named_parameters() if n in seen]

    def series(self, name, what="grad_norm"):
        """(steps, values) of one parameter's `what` ("grad_norm" or "update_ratio") over the records."""
        rows = [(e["step"], e[what][name]) for e in self.history if name in e[what]]
        return np.array([r[0] for r in rows]), np.array([r[1] for r in rows], dtype=float)


def _current_grad_norms(model):
    return {n: _norm(p.grad.array) for n, p in model.named_parameters() if p.grad is not None}


def plot_gradient_flow(source, path=None, title="gradient flow"):
    """Per-layer gradient norms (and, from a GradientMonitor, update ratios over steps); returns the figure.

    `source`: a GradientMonitor, or a Module whose parameters hold .grad (one snapshot). Left panel:
    each parameter's latest gradient norm (bar, log scale) with the min-max range over the records and
    the vanishing/exploding thresholds. Right panel (monitor only): update/weight ratios per step.
    """
    if isinstance(source, GradientMonitor):
        names = source.names()
        latest = {n: source.series(n)[1][-1] for n in names}
        lo = {n: np.nanmin(source.series(n)[1]) for n in names}
        hi = {n: np.nanmax(source.series(n)[1]) for n in names}
        monitor, vanish, explode = source, source.vanish_threshold, source.explode_threshold
    else:
        latest = _current_grad_norms(source)
        names, lo, hi = list(latest), latest, latest
        monitor, vanish, explode = None, VANISH_THRESHOLD, EXPLODE_THRESHOLD
    if not names:
        raise ValueError("plot_gradient_flow: no parameter has a gradient yet (run backward, then record)")
    fig = new_figure((12 if monitor else 7, 4.2))
    axes = fig.subplots(1, 2 if monitor else 1, squeeze=False)[0]
    ax = axes[0]
    k = np.arange(len(names))
    values = np.array([latest[n] for n in names])
    floor = max(vanish / 10, np.nanmin(values[values > 0]) / 10 if (values > 0).any() else vanish)
    ax.bar(k, np.maximum(values, floor), color="#4c72b0", alpha=0.85, label="latest")
    if monitor is not None:
        low = np.array([lo[n] for n in names])
        high = np.array([hi[n] for n in names])
        ax.vlines(k, np.maximum(low, floor), np.maximum(high, floor), color="black", lw=1.5,
                  label="range over steps")
    ax.axhline(vanish, color="#c44e52", ls="--", lw=1, label=f"vanishing < {vanish:g}")
    ax.axhline(explode, color="#dd8452", ls="--", lw=1, label=f"exploding > {explode:g}")
    ax.set_yscale("log")
    ax.set_xticks(k, names, rotation=70, fontsize=7)
    ax.set(ylabel="gradient L2 norm", title=title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
    if monitor is not None:
        ax2 = axes[1]
        for n in names:
            steps, ratios = monitor.series(n, "update_ratio")
            keep = ratios > 0
            if keep.any():
                ax2.plot(steps[keep], ratios[keep], lw=1, label=n)
        ax2.axhline(1e-3, color="gray", ls=":", lw=1)
        ax2.set_yscale("log")
        ax2.set(xlabel="step", ylabel="||update|| / ||weight||", title="update-to-weight ratio")
        ax2.grid(alpha=0.3)
        if len(names) <= 12:
            ax2.legend(fontsize=6)
    return finish(fig, path)
