"""See inside a model: graphs, gradient flow, activations, filters and feature maps, attention, reports.

Every picture function returns a matplotlib Figure (drawn headless on the Agg canvas, matplotlib is
imported only when a picture is made) and also writes it when given a `path` (.png or .svg).

graph        graph_nodes, draw_graph, to_dot           the computational graph behind a tensor
gradients    GradientMonitor, plot_gradient_flow       gradient norms and update ratios per layer
activations  ActivationMonitor, plot_activations       mean, std, dead ReLUs, histograms per layer
conv         plot_feature_maps, plot_conv_filters      what a conv layer sees and makes of an input
sequence     plot_attention, plot_hidden_states        attention maps, recurrent hidden states
plots        plot_curves, plot_run_curves, plot_confusion_matrix, plot_image_grid, plot_filters
report       write_report(run_dir)                     one self-contained HTML page per run
"""
from .activations import ActivationMonitor, activation_stats, plot_activations  # noqa: F401
from .conv import feature_maps, plot_conv_filters, plot_feature_maps  # noqa: F401
from .gradients import EXPLODE_THRESHOLD, VANISH_THRESHOLD, GradientMonitor, plot_gradient_flow  # noqa: F401
from .graph import GraphNode, draw_graph, graph_nodes, to_dot  # noqa: F401
from .plots import plot_confusion_matrix, plot_curves, plot_filters, plot_image_grid, plot_run_curves  # noqa: F401
from .sequence import plot_attention, plot_hidden_states  # noqa: F401
from . import report  # noqa: F401
from .report import write_report  # noqa: F401

__all__ = ["ActivationMonitor", "activation_stats", "plot_activations", "feature_maps", "plot_conv_filters",
           "plot_feature_maps", "EXPLODE_THRESHOLD", "VANISH_THRESHOLD", "GradientMonitor", "plot_gradient_flow",
           "GraphNode", "draw_graph", "graph_nodes", "to_dot", "plot_confusion_matrix", "plot_curves",
           "plot_filters", "plot_image_grid", "plot_run_curves", "plot_attention", "plot_hidden_states",
           "write_report"]
