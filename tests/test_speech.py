"""Speech recognition pieces: word error rate, length-bucketed batches, the SpokenDigits data set, the
convolution + Transformer CTC model (output lengths, padding that changes nothing, a gradient for every
parameter), a short speech-digits training that an untrained model cannot match, and `glassnet transcribe`
on a WAV file at another sample rate."""
import wave

import numpy as np
import pytest

import glassnet as gn
from glassnet.models.speech import ConvTransformerCTC
from glassnet.train.metrics import edit_distance, word_error_rate
from glassnet.utils.data.bucket import BucketBatchSampler
from real_data import real_data_dir


def test_edit_distance_and_word_error_rate():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], [1, 2]) == 2 and edit_distance([1, 2], []) == 2 and edit_distance([3], [3]) == 0
    assert word_error_rate([[1, 2, 3], [4]], [[1, 3], [4, 4]]) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="2 references but 1"):
        word_error_rate([[1], [2]], [[1]])


def test_bucket_batches_cover_everything_once_with_little_padding():
    lengths = np.random.default_rng(0).integers(10, 300, 1000)
    sampler = BucketBatchSampler(lengths, 16, gn.Generator(1), pool=8)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 63
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 40  # random batches of 16 would spread over ~250
    assert [b for b in BucketBatchSampler(lengths, 16, gn.Generator(1), pool=8)] == batches
    assert list(sampler) != batches  # the generator moved on: another order next epoch


def test_model_output_lengths_and_padding_change_nothing():
    model = ConvTransformerCTC(n_mels=8, d_model=16, nhead=2, num_layers=2, dim_feedforward=32).eval()
    rng = np.random.default_rng(1)
    short, long = rng.standard_normal((8, 37)).astype(np.float32), rng.standard_normal((8, 50)).astype(np.float32)
    batch = np.zeros((2, 8, 50), np.float32)
    batch[0, :, :37], batch[1] = short, long
    log_probs, lengths = model(gn.tensor(batch), np.array([37, 50]))
    alone, alone_lengths = model(gn.tensor(short[None]))
    assert log_probs.shape == (13, 2, 11) and lengths.tolist() == [10, 13] and alone_lengths.tolist() == [10]
    np.testing.assert_allclose(log_probs.array[:10, 0], alone.array[:, 0], atol=1e-5)
    np.testing.assert_allclose(np.exp(log_probs.array).sum(-1), 1.0, rtol=1e-5)


def test_every_parameter_of_the_model_gets_a_gradient():
    model = ConvTransformerCTC(n_mels=8, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, dropout=0.0)
    log_probs, lengths = model(gn.randn(3, 8, 40), np.array([40, 33, 25]))
    gn.nn.functional.ctc_loss(log_probs, gn.tensor([1, 2, 3, 4, 5, 6]), lengths, [2, 2, 2]).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).sum() > 0, name


def test_spoken_digits_loads_and_refuses_a_damaged_copy(tmp_path):
    from glassnet.datasets import ChecksumError, SpokenDigits

    real_data_dir("spoken-digits", "test.npz")
    test = SpokenDigits(train=False)
    assert len(test) == 600 and test.sample_rate == 8000 and len(test.labels) == 1776
    wave_, digits = test[599]
    assert wave_.dtype == np.float32 and np.abs(wave_).max() <= 1 and 1 <= len(digits) <= 5
    raw = bytearray(test.path.read_bytes())
    raw[1000] ^= 1
    (tmp_path / "spoken-digits").mkdir()
    (tmp_path / "spoken-digits" / "test.npz").write_bytes(bytes(raw))
    with pytest.raises(ChecksumError):
        SpokenDigits(root=tmp_path, train=False)
    with pytest.raises(IndexError):
        test[600]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """12 epochs of a small speech-digits model on 480 utterances (about 20 s of CPU; measured: test WER 0.28
    after 12 epochs, 0.25 after 15)."""
    from glassnet.recipes import get

    real_data_dir("spoken-digits", "train.npz")
    recipe = get("speech-digits")
    config = recipe.config(epochs=12, limit=480, val_fraction=0.2, d_model=64, layers=2, heads=2, dim_feedforward=128,
                           lr=3e-3, batch_size=16, beam_width=2, pictures=True)
    run_dir = tmp_path_factory.mktemp("speech") / "run"
    return recipe.run(config, run_dir), run_dir


def test_a_short_training_recognises_digits_an_untrained_model_cannot(short_run):
    summary, run_dir = short_run
    assert summary["status"] == "finished" and summary["test_utterances"] == 600
    assert summary["test_wer"] < 0.6  # an untrained model emits blanks or noise: WER about 1 or more
    assert (run_dir / "plots" / "alignment_0.png").is_file() and (run_dir / "examples.txt").is_file()


def _write_wav(path, samples, rate):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.round(np.clip(samples, -1, 1 - 2 ** -15) * 32768).astype("<i2").tobytes())


def test_transcribe_a_wav_file_at_another_sample_rate(short_run, tmp_path, capsys):
    from glassnet.audio import resample
    from glassnet.cli import main
    from glassnet.datasets import SpokenDigits
    from glassnet.recipes.speech_digits import WORDS, transcribe

    _, run_dir = short_run
    test = SpokenDigits(train=False)
    waveform = test.waveform(5)
    _write_wav(tmp_path / "at8k.wav", waveform, 8000)
    _write_wav(tmp_path / "at22k.wav", resample(waveform, 8000, 22050), 22050)
    expected = transcribe(run_dir, tmp_path / "at8k.wav")
    assert main(["transcribe", str(run_dir), str(tmp_path / "at22k.wav")]) == 0
    heard = capsys.readouterr().out.strip()
    assert heard == expected and all(w in WORDS for w in heard.split())
    assert main(["transcribe", str(run_dir), str(tmp_path / "missing.wav")]) == 2
    assert "missing.wav" in capsys.readouterr().err
