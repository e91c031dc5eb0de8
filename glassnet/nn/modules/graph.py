"""Graph convolutions: `GCNConv` (Kipf and Welling 2017) and `GATConv` (Velickovic et al. 2018).

A graph of N nodes is given as `edge_index` (2, E) integers: edge e goes from node edge_index[0, e]
(the source j) to node edge_index[1, e] (the target i), and messages flow along it, as in PyTorch
Geometric, whose constructor arguments and parameter names (`lin.weight`, `att_src`, `att_dst`,
`bias`) these layers keep. Each layer is one sparse product A H with A (N, N) holding an entry (i, j)
per edge (glassnet.ops.sparse): row i of the result sums node i's incoming messages.
"""
import math

import numpy as np

from ...ops.sparse import Pattern, segment_softmax, sparse_dense_matmul
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["GCNConv", "GATConv"]


def edge_index_array(edge_index, num_nodes, op):
    """edge_index (a Tensor or array of ints, shape (2, E)) as an int64 array, checked against num_nodes."""
    arr = edge_index.array if isinstance(edge_index, Tensor) else np.asarray(edge_index)
    if arr.ndim != 2 or arr.shape[0] != 2 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{op}: edge_index must be integers of shape (2, num_edges), got "
                         f"{tuple(arr.shape)} {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_nodes):
        bad = int(arr.min() if arr.min() < 0 else arr.max())
        raise IndexError(f"{op}: edge_index names node {bad}, but x has {num_nodes} nodes "
                         f"(expected 0 <= node < {num_nodes})")
    return arr.astype(np.int64)


def add_self_loops(edges, weights, num_nodes, fill_value=1.0):
    """Drop the edges i -> i that are there and add one i -> i per node with weight `fill_value`:
    (2, E) edges, (E,) weights -> (2, E' + N), (E' + N,)."""
    keep = edges[0] != edges[1]
    loops = np.arange(num_nodes)
    edges = np.concatenate([edges[:, keep], np.stack([loops, loops])], axis=1)
    weights = np.concatenate([weights[keep], np.full(num_nodes, fill_value, weights.dtype)])
    return edges, weights


def gcn_norm(edges, weights, num_nodes, self_loops=True, improved=False):
    """The symmetric normalisation of Kipf and Welling: with A~ = A + I (self-loop weight 2 when
    `improved`) and d_i = sum_j A~_ij (the weighted in-degree, self-loop included), the entry of
    edge j -> i becomes A~_ij / sqrt(d_i d_j). Returns the Pattern (rows = targets) and the values."""
    if self_loops:
        edges, weights = add_self_loops(edges, weights, num_nodes, 2.0 if improved else 1.0)
    pattern = Pattern(edges[1], edges[0], (num_nodes, num_nodes))
    degree = pattern.segment_sum(weights)
    inv_sqrt = np.zeros_like(degree)
    np.divide(1.0, np.sqrt(degree), out=inv_sqrt, where=degree > 0)
    return pattern, inv_sqrt[edges[1]] * weights * inv_sqrt[edges[0]]


def _node_features(x, in_channels, op):
    if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != in_channels:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{op}: x must be a Tensor of shape (num_nodes, in_channels={in_channels}), got {shape}")


def _glorot_(tensor, fan_in, fan_out):
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    init.uniform_(tensor, -bound, bound)


