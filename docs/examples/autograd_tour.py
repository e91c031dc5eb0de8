"""Autograd tour: a graph, its backward, a gradient check, forward mode and a second derivative.

Run: python docs/examples/autograd_tour.py   (writes docs/images/autograd_graph.png)
"""
import os

import numpy as np

import glassnet as gn
from glassnet import viz

from _common import IMAGES, run  # docs/examples/_common.py (the script's folder is on sys.path)


def main(out_dir=IMAGES, small=False):
    """Build y = tanh(sum(x * w) + b), draw its graph, check every derivative three ways."""
    gn.manual_seed(0)
    # 1. a small graph: every operation records a node with its inputs
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = gn.tensor([0.5, -1.0, 0.25], requires_grad=True)
    b = gn.tensor(0.1, requires_grad=True)
    y = ((x * w).sum() + b).tanh()
    nodes = viz.graph_nodes(y, params={"x": x, "w": w, "b": b})
    print("graph, inputs first:")
    for n in nodes:
        print(f"  {n.index}: {n.kind:5s} {n.name:5s} shape {n.shape}  inputs {n.inputs}")

    # 2. backward: dy/dx = (1 - y^2) w, dy/dw = (1 - y^2) x, dy/db = 1 - y^2
    y.backward()
    slope = 1 - y.item() ** 2
    print(f"\ny = {y.item():.6f}, dy/dx = {x.grad.tolist()}, by hand {(slope * w.array).tolist()}")
    assert np.allclose(x.grad.array, slope * w.array) and np.allclose(w.grad.array, slope * x.array)
    viz.draw_graph(nodes, os.path.join(out_dir, "autograd_graph.png"))  # after backward: leaves show |grad|

    # 3. gradcheck: autograd against central differences, in float64
    xs = gn.randn(4, 3, dtype=gn.float64, requires_grad=True)
    ws = gn.randn(3, 2, dtype=gn.float64, requires_grad=True)
    ok = gn.autograd.gradcheck(lambda a, c: (a @ c).sigmoid().log().sum(), (xs, ws))
    print(f"gradcheck of log(sigmoid(x @ w)).sum(): {ok}")

    # 4. forward mode: one jvp pass gives the directional derivative grad . v
    v = gn.tensor([1.0, 0.0, -1.0])
    _, dy_v = gn.autograd.jvp(lambda a: ((a * w.detach()).sum() + b.detach()).tanh(), (x.detach(),), (v,))
    print(f"forward mode: dy/dx . v = {dy_v.item():.6f}, reverse mode grad . v = {float(x.grad.array @ v.array):.6f}")
    assert np.isclose(dy_v.item(), float(x.grad.array @ v.array), rtol=1e-6)

    # 5. second derivative: differentiate the gradient (create_graph=True records the backward too)
    t = gn.tensor(0.7, dtype=gn.float64, requires_grad=True)
    (d1,) = gn.autograd.grad(t.tanh(), t, create_graph=True)
    (d2,) = gn.autograd.grad(d1, t)
    exact = -2 * np.tanh(0.7) * (1 - np.tanh(0.7) ** 2)
    print(f"d2/dt2 tanh(t) at 0.7 = {d2.item():.10f}, exact {exact:.10f}")
    assert np.isclose(d2.item(), exact, rtol=1e-12)
    return dict(y=y.item(), grad_x=x.grad.array.copy(), jvp=dy_v.item(), second=d2.item(), gradcheck=ok,
                nodes=[(n.kind, n.name) for n in nodes])


if __name__ == "__main__":
    run(main)
