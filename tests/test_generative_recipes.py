"""Short runs of the generative recipes on the MNIST sample shipped with glassnet (offline, seconds each),
each asserting a figure that an untrained model does not reach. The full default runs are not tests
(their figures: docs/generative.md)."""
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet.recipes import get
from glassnet.recipes.ddpm_mnist import DDPMConfig
from glassnet.recipes.denoise_mnist import DenoiseConfig, add_noise, psnr
from glassnet.recipes.gan_mnist import GANConfig
from glassnet.recipes.vae_mnist import VAEConfig
from glassnet.train import load_checkpoint

SAMPLE = dict(sample=True, limit=512, test_limit=200, batch_size=32)


def _pictures(run_dir):
    return sorted(p for p in os.listdir(os.path.join(run_dir, "plots")))


def test_denoise_mnist_short_run_gains_decibels(tmp_path):
    config = DenoiseConfig(epochs=3, channels=16, **{**SAMPLE, "limit": 1024})
    summary = get("denoise-mnist").run(config, str(tmp_path))
    assert summary["noisy_psnr_db"] == pytest.approx(9.4, abs=0.2)
    assert summary["psnr_gain_db"] > 3  # an untrained autoencoder outputs grey: below the noisy input
    assert _pictures(tmp_path) == ["curves.png", "denoised.png"]


def test_psnr_and_noise():
    clean = gn.zeros(2, 1, 28, 28)
    noisy = add_noise(clean, 0.5, gn.Generator(0)).array
    assert noisy.min() == 0 and 0 < noisy.max() <= 1
    # half the pixels clipped to 0, the others half-normal: MSE = 0.5^2 / 2, PSNR = 10 log10(8) = 9.03 dB
    assert psnr(noisy, clean.array).mean() == pytest.approx(10 * np.log10(8), abs=0.3)
    assert psnr(np.full((1, 4), 0.1), np.zeros((1, 4)))[0] == pytest.approx(20.0)


def test_vae_mnist_short_run_and_its_pictures(tmp_path):
    config = VAEConfig(epochs=3, latent_dim=2, channels=4, hidden=32, iw_samples=20, lr=3e-3,
                       **{**SAMPLE, "limit": 1024})
    summary = get("vae-mnist").run(config, str(tmp_path))
    assert summary["test_neg_elbo"] < 260  # an untrained decoder says p = 1/2 per pixel: 784 log 2 = 543 nats
    assert summary["test_nll_iw"] <= summary["test_neg_elbo"] + 1 and summary["iw_samples"] == 20
    assert _pictures(tmp_path) == ["curves.png", "latent_walk.png", "reconstructions.png", "samples.png"]


def test_gan_mnist_short_run_and_frames_kept_across_a_resume(tmp_path):
    config = GANConfig(epochs=1, channels=16, latent_dim=32, eval_every=40, eval_samples=200, test_samples=500,
                       lr=5e-4, **{**SAMPLE, "limit": 5000, "batch_size": 64})
    recipe = get("gan-mnist")
    first = recipe.run(config, str(tmp_path))
    assert first["steps"] == 79 and first["scored_images"] == 500
    summary = recipe.run(GANConfig(**{**config.__dict__, "epochs": 2}), str(tmp_path),
                         resume=str(tmp_path / "checkpoints" / "last.safetensors"))
    extra = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")["extra"]
    assert extra["frame_steps"] == [40, 79, 80, 120, 158] and extra["step"] == 158  # the first run's kept
    assert len(extra["frames"]) == 5 and extra["frames"][0].shape == (64, 1, 28, 28)
    # a freshly initialised generator draws grey images: 1348 (500 samples); 158 steps take it to about 950
    assert summary["frechet_distance"] < 1150
    assert _pictures(tmp_path) == ["curves.png", "losses.png", "progress.gif", "progress.png", "samples.png"]


def test_ddpm_mnist_short_run_learns_to_predict_the_noise(tmp_path):
    config = DDPMConfig(epochs=2, channels="8,16", timesteps=100, sampling_steps=5, eval_samples=50,
                        test_samples=100, lr=3e-3, **SAMPLE)
    summary = get("ddpm-mnist").run(config, str(tmp_path))
    assert summary["train_loss"] < 0.4  # predicting no noise at all scores 1.0
    assert summary["scored_images"] == 100 and summary["sampling_steps"] == 5
    assert _pictures(tmp_path) == ["curves.png", "reverse_chain.png", "samples.png"]


@pytest.mark.parametrize("name", ["denoise-mnist", "vae-mnist", "gan-mnist", "ddpm-mnist", "mnist-feature-net"])
def test_recipes_are_registered_with_their_flags(name):
    recipe = get(name)
    assert recipe.length_field == "epochs" and recipe.config().pictures is True
