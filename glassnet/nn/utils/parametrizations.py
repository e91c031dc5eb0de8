"""Weight normalisation and spectral normalisation as parametrizations (torch.nn.utils.parametrizations).

    weight_norm:    w = g v / ||v||          (Salimans & Kingma 2016), the norm over every dim but `dim`;
                    originals: original0 = g, original1 = v
    spectral_norm:  w = W / sigma(W)         (Miyato et al. 2018), sigma the largest singular value of W as a
                    matrix (dim first, the rest flattened), estimated by power iteration with the vectors
                    u, v kept as buffers `_u`, `_v` and refined once per forward in training
"""
from ... import creation, ops
from ...autograd import grad_mode
from ...ops.distance import normalize
from ...tensor import Tensor
from ..modules.module import Module
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm"]


def norm_except_dim(v, dim):
    """||v||_2 over every dimension but `dim`, kept as size-1 dims; dim=None: the norm of all of v (0-d)."""
    if dim is None:
        return ops.sqrt(ops.sum(v * v))
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return ops.sqrt(ops.sum(v * v, others, keepdim=True)) if others else ops.abs(v)


def weight_from_norm(g, v, dim):
    """w = v * (g / ||v||), the norm as in norm_except_dim."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_from_norm(weight_g, weight_v, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize `module.<name>` as g v / ||v|| (g: original0, v: original1); dim=None: one norm for all."""
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, got {n_power_iterations}")
        ndim = weight.ndim
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._matrix(weight.detach())
            h, w = matrix.shape
            self.register_buffer("_u", normalize(creation.randn(h, dtype=weight.dtype), dim=0, eps=eps))
            self.register_buffer("_v", normalize(creation.randn(w, dtype=weight.dtype), dim=0, eps=eps))
            self._power_method(matrix, 15)

    def _matrix(self, weight):
        """The weight as a matrix (size of `dim`, everything else)."""
        if self.dim != 0:
            weight = ops.movedim(weight, self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, matrix, iterations):
        """u <- normalize(W v), v <- normalize(W^T u), in place, outside the graph."""
        with grad_mode.no_grad():
            m = matrix.detach()
            for _ in range(iterations):
                self._u.array[...] = normalize(m @ self._v, dim=0, eps=self.eps).array
                self._v.array[...] = normalize(m.mT @ self._u, dim=0, eps=self.eps).array

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = ops.sum(u * (matrix @ v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize `module.<name>` as W / sigma(W) (see the module docstring); dim defaults to 1 for the
    transposed convolutions (their output channels) and 0 otherwise."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter or buffer with name "
                         f"'{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
