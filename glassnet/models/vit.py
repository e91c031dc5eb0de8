"""Vision Transformer (Dosovitskiy et al. 2021): an image as a sequence of patches.

    images (N, C, H, W)
      -> cut into (H/p) * (W/p) patches of p x p pixels, each flattened to C*p*p values
         and projected by a Linear to `dim` (the same as a Conv2d with kernel = stride = p)
      -> a learned class token in front, learned position embeddings added, dropout
      -> `depth` pre-norm Transformer encoder layers (tanh-GELU feed-forward of width mlp_dim), final LayerNorm
      -> the class token's state -> Linear -> logits (N, num_classes)
"""
import numpy as np

from .. import nn
from ..ops.indexing import cat
from ..tensor import Tensor

__all__ = ["ViT", "patchify"]


def patchify(images, patch_size):
    """(N, C, H, W) -> (N, (H/p) * (W/p), C*p*p): the patches in row-major order, each flattened (C, p, p)."""
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p)  # (N, C, rows, p, cols, p)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (N, rows, cols, C, p, p)
    return x.reshape(N, (H // p) * (W // p), C * p * p)


class ViT(nn.Module):
    """forward(images (N, in_channels, image_size, image_size)) -> logits (N, num_classes).

    Parameters: patch_embed (Linear(C*p*p, dim)), cls_token (1, 1, dim), pos_embedding
    (1, num_patches + 1, dim), encoder (nn.TransformerEncoder of norm_first layers), norm, head.
    """

    def __init__(self, image_size, patch_size, in_channels, num_classes, dim, depth, heads, mlp_dim, dropout=0.0):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: image_size={image_size} must be a multiple of patch_size={patch_size}")
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Linear(in_channels * patch_size * patch_size, dim)
        self.cls_token = nn.Parameter(np.zeros((1, 1, dim), np.float32))
        self.pos_embedding = nn.Parameter(np.zeros((1, self.num_patches + 1, dim), np.float32))
        nn.init.trunc_normal_(self.pos_embedding, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.dropout = nn.Dropout(dropout)
        gelu = nn.GELU(approximate="tanh")  # the tanh form: as good here, and several times cheaper than erf
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout, activation=gelu, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, images):
        expected = (self.in_channels, self.image_size, self.image_size)
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"ViT: expected images (N, {', '.join(map(str, expected))}), got "
                             f"{getattr(images, 'shape', type(images).__name__)}")
        N = images.shape[0]
        x = self.patch_embed(patchify(images, self.patch_size))  # (N, P, dim)
        x = cat([self.cls_token.expand(N, 1, x.shape[-1]), x], 1)  # (N, P + 1, dim)
        x = self.dropout(x + self.pos_embedding)
        x = self.norm(self.encoder(x))
        return self.head(x[:, 0])  # the class token
