"""Sound into features a network can read: WAV files, resampling, power spectrograms (glassnet.stft), the
mel filter bank, log-mel spectrograms and SpecAugment masking. Plain NumPy around the STFT (features are
computed once, before the network; no gradient flows through them).

    wave, rate = read_wav("digits.wav")              # float32 (T,), any PCM rate, channels averaged
    wave = resample(wave, rate, 8000)                # band-limited (windowed-sinc) interpolation
    features = LogMelSpectrogram(8000)(wave)         # (n_mels, frames) float32

A spectrogram cuts the signal into overlapping frames (here 25 ms every 10 ms), weights each with a
Hann window (so its edges do not ring) and takes its Fourier transform: |X_t(f)|^2 is the energy at
frequency f around time t. The mel scale, mel(f) = 2595 log10(1 + f / 700), spaces frequencies the way
hearing does (finely below ~1 kHz, coarsely above); triangular filters evenly spaced on it pool the
FFT bins into n_mels bands, and the log turns multiplicative loudness into additive offsets.
"""
import wave as _wave

import numpy as np

from .ops.fourier import stft
from .tensor import Tensor

__all__ = ["read_wav", "resample", "hann_window", "power_spectrogram", "mel_filterbank", "log_mel_spectrogram",
           "LogMelSpectrogram", "spec_augment", "normalize_features"]


# ---- WAV files ----------------------------------------------------------------------------------

def _pcm_to_float(raw, width):
    """Little-endian PCM bytes of `width` bytes per sample -> float32 in [-1, 1)."""
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 3:  # 24-bit: pad each sample to 32 bits
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        as32 = (b[:, 0].astype(np.int32) << 8) | (b[:, 1].astype(np.int32) << 16) | (b[:, 2].astype(np.int32) << 24)
        return as32.astype(np.float32) / 2.0 ** 31
    dtype = {2: "<i2", 4: "<i4"}[width]
    return np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))


def read_wav(path, mono=True):
    """The samples of a PCM WAV file as float32 in [-1, 1) and its sample rate.

    mono: average the channels into one (T,) signal; otherwise (T, channels).
    """
    try:
        with _wave.open(str(path), "rb") as f:
            channels, width, rate, frames = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
            raw = f.readframes(frames)
    except _wave.Error as e:
        raise ValueError(f"read_wav: {path} is not a PCM WAV file that Python's wave module reads ({e})") from None
    except EOFError:
        raise ValueError(f"read_wav: {path} is truncated or empty") from None
    if width not in (1, 2, 3, 4):
        raise ValueError(f"read_wav: {path} has {8 * width}-bit samples; expected 8, 16, 24 or 32-bit PCM")
    samples = _pcm_to_float(raw, width).reshape(-1, channels)
    return (samples.mean(axis=1) if mono else samples), rate


# ---- resampling ---------------------------------------------------------------------------------

def _lowpass_kernel(distance, cutoff, zero_crossings):
    """h(d) = c sinc(c d) w(d): an ideal low-pass filter of cutoff c (a fraction of the input Nyquist
    frequency), tapered by a Hann window w that reaches zero after `zero_crossings` zeros of the sinc."""
    window = 0.5 + 0.5 * np.cos(np.pi * np.clip(distance * cutoff / zero_crossings, -1, 1))
    return cutoff * np.sinc(cutoff * distance) * window


