"""Models for contrastive and metric learning on small images.

    ConvEncoder     images (N, C, H, W) -> features (N, width[-1]): conv-BN-ReLU stages, each but the last
                    followed by 2x2 max pooling, then the global average over positions
    SimCLR          an encoder and a projection head (Linear-BN-ReLU-Linear): forward(x) gives the projection
                    z on which NT-Xent is taken; `features(x)` the encoder's h, the representation kept for
                    downstream tasks (Chen et al. 2020: h transfers better than z)
    EmbeddingNet    an encoder and a Linear to `dim`, L2-normalised: points on the unit sphere whose distances
                    a contrastive or triplet loss shapes (a siamese network: one net, applied to every input)
"""
from .. import nn
from ..nn import functional as F

__all__ = ["ConvEncoder", "ProjectionHead", "SimCLR", "EmbeddingNet"]


class ConvEncoder(nn.Module):
    """Stages of 3x3 conv -> BatchNorm -> ReLU with `widths` channels, 2x2 max pooling after all but the last,
    then the mean over positions. in_channels images (N, in_channels, H, W) -> (N, widths[-1])."""

    def __init__(self, in_channels=1, widths=(32, 64, 128)):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            c = w
        self.layers = nn.Sequential(*layers)
        self.out_features = c

    def forward(self, x):
        return self.layers(x).mean((2, 3))  # (N, C): global average pooling


class ProjectionHead(nn.Sequential):
    """Linear -> BatchNorm1d -> ReLU -> Linear (SimCLR's nonlinear projection g)."""

    def __init__(self, in_features, hidden, out_features):
        super().__init__(nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, out_features))


class SimCLR(nn.Module):
    """forward(x) -> z = projector(encoder(x)) (N, proj_dim); features(x) -> h = encoder(x)."""

    def __init__(self, in_channels=1, widths=(32, 64, 128), proj_hidden=128, proj_dim=64):
        super().__init__()
        self.encoder = ConvEncoder(in_channels, widths)
        self.projector = ProjectionHead(self.encoder.out_features, proj_hidden, proj_dim)

    def features(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.projector(self.encoder(x))


class EmbeddingNet(nn.Module):
    """forward(x) -> unit-length embeddings (N, dim) = normalize(Linear(encoder(x)))."""

    def __init__(self, in_channels=1, widths=(32, 64, 128), dim=64):
        super().__init__()
        self.encoder = ConvEncoder(in_channels, widths)
        self.head = nn.Linear(self.encoder.out_features, dim)

    def forward(self, x):
        return F.normalize(self.head(self.encoder(x)), dim=1)
