"""Data sets: MNIST and Fashion-MNIST (IDX files, verified), plus a small MNIST sample shipped in the package,
the tiny Shakespeare text,
the Cora citation graph, spoken digit sequences, and canvases of several MNIST digits with masks and boxes.

    from glassnet.datasets import MNIST
    train = MNIST(train=True)            # root, $GLASSNET_DATA, cache, then download
    tiny = MNIST(train=True, sample=True)  # 5,000 digits embedded in glassnet, no files needed
"""
from . import idx, paths  # noqa: F401
from .idx import ChecksumError, IDXError, read_idx, write_idx  # noqa: F401
from .mnist import *  # noqa: F401,F403
from .shakespeare import *  # noqa: F401,F403
from .cora import *  # noqa: F401,F403
from .spoken_digits import *  # noqa: F401,F403
from .canvas import *  # noqa: F401,F403
from . import canvas, cora, mnist, shakespeare, spoken_digits

__all__ = mnist.__all__ + shakespeare.__all__ + cora.__all__ + spoken_digits.__all__ + canvas.__all__ + ["IDXError", "ChecksumError", "read_idx", "write_idx"]
