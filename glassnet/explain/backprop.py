"""Backpropagation by hand on a tiny expression, checked against glassnet's autograd.

    L = log(1 + exp(a*b + c)) * a        with a = 1.5, b = -2.0, c = 0.5

Forward: each intermediate value. Backward: start from dL/dL = 1 and walk the graph in reverse,
multiplying each upstream gradient by the local derivative (the chain rule); `a` is used twice,
so its two contributions are added.
"""
import math


def by_hand(a, b, c):
    """Forward values, the backward steps (what, local derivative, upstream, product) and the gradients."""
    # forward, one primitive at a time
    u = a * b          # u = a*b
    v = u + c          # v = u + c
    s = math.exp(v)    # s = exp(v)
    t = 1 + s          # t = 1 + s
    q = math.log(t)    # q = log(t)
    L = q * a          # L = q*a
    forward = dict(u=u, v=v, s=s, t=t, q=q, L=L)

    # backward: each step is (what, local derivative, upstream gradient); the gradient is their product
    steps = []

    def step(what, local, upstream):
        steps.append((what, local, upstream, local * upstream))
        return local * upstream

    dq = step("dL/dq = a", a, 1.0)
    da_direct = step("dL/da (via L = q*a) = q", q, 1.0)
    dt = step("dL/dt = 1/t * dL/dq", 1 / t, dq)
    ds = step("dL/ds = 1 * dL/dt", 1.0, dt)
    dv = step("dL/dv = exp(v) * dL/ds", s, ds)
    du = step("dL/du = 1 * dL/dv", 1.0, dv)
    dc = step("dL/dc = 1 * dL/dv", 1.0, dv)
    da_via_u = step("dL/da (via u = a*b) = b * dL/du", b, du)
    db = step("dL/db = a * dL/du", a, du)
    grads = dict(a=da_direct + da_via_u, b=db, c=dc)
    return forward, steps, grads


def by_autograd(a, b, c):
    """L and its gradients from glassnet's autograd, in float64."""
    import glassnet as gn

    ta, tb, tc = (gn.tensor(v, dtype=gn.float64, requires_grad=True) for v in (a, b, c))
    L = ((ta * tb + tc).exp() + 1).log() * ta
    L.backward()
    return L.item(), dict(a=ta.grad.item(), b=tb.grad.item(), c=tc.grad.item())


def main(a=1.5, b=-2.0, c=0.5):
    """Print the forward values and every backward step; check them against autograd.

    Returns (forward values, gradients by hand, gradients by autograd).
    """
    forward, steps, grads = by_hand(a, b, c)
    print(f"L = log(1 + exp(a*b + c)) * a   at a={a}, b={b}, c={c}\n\nforward")
    for name, value in forward.items():
        print(f"  {name} = {value: .6f}")
    print("\nbackward (local derivative x upstream gradient = gradient)")
    for text, local, upstream, product in steps:
        print(f"  {text:42s} {local: .6f} x {upstream: .6f} = {product: .6f}")
    print(f"  dL/da = {grads['a']:.6f} (sum of both paths)")
    L, auto = by_autograd(a, b, c)
    print("\nchecked against autograd")
    for name in ("a", "b", "c"):
        print(f"  dL/d{name}: by hand {grads[name]: .10f}   autograd {auto[name]: .10f}")
        assert math.isclose(grads[name], auto[name], rel_tol=1e-12), name
    assert math.isclose(forward["L"], L, rel_tol=1e-12)
    print("all equal")
    return forward, grads, auto
