"""`autocast`: mixed precision, PyTorch's way. Inside the region, matrix products run in float16 from
float32 master weights, and the operations that need range or accuracy stay in float32:

    with glassnet.autocast(dtype=glassnet.float16):
        loss = loss_fn(model(x), y)        # linear, matmul, conv, attention in float16
    scaler.scale(loss).backward()          # the weights and their gradients stay float32

The rule is applied where every operation starts (`Function.apply`), by the operation's kind:
* lower precision (float16): Linear, MatMul, ConvNd, ConvTransposeNd, ScaledDotProductAttention. Their
  float32 inputs are cast to float16 by a differentiable cast, so the gradient flows back, cast again,
  into the float32 parameters ("master weights"). The products themselves multiply float16 values in
  float32 and round the result to float16 (ops._util.matmul), as float16 hardware does.
* float32: softmax, log_softmax, the normalisation layers, cross-entropy, NLL and binary cross-entropy,
  sum, prod, var, std, logsumexp, norm: float16 inputs are widened first (exponentials overflow float16
  at 11.1; sums of many terms lose their small ones).
* everything else runs in the dtype of its inputs (elementwise ops promote as usual).

What it buys: activations kept for the backward take half the memory (on a GPU, tensor cores also make
the products several times faster). What it costs: float16's range (6e-8 to 65504) is narrow, so small
gradients underflow to zero unless the loss is scaled (see GradScaler). On the CPU, glassnet's float16
products are SLOWER than float32 (an extra conversion each way): use autocast here to learn the numerics.

PyTorch's CPU autocast defaults to bfloat16, which NumPy cannot compute in: here dtype defaults to
float16, and asking for bfloat16 raises.
"""
import warnings

import numpy as np

from .. import dtypes
from ..autograd import function as _function

__all__ = ["autocast", "is_autocast_enabled"]

_LOWER = ("Linear", "MatMul", "ConvNd", "ConvTransposeNd", "ScaledDotProductAttention")
_FLOAT32 = ("Softmax", "LogSoftmax", "Normalize", "CrossEntropy", "NLLLoss", "BinaryCrossEntropy", "Sum", "Prod",
            "Var", "Std", "LogSumExp", "Norm")
_policies = None  # Function class -> "lower" or "float32", filled on first use


def _policy_table():
    """The policy of each Function class, looked up by name among the op modules (imported lazily)."""
    from ..autograd.function import Function

    global _policies
    if _policies is None:
        names = {**{n: "lower" for n in _LOWER}, **{n: "float32" for n in _FLOAT32}}
        found, stack = {}, [Function]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            if cls.__name__ in names and cls.__module__.startswith("glassnet.ops"):
                found[cls] = names[cls.__name__]
        missing = set(names) - {c.__name__ for c in found}
        if missing:
            raise RuntimeError(f"autocast: no operation class named {sorted(missing)} (was it renamed?)")
        _policies = found
    return _policies


class autocast:
    """Context manager (and decorator) for a mixed-precision region; see the module docstring.

    device_type: "cpu" (or "cuda", which, with no GPU, warns and disables the region as PyTorch does);
    dtype: float16 (the default here); enabled: False makes the region a no-op; cache_enabled: accepted.
    """

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if device_type not in ("cpu", "cuda", "mps", "xpu"):
            raise ValueError(f"autocast: unknown device_type {device_type!r}")
        if dtype is dtypes.bfloat16:
            raise TypeError("autocast: NumPy has no bfloat16 arithmetic; use dtype=glassnet.float16")
        self.dtype = dtypes.float16 if dtype is None else np.dtype(dtype)
        if self.dtype != dtypes.float16:
            raise TypeError(f"autocast: dtype must be float16, got {self.dtype}")
        if enabled and device_type != "cpu":
            warnings.warn(f"autocast: device_type {device_type!r} is not available (glassnet runs on the CPU); "
                          "the region is disabled", stacklevel=2)
            enabled = False
        self.enabled = bool(enabled)

    def __enter__(self):
        self._previous = _function._autocast_hook
        _function._autocast_hook = _cast_inputs if self.enabled else None
        return self

    def __exit__(self, *exc):
        _function._autocast_hook = self._previous
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(dtype=self.dtype, enabled=self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type=None):
    return _function._autocast_hook is not None


def _cast_inputs(cls, inputs):
    """The hook Function.apply calls inside autocast: inputs cast as cls's policy says."""
    policy = _policy_table().get(cls)
    if policy is None:
        return inputs
    source, target = (np.float32, np.float16) if policy == "lower" else (np.float16, np.float32)
    if not any(t.array.dtype == source for t in inputs):
        return inputs
    from ..ops.shape import cast

    previous, _function._autocast_hook = _function._autocast_hook, None  # the casts themselves are plain ops
    try:
        return tuple(cast(t, target) if t.array.dtype == source else t for t in inputs)
    finally:
        _function._autocast_hook = previous
