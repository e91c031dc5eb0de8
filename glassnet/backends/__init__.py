"""`glassnet.backends`: the switches PyTorch programs set for GPU libraries. glassnet has no GPU backend,
so `mps.is_available()` is False and the cuDNN flags are plain settings that change nothing."""
from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda"]

cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False, allow_tf32=False,
                        is_available=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False), is_built=lambda: False)
