"""A variational autoencoder (Kingma and Welling 2014) for binary 28x28 images.

The model. A latent code z of `latent_dim` numbers is drawn from the prior p(z) = N(0, I) and the
decoder turns it into the probability of each pixel being on: p(x|z) = prod_i Bernoulli(x_i;
sigmoid(logits_i(z))). The encoder guesses, for an image x, where its code lies:
q(z|x) = N(mu(x), diag(sigma(x)^2)), with log sigma^2 = logvar(x) as its second output.

The loss, the evidence lower bound (ELBO). For any q,

    log p(x) >= E_{z ~ q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)) = ELBO(x)

(log p(x) - ELBO(x) = KL(q(z|x) || p(z|x)) >= 0). The training minimises the negative ELBO in nats
per image: the reconstruction term, the binary cross-entropy of the image under the decoder's
logits summed over the 784 pixels (estimated with one z drawn from q), plus the KL term, exact for
two Gaussians:

    KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1 - log sigma^2) / 2, summed over the latent dims.

The reparameterisation trick. E_q[...] depends on the encoder through the distribution z is drawn
from, and a draw has no derivative. Writing the draw as z = mu + sigma * eps with eps ~ N(0, I) drawn
outside the network moves the randomness into an input: z becomes a differentiable function of mu
and logvar (`reparameterize`, whose backward is below).

The bound is not the likelihood. `importance_weighted_nll` estimates -log p(x) itself (Burda et al.
2016): with k draws z_j ~ q(z|x) and weights w_j = p(x|z_j) p(z_j) / q(z_j|x),

    log p(x) ~ log (1/k) sum_j w_j,

a bound that tightens as k grows (k = 1 is the ELBO).

    encoder  (N, 1, 28, 28) -> conv 4x4/2 (c) -> ReLU -> conv 4x4/2 (2c) -> ReLU    (N, 2c, 7, 7)
             -> flatten -> linear (hidden) -> ReLU -> linear -> mu, logvar          (N, latent_dim) each
    decoder  z -> linear (hidden) -> ReLU -> linear (2c * 7 * 7) -> ReLU             (N, 2c, 7, 7)
             -> transposed conv 4x4/2 (c) -> ReLU -> transposed conv 4x4/2 (1)      logits (N, 1, 28, 28)
"""
import math

import numpy as np

from .. import nn
from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function
from ..creation import randn
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["ConvVAE", "reparameterize", "Reparameterize", "kl_to_standard_normal", "bernoulli_nll",
           "importance_weighted_nll"]


class Reparameterize(Function):
    """z = mu + sigma * eps with sigma = exp(logvar / 2): a draw from N(mu, sigma^2) made differentiable.

    Forward, elementwise, all inputs of one shape (N, L):

        z = mu + exp(logvar / 2) * eps

    Backward. eps is a constant of the forward (drawn once, outside), so z is an ordinary function of
    mu and logvar and the chain rule applies:

        dz / dmu     = 1                                      ->  dL/dmu     = dL/dz
        dz / dlogvar = eps * d/dlogvar exp(logvar / 2)
                     = eps * exp(logvar / 2) / 2
                     = eps * sigma / 2                         ->  dL/dlogvar = dL/dz * eps * sigma / 2
        dz / deps    = sigma                                  ->  dL/deps    = dL/dz * sigma (rarely wanted)

    So the gradient of a loss reaching z pushes mu as if z were mu itself, and pushes the width:
    when a wider draw in the direction of this eps would lower the loss (dL/dz * eps < 0), logvar
    rises. Without the trick the draw z ~ N(mu, sigma^2) would have no derivative at all.
    The backward is written in Tensor operations, so it is itself differentiable.
    """

    def forward(self, mu, logvar, eps):
        if not mu.shape == logvar.shape == eps.shape:
            raise ValueError(f"reparameterize: mu, logvar and eps must have one shape, got {mu.shape}, "
                             f"{logvar.shape}, {eps.shape}")
        return mu + np.exp(0.5 * logvar) * eps

    def backward(self, dz):
        _, logvar, eps = self.inputs
        sigma = (logvar * 0.5).exp()
        return (dz, dz * eps * sigma * 0.5,
                dz * sigma if self.needs_input_grad[2] else None)

    def jvp(self, dmu, dlogvar, deps):
        """Forward mode: dz = dmu + sigma * (eps * dlogvar / 2 + deps)."""
        _, logvar, eps = (t.array for t in self.inputs)
        sigma = np.exp(0.5 * logvar)
        return add_tangents(self._outputs[0].shape, dmu, None if dlogvar is None else sigma * eps * dlogvar * 0.5,
                            None if deps is None else sigma * deps)


