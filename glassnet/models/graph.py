"""Graph networks for node classification: the two-layer GCN of Kipf and Welling (2017) and the GAT of
Velickovic et al. (2018), as in their papers' Cora experiments.

    model = GCN(1433, 16, 7)
    logits = model(x, edge_index)        # x (N, features), edge_index (2, E) -> (N, classes)
"""
from .. import nn
from ..nn import functional as F

__all__ = ["GCN", "GAT"]


class GCN(nn.Module):
    """dropout -> GCNConv(in, hidden) -> ReLU -> dropout -> GCNConv(hidden, classes).

    Each layer mixes every node's features with its neighbours' (glassnet.nn.GCNConv); two layers reach
    the neighbours of neighbours. `embed` gives the hidden layer (after the ReLU), the learned node
    embeddings.
    """

    def __init__(self, in_features, hidden, num_classes, dropout=0.5):
        super().__init__()
        self.conv1 = nn.GCNConv(in_features, hidden)
        self.conv2 = nn.GCNConv(hidden, num_classes)
        self.dropout = dropout

    def embed(self, x, edge_index):
        x = F.dropout(x, self.dropout, self.training)
        return F.relu(self.conv1(x, edge_index))  # (N, hidden)

    def forward(self, x, edge_index):
        h = F.dropout(self.embed(x, edge_index), self.dropout, self.training)
        return self.conv2(h, edge_index)  # (N, classes)


class GAT(nn.Module):
    """dropout -> GATConv(in, hidden, heads) -> ELU -> dropout -> GATConv(hidden * heads, classes, out_heads,
    averaged). Dropout also on the attention coefficients (as in the paper: 0.6 everywhere on Cora)."""

    def __init__(self, in_features, hidden, num_classes, heads=8, out_heads=1, dropout=0.6):
        super().__init__()
        self.conv1 = nn.GATConv(in_features, hidden, heads=heads, dropout=dropout)
        self.conv2 = nn.GATConv(hidden * heads, num_classes, heads=out_heads, concat=False, dropout=dropout)
        self.dropout = dropout

    def embed(self, x, edge_index):
        x = F.dropout(x, self.dropout, self.training)
        return F.elu(self.conv1(x, edge_index))  # (N, hidden * heads)

    def forward(self, x, edge_index):
        h = F.dropout(self.embed(x, edge_index), self.dropout, self.training)
        return self.conv2(h, edge_index)  # (N, classes)
