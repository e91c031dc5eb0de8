"""Walk-throughs: short, exact narratives that print their numbers and check them against autograd.

    glassnet.explain.main("backprop")      (the CLI: glassnet explain <topic>)

Each topic is a module with a `main(...)` that prints the explanation and returns its numbers;
TOPICS maps the topic names to (module name, one-line description).
"""
import importlib

__all__ = ["TOPICS", "main", "describe"]

TOPICS = {
    "backprop": ("backprop", "backpropagation by hand on a tiny expression, step by step"),
    "reverse-vs-forward": ("reverse_vs_forward", "n forward-mode passes vs one backward for a gradient, timed"),
    "conv-backward": ("conv_backward", "conv2d's backward as a transposed convolution and a correlation"),
    "vanishing-gradients": ("vanishing_gradients",
                            "gradient norm per layer: sigmoid vs ReLU+He, residual connections, batch norm"),
    "softmax-cross-entropy": ("softmax_cross_entropy", "why the fused gradient is softmax - onehot"),
}


def describe():
    """The topics with their descriptions, one per line."""
    width = max(map(len, TOPICS))
    return "\n".join(f"  {name:<{width}}  {text}" for name, (_, text) in TOPICS.items())


def main(topic=None, **options):
    """Run the walk-through `topic` (printing it) and return its numbers; no topic: list them."""
    if topic is None or topic == "list":
        print("glassnet explain <topic>, with topic one of:\n" + describe())
        return None
    if topic not in TOPICS:
        raise ValueError(f"explain: unknown topic {topic!r}; expected one of: {', '.join(TOPICS)}")
    module = importlib.import_module(f"{__name__}.{TOPICS[topic][0]}")
    return module.main(**options)
