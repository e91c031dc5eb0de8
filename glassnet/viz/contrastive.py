"""Pictures of contrastive models: the similarity matrix of images and captions, and of the two views of a batch."""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_similarity_matrix", "plot_view_similarities"]


def plot_similarity_matrix(similarity, images, captions, path=None, title="similarity"):
    """similarity (N, M) of N images (N, H, W), drawn down the left, and M captions, written along the top;
    each cell shows its value, the best caption of each image is framed."""
    similarity = np.asarray(similarity)
    n, m = similarity.shape
    fig = new_figure((2.2 + 0.75 * m, 1.6 + 0.62 * n))
    grid = fig.add_gridspec(n, 2, width_ratios=[1, m], wspace=0.02, hspace=0.05)
    ax = fig.add_subplot(grid[:, 1])
    ax.imshow(similarity, cmap="viridis", aspect="auto")
    for i in range(n):
        for j in range(m):
            ax.text(j, i, f"{similarity[i, j]:.2f}", ha="center", va="center", fontsize=6,
                    color="black" if similarity[i, j] > np.median(similarity) else "white")
        best = similarity[i].argmax()
        ax.add_patch(_frame(best, i))
    ax.set_xticks(range(m))
    ax.set_xticklabels(captions, rotation=60, ha="left", fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([])
    for i in range(n):
        thumb = fig.add_subplot(grid[i, 0])
        thumb.imshow(images[i], cmap="gray")
        thumb.axis("off")
    fig.suptitle(title, fontsize=9, y=0.02)
    return finish(fig, path)


def _frame(column, row):
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5)


def plot_view_similarities(matrices, titles, path=None):
    """Cosine similarities (2N, 2N) of the views z1 (rows and columns 0..N-1) and z2 (N..2N-1) of N images,
    one panel per matrix: NT-Xent wants the two off-diagonals (i, i + N) and (i + N, i), each view's partner,
    to stand out in every row."""
    fig = new_figure((4.6 * len(matrices), 4.2))
    for k, (m, title) in enumerate(zip(matrices, titles)):
        ax = fig.add_subplot(1, len(matrices), k + 1)
        image = ax.imshow(np.asarray(m), cmap="viridis", vmin=-1, vmax=1)
        n = len(m) // 2
        ax.axhline(n - 0.5, color="white", linewidth=0.8)
        ax.axvline(n - 0.5, color="white", linewidth=0.8)
        ax.set(title=title, xlabel="view (first views, then second views)", ylabel="view")
        ax.title.set_fontsize(9)
    fig.colorbar(image, ax=fig.axes, shrink=0.8, label="cosine similarity")
    return finish(fig, path)
