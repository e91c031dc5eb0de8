"""torch.sparse's names for glassnet's 2-D sparse COO matrices (defined in glassnet.ops.sparse).

    A = glassnet.sparse_coo_tensor(indices, values, (n, m))
    Y = glassnet.sparse.mm(A, X)     # gradients reach X and A.values()
"""
from .ops.sparse import SparseTensor, sparse_coo_tensor, sparse_mm as mm  # noqa: F401

__all__ = ["mm", "SparseTensor", "sparse_coo_tensor"]
