"""Activation statistics per layer, collected with forward hooks.

    monitor = viz.ActivationMonitor(model)       # hooks every leaf module (or the `modules` given)
    model(x)                                     # each forward records the layers' outputs
    monitor.stats["2"][-1]                       # {"mean", "std", "zero_fraction", "dead_fraction", ...}
    viz.plot_activations(monitor, "activations.png")
    monitor.remove()                             # or use it as a `with` block

Per layer output and forward call:
* mean, std           of all the output values (a healthy deep net keeps std roughly constant by depth);
* zero_fraction       fraction of values exactly 0;
* dead_fraction       fraction of units (positions of the output other than the batch dim) that are 0
                      for EVERY example of the batch: ReLU units that never fire get no gradient, so
                      they stay dead. Meaningful after ReLU-like layers;
* hist, edges         a 40-bin histogram of the values (NumPy's histogram, range = min..max).
"""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["ActivationMonitor", "activation_stats", "plot_activations"]


def activation_stats(y, bins=40):
    """The statistics above for one output array (batch first)."""
    y = np.asarray(y)
    flat = y.astype(np.float64, copy=False).reshape(-1)
    finite = flat[np.isfinite(flat)]
    zero = y == 0
    dead = float(zero.all(axis=0).mean()) if y.ndim >= 2 and y.shape[0] > 0 else float(zero.mean())
    hist, edges = np.histogram(finite, bins=bins) if finite.size else (np.zeros(bins, int), np.linspace(0, 1, bins + 1))
    return {"mean": float(flat.mean()), "std": float(flat.std()), "zero_fraction": float(zero.mean()),
            "dead_fraction": dead, "shape": tuple(y.shape), "hist": hist, "edges": edges}


class ActivationMonitor:
    """Forward hooks that record `activation_stats` of chosen layers' outputs, in model order.

    modules: None (every module without children), a list of names from named_modules(), or a
    tuple of Module classes (e.g. (nn.ReLU,)). `keep`: how many forward calls to keep per layer.
    """

    def __init__(self, model, modules=None, keep=100, bins=40):
        from ..nn.modules.module import Module

        self.model, self.keep, self.bins = model, keep, bins
        named = list(model.named_modules())
        if modules is None:
            chosen = [(n, m) for n, m in named if not any(True for _ in m.children()) and n != ""] or named[:1]
        elif isinstance(modules, tuple) and all(isinstance(c, type) for c in modules):
            chosen = [(n, m) for n, m in named if isinstance(m, modules)]
        else:
            lookup = dict(named)
            missing = [n for n in modules if n not in lookup]
            if missing:
                raise KeyError(f"ActivationMonitor: no module named {missing} in the model; "
                               f"known: {[n for n, _ in named]}")
            chosen = [(n, lookup[n]) for n in modules]
        if not chosen or not all(isinstance(m, Module) for _, m in chosen):
            raise ValueError("ActivationMonitor: no modules to watch")
        self.names = [n or type(m).__name__ for n, m in chosen]
        self.kinds = {n or type(m).__name__: type(m).__name__ for n, m in chosen}
        self.stats = {n: [] for n in self.names}
        self._handles = [m.register_forward_hook(self._hook(name)) for name, (_, m) in zip(self.names, chosen)]

    def _hook(self, name):
        def record(module, args, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            data = getattr(out, "array", None)
            if isinstance(data, np.ndarray):
                rows = self.stats[name]
                rows.append(activation_stats(data, self.bins))
                del rows[:-self.keep]

        return record

    def latest(self):
        """{layer name: the stats of its last recorded output}."""
        return {n: rows[-1] for n, rows in self.stats.items() if rows}

    def remove(self):
        """Unregister the hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def table(self):
        """A text table of the latest stats, one line per layer."""
        lines = [f"{'layer':<16}{'module':<14}{'shape':<18}{'mean':>10}{'std':>10}{'zero %':>9}{'dead %':>9}"]
        for name, s in self.latest().items():
            lines.append(f"{name:<16}{self.kinds[name]:<14}{str(s['shape']):<18}{s['mean']:>10.4f}{s['std']:>10.4f}"
                         f"{100 * s['zero_fraction']:>9.1f}{100 * s['dead_fraction']:>9.1f}")
        return "\n".join(lines)


def plot_activations(monitor, path=None, cols=4):
    """One histogram per watched layer (latest forward), titled with mean, std and dead fraction."""
    latest = monitor.latest() if isinstance(monitor, ActivationMonitor) else dict(monitor)
    if not latest:
        raise ValueError("plot_activations: nothing recorded yet (run a forward pass through the model)")
    n = len(latest)
    cols = min(cols, n)
    rows = -(-n // cols)
    fig = new_figure((3.2 * cols, 2.5 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    kinds = monitor.kinds if isinstance(monitor, ActivationMonitor) else {}
    for ax, (name, s) in zip(axes.flat, latest.items()):
        edges = s["edges"]
        ax.bar(edges[:-1], s["hist"], width=np.diff(edges), align="edge", color="#55a868", alpha=0.85)
        kind = f" ({kinds[name]})" if name in kinds else ""
        ax.set_title(f"{name}{kind}\nmean {s['mean']:.3g}  std {s['std']:.3g}  dead {100 * s['dead_fraction']:.0f}%",
                     fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("activations per layer")
    fig.tight_layout()
    return finish(fig, path)
