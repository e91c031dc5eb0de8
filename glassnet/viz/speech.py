"""Speech: a spectrogram with what a CTC model hears in it, frame by frame."""
import numpy as np

from ._figure import finish, new_figure

__all__ = ["plot_ctc_alignment"]


def _segments(path, blank):
    """(symbol, first frame, last frame) of each run of a non-blank symbol in an alignment."""
    out, start = [], 0
    for t in range(1, len(path) + 1):
        if t == len(path) or path[t] != path[start]:
            if path[start] != blank:
                out.append((int(path[start]), start, t - 1))
            start = t
    return out


def plot_ctc_alignment(features, log_probs, alignment, symbols, path=None, title="CTC alignment", blank=0):
    """Top: the log-mel spectrogram (n_mels, T). Bottom: each symbol's probability per output frame
    (log_probs (T', C)), the blank in grey, with the forced alignment (T',) shaded and labelled where it
    places each symbol. Output frame t covers input frames t * T / T' onwards."""
    features, probs = np.asarray(features), np.exp(np.asarray(log_probs))
    frames, out_frames = features.shape[1], probs.shape[0]
    scale = frames / out_frames
    fig = new_figure((10, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 1]})
    top.imshow(features, origin="lower", aspect="auto", cmap="magma", extent=(0, frames, 0, features.shape[0]))
    top.set_ylabel("mel band")
    top.set_title(title, fontsize=10)
    x = (np.arange(out_frames) + 0.5) * scale
    bottom.plot(x, probs[:, blank], color="0.6", lw=1, label=symbols[blank])
    colours = [c for i, c in enumerate(_palette(len(symbols))) if i != blank]
    for k, c in enumerate(i for i in range(len(symbols)) if i != blank):
        if probs[:, c].max() > 0.2:
            bottom.plot(x, probs[:, c], lw=1.5, color=colours[k], label=symbols[c])
    for symbol, first, last in _segments(list(alignment), blank):
        for ax in (top, bottom):
            ax.axvspan(first * scale, (last + 1) * scale, color="white" if ax is top else "0.85", alpha=0.25, lw=0)
        top.text((first + last + 1) / 2 * scale, features.shape[0] * 0.9, symbols[symbol], color="white",
                 ha="center", fontsize=9, fontweight="bold")
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel("input frame (10 ms)")
    bottom.set_ylabel("probability")
    bottom.legend(fontsize=7, ncol=6, loc="upper right")
    return finish(fig, path)


def _palette(n):
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]
