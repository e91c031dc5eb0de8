"""Switching the recording of the graph on and off: `no_grad`, `enable_grad`, `set_grad_enabled`,
`inference_mode`, `is_grad_enabled`.

Each works as a context manager and as a decorator (`@no_grad()` and bare `@no_grad`), as in PyTorch.
A decorated generator function runs in the mode each time it is resumed, and its caller in its own mode
between two values. `set_grad_enabled(False)` switches at once when called, and back when used as a `with`
block ends.
"""
import functools
import inspect

_enabled = True


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return _enabled


def _set(mode):
    global _enabled
    _enabled = bool(mode)


def _decorate(fn, make_mode):
    """`fn` run inside a fresh `make_mode()` context; for a generator function, each step of it."""
    if not inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with make_mode():
                return fn(*args, **kwargs)

        return wrapper

    @functools.wraps(fn)
    def generator_wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        step = functools.partial(gen.send, None)
        while True:
            try:
                with make_mode():
                    value = step()
            except StopIteration as stop:
                return stop.value
            try:
                sent = yield value
            except GeneratorExit:
                with make_mode():
                    gen.close()
                raise
            except BaseException as error:
                step = functools.partial(gen.throw, error)
            else:
                step = functools.partial(gen.send, sent)

    return generator_wrapper


class _GradMode:
    mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if callable(fn):  # used as a bare decorator: @no_grad
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self.mode)

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        return _decorate(fn, self.clone)

    def clone(self):
        return self.__class__()


class no_grad(_GradMode):
    """Operations inside are not recorded: results have requires_grad=False (inference, updates)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again, for example inside a `no_grad` block."""

    mode = True


class inference_mode(_GradMode):
    """`inference_mode()` (or `inference_mode(True)`) is `no_grad` for inference; `inference_mode(False)`
    leaves recording as it is. (PyTorch also skips version counting inside; here it is as cheap as no_grad.)"""

    def __new__(cls, mode=True):
        if callable(mode):
            return super().__new__(cls)(mode)
        self = super().__new__(cls)
        self.mode = False if mode else None
        return self

    def __init__(self, mode=True):
        pass

    def __enter__(self):
        self._prev = is_grad_enabled()
        if self.mode is not None:
            _set(self.mode)

    def clone(self):
        return inference_mode(self.mode is not None)


class set_grad_enabled:
    """set_grad_enabled(mode): switch recording on or off now; as a `with` block, back when it ends; as a
    decorator, only while the decorated function runs."""

    def __init__(self, mode):
        self._prev, self.mode = is_grad_enabled(), bool(mode)
        _set(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        _set(self._prev)  # the decoration itself must not change the mode
        return _decorate(fn, functools.partial(set_grad_enabled, self.mode))
