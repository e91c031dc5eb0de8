"""Stateless layers, activations and losses, under the names of torch.nn.functional.

Each one is defined in glassnet.ops, next to its backward; this module only gathers them.
"""
from ..ops.activation import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403
from ..ops.dropout import *  # noqa: F401,F403
from ..ops.indexing import one_hot, pad  # noqa: F401
from ..ops.linear import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.distance import *  # noqa: F401,F403  (after loss: its fused distances and losses are the ones used)
from ..ops.ctc import ctc_loss  # noqa: F401
from ..ops.normalization import *  # noqa: F401,F403
from ..ops.pooling import *  # noqa: F401,F403
from ..ops.attention import *  # noqa: F401,F403
from ..ops.efficient_attention import *  # noqa: F401,F403
from ..ops.embedding import *  # noqa: F401,F403
from ..ops.recurrent import *  # noqa: F401,F403
from ..ops.rearrange import *  # noqa: F401,F403
from ..ops.fold import *  # noqa: F401,F403
from ..ops.unpool import *  # noqa: F401,F403
from ..ops.lp_pool import *  # noqa: F401,F403
from ..ops.bilinear import *  # noqa: F401,F403
from ..ops.embedding_bag import *  # noqa: F401,F403
from ..ops.grid_sample import *  # noqa: F401,F403
