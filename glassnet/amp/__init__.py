"""Mixed precision, as torch.amp: `autocast` (float16 matrix products from float32 master weights) and
`GradScaler` (dynamic loss scaling, so small float16 gradients do not underflow). See
docs/mixed_precision.md for the experiment that shows both effects."""
from .autocast import autocast, is_autocast_enabled  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "is_autocast_enabled", "GradScaler"]
