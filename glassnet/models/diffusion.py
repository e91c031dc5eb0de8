"""Denoising diffusion (DDPM, Ho, Jain and Abbeel 2020) with DDIM sampling (Song, Meng and Ermon 2021).

The forward (noising) process destroys an image x_0 in T small Gaussian steps with variances
beta_1 ... beta_T (a schedule rising linearly from 1e-4 to 0.02 for T = 1000):

    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)

With alpha_t = 1 - beta_t and abar_t = alpha_1 alpha_2 ... alpha_t, any step has a closed form, so
training never runs the chain:

    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I),   x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps

abar_T ~ 4e-5: x_T is pure noise whatever x_0 was.

The reverse (generating) process runs the chain backwards from x_T ~ N(0, I). The network
eps_theta(x_t, t) is trained to guess the noise in x_t (Ho et al.'s simplified loss, the mean
squared error of the guess over a uniformly drawn t):

    L = E_{x_0, t, eps} |eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)|^2

and each reverse step removes a little of the guessed noise and adds back a little fresh noise:

    x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t) + sigma_t z,  z ~ N(0, I)

with sigma_t^2 = beta_t (Ho et al.'s choice; no noise at the last step). That is T network
evaluations per sample.

DDIM takes a shortcut through a subsequence tau_1 < ... < tau_S of the steps with the same trained
network: from x_t it first estimates the clean image, then moves to the noise level of the earlier
step s along the guessed noise (eta = 0: deterministic),

    x0_hat  = (x_t - sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(abar_t)        (clipped to [-1, 1])
    x_s     = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps_theta(x_t, t) + sigma z
    sigma   = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s)

so 50 steps instead of 1000 (eta = 1 gives the DDPM step between those noise levels).

The network: a small U-Net conditioned on t. The time embedding is t's sinusoidal encoding (as the
Transformer's positions, sin(t w_i), cos(t w_i) with w_i = 10000^(-i / (d/2))) through a 2-layer MLP;
each residual block adds a projection of it to its feature maps, so every layer knows how much noise
it is looking at. (glassnet.models.UNet, the segmentation U-Net, has no time input and batch norm,
whose statistics mix the noise levels of a batch: this one has group norm and residual blocks.) The
nonlinearity is GELU (tanh form), a smooth ReLU like the papers' SiLU and cheaper in glassnet.

    x (N, 1, 28, 28), t (N,)
    conv 3x3 (1 -> c0)                                          (N, c0, 28, 28)
    encoder: per level a ResBlock; between levels a 3x3 stride-2 conv         (c_i, 28 / 2^i)
    middle:  a ResBlock at the lowest resolution
    decoder: per level, from the lowest: nearest 2x upsampling + 3x3 conv between levels,
             concatenate the encoder's output of that level (the skip), a ResBlock
    GroupNorm -> GELU -> conv 3x3 (c0 -> 1)                      predicted noise (N, 1, 28, 28)
"""
import math

import numpy as np

from .. import nn
from ..creation import randn
from ..nn import functional as F
from ..ops.indexing import cat
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["sinusoidal_embedding", "TimeResBlock", "DiffusionUNet", "GaussianDiffusion"]


def sinusoidal_embedding(t, dim, dtype=np.float32):
    """t (N,) timesteps -> (N, dim): [sin(t w_0) ... sin(t w_{d/2-1}), cos(t w_0) ...],
    w_i = 10000^(-i / (dim / 2)). Constant (no parameters, no gradient)."""
    if dim % 2:
        raise ValueError(f"sinusoidal_embedding: dim must be even, got {dim}")
    steps = np.asarray(getattr(t, "array", t), dtype=np.float64).reshape(-1, 1)
    freqs = np.exp(-math.log(10000.0) * np.arange(dim // 2) / (dim // 2))
    angles = steps * freqs  # (N, dim / 2)
    return Tensor._make(np.concatenate([np.sin(angles), np.cos(angles)], 1).astype(dtype))


def _act(x):
    return F.gelu(x, approximate="tanh")


def _groups(channels):
    return math.gcd(8, channels)


class TimeResBlock(nn.Module):
    """h = conv(GELU(GN(x))) + Linear(GELU(temb)) per channel; out = conv(GELU(GN(h))) + skip(x), where
    skip is a 1x1 conv when the channel count changes. (N, in, H, W), temb (N, E) -> (N, out, H, W)."""

    def __init__(self, in_channels, out_channels, embed_dim):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(embed_dim, out_channels)
        self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(_act(self.norm1(x)))
        h = h + self.time(_act(temb)).reshape(len(x), -1, 1, 1)  # (N, out, 1, 1): the same shift everywhere
        h = self.conv2(_act(self.norm2(h)))
        return h + self.skip(x)


class DiffusionUNet(nn.Module):
    """forward(x (N, 1, 28, 28), t (N,) int timesteps) -> predicted noise (N, 1, 28, 28).

    channels: the width of each resolution, from 28x28 down (each next level halves the size):
    (32, 64, 64) has levels at 28, 14 and 7 pixels. embed_dim: the time embedding's width (the
    sinusoidal encoding has channels[0] numbers)."""

    def __init__(self, channels=(32, 64, 64), embed_dim=128):
        super().__init__()
        self.channels = tuple(channels)
        c0 = self.channels[0]
        self.time_mlp = nn.Sequential(nn.Linear(c0, embed_dim), nn.GELU("tanh"), nn.Linear(embed_dim, embed_dim))
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        widths = (c0,) + self.channels
        self.down = nn.ModuleList([TimeResBlock(a, b, embed_dim) for a, b in zip(widths[:-1], widths[1:])])
        self.downsample = nn.ModuleList([nn.Conv2d(c, c, 3, stride=2, padding=1) for c in self.channels[:-1]])
        self.middle = TimeResBlock(self.channels[-1], self.channels[-1], embed_dim)
        self.upsample = nn.ModuleList([nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                                     nn.Conv2d(below, c, 3, padding=1))
                                       for c, below in zip(self.channels[:-1], self.channels[1:])])
        self.up = nn.ModuleList([TimeResBlock(2 * c, c, embed_dim) for c in self.channels])
        self.norm_out = nn.GroupNorm(_groups(c0), c0)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)

    def forward(self, x, t):
        factor = 2 ** (len(self.channels) - 1)
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(f"DiffusionUNet: expected images (N, 1, H, W) with H and W multiples of {factor}, got "
                             f"{tuple(x.shape)}")
        if len(t) != len(x):
            raise ValueError(f"DiffusionUNet: expected one timestep per image, got {len(t)} for {len(x)} images")
        temb = self.time_mlp(sinusoidal_embedding(t, self.channels[0], x.dtype))  # (N, E)
        h, skips = self.conv_in(x), []
        for i, block in enumerate(self.down):
            h = block(h, temb)  # (N, c_i, 28 / 2^i, 28 / 2^i)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.middle(h, temb)
        for i in reversed(range(len(self.up))):
            if i < len(self.upsample):
                h = self.upsample[i](h)  # (N, c_i, 28 / 2^i, 28 / 2^i)
            h = self.up[i](cat([h, skips[i]], 1), temb)
        return self.conv_out(_act(self.norm_out(h)))


