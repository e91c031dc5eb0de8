"""gcn-cora: the two-layer graph convolutional network of Kipf and Welling (2017) on Cora's standard split,
with the paper's settings (16 hidden units, dropout 0.5, Adam at 0.01, L2 5e-4 on the first layer, 200
epochs). Published: 81.5% test accuracy; this recipe's target is >= 81.0% as the mean of 10 seeds."""
from ..models.graph import GCN
from . import Recipe, register
from .node_classification import NodeConfig, node_experiment


def build(config):
    model = GCN(1433, config.hidden, 7, dropout=config.dropout)
    return node_experiment(config, model, first_layer=model.conv1)


register(Recipe("gcn-cora", "2-layer GCN on Cora (standard split): >= 81.0% test accuracy, mean of 10 seeds",
                NodeConfig, build))
