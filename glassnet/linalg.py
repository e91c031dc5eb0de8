"""torch.linalg under glassnet's name: the functions are defined (forward and backward) in
glassnet/ops/linear_algebra.py."""
from .ops.arithmetic import matmul  # noqa: F401
from .ops.linear_algebra import (  # noqa: F401
    cholesky, cross as _cross, det, eigh, eigvalsh, inv, matrix_norm, matrix_power, matrix_rank, multi_dot, pinv, qr,
    slogdet, solve, solve_triangular, svd, svdvals, vecdot, vector_norm,
)
from .ops.linear_algebra import linalg_norm as norm  # noqa: F401
from .ops.matrix import diagonal as _diagonal


def cross(input, other, *, dim=-1):
    """The cross product along `dim` (the last dim by default, unlike torch.cross)."""
    return _cross(input, other, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of the last two dims (torch.linalg.diagonal's defaults)."""
    return _diagonal(A, offset, dim1, dim2)
