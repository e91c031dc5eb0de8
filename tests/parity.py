"""The one table-driven parity harness: every operation is a `Case`, checked two ways.

(a) float64 central differences against glassnet's own backward (`glassnet.autograd.gradcheck`);
(b) float32 forward values, dtypes and gradients against PyTorch on the same random inputs, with a
    random upstream gradient, one input made non-contiguous.

A case's function is usually one lambda written with methods both libraries share
(`lambda x: x.exp()`); `torch_fn` is given where the spelling differs.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

import glassnet as gn


@dataclass
class Const:
    """A non-differentiable argument: `make(rng)` returns a NumPy array (indices, masks) or a value."""

    make: Callable


@dataclass
class Case:
    name: str
    fn: Callable
    inputs: list  # shapes (differentiable float inputs) or Const
    torch_fn: Optional[Callable] = None
    domain: str = "real"  # real | positive | unit | nonzero | distinct
    gradcheck: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    grad_rtol: float = 1e-4
    grad_atol: float = 1e-5
    ids: list = field(default_factory=list)

    def __str__(self):
        return self.name


def both(name, op, inputs, **kwargs):
    """A Case written once for both libraries: `op(lib, *args)` runs with lib = glassnet, then lib = torch."""
    return Case(name, lambda *a: op(gn, *a), inputs, torch_fn=lambda *a: op(torch, *a), **kwargs)


def _draw(shape, domain, rng):
    x = rng.standard_normal(shape)
    if domain == "positive":
        x = np.abs(x) + 0.5
    elif domain == "unit":
        x = np.tanh(x) * 0.9
    elif domain == "nonzero":
        x = np.where(np.abs(x) < 0.3, 0.3 * np.sign(x) + (x == 0) * 0.3, x)
    elif domain == "distinct":  # well separated values, so that max/min/sort have no near-ties
        n = int(np.prod(shape))
        x = (rng.permutation(n) - n / 2).reshape(shape) * 0.37 + rng.uniform(-0.05, 0.05, shape)
    return x


def make_inputs(case, seed=0):
    rng = np.random.default_rng(seed)
    return [spec.make(rng) if isinstance(spec, Const) else _draw(spec, case.domain, rng) for spec in case.inputs]


def _to_gn(value, dtype, requires_grad, noncontiguous=False):
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype.kind == "f":
        arr = value.astype(dtype)
        if noncontiguous and arr.ndim:
            holder = np.empty(arr.shape + (2,), dtype)
            holder[..., 0] = arr
            arr = holder[..., 0]
        return gn.from_numpy(arr).requires_grad_(requires_grad)
    return gn.from_numpy(value)


def _to_torch(value, dtype, requires_grad):
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype.kind == "f":
        return torch.tensor(value.astype(dtype), requires_grad=requires_grad)
    return torch.from_numpy(value.copy())


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_gradcheck(case, seed=0):
    values = make_inputs(case, seed)
    args = [_to_gn(v, np.float64, isinstance(s, tuple) or isinstance(s, list)) for v, s in zip(values, case.inputs)]
    gn.autograd.gradcheck(case.fn, args)


def check_against_torch(case, seed=0):
    values = make_inputs(case, seed)
    diff = [not isinstance(s, Const) for s in case.inputs]
    g_args = [_to_gn(v, np.float32, d, noncontiguous=(i == 0)) for i, (v, d) in enumerate(zip(values, diff))]
    t_args = [_to_torch(v, np.float32, d) for v, d in zip(values, diff)]
    g_outs = _outputs(case.fn(*g_args))
    t_outs = _outputs((case.torch_fn or case.fn)(*t_args))
    assert len(g_outs) == len(t_outs), f"{case}: {len(g_outs)} outputs, torch gives {len(t_outs)}"
    for k, (g, t) in enumerate(zip(g_outs, t_outs)):
        t_np = t.detach().numpy()
        assert g.shape == tuple(t.shape), f"{case} output {k}: shape {g.shape}, torch {tuple(t.shape)}"
        assert g.dtype == t_np.dtype, f"{case} output {k}: dtype {g.dtype}, torch {t_np.dtype}"
        np.testing.assert_allclose(g.array, t_np, rtol=case.rtol, atol=case.atol, err_msg=f"{case} output {k}")

    rng = np.random.default_rng(seed + 1)
    pairs = [(g, t) for g, t in zip(g_outs, t_outs) if t.requires_grad]
    if not pairs:
        return
    weights = [rng.standard_normal(t.shape).astype(np.float32) for _, t in pairs]
    t_loss = sum((t * torch.from_numpy(w)).sum() for (_, t), w in zip(pairs, weights))
    g_loss = sum((g * gn.tensor(w)).sum() for (g, _), w in zip(pairs, weights))
    t_wrt = [t for t, d in zip(t_args, diff) if d]
    g_wrt = [g for g, d in zip(g_args, diff) if d]
    t_grads = torch.autograd.grad(t_loss, t_wrt, allow_unused=True)
    g_loss.backward()
    for k, (g, t) in enumerate(zip(g_wrt, t_grads)):
        expected = np.zeros(g.shape, np.float32) if t is None else t.numpy()
        got = np.zeros(g.shape, np.float32) if g.grad is None else g.grad.array
        assert got.dtype == expected.dtype, f"{case} grad {k}: dtype {got.dtype}, torch {expected.dtype}"
        np.testing.assert_allclose(got, expected, rtol=case.grad_rtol, atol=case.grad_atol,
                                   err_msg=f"{case} gradient of input {k}")


def run_case(case):
    if case.gradcheck:
        check_gradcheck(case)
    check_against_torch(case)
