"""Mixed precision: autocast's casting policy and GradScaler's dynamic loss scale, against PyTorch."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F


def test_autocast_policy_lower_precision_products_and_float32_losses():
    m = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = gn.randn(4, 5), gn.tensor([0, 1, 2, 0])
    with gn.autocast(dtype=gn.float16):
        h = m(x)
        assert h.dtype == np.float16 and (x @ x.T).dtype == np.float16
        assert F.conv2d(gn.randn(1, 1, 5, 5), gn.randn(2, 1, 3, 3)).dtype == np.float16
        q = gn.randn(1, 2, 3, 4)
        assert F.scaled_dot_product_attention(q, q, q).dtype == np.float16
        assert F.softmax(h, 1).dtype == np.float32 and F.layer_norm(h, (3,)).dtype == np.float32  # CUDA lists
        loss = F.cross_entropy(h, y)
        assert loss.dtype == np.float32
    assert m(x).dtype == np.float32  # outside the region: back to float32
    loss.backward()
    assert m[0].weight.grad.dtype == np.float32  # master weights and their gradients stay float32


def test_autocast_values_are_float16_rounded_products():
    """Inside the region a linear layer equals the float32 product of float16-rounded operands, rounded."""
    gn.manual_seed(0)
    lin = nn.Linear(64, 32)
    x = gn.randn(16, 64)
    with gn.autocast():
        y = lin(x).array
    r = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731
    expected = (r(x.array) @ r(lin.weight.array).T).astype(np.float16).astype(np.float32) + r(lin.bias.array)
    np.testing.assert_allclose(y.astype(np.float32), expected, rtol=2e-3, atol=2e-3)


def test_autocast_arguments():
    with pytest.raises(TypeError, match="bfloat16"):
        gn.autocast(dtype=gn.bfloat16)
    with pytest.warns(UserWarning, match="not available"):
        region = gn.autocast("cuda")
    with region:
        assert nn.Linear(2, 2)(gn.ones(1, 2)).dtype == np.float32  # disabled, as PyTorch without a GPU
    with gn.autocast(enabled=False):
        assert nn.Linear(2, 2)(gn.ones(1, 2)).dtype == np.float32


def _scaler_run(lib, scaler, steps, bad_steps):
    lib.manual_seed(0) if lib is torch else None
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scales = []
    for step in range(steps):
        opt.zero_grad()
        loss = (w * w).sum() * (float("inf") if step in bad_steps else 1.0)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return np.array(w.detach().numpy()), scales


def test_grad_scaler_skips_backs_off_and_grows_like_torch():
    kwargs = dict(init_scale=1024.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    ours = _scaler_run(gn, gn.amp.GradScaler(**kwargs), 12, {2, 3, 8})
    theirs = _scaler_run(torch, torch.amp.GradScaler("cpu", **kwargs), 12, {2, 3, 8})
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1] == theirs[1]


def test_grad_scaler_state_dict_and_disabled_pass_through():
    s = gn.amp.GradScaler(init_scale=8.0, growth_interval=5)
    s._growth_tracker = 3
    t = gn.amp.GradScaler()
    t.load_state_dict(s.state_dict())
    assert t.get_scale() == 8.0 and t._growth_tracker == 3
    off = gn.cuda.amp.GradScaler(enabled=False)  # nanoGPT's line, on a CPU
    loss = gn.tensor(2.0, requires_grad=True)
    assert off.scale(loss) is loss and off.get_scale() == 1.0
    with pytest.raises(RuntimeError, match="already been called"):
        w = gn.ones(2, requires_grad=True)
        opt = gn.optim.SGD([w], lr=0.1)
        (w.sum() * 1).backward()
        s.unscale_(opt)
        s.unscale_(opt)


def test_mixed_precision_tutorial_shows_underflow_and_the_scaler_fixing_it(monkeypatch, tmp_path):
    """The tutorial's program, small: without scaling some output gradients are zero in float16, with the
    scaler none; the scaled run follows float32."""
    import os
    import runpy

    examples = os.path.join(os.path.dirname(__file__), "..", "docs", "examples")
    monkeypatch.syspath_prepend(examples)
    main = runpy.run_path(os.path.join(examples, "mixed_precision.py"), run_name="docs_example")["main"]
    out = main(out_dir=tmp_path, small=True)
    (f32, _, zero32, _), (f16, _, zero16, _), (scaled, _, zero_scaled, _) = out["results"].values()
    assert zero32 == 0 and zero_scaled < 1e-3 and zero16 > 0.005 and zero16 > 20 * zero_scaled
    assert out["underflow"]["no scaling"][0] > 0.005 and out["underflow"]["scaled"][0] == 0
    assert abs(np.mean(scaled[-5:]) - np.mean(f32[-5:])) < 0.02 * np.mean(f32[-5:])
    assert (tmp_path / "mixed_precision.png").stat().st_size > 10000
