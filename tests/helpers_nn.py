"""Helpers to check a glassnet module against the same torch module.

Typical use (weights copied torch -> glassnet, then outputs, input gradients, every parameter
gradient and the buffers compared):

    from helpers_nn import compare_module
    compare_module(gn.nn.Linear(4, 3), torch.nn.Linear(4, 3), [(2, 5, 4)])

`inputs` entries: a shape tuple (random float input that requires grad), a float NumPy array (used
as given, requires grad), or an int/bool NumPy array (a constant, e.g. class targets).
"""
import numpy as np
import torch

import glassnet as gn


def numpy_state(module):
    """state_dict of a torch or glassnet module as {key: NumPy array copy}, in the module's key order."""
    out = {}
    for key, value in module.state_dict().items():
        out[key] = value.detach().numpy().copy() if isinstance(value, torch.Tensor) else np.array(value.array)
    return out


def copy_torch_to_gn(torch_module, gn_module):
    """Load torch's weights and buffers into the glassnet module through NumPy (strict: keys must agree)."""
    gn_module.load_state_dict(numpy_state(torch_module))
    return gn_module


def copy_gn_to_torch(gn_module, torch_module):
    """Load glassnet's weights and buffers into the torch module (strict)."""
    torch_module.load_state_dict({k: torch.from_numpy(v) for k, v in numpy_state(gn_module).items()})
    return torch_module


def assert_state_close(gn_module, torch_module, rtol=1e-5, atol=1e-6):
    """Same state_dict keys in the same order, and the same values (e.g. running statistics)."""
    g, t = numpy_state(gn_module), numpy_state(torch_module)
    assert list(g) == list(t), f"state_dict keys differ:\n glassnet {list(g)}\n torch    {list(t)}"
    for key in g:
        assert g[key].shape == t[key].shape, f"{key}: shape {g[key].shape}, torch {t[key].shape}"
        np.testing.assert_allclose(g[key], t[key], rtol=rtol, atol=atol, err_msg=f"state_dict[{key!r}]")


def make_inputs(inputs, seed=0, dtype=np.float32):
    """(glassnet tensors, torch tensors) for `inputs` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    g_args, t_args = [], []
    for spec in inputs:
        value = rng.standard_normal(spec).astype(dtype) if isinstance(spec, tuple) else np.asarray(spec)
        if value.dtype.kind == "f":
            value = value.astype(dtype)
            g_args.append(gn.tensor(value, requires_grad=True))
            t_args.append(torch.tensor(value, requires_grad=True))
        else:
            g_args.append(gn.tensor(value))
            t_args.append(torch.from_numpy(value.copy()))
    return g_args, t_args


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare_module(gn_module, torch_module, inputs, *, seed=0, copy_weights=True, dtype=np.float32,
                   rtol=1e-5, atol=1e-6, grad_rtol=1e-4, grad_atol=1e-5, check_state=True):
    """Run both modules on the same inputs and assert they agree; returns (glassnet outputs, torch outputs).

    Checks: output shapes, dtypes and values; after backward of sum(output * random weights), the
    gradient of every float input and of every named parameter (names must match); and, if
    `check_state`, the state_dicts afterwards (buffers updated by forward, like running stats).
    Set the same train/eval mode on both modules before calling.
    """
    if dtype == np.float64:
        gn_module.double()
        torch_module.double()
    if copy_weights:
        copy_torch_to_gn(torch_module, gn_module)
    g_args, t_args = make_inputs(inputs, seed, dtype)
    gn_module.zero_grad()
    torch_module.zero_grad()
    g_outs, t_outs = _as_list(gn_module(*g_args)), _as_list(torch_module(*t_args))
    assert len(g_outs) == len(t_outs), f"{len(g_outs)} outputs, torch gives {len(t_outs)}"
    for k, (g, t) in enumerate(zip(g_outs, t_outs)):
        t_np = t.detach().numpy()
        assert g.shape == t_np.shape, f"output {k}: shape {g.shape}, torch {t_np.shape}"
        assert g.dtype == t_np.dtype, f"output {k}: dtype {g.dtype}, torch {t_np.dtype}"
        np.testing.assert_allclose(g.array, t_np, rtol=rtol, atol=atol, err_msg=f"output {k}")

    pairs = [(g, t) for g, t in zip(g_outs, t_outs) if t.requires_grad]
    if pairs:
        rng = np.random.default_rng(seed + 1)
        weights = [rng.standard_normal(t.shape).astype(dtype) for _, t in pairs]
        sum(((g * gn.tensor(w)).sum() for (g, _), w in zip(pairs, weights))).backward()
        sum(((t * torch.from_numpy(w)).sum() for (_, t), w in zip(pairs, weights))).backward()
        for k, (g, t) in enumerate(zip(g_args, t_args)):
            if not t.requires_grad:
                continue
            _assert_grad(g.grad, t.grad, g.shape, f"gradient of input {k}", grad_rtol, grad_atol)
        g_params = dict(gn_module.named_parameters())
        t_params = dict(torch_module.named_parameters())
        assert list(g_params) == list(t_params), f"parameter names differ: {list(g_params)} vs {list(t_params)}"
        for name in g_params:
            _assert_grad(g_params[name].grad, t_params[name].grad, g_params[name].shape,
                         f"gradient of parameter {name!r}", grad_rtol, grad_atol)
    if check_state:
        assert_state_close(gn_module, torch_module, rtol, atol)
    return g_outs, t_outs


def _assert_grad(g, t, shape, what, rtol, atol):
    expected = np.zeros(shape) if t is None else t.numpy()
    got = np.zeros(shape) if g is None else g.array
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, torch {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)
