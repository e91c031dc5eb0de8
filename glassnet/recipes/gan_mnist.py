"""gan-mnist: a DCGAN on MNIST, measured by the Fréchet distance and the classifier score of its samples.

    glassnet train gan-mnist

Each step of the loop is one round of the game (glassnet.train.players) on a batch of real digits
scaled to [-1, 1]: the discriminator's step on the real batch and a fresh fake batch (detached: the
generator is not changed by it), then the generator's step on that fake batch, judged by the
discriminator just updated. Adam with beta1 = 0.5 and lr 2e-4 for both players, as DCGAN.

Every --eval-every steps: the Fréchet distance and classifier score of --eval-samples samples
(glassnet.metrics.generative; fewer samples give a larger distance) and a grid of the samples of 64
fixed noise vectors, kept with the checkpoints. The final test scores --test-samples samples (10,000).
Logged during training: d_loss, g_loss, and D's mean probability of "real" for the real and the fake
batch (d_real, d_fake: when D wins outright they drift to 1 and 0).
Pictures: 100 samples, the fixed-noise samples at every evaluation (a grid and an animated GIF), the
players' losses.
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..creation import randn
from ..models.gan import GAN, discriminator_loss, generator_loss
from ..nn.utils import evaluating
from ..random import Generator
from ..tensor import Tensor
from ..train import Experiment, Player, Players
from . import Recipe, register
from .config import flag, positive, probability
from .generative import PixelsConfig, load_pixels, plot_path, scores, shuffled_batches

FRAMES = 64  # fixed noise vectors whose samples are kept at every evaluation


@dataclass
class GANConfig(PixelsConfig):
    epochs: int = flag(5, "passes over the training set", positive)
    batch_size: int = flag(64, "real (and as many fake) images per step", positive)
    lr: float = flag(2e-4, "Adam learning rate of both players", positive)
    beta1: float = flag(0.5, "Adam beta1 of both players", probability)
    latent_dim: int = flag(64, "dimensions of the generator's noise z", positive)
    channels: int = flag(32, "channels of D's first and G's last hidden layer (the other has twice as many)",
                         positive)
    eval_every: int = flag(500, "steps between evaluations (and animation frames)", positive)
    eval_samples: int = flag(2000, "samples scored at each evaluation", positive)
    test_samples: int = flag(10000, "samples scored by the final test", positive)


class _Game:
    """The players' losses, the evaluations and the pictures of a GAN run. `extra` is the Experiment's,
    which checkpoints keep: the steps done, and the fixed-noise samples at each evaluation (uint8) with
    their steps."""

    def __init__(self, config, extra):
        self.config, self.extra, self.fake = config, extra, None
        self.fixed_z = randn((FRAMES, config.latent_dim), generator=Generator(config.seed + 4))

    def discriminator_loss(self, model, batch):
        real = batch[0]
        self.fake = model.generator(randn((len(real), self.config.latent_dim)))  # kept for the generator's turn
        real_logits, fake_logits = model.discriminator(real), model.discriminator(self.fake.detach())
        return discriminator_loss(real_logits, fake_logits), {
            "d_real": real_logits.sigmoid().mean().item(), "d_fake": fake_logits.sigmoid().mean().item()}

    def generator_loss(self, model, batch):
        self.extra["step"] += 1  # the generator's turn ends each step of the loop
        return generator_loss(model.discriminator(self.fake))

    def _samples(self, model, n, seed):
        generator, out = Generator(seed), []
        for start in range(0, n, 1000):
            out.append(model.sample(min(1000, n - start), generator).array)
        return np.concatenate(out)

    def evaluate(self, model):
        self.extra["frames"].append(np.round(255 * (model.generator(self.fixed_z).array + 1) / 2).astype(np.uint8))
        self.extra["frame_steps"].append(self.extra["step"])
        return scores(self._samples(model, self.config.eval_samples, self.config.seed + 3))

    def final_test(self, model):
        return scores(self._samples(model, self.config.test_samples, self.config.seed + 5))

    def pictures(self, model, run_dir):
        from ..train.log import read_metrics
        from ..viz.generative import plot_digit_grid, plot_digit_rows, plot_players, save_animation, tile

        with evaluating(model):
            samples = self._samples(model, 100, self.config.seed + 6)
        frames = [np.asarray(getattr(f, "array", f)) / 255 for f in self.extra["frames"]]  # Tensors after a resume
        at = self.extra["frame_steps"]
        paths = [plot_path(run_dir, name) for name in ("samples.png", "progress.png", "progress.gif", "losses.png")]
        plot_digit_grid(samples, paths[0], title="100 samples of the generator")
        shown = np.linspace(0, len(frames) - 1, min(len(frames), 8)).round().astype(int)
        plot_digit_rows({f"step {at[i]}": frames[i][:10] for i in shown}, paths[1],
                        title="the same 10 noise vectors during training")
        save_animation([tile(f, 8) for f in frames], [f"step {s}" for s in at], paths[2])
        plot_players(read_metrics(os.path.join(run_dir, "metrics.jsonl")), paths[3])
        return {"plots": paths}


def build(config):
    train = load_pixels(config, True)
    model = GAN(config.latent_dim, config.channels)
    extra = {"step": 0, "frames": [], "frame_steps": []}
    game = _Game(config, extra)
    betas = (config.beta1, 0.999)
    players = Players(Player("d", game.discriminator_loss, optim.Adam(model.discriminator.parameters(), config.lr,
                                                                       betas=betas)),
                      Player("g", game.generator_loss, optim.Adam(model.generator.parameters(), config.lr,
                                                                  betas=betas)))
    batches = shuffled_batches(config, Tensor._make(train.array * 2 - 1))  # tanh's range
    return Experiment(model, players, batches, steps=config.epochs * len(batches), evaluate=game.evaluate, eval_every=config.eval_every,
                      test=game.final_test, monitor="frechet_distance", mode="min", log_every=50, unit="img",
                      clip_grad_norm=config.clip_grad_norm, extra=extra,
                      report=game.pictures if config.pictures else None)


register(Recipe("gan-mnist", "DCGAN on MNIST: Fréchet distance and classifier score of 10,000 samples, samples "
                "during training (grid and GIF)", GANConfig, build))
