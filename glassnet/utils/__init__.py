"""Utilities, after torch.utils: `glassnet.utils.data` (datasets, samplers, the DataLoader) and
`glassnet.utils.checkpoint` (activation checkpointing)."""
from . import checkpoint, data  # noqa: F401
