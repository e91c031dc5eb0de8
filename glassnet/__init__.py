"""glassnet: a deep-learning framework on NumPy whose every forward and backward pass you can read.

    import glassnet as gn
    x = gn.randn(3, 4, requires_grad=True)
    (x.relu() ** 2).sum().backward()
    x.grad
"""
from .allocator import tune_malloc as _tune_malloc
from .tensor import Tensor  # noqa: F401  (first: it pulls in autograd, then the operations)
from . import autograd, dtypes, random  # noqa: F401,E402
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .creation import *  # noqa: F401,F403
from .dtypes import (  # noqa: F401
    bfloat16, bool, cdouble, cfloat, complex64, complex128, double, float, float16, float32, float64,
    finfo, get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8,
)
from .device import device  # noqa: F401
from . import accelerator, backends, compiler, cuda  # noqa: F401
from .compiler import compile  # noqa: F401
from .settings import (  # noqa: F401
    are_deterministic_algorithms_enabled, get_float32_matmul_precision, get_num_threads, set_float32_matmul_precision,
    set_num_threads, use_deterministic_algorithms,
)
from .size import Size  # noqa: F401
from .ops import *  # noqa: F401,F403
from . import fft, linalg  # noqa: F401,E402  (the torch.fft and torch.linalg namespaces)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from . import nn  # noqa: F401,E402

__version__ = "0.1.0"
_tune_malloc()
from .serialization import load, save  # noqa: F401,E402
from . import utils  # noqa: F401,E402
from .legacy import (  # noqa: F401,E402
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, is_floating_point, is_nonzero,
    is_tensor, numel,
)
from . import optim  # noqa: F401,E402
from . import amp  # noqa: F401,E402
from .amp import autocast  # noqa: F401,E402
from . import sparse  # noqa: F401,E402
from .sparse import sparse_coo_tensor  # noqa: F401,E402
