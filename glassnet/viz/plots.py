"""Plots of a training run: curves, confusion matrix, image grids, first-layer filters.

Each function returns the matplotlib figure and, given `path`, also writes it (.png or .svg).
`plot_training_curves` draws any run's metrics.jsonl (see glassnet.recipes.scaffold for its fields).
"""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_training_curves", "plot_curves", "plot_run_curves", "plot_confusion_matrix", "plot_image_grid", "plot_filters"]


_NOT_PLOTTED = ("split", "step", "epoch", "seconds", "eval_seconds", "lr")


def plot_training_curves(records, path=None, title="training"):
    """The curves of a run from its metrics.jsonl records: on the left the training loss (train records)
    and every evaluated loss against the step; on the right the other evaluation metrics (accuracies in
    %) and the training accuracy when there is one. Returns the figure; writes it to `path` when given."""
    train = [r for r in records if r.get("split") == "train" and r.get("loss") is not None]
    evals = [r for r in records if r.get("split") == "eval"]
    keys = list(dict.fromkeys(k for r in evals for k in r if k not in _NOT_PLOTTED and not k.startswith("train_")
                              and not k.endswith("_per_second")))
    losses, others = [k for k in keys if "loss" in k], [k for k in keys if "loss" not in k]
    right = others or any("accuracy" in r for r in train)
    fig = new_figure((10 if right else 5.5, 3.8))
    axes = fig.subplots(1, 2 if right else 1, squeeze=False)[0]
    ax = axes[0]
    if train:
        ax.plot([r["step"] for r in train], [r["loss"] for r in train], "-", alpha=0.6, label="train (running)")
    for k in losses:
        rows = [r for r in evals if r.get(k) is not None]
        ax.plot([r["step"] for r in rows], [r[k] for r in rows], "o-", label=k)
    ax.set(xlabel="step", ylabel="loss", title=title)
    if train and min(r["loss"] for r in train) > 0:
        ax.set_yscale("log")
    if right:
        _plot_metrics(axes[1], train, evals, others)
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    return finish(fig, path)


def _plot_metrics(ax, train, evals, keys):
    """Evaluation metrics (fractions shown in %) and the running training accuracy, against the step."""
    series = [("train accuracy (running)", "-", [(r["step"], r["accuracy"]) for r in train if "accuracy" in r])]
    series += [(k, "o-", [(r["step"], r[k]) for r in evals if r.get(k) is not None]) for k in keys]
    for label, style, points in series:
        if not points:
            continue
        steps, values = zip(*points)
        values = np.asarray(values, dtype=float)
        scale = 100 if values.max() <= 1 and values.min() >= 0 else 1
        ax.plot(steps, scale * values, style, alpha=0.85, label=label + (" (%)" if scale == 100 else ""))
    ax.set(xlabel="step", title="evaluation")


def plot_curves(records, path=None):
    """Loss and accuracy against training step, from the records of a metrics log (split train / test)."""
    fig = new_figure((10, 3.8))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for split, style in (("train", "-"), ("test", "o-")):
        rows = [r for r in records if r.get("split") == split and "loss" in r]
        if not rows:
            continue
        steps = [r["step"] for r in rows]
        ax_loss.plot(steps, [r["loss"] for r in rows], style, label=split, alpha=0.85)
        if "accuracy" in rows[0]:
            ax_acc.plot(steps, [100 * r["accuracy"] for r in rows], style, label=split, alpha=0.85)
    ax_loss.set(xlabel="step", ylabel="loss", title="loss")
    if any(r.get("loss", 0) > 0 for r in records):
        ax_loss.set_yscale("log")
    ax_acc.set(xlabel="step", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    return finish(fig, path)


def plot_run_curves(run_dir, path=None):
    """`plot_curves` from the metrics.jsonl of a run folder."""
    import os

    from ..train.log import read_metrics

    metrics = os.path.join(os.fspath(run_dir), "metrics.jsonl")
    records = read_metrics(metrics)
    if not records:
        raise FileNotFoundError(f"plot_run_curves: no records in {metrics}")
    return plot_curves(records, path)


def plot_confusion_matrix(counts, path=None, class_names=None):
    """counts[i, j] = examples of true class i predicted as j, with the counts written in the cells."""
    counts = np.asarray(counts)
    n = counts.shape[0]
    names = class_names or [str(i) for i in range(n)]
    fig = new_figure((5.5, 5))
    ax = fig.add_subplot()
    ax.imshow(np.log1p(counts), cmap="Blues")
    for i in range(n):  # one label per cell (n <= a few dozen classes)
        for j in range(n):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if i == j else "black")
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title="confusion matrix (test)")
    ax.set_xticklabels(names)
    ax.set_yticklabels(names)
    return finish(fig, path)


def plot_image_grid(images, titles=None, path=None, title=None, cols=8, cmap="gray"):
    """Small images (N, H, W) in a grid, each with an optional caption."""
    images = np.asarray(images)
    n = len(images)
    titles = list(titles) if titles is not None else [""] * n
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    fig = new_figure((cols * 1.3, rows * 1.5))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, caption in zip(axes.flat, images, titles):
        ax.imshow(img, cmap=cmap)
        ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def plot_filters(weight, path=None, title="first-layer filters"):
    """First-layer weights as images: conv kernels (O, C, kh, kw) (channel 0) or linear rows as squares."""
    from ._figure import as_array

    w = as_array(weight)
    if w.ndim == 4:
        w = w[:, 0]
    elif w.ndim == 2:
        side = int(round(np.sqrt(w.shape[1])))
        w = w[:64, : side * side].reshape(-1, side, side)
    elif w.ndim != 3:
        raise ValueError(f"plot_filters: expected conv weights (O, C, kh, kw) or linear weights (O, I), got {w.shape}")
    w = w[:64]
    return plot_image_grid(w, [""] * len(w), path, title=title)
