"""`glassnet.compile` and `glassnet.compiler`: PyTorch programs often pass their model through
`torch.compile` (nanoGPT does by default). glassnet has no compiler, each operation already being one
NumPy call on whole arrays, so `compile` gives back the model or function it was given, unchanged: the
program runs, at glassnet's usual speed, and its state_dict keys stay the model's own (PyTorch's compiled
wrapper prefixes them with `_orig_mod.`)."""

__all__ = ["compile", "disable", "is_compiling", "reset"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False, **kwargs):
    """`model` itself; with no model, a decorator that returns the function it decorates. The options
    are accepted and have no effect."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    return model


def disable(fn=None, recursive=True):
    """`@torch.compiler.disable`: nothing is compiled anyway."""
    return (lambda f: f) if fn is None else fn


def is_compiling():
    return False


def reset():
    """Nothing cached to clear."""
