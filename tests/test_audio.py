"""Audio features: the power spectrogram against torch.stft, the mel filter bank against a loop over its triangles, the
log-mel spectrogram against a torch.stft-based computation, resampling (accuracy, anti-aliasing, lengths),
WAV reading of every PCM width, SpecAugment masking, bad input."""
import wave

import numpy as np
import pytest
import torch

from glassnet.audio import (LogMelSpectrogram, hann_window, mel_filterbank, normalize_features, power_spectrogram,
                            read_wav, resample, spec_augment)


def test_power_spectrogram_matches_torch_stft():
    x = np.random.default_rng(0).standard_normal(3000)
    want = torch.stft(torch.tensor(x), 256, 80, 200, window=torch.hann_window(200, dtype=torch.float64),
                      center=True, pad_mode="reflect", return_complex=True).abs() ** 2
    np.testing.assert_allclose(power_spectrogram(x, 256, 80, 200), want.numpy(), rtol=1e-10, atol=1e-10)


def test_hann_window_matches_torch():
    for n, periodic in [(200, True), (7, False), (1, True)]:
        np.testing.assert_allclose(hann_window(n, periodic), torch.hann_window(n, periodic, dtype=torch.float64),
                                   atol=1e-15)


def _triangles(n_freqs, sample_rate, n_mels):
    """The mel filters one at a time: up from the left mel point to the centre, down to the right one."""
    mel = np.linspace(0, 2595 * np.log10(1 + sample_rate / 2 / 700), n_mels + 2)
    hz = 700 * (10 ** (mel / 2595) - 1)
    freqs = np.linspace(0, sample_rate / 2, n_freqs)
    bank = np.zeros((n_freqs, n_mels))
    for m in range(n_mels):
        left, centre, right = hz[m], hz[m + 1], hz[m + 2]
        for k, f in enumerate(freqs):
            if left <= f <= centre:
                bank[k, m] = (f - left) / (centre - left)
            elif centre < f <= right:
                bank[k, m] = (right - f) / (right - centre)
    return bank


def test_mel_filterbank_is_the_triangles():
    np.testing.assert_allclose(mel_filterbank(129, 8000, 40), _triangles(129, 8000, 40), atol=1e-12)


def test_log_mel_matches_a_torch_stft_computation():
    x = np.random.default_rng(1).standard_normal(8000).astype(np.float32)
    features = LogMelSpectrogram(8000)(x)
    spec = torch.stft(torch.tensor(x, dtype=torch.float64), 256, 80, 200,
                      window=torch.hann_window(200, dtype=torch.float64), center=True, pad_mode="reflect",
                      return_complex=True).abs() ** 2
    want = torch.log(torch.tensor(_triangles(129, 8000, 40)).T @ spec + 1e-6).numpy()
    assert features.shape == (40, 101) and features.dtype == np.float32
    np.testing.assert_allclose(features, want, rtol=1e-5, atol=1e-5)


def _tones(rate, seconds, freqs):
    t = np.arange(int(rate * seconds)) / rate
    return sum(np.sin(2 * np.pi * f * t) for f in freqs)


@pytest.mark.parametrize("orig", [44100, 16000, 11025, 22050])
def test_resample_keeps_tones_below_the_new_nyquist_and_removes_those_above(orig):
    x = _tones(orig, 1.0, [440, 1000]) + 0.5 * _tones(orig, 1.0, [5500])
    y = resample(x, orig, 8000)
    assert y.shape == (8000,) and y.dtype == np.float32
    inner = slice(300, -300)  # away from the zero-padded ends
    np.testing.assert_allclose(y[inner], _tones(8000, 1.0, [440, 1000])[inner], atol=1e-3)


def test_resample_up_and_identity():
    x = np.random.default_rng(2).standard_normal(1001)
    up = resample(x, 8000, 16000)
    assert up.shape == (2002,)
    np.testing.assert_allclose(up[::2], x, atol=1e-6)  # the sinc is 0 at every other input sample
    np.testing.assert_array_equal(resample(x, 8000, 8000), x.astype(np.float32))
    assert resample(x[:7], 44100, 8000).shape == (2,)


def test_resample_agrees_with_scipy_resample_poly():
    signal = pytest.importorskip("scipy.signal")
    x = _tones(44100, 0.5, [300, 2000, 3100])
    ours, theirs = resample(x, 44100, 8000), signal.resample_poly(x, 80, 441)
    np.testing.assert_allclose(ours[200:-200], theirs[200:-200], atol=5e-3)


def _write_wav(path, samples, rate, width):
    """samples (T, channels) float in [-1, 1) -> a PCM WAV of `width` bytes per sample."""
    scaled = np.round(samples * 2.0 ** (8 * width - 1)).astype(np.int64)
    scaled = np.clip(scaled, -(2 ** (8 * width - 1)), 2 ** (8 * width - 1) - 1)
    if width == 1:
        raw = (scaled + 128).astype(np.uint8).tobytes()
    else:
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in scaled.reshape(-1))
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(raw)


@pytest.mark.parametrize("width, channels", [(1, 1), (2, 1), (2, 2), (3, 1), (4, 2)])
def test_read_wav_every_pcm_width(tmp_path, width, channels):
    samples = np.random.default_rng(3).uniform(-0.9, 0.9, (50, channels))
    _write_wav(tmp_path / "a.wav", samples, 11025, width)
    got, rate = read_wav(tmp_path / "a.wav", mono=False)
    assert rate == 11025 and got.shape == (50, channels) and got.dtype == np.float32
    np.testing.assert_allclose(got, samples, atol=2.0 ** (1 - 8 * width))
    mono, _ = read_wav(tmp_path / "a.wav")
    np.testing.assert_allclose(mono, got.mean(1), atol=1e-7)


def test_read_wav_refuses_what_is_not_a_wav(tmp_path):
    (tmp_path / "b.wav").write_bytes(b"RIFF-not-really")
    with pytest.raises(ValueError, match="read_wav: .*b.wav"):
        read_wav(tmp_path / "b.wav")


def test_spec_augment_masks_within_bounds_and_leaves_the_input_alone():
    features = normalize_features(np.random.default_rng(4).standard_normal((40, 100)) * 3 + 1)
    np.testing.assert_allclose(features.mean(1), 0, atol=1e-5)
    masked = spec_augment(features, np.random.default_rng(5), freq_masks=1, freq_width=8, time_masks=1, time_width=10)
    assert not np.shares_memory(masked, features)
    zero_rows, zero_cols = (masked == 0).all(1), (masked == 0).all(0)
    assert zero_rows.sum() <= 8 and zero_cols.sum() <= 10
    changed = masked != features
    assert np.array_equal(changed, zero_rows[:, None] | zero_cols[None, :])
    again = spec_augment(features, np.random.default_rng(5), freq_masks=1, freq_width=8, time_masks=1, time_width=10)
    np.testing.assert_array_equal(masked, again)


@pytest.mark.parametrize("call, match", [
    (lambda: resample(np.zeros((2, 3)), 8000, 16000), "1-D"),
    (lambda: resample(np.zeros(3), 0, 16000), "orig_rate must be a positive integer"),
    (lambda: resample(np.zeros(3), 8000, 8000.5), "new_rate"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
