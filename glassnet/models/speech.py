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

    conv: Conv1d(n_mels, d_model, 5) then `downsample` Conv1d(d_model, d_model, 5, stride 2), each followed
    by GELU; pos: sinusoidal positions (with dropout); encoder: `num_layers` pre-norm Transformer encoder
    layers with a final LayerNorm; head: Linear(d_model, num_classes). Frames beyond an utterance's
    length are masked out of attention (src_key_padding_mask).
    """

    def __init__(self, n_mels=40, num_classes=11, d_model=128, nhead=4, num_layers=4, dim_feedforward=256,
                 dropout=0.1, downsample=2, max_frames=4000):
        super().__init__()
        layers = [nn.Conv1d(n_mels, d_model, 5, padding=2), nn.GELU()]
        for _ in range(downsample):
            layers += [nn.Conv1d(d_model, d_model, 5, stride=2, padding=2), nn.GELU()]
        self.conv = nn.Sequential(*layers)
        self.downsample = downsample
        self.pos = nn.SinusoidalPositionalEncoding(d_model, max_len=max_frames, dropout=dropout, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, num_classes)

    def output_lengths(self, lengths):
        """Frames after the strided convolutions: L -> floor((L - 1) / 2) + 1 per stride-2 layer (kernel 5,
        padding 2)."""
        out = np.asarray(lengths, np.int64)
        for _ in range(self.downsample):
            out = (out - 1) // 2 + 1
        return out

    def forward(self, features, lengths=None):
        """features (N, n_mels, T), lengths (N,) frames of each utterance (default: all T).
        Returns (log_probs (T', N, C), output lengths (N,) int64 array)."""
        n, _, frames = features.shape
        lengths = np.full(n, frames) if lengths is None else np.asarray(getattr(lengths, "array", lengths))
        out_lengths = self.output_lengths(lengths)
        h = self.conv(features).transpose(1, 2)  # (N, T', d_model)
        padding = np.arange(h.shape[1])[None, :] >= out_lengths[:, None]  # (N, T') True beyond each length
        h = self.encoder(self.pos(h), src_key_padding_mask=Tensor._make(padding))
        log_probs = F.log_softmax(self.head(h), dim=-1)  # (N, T', C)
        return log_probs.transpose(0, 1), out_lengths
