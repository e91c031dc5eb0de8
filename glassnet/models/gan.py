"""A DCGAN (Radford, Metz and Chintala 2016) for 28x28 digits: a generator and a discriminator that
learn by playing against each other (Goodfellow et al. 2014).

The game. The discriminator D(x) gives a logit: how real image x looks (sigmoid(D(x)) = the
probability of real). The generator G(z) turns noise z ~ N(0, I) into an image. D minimises the
cross-entropy of telling real from fake,

    L_D = -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))) = softplus(-D(x)) + softplus(D(G(z)))

and G, in the minimax game, would maximise that same loss. Early in training D wins easily,
sigmoid(D(G(z))) ~ 0, and the gradient of log(1 - sigmoid(D(G(z)))) vanishes there; so G minimises
the "non-saturating" loss instead, the same fixed point with strong gradients where G is bad:

    L_G = -log sigmoid(D(G(z))) = softplus(-D(G(z)))

For an optimal D, the minimax game minimises the Jensen-Shannon divergence between the data and the
generator's distribution; at its equilibrium G draws from the data distribution and D says 1/2.

The architecture, with DCGAN's rules: no pooling (strided convolutions down, strided transposed
convolutions up), batch norm in both networks except D's input layer and G's output layer, ReLU in G
with tanh at its output (images in [-1, 1]), LeakyReLU (slope 0.2) in D, weights drawn from
N(0, 0.02) (batch-norm scales from N(1, 0.02)).

    generator      z (N, L) as (N, L, 1, 1)
                   -> transposed conv 7x7 (L -> 2c) -> BN -> ReLU              (N, 2c, 7, 7)
                   -> transposed conv 4x4 stride 2 (2c -> c) -> BN -> ReLU     (N, c, 14, 14)
                   -> transposed conv 4x4 stride 2 (c -> 1) -> tanh            (N, 1, 28, 28)
    discriminator  x (N, 1, 28, 28)
                   -> conv 4x4 stride 2 (1 -> c) -> LeakyReLU                  (N, c, 14, 14)
                   -> conv 4x4 stride 2 (c -> 2c) -> BN -> LeakyReLU           (N, 2c, 7, 7)
                   -> conv 7x7 (2c -> 1)                                        logits (N,)
"""
from .. import nn
from ..creation import randn
from ..nn import functional as F

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "GAN", "dcgan_init_", "discriminator_loss", "generator_loss"]


class DCGANGenerator(nn.Module):
    """forward(z (N, latent_dim)) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, latent_dim=64, channels=32):
        super().__init__()
        c, self.latent_dim = channels, latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * c, 7, bias=False), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"DCGANGenerator: expected noise (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z.reshape(len(z), self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """forward(images (N, 1, 28, 28) in [-1, 1]) -> logits (N,): > 0 says real."""

    def __init__(self, channels=32):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 1, 7))

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"DCGANDiscriminator: expected images (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.net(x).reshape(len(x))


def dcgan_init_(module):
    """DCGAN's initialisation, in place: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02),
    biases 0. Returns the module."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return module


class GAN(nn.Module):
    """The two players in one module (one state dict, one checkpoint): `generator`, `discriminator`.
    sample(n) -> n generated images (N, 1, 28, 28) in [0, 1]."""

    def __init__(self, latent_dim=64, channels=32):
        super().__init__()
        self.generator = dcgan_init_(DCGANGenerator(latent_dim, channels))
        self.discriminator = dcgan_init_(DCGANDiscriminator(channels))

    def sample(self, n, generator=None):
        z = randn((n, self.generator.latent_dim), generator=generator)
        return (self.generator(z) + 1) * 0.5


def discriminator_loss(real_logits, fake_logits):
    """L_D = mean softplus(-D(x)) + mean softplus(D(G(z))): the cross-entropy of labelling real 1 and fake 0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    """L_G = mean softplus(-D(G(z))) = -log sigmoid(D(G(z))): the non-saturating generator loss."""
    return F.softplus(-fake_logits).mean()
