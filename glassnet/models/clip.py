"""CLIP (Radford et al. 2021): an image encoder and a text encoder trained so that an image and its caption
land on nearby points of one embedding space, and mismatched pairs of a batch far apart.

    images (N, C, H, W) -> ViT (glassnet.models.ViT; its head projects the class token to embed_dim)   -> I (N, E)
    tokens (N, T)       -> TextTransformer: a causal GPT (glassnet.models.GPT), the final state at the
                           end-of-text token, projected to embed_dim                                    -> T (N, E)
    logits = exp(s) cos(I_i, T_j)      (N, N): s = logit_scale, learned, clamped at log 100 as CLIP does
    loss   = symmetric InfoNCE: each image picks its caption among the N, each caption its image
             (glassnet.nn.functional.info_nce_loss(I, T, temperature=exp(-s), symmetric=True))

Zero-shot classification: the captions "a picture of a {class}" of every class are encoded once; an image
belongs to the class whose caption embedding (averaged over several templates) is the most similar.
"""
import math

import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from .gpt import GPT
from .vit import ViT

__all__ = ["TextTransformer", "CLIP", "eot_positions"]


class TextTransformer(nn.Module):
    """forward(tokens (N, T) int, eot (N,) positions of the end-of-text tokens) -> (N, embed_dim): a GPT's final
    normalised state at each caption's end-of-text token (the only position that has seen every word, the
    attention being causal), times `projection` (Linear(width, embed_dim, bias=False))."""

    def __init__(self, vocab_size, context, width, layers, heads, embed_dim, dropout=0.0):
        super().__init__()
        self.transformer = GPT(vocab_size, context, layers, heads, width, dropout)
        self.projection = nn.Linear(width, embed_dim, bias=False)

    def forward(self, tokens, eot):
        h = self.transformer.hidden(tokens)  # (N, T, width)
        return self.projection(h[np.arange(len(eot)), eot])  # (N, embed_dim)


class CLIP(nn.Module):
    """forward(images, tokens, eot) -> (image embeddings, text embeddings), both (N, embed_dim), unnormalised;
    `loss` gives the symmetric InfoNCE loss of a batch of matching pairs.

    Parameters: visual (a ViT), text (a TextTransformer), logit_scale (0-d, initialised to log(1 / 0.07)).
    """

    MAX_LOGIT_SCALE = math.log(100)

    def __init__(self, image_size, patch_size, in_channels, vocab_size, context, embed_dim=64, vision_width=64,
                 vision_layers=4, vision_heads=4, text_width=64, text_layers=2, text_heads=4, dropout=0.0):
        super().__init__()
        self.visual = ViT(image_size, patch_size, in_channels, embed_dim, vision_width, vision_layers, vision_heads,
                          2 * vision_width, dropout)
        self.text = TextTransformer(vocab_size, context, text_width, text_layers, text_heads, embed_dim, dropout)
        self.logit_scale = nn.Parameter(np.array(math.log(1 / 0.07), np.float32))

    def encode_image(self, images):
        return self.visual(images)

    def encode_text(self, tokens, eot):
        """Text embeddings of token ids (N, T) whose end-of-text tokens sit at eot (N,) (see eot_positions)."""
        return self.text(tokens, eot)

    def temperature(self):
        """exp(-logit_scale), with the scale clamped at log 100 (no gradient beyond: the logits are at most
        100 cosines)."""
        return (-self.logit_scale.clamp(max=self.MAX_LOGIT_SCALE)).exp()

    def forward(self, images, tokens, eot):
        return self.encode_image(images), self.encode_text(tokens, eot)

    def loss(self, images, tokens, eot):
        image_emb, text_emb = self(images, tokens, eot)
        return F.info_nce_loss(image_emb, text_emb, temperature=self.temperature(), symmetric=True)

    def similarity(self, images, tokens, eot):
        """The cosine similarities (N_images, N_texts) of the embeddings, as an array."""
        image_emb, text_emb = self(images, tokens, eot)
        return (F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).T).array


def eot_positions(tokens, eot_id):
    """The first position of eot_id in every row of token ids (N, T) (a NumPy array or Tensor)."""
    ids = tokens.array if isinstance(tokens, Tensor) else np.asarray(tokens)
    found = ids == eot_id
    if not found.any(1).all():
        raise ValueError(f"eot_positions: a caption has no end-of-text token (id {eot_id})")
    return found.argmax(1)
