"""DDPM: the time-conditioned U-Net against the same network in torch (outputs, every gradient), the
sinusoidal embedding, the closed-form noising against the step-by-step chain, and the samplers with an
exact noise predictor: for data that is one image both samplers return it exactly, and for Gaussian
data the 1000-step chain turns N(0, I) into the data's variance."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import glassnet as gn
from glassnet.models.diffusion import DiffusionUNet, GaussianDiffusion, TimeResBlock, sinusoidal_embedding
from helpers_nn import compare_module


# ---- the network ----------------------------------------------------------------------------------------
def torch_embedding(t, dim):
    freqs = torch.exp(-math.log(10000.0) * torch.arange(dim // 2, dtype=torch.float64) / (dim // 2))
    angles = t.double()[:, None] * freqs
    return torch.cat([angles.sin(), angles.cos()], 1)


def act(x):
    return TF.gelu(x, approximate="tanh")


class TorchResBlock(tnn.Module):
    def __init__(self, a, b, e):
        super().__init__()
        self.norm1, self.conv1 = tnn.GroupNorm(math.gcd(8, a), a), tnn.Conv2d(a, b, 3, padding=1)
        self.time = tnn.Linear(e, b)
        self.norm2, self.conv2 = tnn.GroupNorm(math.gcd(8, b), b), tnn.Conv2d(b, b, 3, padding=1)
        self.skip = tnn.Conv2d(a, b, 1) if a != b else tnn.Identity()

    def forward(self, x, temb):
        h = self.conv1(act(self.norm1(x))) + self.time(act(temb))[:, :, None, None]
        return self.conv2(act(self.norm2(h))) + self.skip(x)


class TorchUNet(tnn.Module):
    def __init__(self, channels, e):
        super().__init__()
        c0 = channels[0]
        self.channels = channels
        self.time_mlp = tnn.Sequential(tnn.Linear(c0, e), tnn.GELU("tanh"), tnn.Linear(e, e))
        self.conv_in = tnn.Conv2d(1, c0, 3, padding=1)
        widths = (c0,) + channels
        self.down = tnn.ModuleList([TorchResBlock(a, b, e) for a, b in zip(widths[:-1], widths[1:])])
        self.downsample = tnn.ModuleList([tnn.Conv2d(c, c, 3, 2, 1) for c in channels[:-1]])
        self.middle = TorchResBlock(channels[-1], channels[-1], e)
        self.upsample = tnn.ModuleList([tnn.Sequential(tnn.Upsample(scale_factor=2), tnn.Conv2d(b, c, 3, padding=1))
                                        for c, b in zip(channels[:-1], channels[1:])])
        self.up = tnn.ModuleList([TorchResBlock(2 * c, c, e) for c in channels])
        self.norm_out, self.conv_out = tnn.GroupNorm(math.gcd(8, c0), c0), tnn.Conv2d(c0, 1, 3, padding=1)

    def forward(self, x, t):
        temb = self.time_mlp(torch_embedding(t, self.channels[0]).to(x.dtype))
        h, skips = self.conv_in(x), []
        for i, block in enumerate(self.down):
            h = block(h, temb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.middle(h, temb)
        for i in reversed(range(len(self.up))):
            if i < len(self.upsample):
                h = self.upsample[i](h)
            h = self.up[i](torch.cat([h, skips[i]], 1), temb)
        return self.conv_out(act(self.norm_out(h)))


def test_unet_matches_torch():
    torch.manual_seed(0)
    t = np.array([0, 17, 999])
    compare_module(DiffusionUNet((4, 6, 8), embed_dim=12), TorchUNet((4, 6, 8), 12), [(3, 1, 28, 28), t],
                   dtype=np.float64, rtol=1e-9, atol=1e-10, grad_rtol=1e-8, grad_atol=1e-9)


def test_sinusoidal_embedding():
    e = sinusoidal_embedding(gn.tensor([0, 3]), 6).array
    assert e.shape == (2, 6) and e.dtype == np.float32
    np.testing.assert_allclose(e[0], [0, 0, 0, 1, 1, 1])
    w = 10000.0 ** (-np.arange(3) / 3)
    np.testing.assert_allclose(e[1], np.concatenate([np.sin(3 * w), np.cos(3 * w)]), rtol=1e-6)
    with pytest.raises(ValueError, match="sinusoidal_embedding: dim must be even, got 5"):
        sinusoidal_embedding(gn.tensor([1]), 5)


def test_time_changes_the_output_and_every_parameter_learns():
    gn.manual_seed(0)
    model = DiffusionUNet((4, 8), embed_dim=8)
    x = gn.randn(2, 1, 28, 28)
    a, b = model(x, gn.tensor([5, 5])), model(x, gn.tensor([5, 600]))
    assert np.allclose(a.array[0], b.array[0]) and not np.allclose(a.array[1], b.array[1])
    GaussianDiffusion(100).loss(model, x).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name
    assert isinstance(model.up[0], TimeResBlock)


def test_unet_names_bad_input():
    model = DiffusionUNet((4, 8, 8))
    with pytest.raises(ValueError, match=r"DiffusionUNet: expected images \(N, 1, H, W\) with H and W multiples of 4"):
        model(gn.zeros(1, 1, 30, 30), gn.tensor([1]))
    with pytest.raises(ValueError, match="DiffusionUNet: expected one timestep per image, got 1 for 2 images"):
        model(gn.zeros(2, 1, 28, 28), gn.tensor([1]))


# ---- the process ------------------------------------------------------------------------------------------
def test_schedule_and_closed_form_noising_match_the_chain():
    process = GaussianDiffusion(1000)
    assert process.betas[0] == pytest.approx(1e-4) and process.betas[-1] == pytest.approx(0.02)
    assert process.alpha_bars[-1] < 1e-4  # x_T is noise
    # x_0 = 1 everywhere: T steps of q(x_t | x_{t-1}) against q(x_t | x_0) at t = 299 (0-based)
    rng = np.random.default_rng(0)
    x = np.ones(100000)
    for t in range(300):
        x = np.sqrt(1 - process.betas[t]) * x + np.sqrt(process.betas[t]) * rng.standard_normal(x.shape)
    closed = process.q_sample(gn.ones(1, 1, 1, 100000), gn.tensor([299]), gn.randn(1, 1, 1, 100000)).array
    abar = process.alpha_bars[299]
    for sample in (x, closed.ravel()):
        assert sample.mean() == pytest.approx(math.sqrt(abar), abs=0.01)
        assert sample.var() == pytest.approx(1 - abar, abs=0.01)


class OracleOfOneImage:
    """The exact noise predictor when the data is one image x*: eps = (x_t - sqrt(abar_t) x*) / sqrt(1 - abar_t)."""

    def __init__(self, process, image):
        self.process, self.image = process, image

    def __call__(self, x, t):
        abar = self.process.alpha_bars[t.array].reshape(-1, 1, 1, 1)
        return gn.tensor(((x.array - np.sqrt(abar) * self.image) / np.sqrt(1 - abar)).astype(np.float32))


def test_both_samplers_give_back_the_one_image_the_data_holds():
    process = GaussianDiffusion(200)
    image = np.random.default_rng(0).uniform(-1, 1, (1, 1, 28, 28)).astype(np.float32)
    oracle = OracleOfOneImage(process, image)
    x, kept = process.ddpm_sample(oracle, 3, gn.Generator(0), record={199, 0})
    np.testing.assert_allclose(x.array, np.repeat(image, 3, 0), atol=1e-4)
    assert abs(kept[199].std() - 1) < 0.05  # the chain starts from noise
    for steps in (1, 10, 50):
        x, chain = process.ddim_sample(oracle, 2, steps, generator=gn.Generator(1), record=True)
        np.testing.assert_allclose(x.array, np.repeat(image, 2, 0), atol=1e-4)
        assert [t for t, _ in chain][0] == 199 and chain[-1][0] == -1 and len(chain) == steps + 1


def test_the_ddpm_chain_turns_noise_into_gaussian_data():
    # data N(0, s^2 I): x_t ~ N(0, v_t I) with v_t = abar s^2 + 1 - abar, E[eps | x_t] = sqrt(1 - abar) x_t / v_t
    process, s2 = GaussianDiffusion(1000), 0.09  # std 0.3: DDIM's clipping of x0 to [-1, 1] never bites

    def oracle(x, t):
        abar = process.alpha_bars[t.array[0]]
        return x * float(math.sqrt(1 - abar) / (abar * s2 + 1 - abar))

    x = process.ddpm_sample(oracle, 100, gn.Generator(0))
    assert x.array.var() == pytest.approx(s2, rel=0.05) and abs(x.array.mean()) < 0.01
    # DDIM follows the same marginals when it takes every step; with fewer, coarser steps it shrinks them
    variances = [process.ddim_sample(oracle, 50, n, generator=gn.Generator(1)).array.var() for n in (10, 50, 1000)]
    assert variances[0] < variances[1] < variances[2] == pytest.approx(s2, rel=0.05)


def test_the_loss_is_the_noise_prediction_error():
    process = GaussianDiffusion(50)
    image = np.zeros((1, 1, 28, 28), np.float32)
    assert process.loss(OracleOfOneImage(process, image), gn.zeros(4, 1, 28, 28)).item() < 1e-10
    assert process.loss(lambda x, t: x * 0, gn.zeros(64, 1, 28, 28)).item() == pytest.approx(1.0, abs=0.01)
