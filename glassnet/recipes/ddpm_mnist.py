"""ddpm-mnist: a denoising diffusion model (DDPM) on MNIST, sampled with DDIM, measured like gan-mnist.

    glassnet train ddpm-mnist

Training (glassnet.models.diffusion): digits scaled to [-1, 1]; for each image a timestep t uniform in
0 ... 999 and a noise eps, x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, and the U-Net's guess of
eps scored by the squared error. AdamW, a one-cycle learning rate.

After every epoch: the Fréchet distance and classifier score (glassnet.metrics.generative) of
--eval-samples images drawn by DDIM in --sampling-steps steps; the final test scores --test-samples
(10,000). Pictures: 100 samples, and the reverse chain of a few samples from noise to digit (the
full 1000-step DDPM chain, shown at a few timesteps).
"""
from dataclasses import dataclass

import numpy as np

from ..models.diffusion import DiffusionUNet, GaussianDiffusion
from ..nn.utils import evaluating
from ..random import Generator
from ..tensor import Tensor
from . import Recipe, register
from .config import flag, positive
from .generative import PixelsConfig, load_pixels, one_cycle_experiment, plot_path, scores, shuffled_batches


def _channels(value):
    try:
        widths = [int(c) for c in value.split(",")]
    except ValueError:
        return "must be comma-separated integers, such as 16,32,64"
    return None if widths and min(widths) > 0 else "must be positive integers"


@dataclass
class DDPMConfig(PixelsConfig):
    epochs: int = flag(3, "passes over the training set", positive)
    batch_size: int = flag(64, "images per optimizer step", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    clip_grad_norm: float = flag(1.0, "clip the gradient norm to this value (0: off)")
    channels: str = flag("16,32,64", "the U-Net's width at 28, 14 and 7 pixels (one level per number)", _channels)
    timesteps: int = flag(1000, "T: steps of the noising process", positive)
    sampling_steps: int = flag(20, "DDIM steps per sample in the evaluations and the final test", positive)
    eval_samples: int = flag(1000, "samples scored after each epoch", positive)
    test_samples: int = flag(10000, "samples scored by the final test", positive)


class _Diffusion:
    """The loss, the evaluations and the pictures of a DDPM run."""

    def __init__(self, config):
        self.config, self.process = config, GaussianDiffusion(config.timesteps)

    def loss(self, model, batch):
        return self.process.loss(model, batch[0])

    def samples(self, model, n, seed, batch=500):
        """n DDIM samples in [0, 1], (n, 1, 28, 28) NumPy."""
        generator, out = Generator(seed), []
        for start in range(0, n, batch):
            x = self.process.ddim_sample(model, min(batch, n - start), self.config.sampling_steps, generator=generator)
            out.append(np.clip((x.array + 1) / 2, 0, 1))
        return np.concatenate(out)

    def evaluate(self, model):
        return scores(self.samples(model, self.config.eval_samples, self.config.seed + 3))

    def final_test(self, model):
        return {**scores(self.samples(model, self.config.test_samples, self.config.seed + 5)),
                "sampling_steps": self.config.sampling_steps}

    def pictures(self, model, run_dir):
        from ..viz.generative import plot_digit_grid, plot_chain

        paths = [plot_path(run_dir, "samples.png"), plot_path(run_dir, "reverse_chain.png")]
        with evaluating(model):
            plot_digit_grid(self.samples(model, 100, self.config.seed + 6), paths[0],
                            title=f"100 samples (DDIM, {self.config.sampling_steps} steps)")
            last = self.config.timesteps - 1
            shown = sorted({round(f * last) for f in (1, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0)}, reverse=True)
            _, kept = self.process.ddpm_sample(model, 6, Generator(self.config.seed + 7), record=set(shown))
        steps = shown + [-1]  # kept[t] is the input of reverse step t: x_{t+1}, counting as the equations do
        chain = [(kept[t] + 1) / 2 for t in steps]
        plot_chain(chain, [f"t = {t + 1}" for t in steps], paths[1],
                           title=f"the reverse chain (DDPM, {self.config.timesteps} steps): x_t at a few t")
        return {"plots": paths}


def build(config):
    train = load_pixels(config, True)
    task = _Diffusion(config)
    model = DiffusionUNet([int(c) for c in config.channels.split(",")])
    return one_cycle_experiment(config, model, shuffled_batches(config, Tensor._make(train.array * 2 - 1)),
                                loss=task.loss, evaluate=task.evaluate, test=task.final_test,
                                monitor="frechet_distance", mode="min",
                                report=task.pictures if config.pictures else None)


register(Recipe("ddpm-mnist", "denoising diffusion (DDPM, small U-Net) on MNIST, DDIM sampling: Fréchet distance "
                "and classifier score of 10,000 samples, the reverse chain", DDPMConfig, build))
