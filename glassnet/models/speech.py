"""A small speech recogniser trained with CTC: log-mel frames -> 1-D convolutions -> Transformer encoder
-> one distribution over symbols (blank included) per output frame.

    model = ConvTransformerCTC(n_mels=40, num_classes=11)      # 10 digits + the blank
    log_probs, lengths = model(features, feature_lengths)       # (N, n_mels, T) -> (T', N, C), (N,)
    loss = F.ctc_loss(log_probs, targets, lengths, target_lengths)

The convolutions see a few neighbouring frames at a time (local sound patterns) and, with stride 2,
halve the frame rate twice (10 ms -> 40 ms frames: fewer positions for attention, still several per
spoken digit); the encoder then relates frames across the whole utterance.
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["ConvTransformerCTC"]


class ConvTransformerCTC(nn.Module):
    """features (N, n_mels, T) -> log-probabilities (T', N, num_classes), time-major as ctc_loss wants.

    convs: Conv1d(n_mels, d_model, 5) then `downsample` Conv1d(d_model, d_model, 5, stride 2), each followed
    by GELU; pos: sinusoidal positions (with dropout); encoder: `num_layers` pre-norm Transformer encoder
    layers with a final LayerNorm; head: Linear(d_model, num_classes). Frames beyond an utterance's
    length are masked out of attention (src_key_padding_mask).
    """

    def __init__(self, n_mels=40, num_classes=11, d_model=128, nhead=4, num_layers=4, dim_feedforward=256,
                 dropout=0.1, downsample=2, max_frames=4000):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(n_mels, d_model, 5, padding=2)] + [
            nn.Conv1d(d_model, d_model, 5, stride=2, padding=2) for _ in range(downsample)])
        self.downsample = downsample
        self.pos = nn.SinusoidalPositionalEncoding(d_model, max_len=max_frames, dropout=dropout, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, num_classes)

    @staticmethod
    def _conv_length(lengths, conv):
        """L -> floor((L + 2 padding - kernel) / stride) + 1."""
        return (lengths + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1

    def output_lengths(self, lengths):
        """Frames after the convolutions (each stride-2 layer: L -> floor((L - 1) / 2) + 1)."""
        out = np.asarray(lengths, np.int64)
        for conv in self.convs:
            out = self._conv_length(out, conv)
        return out

    def _convolve(self, h, lengths):
        """Each convolution then GELU, with the frames beyond each utterance's length set back to zero, so
        that a padded utterance gives exactly what it gives alone (the next convolution reads zeros there,
        as its own zero padding)."""
        for conv in self.convs:
            lengths = self._conv_length(lengths, conv)
            h = F.gelu(conv(h))  # (N, d_model, T_k)
            if (lengths < h.shape[2]).any():
                keep = np.arange(h.shape[2])[None, :] < lengths[:, None]  # (N, T_k)
                h = h * Tensor._make(keep[:, None, :].astype(h.dtype))
        return h, lengths

    def forward(self, features, lengths=None):
        """features (N, n_mels, T), lengths (N,) frames of each utterance (default: all T).
        Returns (log_probs (T', N, C), output lengths (N,) int64 array)."""
        n, _, frames = features.shape
        lengths = np.full(n, frames) if lengths is None else np.asarray(getattr(lengths, "array", lengths), np.int64)
        h, out_lengths = self._convolve(features, lengths)
        h = h.transpose(1, 2)  # (N, T', d_model)
        padding = np.arange(h.shape[1])[None, :] >= out_lengths[:, None]  # (N, T') True beyond each length
        h = self.encoder(self.pos(h), src_key_padding_mask=Tensor._make(padding))
        log_probs = F.log_softmax(self.head(h), dim=-1)  # (N, T', C)
        return log_probs.transpose(0, 1), out_lengths
