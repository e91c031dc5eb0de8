"""Several methods compared over repeated runs: a bar for each method's mean, a dot for each run."""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_runs_per_method"]


def plot_runs_per_method(results, path=None, title="", ylabel="accuracy", percent=True, colors=None):
    """results = {method: [value of each run]}: bars at the means (labelled mean +- std), the runs as dots
    (spread sideways so that equal values stay visible), methods left to right in the dict's order.
    colors: one matplotlib colour per method (default: the colour cycle)."""
    fig = new_figure((1.6 * len(results) + 2.4, 4.2))
    ax = fig.subplots()
    scale = 100 if percent else 1
    jitter = np.random.default_rng(0)  # a fixed sideways spread: the same picture for the same numbers
    colors = colors or [f"C{i}" for i in range(len(results))]
    for i, ((method, values), color) in enumerate(zip(results.items(), colors)):
        values = scale * np.asarray(values, dtype=float)
        mean, std = values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0
        ax.bar(i, mean, width=0.6, color=color, alpha=0.35, edgecolor=color)
        ax.plot(i + jitter.uniform(-0.15, 0.15, len(values)), values, "o", color=color, ms=5)
        ax.text(i, mean, f"{mean:.1f}" + (f" ± {std:.1f}" if len(values) > 1 else ""), ha="center", va="bottom",
                fontsize=9, fontweight="bold")
    ax.set_xticks(range(len(results)), [m.replace("_", " ") for m in results])
    ax.set(ylabel=ylabel + (" (%)" if percent else ""), title=title)
    low = min(scale * min(v) for v in results.values())
    ax.set_ylim(max(0.0, low - 0.1 * scale), scale * 1.02 if percent else None)
    ax.grid(axis="y", alpha=0.3)
    return finish(fig, path)
