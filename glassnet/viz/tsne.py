"""t-SNE (van der Maaten and Hinton 2008) in NumPy: points (N, d) -> (N, 2) whose neighbourhoods mirror those
of the points, for pictures of learned embeddings. Exact (O(N^2) memory and time per step): meant for a few
thousand points.

    p_j|i  = exp(-|x_i - x_j|^2 / 2 s_i^2) / sum_k exp(-|x_i - x_k|^2 / 2 s_i^2)   s_i set by binary search
                                                                                  so that 2^H(p_.|i) = perplexity
    P_ij   = (p_j|i + p_i|j) / 2N                                     symmetric affinities in the input
    Q_ij   = (1 + |y_i - y_j|^2)^-1 / sum_{k != l} (1 + |y_k - y_l|^2)^-1    Student-t affinities in the map
    KL(P || Q) is minimised by gradient descent on y:
    dKL/dy_i = 4 sum_j (P_ij - Q_ij) (1 + |y_i - y_j|^2)^-1 (y_i - y_j)

Optimisation as the paper: P exaggerated 12x for the first 250 steps, momentum 0.5 then 0.8, per-coordinate
gains, learning rate N / 48 (at least 50).
"""
import numpy as np

__all__ = ["tsne"]


def _squared_distances(x):
    sq = np.sum(x * x, 1)
    d = sq[:, None] + sq[None, :] - 2 * (x @ x.T)
    np.fill_diagonal(d, 0)
    return np.maximum(d, 0)


def _conditional_affinities(d2, perplexity, steps=64):
    """p_j|i (N, N) with each row's entropy log(perplexity), by bisection on the precisions beta = 1 / 2s^2,
    all rows at once."""
    n = len(d2)
    target = np.log(perplexity)
    lo, hi = np.zeros(n), np.full(n, np.inf)
    beta = np.ones(n) / max(np.median(d2[d2 > 0]) if (d2 > 0).any() else 1.0, 1e-12)
    off = ~np.eye(n, dtype=bool)
    for _ in range(steps):
        logits = -d2 * beta[:, None]
        logits[~off] = -np.inf
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0), 1)
        too_flat = entropy > target  # too wide a neighbourhood: raise the precision
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, (lo + hi) / 2)
    return p


def tsne(points, perplexity=30.0, iters=750, seed=0):
    """The t-SNE map (N, 2) of points (N, d) (float64 inside; see the module docstring)."""
    x = np.asarray(points, np.float64)
    n = len(x)
    if x.ndim != 2 or n < 5:
        raise ValueError(f"tsne: expected at least 5 points (N, d), got shape {x.shape}")
    perplexity = min(perplexity, (n - 1) / 3)
    x = (x - x.mean(0)) / max(x.std(), 1e-12)
    p = _conditional_affinities(_squared_distances(x), perplexity)
    P = np.maximum((p + p.T) / (2 * n), 1e-12)
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, 2)) * 1e-4
    update, gains = np.zeros_like(y), np.ones_like(y)
    lr = max(n / 48, 50.0)
    for step in range(iters):
        exaggeration, momentum = (12.0, 0.5) if step < 250 else (1.0, 0.8)
        kernel = 1 / (1 + _squared_distances(y))  # (1 + |y_i - y_j|^2)^-1
        np.fill_diagonal(kernel, 0)
        Q = np.maximum(kernel / kernel.sum(), 1e-12)
        W = (exaggeration * P - Q) * kernel
        grad = 4 * (W.sum(1)[:, None] * y - W @ y)
        same_sign = (grad > 0) == (update > 0)
        gains = np.maximum(np.where(same_sign, gains * 0.8, gains + 0.2), 0.01)
        update = momentum * update - lr * gains * grad
        y += update
        y -= y.mean(0)
    return y
