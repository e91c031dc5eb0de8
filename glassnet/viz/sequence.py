"""Sequence models seen from inside: attention weights and recurrent hidden states as heatmaps."""
import numpy as np

from ._figure import as_array, finish, new_figure

__all__ = ["plot_attention", "plot_hidden_states"]


def _labels(tokens, n, what):
    if tokens is None:
        return [str(i) for i in range(n)]
    tokens = [str(t) for t in tokens]
    if len(tokens) != n:
        raise ValueError(f"{what}: {len(tokens)} tokens given for {n} positions")
    return tokens


def _rotation(labels):
    return 0 if max(map(len, labels), default=0) <= 3 else 90


def plot_attention(weights, src_tokens=None, tgt_tokens=None, path=None, title="attention"):
    """Attention weights as heatmaps: rows = target (query) positions, columns = source (key) positions.

    weights: (T, S) one map, (H, T, S) one row of heads, or (L, H, T, S) a grid of layers x heads
    (a Tensor or array; a leading batch of size 1 is dropped). Returns the figure.
    """
    w = as_array(weights)
    while w.ndim > 4 and w.shape[0] == 1:
        w = w[0]
    if w.ndim < 2 or w.ndim > 4:
        raise ValueError(f"plot_attention: weights must be (T, S), (H, T, S) or (L, H, T, S), got shape {w.shape}")
    w = w.reshape((1,) * (4 - w.ndim) + w.shape)
    layers, heads, t, s = w.shape
    xs = _labels(src_tokens, s, "plot_attention (src_tokens)")
    ys = _labels(tgt_tokens, t, "plot_attention (tgt_tokens)")
    cell = max(0.22, min(0.5, 6 / max(s, t)))
    fig = new_figure((max(2.5, heads * (s * cell + 0.9)), max(2.2, layers * (t * cell + 0.8))))
    axes = fig.subplots(layers, heads, squeeze=False)
    top = max(1e-12, float(w.max()))  # one colour scale for all maps, so they can be compared
    for i in range(layers):
        for j in range(heads):
            ax = axes[i, j]
            im = ax.imshow(w[i, j], cmap="viridis", vmin=0, vmax=top, aspect="auto")
            ax.set_xticks(range(s), xs, rotation=_rotation(xs), fontsize=7)
            ax.set_yticks(range(t), ys, fontsize=7)
            name = []
            if layers > 1:
                name.append(f"layer {i}")
            if heads > 1:
                name.append(f"head {j}")
            if name:
                ax.set_title(", ".join(name), fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8)
    fig.suptitle(title)
    return finish(fig, path)


def plot_hidden_states(h, tokens=None, path=None, title="hidden states", max_units=64):
    """A recurrent layer's hidden states over time: h (T, hidden), (T, 1, hidden) or (1, T, hidden).

    Columns are time steps (labelled with `tokens`), rows the first `max_units` hidden units; the
    colour is the unit's value (diverging map centred on 0). Returns the figure.
    """
    a = as_array(h)
    if a.ndim == 3 and a.shape[1] == 1:  # (T, 1, hidden): sequence first
        a = a[:, 0]
    elif a.ndim == 3 and a.shape[0] == 1:  # (1, T, hidden): batch first
        a = a[0]
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"plot_hidden_states: expected (T, hidden) (batch size 1 allowed), got shape {np.shape(h)}")
    steps = a.shape[0]
    xs = _labels(tokens, steps, "plot_hidden_states")
    a = a[:, :max_units].T
    limit = max(1e-12, float(np.abs(a).max()))
    fig = new_figure((max(3.0, 0.3 * steps + 1.5), max(2.0, 0.12 * a.shape[0] + 1.2)))
    ax = fig.add_subplot()
    im = ax.imshow(a, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(steps), xs, rotation=_rotation(xs), fontsize=7)
    ax.set(ylabel="hidden unit", title=title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return finish(fig, path)