def resample(signal, orig_rate, new_rate, zero_crossings=16):
    """Band-limited (windowed-sinc) resampling of a 1-D signal between two integer sample rates.

    With new_rate / orig_rate = L / M in lowest terms, output sample n lies at t = n M / L input samples:
    at input sample k0 = floor(n M / L) plus a fraction p / L, p = n M mod L. Its value is
        y[n] = sum_k x[k] h(t - k),      h(d) = c sinc(c d) w(d),   c = min(1, L / M)
    a low-pass kernel centred on t: when going down, everything above the new Nyquist frequency is
    removed first (or it would fold back as aliasing). Only L distinct fractions occur, so the kernel is
    tabulated once per phase p (the polyphase form). Returns ceil(len * L / M) samples, float32.
    """
    x = np.asarray(signal, np.float64)
    if x.ndim != 1:
        raise ValueError(f"resample: expected a 1-D signal, got shape {x.shape}")
    for name, rate in (("orig_rate", orig_rate), ("new_rate", new_rate)):
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"resample: {name} must be a positive integer, got {rate}")
    g = np.gcd(int(orig_rate), int(new_rate))
    up, down = int(new_rate) // g, int(orig_rate) // g
    if up == down or x.size == 0:
        return x.astype(np.float32)
    cutoff = min(1.0, up / down)
    half = int(np.ceil(zero_crossings / cutoff))  # kernel half-width in input samples
    taps = np.arange(-half + 1, half + 1)  # input samples k0 + taps around each output
    table = _lowpass_kernel(np.arange(up)[:, None] / up - taps[None, :], cutoff, zero_crossings)  # (L, taps)
    n_out = -(-x.size * up // down)
    padded = np.pad(x, (half, half))  # zeros beyond the ends
    out = np.empty(n_out)
    chunk = max(1, 2 ** 20 // taps.size)  # bound the (chunk, taps) temporaries
    for start in range(0, n_out, chunk):
        position = np.arange(start, min(start + chunk, n_out)) * down  # n M
        k0, phase = position // up, position % up
        out[start:start + k0.size] = np.einsum("nt,nt->n", padded[(k0 + half)[:, None] + taps[None, :]], table[phase])
    return out.astype(np.float32)


# ---- spectrograms -------------------------------------------------------------------------------

def hann_window(length, periodic=True):
    """w[n] = 0.5 - 0.5 cos(2 pi n / N), N = length (periodic, as torch.hann_window) or length - 1."""
    if length == 1:
        return np.ones(1)
    n = length if periodic else length - 1
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / n)


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_freqs, sample_rate, n_mels, f_min=0.0, f_max=None):
    """Triangular filters (n_freqs, n_mels) on the HTK mel scale, as torchaudio's melscale_fbanks (norm=None).

    Filter m rises linearly from mel point m to m + 1 and falls to m + 2, n_mels + 2 points evenly spaced
    in mel between f_min and f_max (default: Nyquist); FFT bin k has frequency k sample_rate / n_fft.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    bins = np.linspace(0, sample_rate / 2, n_freqs)  # (n_freqs,)
    points = _mel_to_hz(np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2))  # (n_mels + 2,)
    spacing = np.diff(points)  # (n_mels + 1,)
    offsets = points[None, :] - bins[:, None]  # (n_freqs, n_mels + 2)
    rising = -offsets[:, :-2] / spacing[:-1]
    falling = offsets[:, 2:] / spacing[1:]
    return np.maximum(0.0, np.minimum(rising, falling))


def power_spectrogram(signal, n_fft, hop_length, win_length):
    """|X_t(f)|^2 (n_fft // 2 + 1, frames): glassnet.stft (torch.stft's framing: centred, reflect-padded
    frames every hop_length samples) with a periodic Hann window of win_length, in float64."""
    x = Tensor._make(np.asarray(signal, np.float64))
    window = Tensor._make(hann_window(win_length))
    return np.abs(stft(x, n_fft, hop_length, win_length, window=window, return_complex=True).array) ** 2


def log_mel_spectrogram(signal, sample_rate, n_fft, hop_length, win_length, n_mels, fbank=None, eps=1e-6):
    """log(mel energies + eps), float32 (n_mels, frames): the power spectrogram pooled by the mel filter bank."""
    power = power_spectrogram(signal, n_fft, hop_length, win_length)  # (freq, frames)
    fbank = mel_filterbank(n_fft // 2 + 1, sample_rate, n_mels) if fbank is None else fbank
    return np.log(fbank.T @ power + eps).astype(np.float32)


class LogMelSpectrogram:
    """A transform: waveform (T,) -> log-mel spectrogram (n_mels, frames), frames = 1 + T // hop_length.

    Defaults for 8 kHz speech: 25 ms windows (200 samples) every 10 ms (80), a 256-point FFT, 40 mels.
    """

    def __init__(self, sample_rate=8000, n_fft=256, win_length=200, hop_length=80, n_mels=40, eps=1e-6):
        self.sample_rate, self.n_fft, self.win_length = sample_rate, n_fft, win_length
        self.hop_length, self.n_mels, self.eps = hop_length, n_mels, eps
        self.fbank = mel_filterbank(n_fft // 2 + 1, sample_rate, n_mels)

    def __call__(self, signal):
        return log_mel_spectrogram(signal, self.sample_rate, self.n_fft, self.hop_length, self.win_length,
                                   self.n_mels, self.fbank, self.eps)

    def __repr__(self):
        return (f"LogMelSpectrogram(sample_rate={self.sample_rate}, n_fft={self.n_fft}, win_length={self.win_length}, "
                f"hop_length={self.hop_length}, n_mels={self.n_mels})")


def normalize_features(features):
    """Each mel band shifted to mean 0 and scaled to variance 1 over the utterance's frames (n_mels, frames)."""
    mean = features.mean(axis=1, keepdims=True)
    std = features.std(axis=1, keepdims=True)
    return ((features - mean) / (std + 1e-5)).astype(np.float32)


def spec_augment(features, rng, freq_masks=2, freq_width=8, time_masks=2, time_width=10, value=0.0):
    """SpecAugment's masking (Park et al. 2019): `freq_masks` bands of up to `freq_width` mel channels and
    `time_masks` stretches of up to `time_width` frames, chosen at random, set to `value` (0 = the mean of
    normalised features). features (n_mels, frames) -> a masked copy; the network learns to cope with
    missing bands and gaps. rng: a numpy Generator."""
    out = np.array(features, copy=True)
    for axis, count, width in ((0, freq_masks, freq_width), (1, time_masks, time_width)):
        size = out.shape[axis]
        for _ in range(count):
            w = int(rng.integers(0, min(width, size) + 1))
            start = int(rng.integers(0, size - w + 1))
            index = [slice(None), slice(None)]
            index[axis] = slice(start, start + w)
            out[tuple(index)] = value
    return out
