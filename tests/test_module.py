"""Module system and containers: registration, traversal, state_dict, hooks, modes, repr, against torch."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from helpers_nn import compare_module, copy_gn_to_torch, copy_torch_to_gn, numpy_state


def make_pair(lib):
    """The same nested architecture (parameters, buffers, containers) built with glassnet or torch."""
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(3))
            self.fc = lib.nn.Linear(3, 3)
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.scale + self.running

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), Block())
            self.heads = lib.nn.ModuleList([lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)])
            self.extra = lib.nn.ModuleDict({"b": lib.nn.Linear(2, 1, bias=False), "a": lib.nn.Identity()})
            self.register_buffer("steps", lib.zeros(1))

        def forward(self, x):
            h = self.body(x)
            return self.extra["b"](self.heads[0](h) + self.heads[1](h))

    return Net()


def test_state_dict_keys_and_order_match_torch():
    g, t = make_pair(gn), make_pair(torch)
    assert list(g.state_dict()) == list(t.state_dict())
    assert [k for k, _ in g.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in g.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in g.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in g.named_children()] == [k for k, _ in t.named_children()]
    assert "body.2.scratch" not in g.state_dict()
    assert "body.2.scratch" in dict(g.named_buffers())
    assert len(list(g.parameters())) == len(list(t.parameters())) == 10
    assert len(list(g.parameters(recurse=False))) == 0
    assert [k for k, _ in g.body[2].named_parameters(prefix="x")] == ["x.scale", "x.fc.weight", "x.fc.bias"]


def test_load_torch_weights_gives_identical_outputs_both_ways():
    g, t = make_pair(gn), make_pair(torch)
    with torch.no_grad():
        t.body[2].running.normal_()
    copy_torch_to_gn(t, g)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(g(gn.tensor(x)).array, t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # and back: glassnet's own weights -> torch
    g2, t2 = make_pair(gn), make_pair(torch)
    copy_gn_to_torch(g2, t2)
    np.testing.assert_allclose(g2(gn.tensor(x)).array, t2(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    for k, v in numpy_state(g2).items():
        np.testing.assert_array_equal(v, numpy_state(t2)[k])


def test_full_parity_with_gradients():
    compare_module(make_pair(gn), make_pair(torch), [(6, 4)])


def test_state_dict_shares_memory_and_load_copies():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    assert np.shares_memory(sd["weight"].array, m.weight.array)
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    src = {"weight": np.full((2, 2), 3.0), "bias": gn.tensor([1.0, 2.0])}
    w_obj = m.weight
    res = m.load_state_dict(src)
    assert m.weight is w_obj and m.weight.dtype == np.float32  # in place, cast to the parameter's dtype
    np.testing.assert_array_equal(m.weight.array, 3.0)
    src["weight"][0, 0] = 7.0
    assert m.weight.array[0, 0] == 3.0
    assert res.missing_keys == [] and res.unexpected_keys == []


def test_strict_load_errors_name_every_key_and_change_nothing():
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    before = numpy_state(m)
    bad = {"0.weight": np.zeros((2, 3)), "0.bias": np.zeros(5), "2.weight": np.zeros((1, 2)), "junk.w": np.zeros(1)}
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    msg = str(err.value)
    assert "Missing key(s)" in msg and '"2.bias"' in msg
    assert "Unexpected key(s)" in msg and '"junk.w"' in msg
    assert "size mismatch for 0.bias" in msg and "(5,)" in msg and "(2,)" in msg
    assert "Sequential" in msg
    for k, v in numpy_state(m).items():  # nothing was copied
        np.testing.assert_array_equal(v, before[k])
    # non-strict: missing/unexpected reported, shapes still checked
    res = m.load_state_dict({"0.weight": np.ones((2, 3)), "junk": np.zeros(1)}, strict=False)
    assert res.missing_keys == ["0.bias", "2.weight", "2.bias"] and res.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(m[0].weight.array, 1.0)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        m.load_state_dict({"0.weight": np.ones((3, 2))}, strict=False)


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(gn.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.plain = gn.zeros(1)  # a plain tensor attribute is neither a parameter nor a buffer
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and list(m._buffers) == []
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = gn.zeros(2)
    m.w = None
    assert m.w is None and list(m.parameters()) == list(m.sub.parameters())
    m.register_buffer("buf", gn.ones(2))
    m.buf = gn.zeros(3)
    assert m._buffers["buf"].shape == (3,)
    with pytest.raises(TypeError, match="buffer 'buf'"):
        m.buf = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", gn.zeros(1))
    with pytest.raises(KeyError, match=r'contain "\."'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter"):
        m.register_parameter("q", gn.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    # reassigning a name as a different kind moves it
    m.sub = nn.Parameter(gn.zeros(1))
    assert "sub" not in m._modules and "sub" in m._parameters
    del m.sub
    del m.buf
    assert not hasattr(m, "sub") and "buf" not in m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gn.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(gn.zeros(1))


def test_shared_parameters_counted_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, lin)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # as torch
    t = torch.nn.Linear(2, 2)
    assert list(torch.nn.Sequential(t, t).state_dict()) == list(m.state_dict())
    assert len(list(m.modules())) == 2


def test_hooks_and_handles():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", mod)) or (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(("post", args[0].array.sum())) or out + 1)
    x = gn.ones(1, 2)
    y = m(x)
    assert calls == [("pre", m), ("post", 0.0)]  # the forward hook sees the modified input
    np.testing.assert_allclose(y.array, m.bias.array[None] + 1, rtol=1e-6)
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(x).array, (x.array @ m.weight.array.T + m.bias.array), rtol=1e-6)
    assert len(calls) == 2
    order = []
    m.register_forward_hook(lambda *a: order.append(1))
    m.register_forward_hook(lambda *a: order.append(0), prepend=True)
    with m.register_forward_pre_hook(lambda mod, args, kwargs: (args, kwargs), with_kwargs=True):
        m(x)
    assert order == [0, 1] and len(m._forward_pre_hooks) == 0
    # a single returned value from a pre-hook is wrapped in a tuple
    m2 = nn.Identity()
    m2.register_forward_pre_hook(lambda mod, args: args[0] + 1)
    assert m2(gn.zeros(1)).item() == 1.0


def test_train_eval_apply_and_requires_grad():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Dropout", "ReLU", "Sequential", "Sequential"]  # children first, as torch
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad():
    m = nn.Linear(3, 2)
    m(gn.ones(4, 3)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and np.all(g.array == 0)
    m(gn.ones(4, 3)).sum().backward()
    assert np.all(m.bias.grad.array == 4)
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_to_double_float_in_place():
    m = nn.Sequential(nn.Linear(2, 3))
    m.register_buffer("count", gn.zeros(1, dtype=gn.int64))
    w = m[0].weight
    assert m.double() is m
    assert m[0].weight is w and w.dtype == np.float64 and m.count.dtype == np.int64
    assert m(gn.ones(1, 2, dtype=gn.float64)).dtype == np.float64
    m.to(gn.float32)
    assert w.dtype == np.float32
    m.to("cpu")
    with pytest.raises(TypeError, match="floating point"):
        m.to(gn.int32)


def test_repr_matches_torch():
    g, t = make_pair(gn), make_pair(torch)
    assert repr(g) == repr(t)
    for gm, tm in [(nn.Flatten(), torch.nn.Flatten()), (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
                   (nn.ModuleList(), torch.nn.ModuleList()),
                   (nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(1, 2), nn.ReLU()]),
                    torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(1, 2), torch.nn.ReLU()]))]:
        assert repr(gm) == repr(tm)
    assert repr(nn.Parameter(gn.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c] and list(sub._modules) == ["1", "2"]  # as torch
    with pytest.raises(IndexError, match="out of range"):
        s[3]
    d = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert d.fc is a and list(d.state_dict()) == ["fc.weight", "fc.bias"]
    s.append(nn.Identity())
    assert len(s) == 4
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s.insert(1, b)
    assert list(s)[1] is b and list(s._modules) == ["0", "1", "2", "3"]
    assert s.pop(-1).__class__ is nn.Identity and len(s) == 3
    x = gn.randn(4, 2)
    np.testing.assert_allclose(s(x).array, c(b(a(x))).array)
    s[2] = nn.Identity()
    assert isinstance(s[2], nn.Identity)
    assert len(s + nn.Sequential(nn.ReLU())) == 4


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    layers.append(nn.ReLU())
    layers += [nn.Tanh()]
    assert len(layers) == 5 and isinstance(layers[-1], nn.Tanh)
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 5
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU())
    owner = nn.Module()
    owner.layers = layers
    assert len(list(owner.parameters())) == 4
    d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(d) == ["b", "a"] and "a" in d and len(d) == 2
    d.update([("c", nn.Tanh())])
    assert list(d.keys()) == ["b", "a", "c"]
    assert isinstance(d.pop("b"), nn.ReLU) and list(d) == ["a", "c"]
    with pytest.raises(ValueError, match="pair"):
        d.update([nn.ReLU()])


def test_flatten_unflatten_identity():
    x = gn.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Unflatten(-1, (5, -1))(nn.Flatten()(x)).shape == (2, 5, 12)
    with pytest.raises(ValueError, match=r"Unflatten.*size 60"):
        nn.Unflatten(1, (7, 8))(nn.Flatten()(x))
    assert nn.Identity(3, k=4)(x) is x


def test_deepcopy_is_independent():
    m = nn.Sequential(nn.Linear(2, 2))
    m2 = copy.deepcopy(m)
    assert m2[0].weight is not m[0].weight and isinstance(m2[0].weight, nn.Parameter)
    np.testing.assert_array_equal(m2[0].weight.array, m[0].weight.array)
    m2[0].weight.array[...] = 0
    assert np.any(m[0].weight.array != 0)


def test_get_submodule_and_parameter():
    g = make_pair(gn)
    assert g.get_submodule("body.2.fc") is g.body[2].fc
    assert g.get_parameter("body.2.scale") is g.body[2].scale
    assert g.get_buffer("steps") is g.steps
    with pytest.raises(AttributeError, match="nope"):
        g.get_submodule("body.nope")
