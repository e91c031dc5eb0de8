"""Weight and spectral normalisation (parametrizations and the older hooks) and register_parametrization,
against PyTorch: state_dict keys, values, power iterations, gradients."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.nn.utils import parametrizations, parametrize


def _pair(make, *args, **kw):
    """The same layer in both libraries, glassnet's loaded from torch's (float64)."""
    torch.manual_seed(0)
    theirs = make(torch)(*args, **kw).double()
    ours = make(gn)(*args, **kw).double()
    ours.load_state_dict({k: gn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _load(ours, theirs):
    ours.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _compare_forward_backward(ours, theirs, shape, calls=1):
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(calls):
        g_out, t_out = ours(gn.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(g_out.array, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    (g_out ** 2).sum().backward()
    (t_out ** 2).sum().backward()
    g_params, t_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(g_params) == list(t_params)
    for name, p in t_params.items():
        np.testing.assert_allclose(g_params[name].grad.array, p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(dict(ours.named_buffers())[name].array, b.numpy(), rtol=1e-10, atol=1e-12)


LAYERS = [
    ("Linear", (4, 3), (5, 4)),
    ("Conv2d", (3, 2, 3), (2, 3, 5, 5)),
    ("ConvTranspose2d", (3, 2, 3), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("layer, args, shape", LAYERS, ids=[lay[0] for lay in LAYERS])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(layer, args, shape, dim):
    ours, theirs = _pair(lambda lib: getattr(lib.nn, layer), *args)
    parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load(ours, theirs)
    _compare_forward_backward(ours, theirs, shape)


@pytest.mark.parametrize("layer, args, shape", LAYERS, ids=[lay[0] for lay in LAYERS])
def test_spectral_norm_parametrization(layer, args, shape):
    ours, theirs = _pair(lambda lib: getattr(lib.nn, layer), *args)
    parametrizations.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.parametrizations.spectral_norm(theirs, n_power_iterations=2)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load(ours, theirs)
    _compare_forward_backward(ours, theirs, shape, calls=3)  # three power iterations in training
    ours.eval(), theirs.eval()
    _compare_forward_backward(ours, theirs, shape)
    sigma = np.linalg.svd(ours.weight.array.reshape(ours.weight.shape[0], -1) if layer != "ConvTranspose2d" else
                          np.moveaxis(ours.weight.array, 1, 0).reshape(ours.weight.shape[1], -1), compute_uv=False)
    assert abs(sigma[0] - 1) < 0.05  # the largest singular value is (about) 1


@pytest.mark.parametrize("dim", [0, None])
def test_weight_norm_hooks(dim):
    ours, theirs = _pair(lambda lib: lib.nn.Conv1d, 3, 4, 2)
    gn.nn.utils.weight_norm(ours, dim=dim)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load(ours, theirs)
    _compare_forward_backward(ours, theirs, (2, 3, 6))
    gn.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.array, theirs.weight.detach().numpy(), rtol=1e-12)


def test_spectral_norm_hooks():
    ours, theirs = _pair(lambda lib: lib.nn.Linear, 5, 3)
    gn.nn.utils.spectral_norm(ours)
    torch.nn.utils.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load(ours, theirs)
    _compare_forward_backward(ours, theirs, (4, 5), calls=3)
    gn.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.array, theirs.weight.detach().numpy(), rtol=1e-10)


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

        def right_inverse(self, a):
            return a.triu()

    return Symmetric


def test_register_parametrization_custom_module_and_removal():
    ours, theirs = _pair(lambda lib: lib.nn.Linear, 3, 3)
    parametrize.register_parametrization(ours, "weight", _symmetric(gn)())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _symmetric(torch)())
    assert type(ours).__name__ == "ParametrizedLinear" and parametrize.is_parametrized(ours, "weight")
    assert parametrize.type_before_parametrizations(ours) is gn.nn.Linear
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.array, ours.weight.array.T)
    _compare_forward_backward(ours, theirs, (2, 3))
    value = np.arange(9.0).reshape(3, 3)
    ours.weight = gn.tensor(value)  # stored through right_inverse
    with torch.no_grad():
        theirs.weight = torch.tensor(value)
    np.testing.assert_allclose(ours.parametrizations.weight.original.array, np.triu(value))
    np.testing.assert_allclose(ours.weight.array, theirs.weight.detach().numpy())
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is gn.nn.Linear and not parametrize.is_parametrized(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.array, np.triu(value) + np.triu(value, 1).T)


def test_optimizer_trains_the_originals():
    model = parametrizations.weight_norm(gn.nn.Linear(4, 2))
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    x, y = gn.randn(8, 4), gn.randn(8, 2)
    before = ((model(x) - y) ** 2).mean().item()
    for _ in range(20):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    assert ((model(x) - y) ** 2).mean().item() < before


def test_errors():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        parametrize.register_parametrization(gn.nn.Linear(2, 2), "scale", _symmetric(gn)())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(gn.nn.Linear(2, 2), "weight")
    with pytest.raises(ValueError, match="spectral_norm: expected n_power_iterations to be positive"):
        parametrizations.spectral_norm(gn.nn.Linear(2, 2), n_power_iterations=0)
    m = gn.nn.utils.weight_norm(gn.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="cannot register two weight_norm hooks"):
        gn.nn.utils.weight_norm(m)
