"""Why the gradient of softmax + cross-entropy is just  softmax(z) - onehot(y).

For one example with logits z (K classes) and true class y:

    p = softmax(z),  p_j = e^(z_j) / sum_k e^(z_k)          L = -log p_y = -z_y + log sum_k e^(z_k)

Differentiate the second form directly:   dL/dz_j = -[j = y] + e^(z_j) / sum_k e^(z_k) = p_j - [j = y].
(Through the chain rule the same comes out: dL/dp_y = -1/p_y and dp_y/dz_j = p_y ([j = y] - p_j).)
With reduction='mean' over a batch of N examples, each row is divided by N.

So the fused cross_entropy needs no softmax Jacobian at all, and it is computed from log_softmax:
log p = z - max(z) - log sum e^(z - max(z)) never overflows, while log(softmax(z)) computed naively
overflows (e^1000 = inf, then inf / inf = nan) or takes log(0) = -inf for logits far below the top one.
"""
import numpy as np


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _loss(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def main(batch=3, classes=5, seed=0, eps=1e-6):
    """Print p, onehot and p - onehot; check against autograd and central differences; return the numbers."""
    import glassnet as gn
    import glassnet.nn.functional as F

    print(__doc__.strip().split("\n\n", 1)[1])
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((batch, classes)) * 2
    y = rng.integers(0, classes, batch)
    p = _softmax(z)
    onehot = np.eye(classes)[y]
    formula = (p - onehot) / batch

    logits = gn.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, gn.tensor(y))
    loss.backward()
    autograd = logits.grad.array

    numeric = np.zeros_like(z)  # central differences, one logit at a time (batch * classes is small)
    for idx in np.ndindex(*z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (_loss(up, y) - _loss(down, y)) / (2 * eps)

    print(f"\nbatch {batch}, {classes} classes, targets y = {y.tolist()}, loss = {loss.item():.6f}")
    with np.printoptions(precision=4, suppress=True):
        print(f"\np = softmax(z):\n{p}\n\nonehot(y):\n{onehot}\n\n(p - onehot) / N:\n{formula}")
    d_auto = float(np.abs(autograd - formula).max())
    d_num = float(np.abs(numeric - formula).max())
    print(f"\nmax |autograd - formula|            = {d_auto:.2e}")
    print(f"max |central differences - formula| = {d_num:.2e}")
    assert np.isclose(loss.item(), _loss(z, y), rtol=1e-12)
    assert d_auto < 1e-12, d_auto
    assert d_num < 1e-7, d_num
    print("each row of the gradient sums to 0:", np.abs(formula.sum(axis=1)).max() < 1e-15)

    big = np.array([[1000.0, 0.0, -1000.0]])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        naive = np.log(np.exp(big) / np.exp(big).sum())
    stable = F.log_softmax(gn.tensor(big), 1).array
    print(f"\nlogits {big.tolist()[0]}:  naive log(softmax) = {naive[0]},  log_softmax = {stable[0]}")
    return dict(z=z, y=y, p=p, formula=formula, autograd=autograd, numeric=numeric,
                max_diff_autograd=d_auto, max_diff_numeric=d_num, naive=naive, stable=stable)