def reparameterize(mu, logvar, eps=None, generator=None):
    """z = mu + exp(logvar / 2) * eps (see Reparameterize); eps ~ N(0, I) drawn from `generator`
    (default: glassnet's default generator) when not given."""
    if eps is None:
        eps = randn(tuple(mu.shape), generator=generator, dtype=mu.dtype)
    return Reparameterize.apply(mu, logvar, eps)


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per row: (N, L) -> (N,) nats."""
    return 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(1)


def bernoulli_nll(logits, x):
    """-log p(x | logits) per image for binary images x: the binary cross-entropy summed over the pixels,
    (N, ...) -> (N,) nats."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").reshape(len(x), -1).sum(1)


class ConvVAE(nn.Module):
    """forward(x (N, 1, 28, 28) binary, generator=None) -> (logits (N, 1, 28, 28), mu (N, L), logvar (N, L)),
    z drawn with the reparameterisation trick. encode(x) -> (mu, logvar); decode(z) -> logits."""

    def __init__(self, latent_dim=32, channels=32, hidden=256):
        super().__init__()
        c, self.latent_dim = channels, latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * c * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * c * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (2 * c, 7, 7)), nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1))

    def encode(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"ConvVAE: expected images (N, 1, 28, 28), got {tuple(x.shape)}")
        stats = self.encoder(x)  # (N, 2L)
        return stats[:, :self.latent_dim], stats[:, self.latent_dim:]  # mu, logvar

    def decode(self, z):
        return self.decoder(z)  # logits (N, 1, 28, 28)

    def forward(self, x, generator=None):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator=generator)), mu, logvar

    def negative_elbo(self, x, generator=None):
        """(negative ELBO, reconstruction term, KL term) per image, each (N,) nats, one z per image (its eps
        drawn from `generator`, by default glassnet's default generator)."""
        logits, mu, logvar = self(x, generator)
        reconstruction, kl = bernoulli_nll(logits, x), kl_to_standard_normal(mu, logvar)
        return reconstruction + kl, reconstruction, kl


def _log_normal(x, mean=0.0, logvar=0.0):
    """log N(x; mean, exp(logvar)) summed over the last axis (NumPy)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (x - mean) ** 2 / np.exp(logvar)).sum(-1)


def importance_weighted_nll(model, x, samples=100, generator=None, chunk=50):
    """The importance-weighted estimate of -log p(x) per image, (N,) nats, NumPy float64, with `samples`
    draws of z ~ q(z|x) per image (decoded `chunk` draws at a time). Call it without a graph (no_grad).

        log w_j = log p(x|z_j) + log p(z_j) - log q(z_j|x),   -log p(x) ~ -(logsumexp_j log w_j - log k)
    """
    stats = model.encode(x)
    dtype = stats[0].dtype  # the model's: eps drawn as reparameterize draws it, the weights summed in float64
    mu, logvar = (t.array.astype(np.float64) for t in stats)  # (N, L) each
    n, latent = mu.shape
    log_w = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        eps = randn((n, k, latent), generator=generator, dtype=dtype).array.astype(np.float64)
        z = mu[:, None] + np.exp(0.5 * logvar[:, None]) * eps  # (N, k, L)
        logits = model.decode(Tensor._make(z.reshape(n * k, latent).astype(dtype)))  # (N k, 1, 28, 28)
        log_px = -bernoulli_nll(logits, Tensor._make(np.repeat(x.array, k, axis=0))).array.reshape(n, k)
        log_w.append(log_px + _log_normal(z) - _log_normal(z, mu[:, None], logvar[:, None]))
    log_w = np.concatenate(log_w, 1)  # (N, samples)
    top = log_w.max(1)
    return -(top + np.log(np.exp(log_w - top[:, None]).mean(1)))
