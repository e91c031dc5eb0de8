"""Plots of a training run: curves, confusion matrix, image grids, first-layer filters.

Each function returns the matplotlib figure and, given `path`, also writes it (.png or .svg).
`plot_training_curves` draws any run's metrics.jsonl (see glassnet.recipes.scaffold for its fields).
"""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_training_curves", "plot_curves", "plot_run_curves", "plot_confusion_matrix", "plot_image_grid",
           "plot_filters"]


_NOT_PLOTTED = ("split", "step", "epoch", "seconds", "eval_seconds", "lr")


def plot_training_curves(records, path=None, title="training"):
    """The curves of a run from its metrics.jsonl records, against the optimizer step.

    The first panel holds the losses: each training loss of the train records (running means: loss,
    or a GAN's d_loss and g_loss) and each evaluated loss. Then one panel per other evaluation metric,
    each on its own scale (accuracies and other fractions in %), with the train records' running value
    of the same metric beside it when there is one (accuracy beside test_accuracy); variants of one
    metric share a panel (test_accuracy_plain8 and test_accuracy_resnet8). A count that never changes
    (the number of test images) is no curve and is left out. Returns the figure; writes it to `path`
    when given."""
    evals = [r for r in records if r.get("split") == "eval"]
    train = _running_means([r for r in records if r.get("split") == "train"], evals)
    eval_keys = [k for k in _numeric_keys(evals) if not k.startswith("train_") and not _is_count(evals, k)]
    metrics = _panels([k for k in eval_keys if "loss" not in k])
    panels = 1 + len(metrics)
    cols = min(3, panels)
    rows = -(-panels // cols)
    fig = new_figure(((4.6 if cols <= 2 else 3.8) * cols + (1.0 if cols == 1 else 0), 3.2 * rows + 0.5))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True).ravel()
    _plot_losses(axes[0], train, evals, [k for k in eval_keys if "loss" in k])
    for ax, keys in zip(axes[1:], metrics):
        _plot_metrics(ax, train, evals, keys)
    for ax in axes[panels:]:
        fig.delaxes(ax)
    for ax in axes[:panels]:
        if ax.get_yscale() == "linear":
            ax.ticklabel_format(axis="y", useOffset=False)  # 1.0002, not 0.0002 and "+1" in a corner
        ax.grid(alpha=0.3)
        ax.set_xlabel("step")
        ax.tick_params(labelbottom=True)  # also above a deleted panel
        if len(ax.get_legend_handles_labels()[0]) > (0 if ax is axes[0] else 1):  # a metric's title names it
            ax.legend(fontsize=8)
    if panels == 1:
        axes[0].set_title(f"{title}: loss")
    else:
        fig.suptitle(title)
    return finish(fig, path)


def _running_means(train, evals):
    """The records of the training's running means: the train records, or, where the evaluations are
    more frequent, the means since the previous evaluation that each eval record holds (train_loss)."""
    if len(train) >= len(evals):
        return train
    return [{"step": r["step"], **{k[len("train_"):]: v for k, v in r.items() if k.startswith("train_")}}
            for r in evals]


def _numeric_keys(records):
    """The names of the numeric fields of `records` worth a curve, in order of appearance."""
    return list(dict.fromkeys(k for r in records for k, v in r.items() if k not in _NOT_PLOTTED
                              and not k.endswith("_per_second") and isinstance(v, (int, float))
                              and not isinstance(v, bool)))


def _is_count(records, key):
    values = {r[key] for r in records if r.get(key) is not None}
    return len(values) == 1 and float(next(iter(values))).is_integer()


def _series(records, key):
    """(steps, values) of the records that hold a value for key."""
    rows = [r for r in records if r.get(key) is not None]
    return [r["step"] for r in rows], np.asarray([r[key] for r in rows], dtype=float)


def _draw(ax, records, key, label, style, scale=1.0):
    steps, values = _series(records, key)
    if len(steps):
        ax.plot(steps, scale * values, style if len(steps) > 1 else "o", alpha=0.8, label=label)


def _plot_losses(ax, train, evals, eval_losses):
    """The training losses (running means) and the evaluated losses; a log scale when they fall enough."""
    for key in (k for k in _numeric_keys(train) if "loss" in k):
        _draw(ax, train, key, "train (running)" if key == "loss" else f"train {key} (running)", "-")
    for key in eval_losses:
        _draw(ax, evals, key, key, "o-")
    ax.set(ylabel="loss", title="loss")
    low, high = ax.dataLim.intervaly
    if ax.lines and low > 0 and high / low > 3:  # a log scale where the loss falls by more than a factor 3
        ax.set_yscale("log")
        _plain_log_labels(ax)


def _panels(metrics):
    """The metrics grouped into panels: the variants of one metric (test_accuracy_plain8,
    test_accuracy_resnet8: a metric's name and a suffix) together, every other metric alone."""
    from ._report_format import is_fraction

    bases = [key.rsplit("_", 1)[0] for key in metrics]
    shared = {b for b in bases if bases.count(b) > 1 and is_fraction(b)}
    groups = {}
    for key, base in zip(metrics, bases):
        groups.setdefault(base if base in shared else key, []).append(key)
    return list(groups.values())


def _plot_metrics(ax, train, evals, keys):
    """Evaluation metrics, each with the training's running value of the same metric when there is one
    (accuracy beside test_accuracy, train_return beside eval_return); fractions in %."""
    from ._report_format import in_percent, readable

    percent = all(in_percent(key, [float(v) for v in _series(evals, key)[1]]) for key in keys)
    scale = 100.0 if percent else 1.0
    for key in keys:
        running = key.split("_", 1)[1] if key.startswith(("test_", "val_", "eval_")) else None
        if running in _numeric_keys(train):
            _draw(ax, train, running, f"train {running} (running)", "-", scale)
        elif f"train_{running}" in _numeric_keys(evals):  # the mean since the previous evaluation
            _draw(ax, evals, f"train_{running}", f"train {running} (running)", "-", scale)
        _draw(ax, evals, key, key, "o-", scale)
    title = keys[0] if len(keys) == 1 else keys[0].rsplit("_", 1)[0]
    ax.set(title=readable(title), ylabel="%" if percent else None)


def _plain_log_labels(ax):
    """Label a log-scale y axis with plain numbers (0.3, 1, 2) instead of 3x10^-1; when it spans less than
    about a decade, label the ticks at 2, 3 and 5 times a power of ten too."""
    from matplotlib import ticker

    low, high = ax.get_ylim()
    few = high / low < 20

    def minor(value, _):
        mantissa = round(value / 10 ** np.floor(np.log10(value)))
        return f"{value:g}" if few and mantissa in (2, 3, 5) else ""

    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(ticker.FuncFormatter(minor))


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
