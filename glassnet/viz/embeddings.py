"""Learned embeddings, seen in two dimensions."""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["principal_components", "plot_embeddings"]


def principal_components(points, k=2):
    """points (N, d) centred and projected on their k directions of largest variance (PCA by SVD) -> (N, k),
    and the fraction of the variance each direction explains."""
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:k].T, (s[:k] ** 2) / max((s ** 2).sum(), 1e-30)


def plot_embeddings(points, labels, path=None, title="embeddings", class_names=None, method="pca"):
    """A scatter plot of points (N, d) on their first two principal components (method "tsne": their t-SNE
    map, glassnet.viz.tsne), one colour per label (the view shows the central 99% of the points along each axis)."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"plot_embeddings: method must be 'pca' or 'tsne', got {method!r}")
    if method == "tsne":
        from .tsne import tsne

        xy = tsne(points)
    else:
        xy, explained = principal_components(np.asarray(points, np.float64))
    fig = new_figure((7, 6))
    ax = fig.add_subplot(1, 1, 1)
    for c in np.unique(labels):
        mask = labels == c
        name = class_names[c] if class_names is not None else f"class {c}"
        ax.scatter(xy[mask, 0], xy[mask, 1], s=6, alpha=0.7, label=name)
    low, high = np.percentile(xy, [0.5, 99.5], axis=0)  # a few outliers would squash the rest into a corner
    margin = 0.05 * (high - low)
    ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
    ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
    if method == "tsne":
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    else:
        ax.set_xlabel(f"principal component 1 ({100 * explained[0]:.0f}% of the variance)")
        ax.set_ylabel(f"principal component 2 ({100 * explained[1]:.0f}% of the variance)")
    ax.set_title(title, fontsize=10)
    ax.legend(markerscale=3, fontsize=8)
    return finish(fig, path)