class GCNConv(Module):
    """Graph convolution: X' = D^-1/2 (A + I) D^-1/2 X W^T + b   (N, in_channels) -> (N, out_channels).

    Node i receives sum_{j -> i, and j = i} x_j W^T / sqrt(d_i d_j), d = in-degree + 1: its own
    features and its neighbours', each neighbour weighted down by how connected both ends are.
    improved: self-loops of weight 2. cached: compute the normalised adjacency once, at the first
    call (for a graph that never changes). normalize=False: the plain sum over incoming edges,
    no self-loops. edge_weight (E,): per-edge weights, treated as constants (no gradient).

    lin.weight (out, in) ~ Glorot uniform; bias (out,) = 0.
    """

    def __init__(self, in_channels, out_channels, improved=False, cached=False, add_self_loops=True,
                 normalize=True, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False)
        if bias:
            self.bias = Parameter(np.zeros(out_channels, np.float32))
        else:
            self.register_parameter("bias", None)
        self._cache = None
        self.reset_parameters()

    def reset_parameters(self):
        _glorot_(self.lin.weight, self.in_channels, self.out_channels)
        if self.bias is not None:
            init.zeros_(self.bias)
        self._cache = None

    def adjacency(self, edge_index, num_nodes, edge_weight=None):
        """(Pattern, values): the sparse matrix this layer multiplies by, for a graph of num_nodes nodes."""
        if self.cached and self._cache is not None:
            return self._cache
        op = "GCNConv"
        edges = edge_index_array(edge_index, num_nodes, op)
        if edge_weight is None:
            weights = np.ones(edges.shape[1])
        else:
            if isinstance(edge_weight, Tensor) and edge_weight.requires_grad:
                raise ValueError(f"{op}: edge_weight requires grad, but glassnet's GCNConv treats edge weights "
                                 f"as constants; pass edge_weight.detach()")
            weights = np.asarray(edge_weight.array if isinstance(edge_weight, Tensor) else edge_weight, np.float64)
            if weights.shape != (edges.shape[1],):
                raise ValueError(f"{op}: edge_weight must have shape ({edges.shape[1]},), one per edge, "
                                 f"got {weights.shape}")
        if self.normalize:
            adjacency = gcn_norm(edges, weights, num_nodes, self.add_self_loops, self.improved)
        else:
            adjacency = Pattern(edges[1], edges[0], (num_nodes, num_nodes)), weights
        if self.cached:
            self._cache = adjacency
        return adjacency

    def forward(self, x, edge_index, edge_weight=None):
        _node_features(x, self.in_channels, "GCNConv")
        pattern, values = self.adjacency(edge_index, x.shape[0], edge_weight)
        h = self.lin(x)  # (N, out)
        out = sparse_dense_matmul(pattern, Tensor._make(values.astype(h.dtype)), h)  # (N, out)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}"


class GATConv(Module):
    """Graph attention: each node attends over its incoming neighbours (and itself), per head.

    With h_j = W x_j split into H heads of C channels (lin.weight (H*C, in)) and, per head,
        e_ij = LeakyReLU(a_src . h_j + a_dst . h_i)                 one score per edge j -> i
        alpha_ij = exp(e_ij) / sum_{k -> i} exp(e_ik)               softmax over i's incoming edges
        x'_i = sum_{j -> i} alpha_ij h_j                             (dropout on alpha while training)
    the heads are concatenated (N, H*C) or, with concat=False, averaged (N, C); then + bias.
    The softmax over each node's edges is the segment softmax of glassnet.ops.sparse.

    att_src, att_dst (1, H, C) and lin.weight ~ Glorot uniform; bias = 0.
    forward(x, edge_index, return_attention_weights=False): with True, also returns
    (edge_index with self-loops (2, E'), alpha (E', H)).
    """

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2, dropout=0.0,
                 add_self_loops=True, bias=True):
        super().__init__()
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = Parameter(np.zeros((1, heads, out_channels), np.float32))
        self.att_dst = Parameter(np.zeros((1, heads, out_channels), np.float32))
        if bias:
            self.bias = Parameter(np.zeros(heads * out_channels if concat else out_channels, np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _glorot_(self.lin.weight, self.in_channels, self.heads * self.out_channels)
        _glorot_(self.att_src, self.heads, self.out_channels)
        _glorot_(self.att_dst, self.heads, self.out_channels)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x, edge_index, return_attention_weights=False):
        _node_features(x, self.in_channels, "GATConv")
        n, heads, channels = x.shape[0], self.heads, self.out_channels
        edges = edge_index_array(edge_index, n, "GATConv")
        if self.add_self_loops:
            edges, _ = add_self_loops(edges, np.ones(edges.shape[1]), n)
        pattern = Pattern(edges[1], edges[0], (n, n))  # row i holds i's incoming edges
        h = self.lin(x).reshape(n, heads, channels)  # (N, H, C)
        score_src = (h * self.att_src).sum(-1)  # (N, H)
        score_dst = (h * self.att_dst).sum(-1)  # (N, H)
        src, dst = Tensor._make(edges[0]), Tensor._make(edges[1])
        scores = F.leaky_relu(score_src.index_select(0, src) + score_dst.index_select(0, dst),
                              self.negative_slope)  # (E, H)
        alpha = segment_softmax(scores, pattern)  # (E, H)
        out = sparse_dense_matmul(pattern, F.dropout(alpha, self.dropout, self.training), h)  # (N, H, C)
        out = out.reshape(n, heads * channels) if self.concat else out.mean(1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (Tensor._make(edges), alpha)
        return out

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
