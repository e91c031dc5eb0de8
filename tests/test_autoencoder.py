"""The convolutional autoencoder: the same network built from torch.nn gives the same logits and every
gradient; the bottleneck variant's shapes; every parameter learns; bad input is named."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
from glassnet.models.autoencoder import ConvAutoencoder
from helpers_nn import compare_module


class TorchAutoencoder(tnn.Module):
    def __init__(self, c, latent_dim=None):
        super().__init__()
        encoder = [tnn.Conv2d(1, c, 3, 2, 1), tnn.ReLU(), tnn.Conv2d(c, 2 * c, 3, 2, 1), tnn.ReLU()]
        decoder = [tnn.ConvTranspose2d(2 * c, c, 4, 2, 1), tnn.ReLU(), tnn.ConvTranspose2d(c, 1, 4, 2, 1)]
        if latent_dim is not None:
            encoder += [tnn.Flatten(), tnn.Linear(2 * c * 49, latent_dim)]
            decoder = [tnn.Linear(latent_dim, 2 * c * 49), tnn.ReLU(), tnn.Unflatten(1, (2 * c, 7, 7))] + decoder
        self.encoder, self.decoder = tnn.Sequential(*encoder), tnn.Sequential(*decoder)

    def forward(self, x):
        return self.decoder(self.encoder(x))


@pytest.mark.parametrize("latent_dim", [None, 5])
def test_autoencoder_matches_torch(latent_dim):
    torch.manual_seed(0)
    outs, _ = compare_module(ConvAutoencoder(3, latent_dim), TorchAutoencoder(3, latent_dim), [(2, 1, 28, 28)],
                             dtype=np.float64, rtol=1e-9, atol=1e-10, grad_rtol=1e-8, grad_atol=1e-9)
    assert outs[0].shape == (2, 1, 28, 28)


def test_code_shapes_and_every_parameter_learns():
    gn.manual_seed(0)
    x = gn.rand(3, 1, 28, 28)
    assert ConvAutoencoder(4).encoder(x).shape == (3, 8, 7, 7)
    model = ConvAutoencoder(4, latent_dim=6)
    assert model.encoder(x).shape == (3, 6)
    out = model.reconstruct(x)
    assert out.shape == (3, 1, 28, 28) and 0 <= out.array.min() and out.array.max() <= 1
    gn.nn.functional.binary_cross_entropy_with_logits(model(x), x).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name


def test_autoencoder_names_bad_input():
    with pytest.raises(ValueError, match=r"ConvAutoencoder: expected images \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        ConvAutoencoder(2)(gn.zeros(2, 1, 32, 32))
