"""Module backward hooks and the parameter containers, against PyTorch."""
import numpy as np
import torch

import glassnet as gn


def _linear_pair():
    tm = torch.nn.Linear(3, 2)
    gm = gn.nn.Linear(3, 2)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return gm, tm


def test_full_backward_hooks_see_and_replace_gradients_like_torch():
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    seen = {}
    gm, tm = _linear_pair()
    for lib, m, name in ((gn, gm, "gn"), (torch, tm, "torch")):
        record = seen.setdefault(name, {})

        def pre(module, grad_output, record=record):
            record["pre"] = grad_output[0].numpy().copy()
            return (grad_output[0] * 2,)

        def post(module, grad_input, grad_output, record=record):
            record["in"] = grad_input[0].numpy().copy()
            record["out"] = grad_output[0].numpy().copy()
            return (grad_input[0] + 1,)

        m.register_full_backward_pre_hook(pre)
        handle = m.register_full_backward_hook(post)
        xi = lib.tensor(x, requires_grad=True)
        m(xi).pow(2).sum().backward()
        record["x_grad"] = xi.grad.numpy().copy()
        record["w_grad"] = m.weight.grad.numpy().copy()
        handle.remove()
    for key in ("pre", "in", "out", "x_grad", "w_grad"):
        np.testing.assert_allclose(seen["gn"][key], seen["torch"][key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_backward_hook_fires_with_none_when_inputs_need_no_grad():
    m = gn.nn.Linear(3, 2)
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go[0].shape)))
    m(gn.randn(4, 3)).sum().backward()
    assert calls == [((None,), (4, 2))]


def test_parameter_list_and_dict_register_like_torch():
    class Net(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = gn.nn.ParameterList([gn.nn.Parameter(gn.ones(2)), gn.zeros(3)])
            self.named = gn.nn.ParameterDict({"a": gn.nn.Parameter(gn.ones(1))})
            self.named["b"] = gn.zeros(2)

    net = Net()
    assert list(net.state_dict()) == ["ws.0", "ws.1", "named.a", "named.b"]
    assert all(p.requires_grad for p in net.parameters()) and len(list(net.parameters())) == 4
    assert isinstance(net.ws[1], gn.nn.Parameter) and len(net.ws) == 2 and "b" in net.named
    net.ws.append(gn.ones(4))
    assert net.ws[-1].shape == (4,) and list(net.state_dict())[2] == "ws.2"
