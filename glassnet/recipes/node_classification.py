"""What the Cora recipes (gcn-cora, gat-cora) share: the graph as one full batch, the loss on the 140
labelled nodes, the evaluation on the validation nodes, the test on the 1,000 test nodes, and a picture
of the learned node embeddings.

Semi-supervised node classification: every node's features and every edge are seen in training, but
only the training nodes' labels; the network must spread what those labels teach along the citations.
One optimizer step is one pass over the whole graph (an epoch).
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..datasets import Cora
from ..nn import functional as F
from ..nn.utils import evaluating
from ..train import EpochBatches, Experiment
from ..utils.data import DataLoader
from .config import data_dir_flag, data_from, flag, positive, probability

__all__ = ["NodeConfig", "load_graph", "node_experiment"]


@dataclass
class NodeConfig:
    """What a node-classification recipe on Cora has (the defaults are Kipf and Welling's)."""
    epochs: int = flag(200, "passes over the graph (one optimizer step each)", positive)
    lr: float = flag(0.01, "Adam learning rate", positive)
    weight_decay: float = flag(5e-4, "L2 penalty on the first layer's parameters")
    hidden: int = flag(16, "hidden units (per attention head for GAT)", positive)
    dropout: float = flag(0.5, "dropout on features (and attention coefficients for GAT)", probability)
    eval_every: int = flag(10, "epochs between evaluations on the validation nodes", positive)
    seed: int = flag(0, "seed of initialisation and dropout")
    data_dir: str = data_dir_flag("cora/cora.npz")
    pictures: bool = flag(True, "draw the learned node embeddings at the end")


def load_graph(config):
    with data_from(config.data_dir) as (root, _):
        return Cora(root=root, normalize_features=True)


def _loss_and_accuracy(model, graph, nodes):
    logits = model(graph.x, graph.edge_index)[nodes]
    loss = F.cross_entropy(logits, graph.y[nodes])
    accuracy = float((logits.array.argmax(1) == graph.y.array[nodes.array]).mean())
    return loss, accuracy


class _Cora:
    def __init__(self, graph):
        self.graph = graph

    def loss(self, model, batch):
        loss, accuracy = _loss_and_accuracy(model, self.graph, self.graph.train_idx)
        return loss, {"accuracy": accuracy}

    def evaluate(self, model):
        loss, accuracy = _loss_and_accuracy(model, self.graph, self.graph.val_idx)
        return {"val_loss": loss.item(), "val_accuracy": accuracy}

    def test(self, model):
        loss, accuracy = _loss_and_accuracy(model, self.graph, self.graph.test_idx)
        return {"test_loss": loss.item(), "test_accuracy": accuracy, "test_nodes": int(self.graph.test_idx.shape[0])}

    def pictures(self, model, run_dir):
        from ..viz.embeddings import plot_embeddings

        with evaluating(model):
            hidden = model.embed(self.graph.x, self.graph.edge_index).array
        path = os.path.join(run_dir, "plots", "node_embeddings.png")
        plot_embeddings(hidden, self.graph.y.array, path, title="hidden-layer node embeddings of Cora (all 2,708 "
                                                               "papers), coloured by class")
        return {"plots": [path]}


def node_experiment(config, model, first_layer):
    """An Experiment training `model` (forward(x, edge_index) -> logits) on Cora with Adam, the L2 penalty
    `config.weight_decay` on `first_layer`'s parameters only (as Kipf and Welling)."""
    graph = load_graph(config)
    cora = _Cora(graph)
    decayed = {id(p) for p in first_layer.parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) in decayed], "weight_decay": config.weight_decay},
              {"params": [p for p in model.parameters() if id(p) not in decayed], "weight_decay": 0.0}]
    whole_graph = DataLoader([np.zeros(1)], batch_size=None)  # one batch: the loss reads the graph itself
    return Experiment(model, optim.Adam(groups, lr=config.lr), EpochBatches(whole_graph), steps=config.epochs,
                      loss=cora.loss, evaluate=cora.evaluate, eval_every=config.eval_every, test=cora.test,
                      monitor="val_accuracy", mode="max", log_every=10,
                      report=cora.pictures if config.pictures else None, items=lambda batch: 1, unit="graph")
