"""Convolution layers seen from inside: their filters, and the feature maps they make of one input."""
import numpy as np

from ._figure import as_array, finish, new_figure
from .plots import plot_filters

__all__ = ["plot_feature_maps", "plot_conv_filters", "feature_maps"]


def _find_layer(model, layer):
    if isinstance(layer, str):
        lookup = dict(model.named_modules())
        if layer not in lookup:
            raise KeyError(f"plot_feature_maps: no module named {layer!r}; known: {[n for n in lookup if n]}")
        return layer, lookup[layer]
    for name, m in model.named_modules():
        if m is layer:
            return name or type(m).__name__, m
    raise ValueError(f"plot_feature_maps: {type(layer).__name__} is not a submodule of the model")


def feature_maps(model, x, layer):
    """The output of `layer` (a submodule or its name) when `model(x)` runs: an array (N, C, H, W).

    Runs in eval mode without a graph; the model's mode is restored afterwards.
    """
    from ..autograd import no_grad

    name, module = _find_layer(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda m, args, out: captured.append(out))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        handle.remove()
        model.train(was_training)
    if not captured:
        raise RuntimeError(f"feature_maps: layer {name!r} was not called by the model's forward")
    out = as_array(captured[0][0] if isinstance(captured[0], (tuple, list)) else captured[0])
    if out.ndim != 4:
        raise ValueError(f"feature_maps: layer {name!r} produced shape {out.shape}; expected (N, C, H, W)")
    return out


def plot_feature_maps(model, x, layer, path=None, index=0, max_maps=16, cols=9):
    """The input image `x[index]` and up to `max_maps` channels of `layer`'s output for it; returns the figure."""
    name, module = _find_layer(model, layer)
    maps = feature_maps(model, x, layer)[index]
    image = as_array(x)[index]
    shown = maps[:max_maps]
    n = len(shown) + 1
    cols = min(cols, n)
    rows = -(-n // cols)
    fig = new_figure((cols * 1.4, rows * 1.55))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    first = axes.flat[0]
    first.imshow(image[0] if image.ndim == 3 and image.shape[0] == 1 else
                 (np.moveaxis(image, 0, -1) if image.ndim == 3 else image), cmap="gray")
    first.set_title("input", fontsize=8)
    for k, (ax, fmap) in enumerate(zip(axes.flat[1:], shown)):
        ax.imshow(fmap, cmap="viridis")
        ax.set_title(f"ch {k}", fontsize=8)
    fig.suptitle(f"feature maps of layer {name} ({type(module).__name__}): {maps.shape[0]} channels, "
                 f"{maps.shape[1]}x{maps.shape[2]}")
    fig.tight_layout()
    return finish(fig, path)


def plot_conv_filters(layer, path=None, title=None):
    """A conv layer's kernels (its .weight, or a weight array/Tensor) as images (input channel 0)."""
    weight = getattr(layer, "weight", layer)
    return plot_filters(weight, path, title=title or f"filters {tuple(weight.shape)}")
