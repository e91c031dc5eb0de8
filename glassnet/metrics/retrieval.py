"""Retrieval by embeddings: nearest neighbours of queries in a gallery, and recall@k.

    nearest_neighbours(queries (Q, D), gallery (G, D), k)   the k closest gallery rows of each query (Q, k)
    recall_at_k(hits (Q, k) bool)                            the fraction of queries with a hit in their top k

Distances are Euclidean (|q|^2 - 2 q.g + |g|^2, queries taken in chunks so that memory stays about
chunk * G); for unit vectors the ranking is that of the cosine similarity.
"""
import numpy as np

__all__ = ["nearest_neighbours", "recall_at_k"]


def nearest_neighbours(queries, gallery, k=1, chunk=1024, exclude_self=False):
    """Indices (Q, k) of the k nearest gallery rows of each query row, nearest first. exclude_self: the
    queries are the gallery itself, and a row never retrieves itself."""
    q, g = np.asarray(queries, np.float32), np.asarray(gallery, np.float32)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError(f"nearest_neighbours: expected queries (Q, D) and gallery (G, D), got {q.shape} and "
                         f"{g.shape}")
    if not 1 <= k <= len(g) - exclude_self:
        raise ValueError(f"nearest_neighbours: k must be in [1, {len(g) - exclude_self}], got {k}")
    g_sq = np.sum(g * g, 1)
    out = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), chunk):
        d = g_sq[None, :] - 2 * (q[s:s + chunk] @ g.T)  # (c, G): |q|^2 is the same along a row
        if exclude_self:
            d[np.arange(len(d)), np.arange(s, s + len(d))] = np.inf
        top = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d, top, 1), axis=1, kind="stable")
        out[s:s + chunk] = np.take_along_axis(top, order, 1)
    return out


def recall_at_k(hits):
    """hits (Q, k) bool, whether each of a query's k results is right -> the fraction of queries with any."""
    hits = np.asarray(hits, bool)
    if hits.ndim != 2:
        raise ValueError(f"recall_at_k: expected hits (Q, k), got shape {hits.shape}")
    return float(hits.any(1).mean())
