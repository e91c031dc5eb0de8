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
            ax.set_xticks(range(s), xs, rotation=_rotation(xs), fontsize=9)
            ax.set_yticks(range(t), ys, fontsize=9)
            if i == layers - 1:
                ax.set_xlabel("source (keys)", fontsize=9)
            if j == 0:
                ax.set_ylabel("target (queries)", fontsize=9)
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


def plot_hidden_states(h, tokens=None, path=None, title="hidden states", max_units=64, steps_per_row=48,
                       boundary=None):
    """A recurrent layer's hidden states over time: h (T, hidden), (T, 1, hidden) or (1, T, hidden).

    Columns are time steps (labelled with `tokens`, one readable label per column), rows the first
    `max_units` hidden units; the colour is the unit's value (a diverging map centred on 0, one scale
    for the whole figure). A long sequence is cut into rows of at most `steps_per_row` steps, so that
    every label stays legible at the width of a page. `boundary`: a step index before which a line
    is drawn (where a read prompt ends and generation begins). Returns the figure.
    """
    a = _time_by_unit(h)
    steps = a.shape[0]
    xs = _labels(tokens, steps, "plot_hidden_states")
    a = a[:, :max_units].T  # (units, T)
    limit = max(1e-12, float(np.abs(a).max()))
    rows = -(-steps // steps_per_row)
    per_row = -(-steps // rows)
    fig = new_figure((max(4.0, 0.19 * per_row + 2.2), rows * (0.045 * a.shape[0] + 1.0) + 0.5))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    for r, ax in enumerate(axes):
        lo, hi = r * per_row, min(steps, (r + 1) * per_row)
        im = ax.imshow(a[:, lo:hi], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                       extent=(lo - 0.5, hi - 0.5, a.shape[0] - 0.5, -0.5), interpolation="nearest")
        ax.set_xlim(lo - 0.5, lo + per_row - 0.5)
        ax.set_xticks(range(lo, hi), xs[lo:hi], rotation=_rotation(xs), fontsize=9, family="monospace")
        ax.tick_params(axis="x", length=0)
        ax.set_yticks(_unit_ticks(a.shape[0]))
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel("hidden unit", fontsize=9)
        ax.set_title(f"steps {lo} to {hi - 1}", fontsize=9, loc="left")
        if boundary is not None and lo < boundary <= hi:
            ax.axvline(boundary - 0.5, color="black", lw=1.5)
    fig.colorbar(im, ax=list(axes), shrink=min(1.0, 0.6 + 0.2 * rows), pad=0.01, label="value")
    fig.suptitle(title, fontsize=11)
    return finish(fig, path)


def _time_by_unit(h):
    """h as a (T, hidden) array (a batch of one dropped; a 1-D h is one unit)."""
    a = as_array(h)
    if a.ndim == 3 and a.shape[1] == 1:  # (T, 1, hidden): sequence first
        a = a[:, 0]
    elif a.ndim == 3 and a.shape[0] == 1:  # (1, T, hidden): batch first
        a = a[0]
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"plot_hidden_states: expected (T, hidden) (batch size 1 allowed), got shape {np.shape(h)}")
    return a


def _unit_ticks(units):
    """About eight evenly spaced unit indices (multiples of 1, 2, 4, 8, ...)."""
    every = 1
    while units / every > 8:
        every *= 2
    return range(0, units, every)
