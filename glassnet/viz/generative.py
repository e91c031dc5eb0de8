"""Pictures of generative models: digits in grids and labelled rows, a 2-D latent walk, the reverse chain
of a diffusion model, an animation of samples during training, the losses of a GAN's players.

Images are (N, 28, 28) or (N, 1, 28, 28) arrays or Tensors with values in [0, 1] (black 0, white 1:
shown as ink on paper, dark on light). Each function returns its matplotlib figure and writes it to
`path` when given (the GIF: `path` is required).
"""
import numpy as np

from ._figure import as_array, finish, new_figure

__all__ = ["tile", "plot_digit_grid", "plot_digit_rows", "plot_latent_walk", "plot_chain",
           "save_animation", "plot_players"]


def _images(images):
    x = as_array(images)
    return x[:, 0] if x.ndim == 4 else x  # (N, H, W)


def tile(images, cols, gap=2):
    """One (rows * (H + gap) - gap, cols * (W + gap) - gap) array of the images, row by row; the gaps
    and missing cells are 0.5 (grey)."""
    x = _images(images)
    n, h, w = x.shape
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), 0.5)
    for i, img in enumerate(x):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = img
    return out


def _show(ax, picture):
    ax.imshow(1 - picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_digit_grid(images, path=None, title=None, cols=10):
    """The images in a grid of `cols` columns."""
    picture = tile(images, cols)
    fig = new_figure((0.5 + picture.shape[1] / 40, 0.6 + picture.shape[0] / 40))
    ax = fig.add_subplot()
    _show(ax, picture)
    if title:
        ax.set_title(title, fontsize=10)
    return finish(fig, path)


def plot_digit_rows(rows, path=None, title=None):
    """Rows of digits, each labelled on the left: `rows` is {label: images}, e.g. noisy / denoised / clean."""
    pictures = {label: tile(images, len(_images(images))) for label, images in rows.items()}
    width = max(p.shape[1] for p in pictures.values())
    fig = new_figure((1.2 + width / 40, 0.3 + 0.8 * len(pictures)))
    axes = fig.subplots(len(pictures), 1, squeeze=False)[:, 0]
    for ax, (label, picture) in zip(axes, pictures.items()):
        _show(ax, picture)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path)


def plot_latent_walk(images, extent, path=None, title="the decoder over a grid of latent points"):
    """images (n * n, 28, 28): the decoder's output at the points of an n x n grid in a 2-D latent space,
    row by row from the top (z2 falling) and left to right (z1 rising); extent = (z_min, z_max)."""
    x = _images(images)
    n = int(round(len(x) ** 0.5))
    picture = tile(x, n, gap=0)
    fig = new_figure((5.5, 5.5))
    ax = fig.add_subplot()
    ax.imshow(1 - picture, cmap="gray", vmin=0, vmax=1, extent=(extent[0], extent[1], extent[0], extent[1]))
    ax.set(xlabel="z1", ylabel="z2", title=title)
    return finish(fig, path)


def plot_chain(chain, labels, path=None, title="diffusion: x_t at a few timesteps t"):
    """chain (K, N, 28, 28): N samples at K moments of the reverse process (values outside [0, 1]
    clipped), `labels` the K column titles (the timesteps); one row per sample."""
    chain = np.stack([_images(c) for c in chain])  # (K, N, H, W)
    k, n = chain.shape[:2]
    fig = new_figure((0.8 * k + 0.3, 0.8 * n + 0.5))
    axes = fig.subplots(n, k, squeeze=False)
    for j in range(k):
        for i in range(n):
            _show(axes[i, j], np.clip(chain[j, i], 0, 1))
        axes[0, j].set_title(labels[j], fontsize=8)
    fig.suptitle(title, fontsize=10)
    return finish(fig, path)


def save_animation(frames, captions, path, seconds_per_frame=0.6):
    """An animated GIF of grids (2-D arrays in [0, 1], e.g. from `tile`), each with its caption, through
    matplotlib's PillowWriter. Returns the figure."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig = new_figure((0.3 + frames[0].shape[1] / 45, 0.6 + frames[0].shape[0] / 45))
    ax = fig.add_subplot()
    shown = ax.imshow(1 - frames[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    caption = ax.set_title(captions[0], fontsize=9)

    def draw(i):
        shown.set_data(1 - frames[i])
        caption.set_text(captions[i])
        return shown, caption

    animation = FuncAnimation(fig, draw, frames=len(frames), blit=False)
    animation.save(path, writer=PillowWriter(fps=1 / seconds_per_frame))
    return fig


def plot_players(records, path=None):
    """A game's training records (metrics.jsonl, split "train"): each player's loss (d_loss, g_loss) and
    the discriminator's mean probability of "real" for real and fake images (d_real, d_fake)."""
    train = [r for r in records if r.get("split") == "train"]
    fig = new_figure((10, 3.6))
    left, right = fig.subplots(1, 2)
    for ax, keys in ((left, ("d_loss", "g_loss")), (right, ("d_real", "d_fake"))):
        for key in keys:
            rows = [r for r in train if r.get(key) is not None]
            ax.plot([r["step"] for r in rows], [r[key] for r in rows], label=key, alpha=0.85)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    left.set_title("the players' losses")
    right.set(title="D's probability of real", ylim=(0, 1))
    return finish(fig, path)
