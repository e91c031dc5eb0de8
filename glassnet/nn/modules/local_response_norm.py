"""LocalResponseNorm: each channel divided by a power of the energy of its neighbouring channels."""
from ...ops.lp_pool import local_response_norm
from .module import Module

__all__ = ["LocalResponseNorm"]


class LocalResponseNorm(Module):
    """y_c = x_c / (k + alpha / size * sum of x^2 over `size` channels around c)^beta; see local_response_norm."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
