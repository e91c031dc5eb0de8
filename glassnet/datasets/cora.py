"""Cora: a citation graph of 2,708 machine-learning papers in 7 classes (Sen et al. 2008), with the
standard semi-supervised split of Yang, Cohen and Salakhutdinov (2016) that Kipf and Welling's GCN
paper uses: 140 labelled nodes for training (20 per class), 500 for validation, 1,000 for test.

    from glassnet.datasets import Cora
    cora = Cora()                  # root, $GLASSNET_DATA/cora/cora.npz, then the cache
    cora.x, cora.edge_index, cora.y, cora.train_idx

The archive `cora.npz` is this project's conversion of that split's files into plain arrays; it is
found like MNIST's files (see glassnet.datasets.paths) and checked against its SHA-256.
"""
import numpy as np

from ..tensor import Tensor
from .npz import find_file, load_verified_npz

__all__ = ["Cora"]

SHA256 = "96c5f6bec514c60ae4a34c177ab22aef2637adb61c4a9eccfacc196bf5476f1b"
_ARRAYS = ("x", "y", "edge_index", "train_idx", "val_idx", "test_idx")


class Cora:
    """The Cora graph as Tensors.

    root: a folder to look in first (for cora.npz, directly or in `cora/`).
    normalize_features: divide each node's bag-of-words row by its sum (Kipf and Welling's preprocessing).

    Attributes: `x` (2708, 1433) float32 word features, `y` (2708,) int64 classes 0-6, `edge_index`
    (2, 10556) int64 citation links in both directions (no self-loops), `train_idx` / `val_idx` /
    `test_idx` int64 node numbers of the standard split, `num_classes` 7, `num_features` 1433, `path`.
    """

    filename = "cora.npz"
    subdirs = ("cora",)
    sha256 = SHA256
    num_classes = 7

    def __init__(self, root=None, normalize_features=False):
        self.path = find_file("Cora", self.filename, self.subdirs, root,
                              "It is the Planetoid split of Cora converted to plain arrays (x, y, edge_index, "
                              "train_idx, val_idx, test_idx).")
        arrays = load_verified_npz("Cora", self.path, self.sha256, _ARRAYS)
        x = arrays["x"].astype(np.float32)
        if normalize_features:
            sums = x.sum(1, keepdims=True)
            x = np.divide(x, sums, out=np.zeros_like(x), where=sums > 0)
        self.x = Tensor._make(x)
        self.y = Tensor._make(arrays["y"].astype(np.int64))
        self.edge_index = Tensor._make(arrays["edge_index"].astype(np.int64))
        for split in ("train_idx", "val_idx", "test_idx"):
            setattr(self, split, Tensor._make(arrays[split].astype(np.int64)))

    @property
    def num_nodes(self):
        return self.x.shape[0]

    @property
    def num_features(self):
        return self.x.shape[1]

    def __repr__(self):
        return (f"Dataset Cora\n    Nodes: {self.num_nodes}, edges: {self.edge_index.shape[1]}, features: "
                f"{self.num_features}, classes: {self.num_classes}\n    Split: {self.train_idx.shape[0]} train, "
                f"{self.val_idx.shape[0]} val, {self.test_idx.shape[0]} test\n    Location: {self.path}")
