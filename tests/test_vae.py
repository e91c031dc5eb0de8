"""The VAE: the reparameterisation op (float64 gradcheck, PyTorch parity, the derivatives of its
docstring), the KL term against its closed form and a Monte Carlo estimate, the negative ELBO of the
same network built in torch, and the importance-weighted estimate (k = 1 is the ELBO; it tightens with k)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import glassnet as gn
from glassnet.models.vae import (ConvVAE, Reparameterize, bernoulli_nll, importance_weighted_nll,
                                 kl_to_standard_normal, reparameterize)
from helpers_nn import copy_torch_to_gn
from parity import both, run_case


def test_reparameterize_parity_and_gradcheck():
    run_case(both("reparameterize", lambda lib, mu, logvar, eps: (
        reparameterize(mu, logvar, eps) if lib is gn else mu + torch.exp(0.5 * logvar) * eps),
        [(4, 3), (4, 3), (4, 3)]))


def test_reparameterize_backward_is_the_derivation():
    mu, logvar = gn.tensor([[0.3, -1.0]], requires_grad=True), gn.tensor([[0.5, -2.0]], requires_grad=True)
    eps = gn.tensor([[1.5, -0.7]])
    z = reparameterize(mu, logvar, eps)
    sigma = np.exp(0.5 * logvar.array)
    np.testing.assert_allclose(z.array, mu.array + sigma * eps.array, rtol=1e-6)
    z.backward(gn.tensor([[2.0, 3.0]]))
    np.testing.assert_allclose(mu.grad.array, [[2.0, 3.0]])  # dz/dmu = 1
    np.testing.assert_allclose(logvar.grad.array, [[2.0, 3.0]] * eps.array * sigma / 2, rtol=1e-6)  # eps sigma / 2
    assert eps.grad is None


def test_reparameterize_second_derivative():
    # d^2 z / dlogvar^2 = eps sigma / 4: the backward is written in Tensor ops, so it differentiates again
    mu, logvar = gn.tensor([0.0], dtype=gn.float64), gn.tensor([0.4], dtype=gn.float64, requires_grad=True)
    eps = gn.tensor([1.3], dtype=gn.float64)
    (first,) = gn.autograd.grad(reparameterize(mu, logvar, eps).sum(), [logvar], create_graph=True)
    (second,) = gn.autograd.grad(first.sum(), [logvar])
    assert second.item() == pytest.approx(1.3 * math.exp(0.2) / 4)


def test_reparameterize_draws_from_the_generator_and_checks_shapes():
    mu, logvar = gn.zeros(2000, 2), gn.full((2000, 2), math.log(4.0))
    z = reparameterize(mu + 1, logvar, generator=gn.Generator(0)).array
    assert abs(z.mean() - 1) < 0.1 and abs(z.std() - 2) < 0.1
    np.testing.assert_array_equal(z, reparameterize(mu + 1, logvar, generator=gn.Generator(0)).array)
    with pytest.raises(ValueError, match=r"reparameterize: mu, logvar and eps must have one shape"):
        Reparameterize.apply(gn.zeros(2, 3), gn.zeros(2, 3), gn.zeros(3, 2))


def test_kl_closed_form_and_monte_carlo():
    mu, logvar = gn.tensor([[0.5, -1.0]]), gn.tensor([[0.2, -0.6]])
    var = np.exp(logvar.array)
    expected = 0.5 * np.sum(mu.array ** 2 + var - 1 - logvar.array)
    assert kl_to_standard_normal(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    z = mu.array + np.sqrt(var) * np.random.default_rng(0).standard_normal((200000, 2))  # E_q[log q - log p]
    log_q = -0.5 * (np.log(2 * np.pi) + logvar.array + (z - mu.array) ** 2 / var).sum(1)
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2).sum(1)
    assert (log_q - log_p).mean() == pytest.approx(expected, abs=0.01)


class TorchVAE(tnn.Module):
    """The same network in torch; forward(x, eps) -> negative ELBO per image."""

    def __init__(self, latent, c, hidden):
        super().__init__()
        self.latent = latent
        self.encoder = tnn.Sequential(tnn.Conv2d(1, c, 4, 2, 1), tnn.ReLU(), tnn.Conv2d(c, 2 * c, 4, 2, 1), tnn.ReLU(),
                                      tnn.Flatten(), tnn.Linear(2 * c * 49, hidden), tnn.ReLU(),
                                      tnn.Linear(hidden, 2 * latent))
        self.decoder = tnn.Sequential(tnn.Linear(latent, hidden), tnn.ReLU(), tnn.Linear(hidden, 2 * c * 49),
                                      tnn.ReLU(), tnn.Unflatten(1, (2 * c, 7, 7)),
                                      tnn.ConvTranspose2d(2 * c, c, 4, 2, 1), tnn.ReLU(),
                                      tnn.ConvTranspose2d(c, 1, 4, 2, 1))

    def forward(self, x, eps):
        stats = self.encoder(x)
        mu, logvar = stats[:, :self.latent], stats[:, self.latent:]
        logits = self.decoder(mu + torch.exp(0.5 * logvar) * eps)
        reconstruction = TF.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        return reconstruction + 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)


def test_negative_elbo_and_every_gradient_match_torch():
    torch.manual_seed(0)
    t_model = TorchVAE(3, 2, 8).double()
    model = copy_torch_to_gn(t_model, ConvVAE(3, 2, 8).double())
    x = (np.random.default_rng(0).random((2, 1, 28, 28)) < 0.3).astype(np.float64)
    eps = np.random.default_rng(1).standard_normal((2, 3))
    t_nelbo = t_model(torch.tensor(x), torch.tensor(eps))
    mu, logvar = model.encode(gn.tensor(x))
    logits = model.decode(reparameterize(mu, logvar, gn.tensor(eps)))
    nelbo = bernoulli_nll(logits, gn.tensor(x)) + kl_to_standard_normal(mu, logvar)
    np.testing.assert_allclose(nelbo.array, t_nelbo.detach().numpy(), rtol=1e-10)
    nelbo.sum().backward()
    t_nelbo.sum().backward()
    for (name, p), (t_name, t_p) in zip(model.named_parameters(), t_model.named_parameters()):
        assert name == t_name
        np.testing.assert_allclose(p.grad.array, t_p.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_vae_shapes_terms_and_every_parameter_learns():
    gn.manual_seed(0)
    model = ConvVAE(latent_dim=4, channels=2, hidden=8)
    x = gn.bernoulli(gn.full((3, 1, 28, 28), 0.3))
    logits, mu, logvar = model(x)
    assert logits.shape == (3, 1, 28, 28) and mu.shape == logvar.shape == (3, 4)
    nelbo, reconstruction, kl = model.negative_elbo(x, gn.Generator(0))
    np.testing.assert_allclose(nelbo.array, reconstruction.array + kl.array, rtol=1e-6)
    assert (kl.array >= 0).all() and (reconstruction.array > 0).all()
    nelbo.mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name
    with pytest.raises(ValueError, match=r"ConvVAE: expected images \(N, 1, 28, 28\), got \(3, 28, 28\)"):
        model(gn.zeros(3, 28, 28))


def test_importance_weighted_nll_of_one_draw_and_of_many():
    gn.manual_seed(0)
    model = ConvVAE(latent_dim=2, channels=2, hidden=8)
    x = gn.bernoulli(gn.full((4, 1, 28, 28), 0.2), generator=gn.Generator(1))
    with gn.no_grad():
        one = importance_weighted_nll(model, x, samples=1, generator=gn.Generator(5))
        # k = 1: -log w = -log p(x|z) - log p(z) + log q(z|x) at the one z = mu + sigma eps (the same eps)
        mu, logvar = (t.array.astype(np.float64) for t in model.encode(x))
        z = mu + np.exp(0.5 * logvar) * gn.randn((4, 2), generator=gn.Generator(5)).array
        reconstruction = bernoulli_nll(model.decode(gn.tensor(z.astype(np.float32))), x).array
        log_q = -0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / np.exp(logvar)).sum(1)
        log_p = -0.5 * (np.log(2 * np.pi) + z ** 2).sum(1)
        many = importance_weighted_nll(model, x, samples=200, generator=gn.Generator(6), chunk=64)
        mean_elbo = np.mean([model.negative_elbo(x, gn.Generator(s))[0].array for s in range(200)], 0)
    np.testing.assert_allclose(one, reconstruction + log_q - log_p, rtol=1e-5)
    assert (many < mean_elbo).all()  # log of a mean >= mean of the logs (Jensen): a tighter bound