class GaussianDiffusion:
    """The noise schedule and the three procedures of a DDPM: noising (`q_sample`), the training loss
    (`loss`) and generation (`ddpm_sample`, `ddim_sample`). Timesteps are indices t = 0 ... T - 1
    (the equations above count 1 ... T)."""

    def __init__(self, steps=1000, beta_start=1e-4, beta_end=0.02):
        self.steps = steps
        self.betas = np.linspace(beta_start, beta_end, steps, dtype=np.float64)  # beta_t
        self.alphas = 1 - self.betas  # alpha_t
        self.alpha_bars = np.cumprod(self.alphas)  # abar_t

    def _at(self, values, t):
        return Tensor._make(values[np.asarray(getattr(t, "array", t))].astype(np.float32).reshape(-1, 1, 1, 1))

    def q_sample(self, x0, t, eps):
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: images (N, 1, H, W), t (N,), eps like x0."""
        return self._at(np.sqrt(self.alpha_bars), t) * x0 + self._at(np.sqrt(1 - self.alpha_bars), t) * eps

    def loss(self, model, x0, generator=None):
        """|eps - eps_theta(x_t, t)|^2, mean over pixels and images, t uniform in 0 ... T - 1."""
        t = Tensor._make((generator or default_generator).np.integers(0, self.steps, len(x0)))
        eps = randn(tuple(x0.shape), generator=generator)
        return F.mse_loss(model(self.q_sample(x0, t, eps), t), eps)

    def ddpm_sample(self, model, n, generator=None, record=()):
        """n images (N, 1, 28, 28), about in [-1, 1], by the T-step reverse chain; with `record` a set of
        timesteps, also {t: x_t} of those steps (t = -1 is the final image)."""
        x, kept = randn((n, 1, 28, 28), generator=generator), {}
        for t in range(self.steps - 1, -1, -1):
            if t in record:
                kept[t] = x.array.copy()
            eps = model(x, Tensor._make(np.full(n, t)))
            mean = (x - self.betas[t] / math.sqrt(1 - self.alpha_bars[t]) * eps) / math.sqrt(self.alphas[t])
            x = mean + math.sqrt(self.betas[t]) * randn((n, 1, 28, 28), generator=generator) if t > 0 else mean
        kept[-1] = x.array.copy()
        return (x, kept) if record else x

    def ddim_sample(self, model, n, sampling_steps=50, eta=0.0, generator=None, record=False):
        """n images (N, 1, 28, 28) in [-1, 1] by DDIM over `sampling_steps` evenly spaced timesteps; with
        record=True also the list [(t, x_t)] from the noise to the image (t = -1 last)."""
        times = np.linspace(self.steps - 1, 0, sampling_steps).round().astype(int)
        x, chain = randn((n, 1, 28, 28), generator=generator), []
        for t, s in zip(times, list(times[1:]) + [-1]):
            chain.append((int(t), x.array.copy()))
            eps = model(x, Tensor._make(np.full(n, t)))
            abar_t, abar_s = self.alpha_bars[t], self.alpha_bars[s] if s >= 0 else 1.0
            x0 = ((x - math.sqrt(1 - abar_t) * eps) / math.sqrt(abar_t)).clamp(-1, 1)
            sigma = eta * math.sqrt((1 - abar_s) / (1 - abar_t) * (1 - abar_t / abar_s))
            x = math.sqrt(abar_s) * x0 + math.sqrt(max(1 - abar_s - sigma ** 2, 0.0)) * eps
            if sigma > 0:
                x = x + sigma * randn((n, 1, 28, 28), generator=generator)
        chain.append((-1, x.array.copy()))
        return (x, chain) if record else x

