"""Data loading, after torch.utils.data: datasets, samplers, collation and the DataLoader."""
from ._collate import *  # noqa: F401,F403
from .dataloader import *  # noqa: F401,F403
from .dataset import *  # noqa: F401,F403
from .language import *  # noqa: F401,F403
from .sampler import *  # noqa: F401,F403
from . import _collate, dataloader, dataset, language, sampler

__all__ = _collate.__all__ + dataloader.__all__ + dataset.__all__ + language.__all__ + sampler.__all__
