"""vae-mnist: a convolutional variational autoencoder on dynamically binarised MNIST.

    glassnet train vae-mnist                          32 latent dimensions: test negative ELBO <= 100 nats
    glassnet train vae-mnist --latent-dim 2 --out runs/vae-2d     a 2-D latent space, with its walk

Data: every training image is binarised afresh at every epoch (pixel on with probability its grey
level, drawn from glassnet's default generator: "dynamic binarisation", which keeps the model from
memorising one particular set of black and white pixels); the test images are binarised once, with
a fixed seed. Loss: the negative ELBO in nats per image (glassnet.models.vae), reported with its two
terms, the reconstruction (binary cross-entropy) and the KL divergence.

The evaluation after every epoch gives the test negative ELBO (one z per image, a fixed draw); the
final test adds the importance-weighted estimate of the test negative log-likelihood with
--iw-samples draws per image (k = 100 by default), which is the tighter number: -log p(x) <= -ELBO.
Pictures: samples from the prior, test reconstructions, and for --latent-dim 2 the decoder over a
grid of the latent plane (the latent walk).
"""
from dataclasses import dataclass

import numpy as np

from ..creation import bernoulli, randn
from ..models.vae import ConvVAE, importance_weighted_nll
from ..nn.utils import evaluating
from ..random import Generator
from ..tensor import Tensor
from . import Recipe, register
from .config import flag, positive
from .generative import PixelsConfig, in_batches, load_pixels, one_cycle_experiment, plot_path, shuffled_batches


@dataclass
class VAEConfig(PixelsConfig):
    epochs: int = flag(12, "passes over the training set", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    latent_dim: int = flag(32, "dimensions of the latent code z (2: draw the latent walk)", positive)
    channels: int = flag(32, "channels of the first convolution (the second has twice as many)", positive)
    hidden: int = flag(512, "units of the fully connected layer on each side of the code", positive)
    iw_samples: int = flag(100, "draws of z per test image for the importance-weighted NLL", positive)


def binarize(images, generator=None):
    """Each pixel 1 with probability its value in [0, 1], else 0."""
    return bernoulli(images, generator=generator)


class _VAETask:
    """The loss, the evaluations and the pictures of a VAE run."""

    def __init__(self, config, test_images):
        self.config = config
        self.test = binarize(test_images, Generator(config.seed + 2))  # one fixed binarisation

    def loss(self, model, batch):
        nelbo, reconstruction, kl = model.negative_elbo(binarize(batch[0]))
        return nelbo.mean(), {"reconstruction": reconstruction.mean().item(), "kl": kl.mean().item()}

    def _fixed_draws(self):
        """Evaluations draw their z from their own generator: every evaluation sees the same draws."""
        return Generator(self.config.seed + 3)

    def evaluate(self, model):
        totals, generator = np.zeros(3), self._fixed_draws()
        for x in in_batches(self.test, 500, "test"):
            totals += [term.sum().item() for term in model.negative_elbo(x, generator)]
        nelbo, reconstruction, kl = totals / len(self.test)
        return {"test_neg_elbo": nelbo, "test_reconstruction": reconstruction, "test_kl": kl}

    def final_test(self, model):
        out = self.evaluate(model)
        generator, k = self._fixed_draws(), self.config.iw_samples
        nll = np.concatenate([importance_weighted_nll(model, x, k, generator)
                              for x in in_batches(self.test, 100, f"test NLL (k = {k})")])
        return {**out, "test_nll_iw": float(nll.mean()), "iw_samples": k, "test_images": len(self.test)}

    def pictures(self, model, run_dir):
        from ..viz.generative import plot_digit_grid, plot_digit_rows, plot_latent_walk

        paths = [plot_path(run_dir, "samples.png"), plot_path(run_dir, "reconstructions.png")]
        with evaluating(model):
            z = randn((100, model.latent_dim), generator=Generator(self.config.seed + 4))
            plot_digit_grid(model.decode(z).sigmoid(), paths[0], title="samples: decoder(z), z ~ N(0, I) "
                            "(pixel probabilities)")
            x = self.test[:12]
            plot_digit_rows({"test digit": x, "reconstruction": model.decode(model.encode(x)[0]).sigmoid()},
                            paths[1], title="reconstructions from the mean code mu(x)")
            if model.latent_dim == 2:
                paths.append(plot_path(run_dir, "latent_walk.png"))
                grid = np.linspace(-2.5, 2.5, 15)
                z = np.stack(np.meshgrid(grid, grid[::-1]), -1).reshape(-1, 2).astype(np.float32)  # rows: z2 falls
                plot_latent_walk(model.decode(Tensor._make(z)).sigmoid(), (grid[0], grid[-1]), paths[-1])
        return {"plots": paths}


def build(config):
    train, test = load_pixels(config, True), load_pixels(config, False)
    task = _VAETask(config, test)
    model = ConvVAE(config.latent_dim, config.channels, config.hidden)
    return one_cycle_experiment(config, model, shuffled_batches(config, train), loss=task.loss,
                                evaluate=task.evaluate, test=task.final_test, monitor="test_neg_elbo", mode="min",
                                report=task.pictures if config.pictures else None)


register(Recipe("vae-mnist", "convolutional VAE on dynamically binarised MNIST: test negative ELBO <= 100 nats, "
                "with the importance-weighted NLL (k = 100)", VAEConfig, build))
