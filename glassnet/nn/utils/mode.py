"""`evaluating(model)`: a block run in eval mode (dropout off, batch norm on its running statistics) and
without a graph, after which every submodule is back in the mode it was in.

    with evaluating(model):
        logits = model(x)

`evaluating(model, grad=True)` keeps the graph, for gradients of a model in eval mode (saliency,
gradients through time).
"""
import contextlib

from ...autograd import no_grad

__all__ = ["evaluating"]


@contextlib.contextmanager
def evaluating(module, grad=False):
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with contextlib.nullcontext() if grad else no_grad():
            yield module
    finally:
        for m, training in modes:
            m.training = training
