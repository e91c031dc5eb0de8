"""denoise-mnist: a convolutional autoencoder that takes the noise out of MNIST digits.

    glassnet train denoise-mnist

Input: a digit with Gaussian noise of standard deviation 0.5 added to every pixel, clipped to [0, 1];
target: the clean digit; loss: the binary cross-entropy of the output's logits against the clean
pixel intensities (why not the squared error: glassnet.models.autoencoder). A fresh noise draw for
every training image at every epoch (from glassnet's default generator, so resumed runs draw the
same), one fixed draw for the test set. The evaluation after every epoch gives the PSNR (peak
signal-to-noise ratio) of the noisy input and of the model's output against the clean test digits,

    PSNR = 10 log10(1 / MSE)  decibels (peak value 1), per image, averaged over the test images,

and the gain between them (target: at least +8 dB). Picture: noisy, denoised and clean rows.
"""
from dataclasses import dataclass

import numpy as np

from ..creation import randn
from ..models.autoencoder import ConvAutoencoder
from ..nn import functional as F
from ..nn.utils import evaluating
from ..random import Generator
from ..tensor import Tensor
from . import Recipe, register
from .config import flag, positive
from .generative import PixelsConfig, in_batches, load_pixels, one_cycle_experiment, plot_path, shuffled_batches


@dataclass
class DenoiseConfig(PixelsConfig):
    epochs: int = flag(4, "passes over the training set", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    noise_std: float = flag(0.5, "standard deviation of the Gaussian noise added to the pixels", positive)
    channels: int = flag(32, "channels of the first convolution (the second has twice as many)", positive)


def add_noise(images, std, generator=None):
    """images + N(0, std^2) noise per pixel, clipped to [0, 1] (a Tensor, no gradient); the noise from
    `generator` (default: glassnet's default generator)."""
    noise = randn(tuple(images.shape), generator=generator, dtype=images.dtype).array
    return Tensor._make(np.clip(images.array + std * noise, 0, 1))


def psnr(images, clean):
    """Per-image PSNR in dB (peak 1) of images against clean, both (N, 1, 28, 28) arrays."""
    mse = ((images - clean) ** 2).reshape(len(images), -1).mean(1)
    return 10 * np.log10(1 / np.maximum(mse, 1e-12))


class _Denoising:
    """The loss, the test-set evaluation and the picture of a denoising run."""

    def __init__(self, config, test_images):
        self.std, self.clean = config.noise_std, test_images
        self.noisy = add_noise(test_images, config.noise_std, Generator(config.seed + 2))  # one fixed draw

    def loss(self, model, batch):
        clean = batch[0]
        return F.binary_cross_entropy_with_logits(model(add_noise(clean, self.std)), clean)

    def denoise(self, model):
        return np.concatenate([model.reconstruct(x).array for x in in_batches(self.noisy, 1000, "test")])

    def evaluate(self, model):
        out, clean = self.denoise(model), self.clean.array
        noisy, denoised = psnr(self.noisy.array, clean).mean(), psnr(out, clean).mean()
        return {"test_mse": float(((out - clean) ** 2).mean()), "noisy_psnr_db": float(noisy),
                "test_psnr_db": float(denoised), "psnr_gain_db": float(denoised - noisy)}

    def picture(self, model, run_dir):
        from ..viz.generative import plot_digit_rows

        path = plot_path(run_dir, "denoised.png")
        noisy, clean = self.noisy[:12], self.clean[:12]
        with evaluating(model):
            denoised = model.reconstruct(noisy)
        plot_digit_rows({"noisy": noisy, "denoised": denoised, "clean": clean}, path,
                        title=f"test digits with noise of std {self.std:g}")
        return {"plots": [path]}


def build(config):
    train, test = load_pixels(config, True), load_pixels(config, False)
    task = _Denoising(config, test)
    model = ConvAutoencoder(config.channels)
    return one_cycle_experiment(config, model, shuffled_batches(config, train), loss=task.loss,
                                evaluate=task.evaluate, monitor="test_psnr_db", mode="max",
                                report=task.picture if config.pictures else None)


register(Recipe("denoise-mnist", "convolutional autoencoder removing Gaussian noise (std 0.5) from MNIST digits: "
                ">= +8 dB PSNR over the noisy input", DenoiseConfig, build))
