"""Figures without pyplot: a matplotlib `Figure` on the Agg canvas (headless, nothing global is changed).

Every picture function of glassnet.viz builds its figure with `new_figure`, and ends with
`finish(fig, path)`: the figure is returned, and also written to `path` when one is given (the format
follows the extension: .png, .svg, .pdf).
"""
import os


def new_figure(figsize):
    """A Figure drawn by the Agg renderer, not registered with pyplot (garbage-collected normally)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def finish(fig, path=None, dpi=110):
    """Save `fig` to `path` if given (creating its folder); return the figure."""
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def png_bytes(fig, dpi=110):
    """The figure as PNG file contents (for embedding in HTML)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def as_array(x):
    """A Tensor's or array's values as a float NumPy array (detached)."""
    import numpy as np

    from ..tensor import Tensor

    return np.asarray(x.array if isinstance(x, Tensor) else x, dtype=float)
