"""gat-cora: the graph attention network of Velickovic et al. (2018) on Cora's standard split, with the
paper's transductive settings: 8 heads of 8 hidden units with ELU, one output head, dropout 0.6 on the
inputs of each layer and on the attention coefficients, Adam at 0.005, L2 5e-4. Published: 83.0% test
accuracy (the paper stops early on the validation loss; this recipe trains a fixed number of epochs)."""
from dataclasses import dataclass

from ..models.graph import GAT
from . import Recipe, register
from .config import flag, positive, probability
from .node_classification import NodeConfig, node_experiment


@dataclass
class GATConfig(NodeConfig):
    epochs: int = flag(300, "passes over the graph (one optimizer step each)", positive)
    lr: float = flag(0.005, "Adam learning rate", positive)
    hidden: int = flag(8, "hidden units per attention head", positive)
    heads: int = flag(8, "attention heads of the first layer", positive)
    dropout: float = flag(0.6, "dropout on features and attention coefficients", probability)


def build(config):
    model = GAT(1433, config.hidden, 7, heads=config.heads, dropout=config.dropout)
    return node_experiment(config, model, first_layer=model)  # the paper decays every parameter


register(Recipe("gat-cora", "graph attention network on Cora (standard split); published 83.0% test accuracy",
                GATConfig, build))
