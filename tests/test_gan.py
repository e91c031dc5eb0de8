"""The DCGAN: generator and discriminator against the same torch.nn networks (outputs, every gradient,
batch-norm statistics), DCGAN's initialisation, the two losses, and the players' turns in the loop
(glassnet.train.players): each player's step changes only its own parameters."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
from glassnet import optim
from glassnet.models.gan import GAN, DCGANDiscriminator, DCGANGenerator, discriminator_loss, generator_loss
from glassnet.train import DrawnBatches, Experiment, Player, Players, load_checkpoint, train
from glassnet.train.log import read_metrics
from helpers_nn import compare_module


class TorchGenerator(tnn.Module):
    def __init__(self, latent, c):
        super().__init__()
        self.net = tnn.Sequential(
            tnn.ConvTranspose2d(latent, 2 * c, 7, bias=False), tnn.BatchNorm2d(2 * c), tnn.ReLU(),
            tnn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), tnn.BatchNorm2d(c), tnn.ReLU(),
            tnn.ConvTranspose2d(c, 1, 4, 2, 1), tnn.Tanh())

    def forward(self, z):
        return self.net(z[:, :, None, None])


class TorchDiscriminator(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.net = tnn.Sequential(tnn.Conv2d(1, c, 4, 2, 1), tnn.LeakyReLU(0.2),
                                  tnn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), tnn.BatchNorm2d(2 * c), tnn.LeakyReLU(0.2),
                                  tnn.Conv2d(2 * c, 1, 7))

    def forward(self, x):
        return self.net(x).reshape(len(x))


@pytest.mark.parametrize("training", [True, False])
def test_generator_and_discriminator_match_torch(training):
    torch.manual_seed(0)
    for ours, theirs, shape in ((DCGANGenerator(5, 3), TorchGenerator(5, 3), (4, 5)),
                                (DCGANDiscriminator(3), TorchDiscriminator(3), (4, 1, 28, 28))):
        ours.train(training), theirs.train(training)
        outs, _ = compare_module(ours, theirs, [shape], dtype=np.float64, rtol=1e-9, atol=1e-10, grad_rtol=1e-8,
                                 grad_atol=1e-9)
        assert outs[0].shape == ((4, 1, 28, 28) if len(shape) == 2 else (4,))


def test_dcgan_initialisation_and_samples():
    gn.manual_seed(0)
    gan = GAN(latent_dim=16, channels=8)
    conv = gan.discriminator.net[2].weight.array
    assert abs(conv.std() - 0.02) < 0.002 and abs(conv.mean()) < 0.002
    bn = gan.generator.net[1]
    assert abs(bn.weight.array.mean() - 1) < 0.01 and (bn.bias.array == 0).all()
    assert (gan.discriminator.net[0].bias.array == 0).all()
    images = gan.sample(5, gn.Generator(0))
    assert images.shape == (5, 1, 28, 28) and images.array.min() >= 0 and images.array.max() <= 1
    np.testing.assert_array_equal(images.array, gan.sample(5, gn.Generator(0)).array)


def test_gan_losses_against_their_formulas():
    real, fake = gn.tensor([2.0, -1.0]), gn.tensor([0.5, -3.0])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    expected_d = -np.log(sig(real.array)).mean() - np.log(1 - sig(fake.array)).mean()
    assert discriminator_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert generator_loss(fake).item() == pytest.approx(-np.log(sig(fake.array)).mean(), rel=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"DCGANGenerator: expected noise \(N, 8\), got \(2, 3\)"):
        DCGANGenerator(8, 2)(gn.zeros(2, 3))
    with pytest.raises(ValueError, match=r"DCGANDiscriminator: expected images \(N, 1, 28, 28\)"):
        DCGANDiscriminator(2)(gn.zeros(2, 28, 28))


def _game(steps):
    gn.manual_seed(0)
    gan = GAN(latent_dim=4, channels=2)
    real = gn.rand(8, 1, 28, 28) * 2 - 1
    kept = {}

    def d_loss(model, batch):
        kept["fake"] = model.generator(gn.randn(8, 4))
        return discriminator_loss(model.discriminator(batch), model.discriminator(kept["fake"].detach()))

    def g_loss(model, batch):
        return generator_loss(model.discriminator(kept["fake"]))

    players = Players(Player("d", d_loss, optim.Adam(gan.discriminator.parameters(), 1e-3)),
                      Player("g", g_loss, optim.Adam(gan.generator.parameters(), 1e-3)))
    exp = Experiment(gan, players, DrawnBatches(lambda: real), steps=steps, log_every=1)
    return gan, players, exp


def test_players_take_turns_and_each_changes_only_its_parameters(tmp_path):
    gan, players, exp = _game(steps=1)
    before = {k: v.array.copy() for k, v in gan.state_dict().items()}
    d_step, g_step = players.players[0].optimizer.step, players.players[1].optimizer.step
    changed = []

    def watch(name, step):
        def run():
            step()
            changed.append((name, sorted(k for k, v in gan.state_dict().items()
                                         if k.endswith("weight") and not np.array_equal(v.array, before[k]))))
        return run

    players.players[0].optimizer.step, players.players[1].optimizer.step = watch("d", d_step), watch("g", g_step)
    result = train(exp, tmp_path, config={"recipe": "test"})
    assert result.step == 1
    (d_name, d_changed), (g_name, g_changed) = changed
    assert (d_name, g_name) == ("d", "g")
    assert d_changed and all(k.startswith("discriminator.") for k in d_changed)  # D's step: only D moved
    assert set(g_changed) - set(d_changed) and all(k.startswith("generator.") for k in set(g_changed) - set(d_changed))
    record = [r for r in read_metrics(tmp_path / "metrics.jsonl") if r["split"] == "train"][0]
    assert {"d_loss", "g_loss"} <= set(record) and "loss" not in record
    assert all(p.grad is None or not np.abs(p.grad.array).any() for p in gan.parameters())  # nothing left behind


def test_players_checkpoint_both_optimizers_and_resume_exactly(tmp_path):
    _, _, exp = _game(steps=4)
    train(exp, tmp_path / "straight", config={"recipe": "test"})
    gan_a = exp.model.state_dict()
    _, _, exp = _game(steps=2)
    train(exp, tmp_path / "stopped", config={"recipe": "test"})
    checkpoint = load_checkpoint(tmp_path / "stopped" / "checkpoints" / "last.safetensors")
    assert set(checkpoint["optimizer"]) == {"d", "g"} and checkpoint["optimizer"]["g"]["state"]
    _, _, exp = _game(steps=4)
    gn.manual_seed(123)  # the checkpoint's generator state must take over
    train(exp, tmp_path / "stopped", config={"recipe": "test"}, resume=checkpoint)
    for k, v in exp.model.state_dict().items():
        np.testing.assert_array_equal(v.array, gan_a[k].array, err_msg=k)


def test_players_need_distinct_names_and_one_batch_a_step():
    opt = optim.SGD([gn.zeros(1, requires_grad=True)], 0.1)
    with pytest.raises(ValueError, match=r"Players: expected players with distinct names, got \['a', 'a'\]"):
        Players(Player("a", None, opt), Player("a", None, opt))
    with pytest.raises(ValueError, match="Players take one batch a step, grad_accum must be 1, got 2"):
        Experiment(None, Players(Player("a", None, opt)), DrawnBatches(lambda: None), steps=1, grad_accum=2)
