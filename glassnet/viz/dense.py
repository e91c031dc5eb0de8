"""Pictures for dense predictions and for comparing networks: segmentation maps beside the truth, boxes with
labels and scores, training-loss curves of several runs, per-layer gradient norms of several networks.

Each function returns the matplotlib figure and, given `path`, also writes it.
"""
import numpy as np

from ._figure import as_array, finish, new_figure

__all__ = ["plot_segmentation", "plot_detections", "plot_loss_curves", "plot_layer_norms"]


def _class_colours(n):
    """n colours, black for class 0 (background), then tab10/tab20 hues."""
    from matplotlib import colormaps

    hues = colormaps["tab10" if n <= 11 else "tab20"]
    return np.array([[0, 0, 0, 1]] + [hues(i % hues.N) for i in range(n - 1)])


def plot_segmentation(images, predictions, targets, path=None, class_names=None, title="segmentation"):
    """One column per image: the input, the predicted class map, the true class map (N <= 8 images of
    (H, W) or (1, H, W); class maps (N, H, W) of ints, 0 the background)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    images = as_array(images).reshape(len(images), *np.shape(predictions)[-2:])
    n_classes = len(class_names) if class_names else int(max(np.max(predictions), np.max(targets))) + 1
    colours = _class_colours(n_classes)
    cmap = ListedColormap(colours)
    fig = new_figure((1.6 * len(images) + 1.6, 5.2))
    axes = fig.subplots(3, len(images), squeeze=False)
    for j in range(len(images)):
        for row, (picture, name) in enumerate(((images[j], "input"), (predictions[j], "prediction"),
                                               (targets[j], "ground truth"))):
            ax = axes[row, j]
            if row == 0:
                ax.imshow(picture, cmap="gray")
            else:
                ax.imshow(picture, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name)
    names = class_names or [str(c) for c in range(n_classes)]
    fig.legend([Patch(color=colours[c]) for c in range(n_classes)], names, loc="center right", fontsize=7,
               frameon=False)
    fig.suptitle(title)
    fig.subplots_adjust(right=0.86)
    return finish(fig, path)


def plot_detections(images, detections, targets=None, path=None, class_names=None, min_score=0.3, cols=4,
                    title="detections"):
    """Each image with its predicted boxes (solid, "label score") above `min_score`, and the true boxes
    (dashed) when `targets` is given. detections / targets: one dict per image with "boxes" (x1, y1, x2, y2)
    and "labels" (and "scores" for detections)."""
    from matplotlib.patches import Rectangle

    images = as_array(images)
    images = images.reshape(len(images), *images.shape[-2:])
    rows = -(-len(images) // cols)
    fig = new_figure((2.6 * cols, 2.7 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    name = (lambda c: class_names[c]) if class_names else str
    for ax, image, det, truth in zip(axes, images, detections, targets or [None] * len(images)):
        ax.imshow(image, cmap="gray")
        if truth is not None:
            for (x1, y1, x2, y2) in as_array(truth["boxes"]):
                ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ls="--", lw=1,
                                       color="#55a868"))
        for (x1, y1, x2, y2), label, score in zip(as_array(det["boxes"]), det["labels"], det["scores"]):
            if score < min_score:
                continue
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1.5, color="#dd8452"))
            ax.text(x1, y1 - 1.5, f"{name(int(label))} {score:.2f}", color="white", fontsize=7,
                    bbox=dict(facecolor="#dd8452", edgecolor="none", pad=1))
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])
    for ax in axes[len(images):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} (orange: predicted, label and score; green dashed: true)")
    return finish(fig, path)


def plot_loss_curves(curves, path=None, title="training loss", ylabel="training loss", log=True):
    """Several runs' curves on one axis: curves = {label: (steps, values)} (log scale when all are positive)."""
    fig = new_figure((6.5, 4.2))
    ax = fig.subplots()
    for label, (steps, values) in curves.items():
        ax.plot(steps, values, label=label, lw=1.6)
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    if log and all(np.min(v) > 0 for _, v in curves.values()):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return finish(fig, path)


def plot_layer_norms(norms, path=None, title="gradient norm of each layer at initialisation",
                     ylabel="gradient L2 norm of the layer's weight", xlabel="layer (1 = next to the input)"):
    """Lines over the layers, input side on the left: norms = {label: values per layer}; log scale."""
    fig = new_figure((7, 4.2))
    ax = fig.subplots()
    for label, values in norms.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, lw=1.4, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return finish(fig, path)
