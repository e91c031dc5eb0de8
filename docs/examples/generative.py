"""The three ideas of the generative tutorial, each small enough to run in seconds:

1. the reparameterisation trick: the gradient of E_{z ~ N(mu, sigma^2)}[z^2] with respect to mu,
   estimated through z = mu + sigma eps (pathwise) and by the score function; same mean, far less spread;
2. the adversarial game in one dimension: a generator learns to draw from N(2, 0.5^2) against a
   discriminator, shown at a few moments with D's opinion of every x;
3. the forward diffusion process on real digits: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps.

Run: python docs/examples/generative.py   (writes docs/images/generative_*.png)
"""
import os

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.datasets import MNIST
from glassnet.models.diffusion import GaussianDiffusion
from glassnet.models.gan import discriminator_loss, generator_loss
from glassnet.models.vae import reparameterize
from glassnet.viz._figure import finish, new_figure
from glassnet.viz.generative import plot_chain

from _common import IMAGES, run  # docs/examples/_common.py


def gradient_estimates(mu=1.0, sigma=0.5, draws=2000, seed=0):
    """d/dmu E[z^2] = 2 mu, estimated from single draws: (pathwise via autograd, score function)."""
    eps = gn.randn(draws, generator=gn.Generator(seed))
    m = gn.full((draws,), mu, requires_grad=True)
    logvar = gn.full((draws,), 2 * np.log(sigma))
    z = reparameterize(m, logvar, eps)
    (z * z).sum().backward()  # one draw per element: the gradient of each is 2 z
    pathwise = m.grad.array
    score = z.array ** 2 * (z.array - mu) / sigma ** 2  # f(z) d/dmu log q(z)
    return pathwise, score


def plot_estimates(pathwise, score, truth, path):
    fig = new_figure((6, 3.4))
    ax = fig.add_subplot()
    bins = np.linspace(-6, 10, 80)
    ax.hist(score, bins, alpha=0.6, label=f"score function: std {score.std():.2f}")
    ax.hist(pathwise, bins, alpha=0.6, label=f"reparameterised: std {pathwise.std():.2f}")
    ax.axvline(truth, color="k", lw=1, label=f"true gradient {truth:g}")
    ax.set(xlabel="one-draw estimate of d/dmu E[z^2]", ylabel="draws", title="two estimates of one gradient")
    ax.legend(fontsize=8)
    return finish(fig, path)


def mlp(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers[:-1])


def game_1d(steps, batch=128, snapshots=4):
    """Train a 1-D GAN; returns [(step, generated x, D's probability of real on a grid)]."""
    gn.manual_seed(0)
    g, d = mlp(1, 16, 16, 1), mlp(1, 32, 32, 1)
    g_opt, d_opt = optim.Adam(g.parameters(), 5e-4, betas=(0.5, 0.999)), optim.Adam(d.parameters(), 5e-4,
                                                                                      betas=(0.5, 0.999))
    grid = gn.linspace(-2, 5, 200).reshape(-1, 1)
    kept, when = [], set(np.linspace(0, steps, snapshots).round().astype(int))
    for step in range(steps + 1):
        if step in when:
            with gn.no_grad():
                z = gn.randn(2000, 1, generator=gn.Generator(1))  # not from the training's stream of draws
                kept.append((step, g(z).array.ravel(), d(grid).sigmoid().array.ravel()))
        real, fake = 2 + 0.5 * gn.randn(batch, 1), g(gn.randn(batch, 1))
        d_opt.zero_grad()
        discriminator_loss(d(real), d(fake.detach())).backward()  # D's turn: tell real from fake
        d_opt.step()
        g_opt.zero_grad()
        generator_loss(d(fake)).backward()  # G's turn: fool the D just updated
        g_opt.step()
    return kept, grid.array.ravel()


def plot_game(kept, grid, path):
    fig = new_figure((3.2 * len(kept), 3.0))
    density = np.exp(-0.5 * ((grid - 2) / 0.5) ** 2) / (0.5 * np.sqrt(2 * np.pi))
    for ax, (step, samples, d_real) in zip(fig.subplots(1, len(kept)), kept):
        ax.hist(samples, np.linspace(-2, 5, 60), density=True, alpha=0.6, label="G's samples")
        ax.plot(grid, density, "k", lw=1, label="data N(2, 0.5²)")
        ax.plot(grid, d_real, "r", lw=1.2, label="D: P(real | x)")
        ax.set(title=f"step {step}", xlabel="x", ylim=(0, 1.2))
    ax.legend(fontsize=7)
    return finish(fig, path)


def main(out_dir=IMAGES, small=False):
    """Draw the three pictures; return the figures they show."""
    pathwise, score = gradient_estimates()
    plot_estimates(pathwise, score, 2.0, os.path.join(out_dir, "generative_reparameterisation.png"))
    kept, grid = game_1d(60 if small else 3000)
    plot_game(kept, grid, os.path.join(out_dir, "generative_game_1d.png"))
    process = GaussianDiffusion(1000)
    digits = MNIST(train=False, sample=True).data.array[:3].astype(np.float32)[:, None] / 255 * 2 - 1
    times = [0, 50, 100, 200, 300, 500, 700, 999]
    eps = gn.randn(*digits.shape, generator=gn.Generator(1))
    chain = [(process.q_sample(gn.tensor(digits), gn.tensor([t] * 3), eps).array + 1) / 2 for t in times]
    plot_chain(chain, [f"t = {t + 1}" for t in times], os.path.join(out_dir, "generative_noising.png"),
                       title="the forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps")
    final_samples = kept[-1][1]
    return dict(pathwise_mean=float(pathwise.mean()), pathwise_std=float(pathwise.std()),
                score_mean=float(score.mean()), score_std=float(score.std()),
                gan_mean=float(final_samples.mean()), gan_std=float(final_samples.std()),
                noise_left=float(np.sqrt(process.alpha_bars[-1])))


if __name__ == "__main__":
    run(main)
