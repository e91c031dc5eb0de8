"""Switching the recording of the graph on and off: `no_grad`, `enable_grad`, `is_grad_enabled`.

Each works as a context manager and as a decorator, as in PyTorch.
"""
import functools

_enabled = True


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return _enabled


def set_grad_enabled(mode):
    global _enabled
    _enabled = bool(mode)


class _GradMode:
    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        set_grad_enabled(self.mode)

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Operations inside are not recorded: results have requires_grad=False (inference, updates)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again, for example inside a `no_grad` block."""

    mode = True
