"""The run plots now live in glassnet.viz.plots (they return the figure and save it given a path)."""
from ..viz.plots import plot_confusion_matrix, plot_curves, plot_filters, plot_image_grid  # noqa: F401
