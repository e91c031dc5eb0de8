"""speech-digits: recognise spoken digit sequences ("three one four") with a few 1-D convolutions and a
Transformer encoder trained with the CTC loss; target: word error rate <= 5% on the test set, whose
voices never occur in training.

Each utterance becomes a log-mel spectrogram (40 mel bands, 25 ms windows every 10 ms; glassnet.audio),
normalised per band, masked SpecAugment-style while training. The model (glassnet.models.speech)
emits, every 40 ms, a distribution over the ten digits and the CTC blank; the CTC loss sums over every
alignment of the target digits to those frames, so no one has to say where each digit starts. Decoding
reads the best symbol per frame (greedy) or searches over prefixes (beam search). 10% of the training
utterances are held out to watch the word error rate while training.
`glassnet transcribe <run> file.wav` transcribes a WAV file of any sample rate.
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..audio import LogMelSpectrogram, normalize_features, read_wav, resample, spec_augment
from ..autograd import no_grad
from ..datasets import SpokenDigits
from ..models.speech import ConvTransformerCTC
from ..nn import functional as F
from ..nn.utils import evaluating
from ..ops.ctc import beam_search_decode, forced_align, greedy_decode
from ..random import Generator, rng
from ..tensor import Tensor
from ..train import EpochBatches, Experiment
from ..train.checkpoint import checkpoint_file, load_checkpoint
from ..train.metrics import word_error_rate
from ..utils.data import DataLoader
from ..utils.data.bucket import BucketBatchSampler
from . import Recipe, register
from .config import TrainingConfig, data_dir_flag, data_from, flag, positive, probability
from .scaffold import check_recipe, load_weights, write_file

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLANK = 0  # symbol 0 is the CTC blank, symbol d + 1 the digit d
SAMPLE_RATE = 8000


@dataclass
class SpeechConfig(TrainingConfig):
    epochs: int = flag(24, "passes over the training utterances", positive)
    batch_size: int = flag(32, "utterances per optimizer step", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(0.01, "AdamW weight decay")
    clip_grad_norm: float = flag(5.0, "clip the gradient norm to this value (0: off)")
    d_model: int = flag(96, "width of the convolutions and the Transformer", positive)
    layers: int = flag(3, "Transformer encoder layers", positive)
    heads: int = flag(4, "attention heads", positive)
    dim_feedforward: int = flag(192, "hidden units of each feed-forward block", positive)
    dropout: float = flag(0.1, "dropout in the Transformer", probability)
    n_mels: int = flag(40, "mel bands of the spectrogram", positive)
    spec_augment: bool = flag(True, "mask random mel bands and stretches of frames while training")
    val_fraction: float = flag(0.1, "training utterances held out to watch the word error rate", probability)
    limit: int = flag(0, "use only the first N training utterances (0: all)")
    beam_width: int = flag(8, "prefixes kept by the beam search of the final test", positive)
    data_dir: str = data_dir_flag("spoken-digits/{train,test}.npz")
    pictures: bool = flag(True, "draw spectrograms with their CTC alignments at the end")


def build_model(config):
    return ConvTransformerCTC(n_mels=config.n_mels, num_classes=11, d_model=config.d_model, nhead=config.heads,
                              num_layers=config.layers, dim_feedforward=config.dim_feedforward,
                              dropout=config.dropout)


# ---- data ----------------------------------------------------------------------------------------

def features_of(waveform, n_mels):
    """A waveform at 8 kHz -> normalised log-mel features (n_mels, frames), float32."""
    return normalize_features(LogMelSpectrogram(SAMPLE_RATE, n_mels=n_mels)(waveform))


def load_split(config, train, limit=0):
    """(features, digit lists) of the utterances of a split (the first `limit` of them, if given)."""
    with data_from(config.data_dir) as (root, _):
        ds = SpokenDigits(root=root, train=train)
    count = min(limit, len(ds)) if limit else len(ds)
    return [features_of(ds.waveform(i), config.n_mels) for i in range(count)], \
        [ds.digits(i).tolist() for i in range(count)]


def collate(samples):
    """[(features (n_mels, T_i), digits)] -> (features (N, n_mels, max T) zero-padded, frames (N,),
    targets (sum L_i,) with symbol = digit + 1, target lengths (N,))."""
    features, digits = zip(*samples)
    lengths = np.array([f.shape[1] for f in features])
    padded = np.zeros((len(features), features[0].shape[0], lengths.max()), np.float32)
    for i, f in enumerate(features):
        padded[i, :, :f.shape[1]] = f
    targets = np.concatenate([np.asarray(d, np.int64) + 1 for d in digits])
    return (Tensor._make(padded), Tensor._make(lengths), Tensor._make(targets),
            Tensor._make(np.array([len(d) for d in digits])))


def _loader(samples, batch_size, generator=None):
    lengths = [f.shape[1] for f, _ in samples]
    if generator is None:  # evaluation: sorted by length, in order
        order = np.argsort(lengths, kind="stable")
        batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
        return DataLoader(samples, batch_sampler=batches, collate_fn=collate)
    return DataLoader(samples, batch_sampler=BucketBatchSampler(lengths, batch_size, generator), collate_fn=collate,
                      generator=generator)


# ---- loss and evaluation -------------------------------------------------------------------------

def _augment(features, lengths):
    """SpecAugment each utterance of a padded batch within its own frames (glassnet's generator draws)."""
    out = features.array.copy()
    for i, n in enumerate(lengths.array):
        out[i, :, :n] = spec_augment(out[i, :, :n], rng(), freq_masks=2, freq_width=8, time_masks=2,
                                     time_width=max(1, min(10, int(n) // 8)))
    return Tensor._make(out)


def ctc_batch_loss(model, batch, augment=False):
    features, lengths, targets, target_lengths = batch
    if augment:
        features = _augment(features, lengths)
    log_probs, out_lengths = model(features, lengths.array)
    return F.ctc_loss(log_probs, targets, out_lengths, target_lengths, blank=BLANK, zero_infinity=True)


def decode(log_probs, out_lengths, beam_width=0):
    """Digit lists from the model's output: greedy decoding, or prefix beam search with beam_width > 0."""
    if beam_width:
        symbols = beam_search_decode(log_probs, out_lengths, blank=BLANK, beam_width=beam_width)
    else:
        symbols = greedy_decode(log_probs, out_lengths, blank=BLANK)
    return [[s - 1 for s in seq] for seq in symbols]


class _Evaluation:
    def __init__(self, val, test, batch_size, beam_width):
        self.val, self.test_set, self.batch_size, self.beam_width = val, test, batch_size, beam_width
        self.heard = None

    def _decode(self, model, samples, beam_width):
        """(spoken, heard, mean CTC loss, the samples' order) over `samples`, in batches sorted by length."""
        heard, loss, count = [], 0.0, 0
        for features, lengths, targets, target_lengths in _loader(samples, self.batch_size):
            with no_grad():
                log_probs, out_lengths = model(features, lengths.array)
                batch_loss = F.ctc_loss(log_probs, targets, out_lengths, target_lengths, blank=BLANK,
                                        zero_infinity=True)
            heard += decode(log_probs, out_lengths, beam_width)
            loss += batch_loss.item() * len(lengths)
            count += len(lengths)
        order = np.argsort([f.shape[1] for f, _ in samples], kind="stable")
        spoken = [samples[i][1] for i in order]
        return spoken, heard, loss / count, order

    def evaluate(self, model):
        spoken, heard, loss, _ = self._decode(model, self.val, 0)
        return {"val_loss": loss, "val_wer": word_error_rate(spoken, heard)}

    def test(self, model):
        spoken, greedy, loss, order = self._decode(model, self.test_set, 0)
        _, beam, _, _ = self._decode(model, self.test_set, self.beam_width)
        self.heard = (order, spoken, beam)
        return {"test_loss": loss, "test_wer": word_error_rate(spoken, beam), "test_wer_greedy":
                word_error_rate(spoken, greedy), "test_utterances": len(spoken),
                "test_words": sum(len(s) for s in spoken)}

    def report(self, model, run_dir, pictures):
        order, spoken, heard = self.heard
        lines = [f"{' '.join(WORDS[d] for d in s):<40} heard: {' '.join(WORDS[d] for d in h):<40} "
                 f"{'ok' if s == h else 'WRONG'}" for s, h in zip(spoken, heard)]
        out = {"examples": write_file(run_dir, "examples.txt", "\n".join(lines) + "\n"),
               "wrong_examples": [line for line in lines if line.endswith("WRONG")][:10]}
        if pictures:
            picks = order[[len(order) // 2, 3 * len(order) // 4, -1]]  # middling to longest utterances
            out["plots"] = self.alignments(model, run_dir, [int(i) for i in picks])
        return out

    def alignments(self, model, run_dir, indices):
        """Spectrograms of test utterances with the model's symbol probabilities and CTC alignments."""
        from ..viz.speech import plot_ctc_alignment

        paths = []
        for k, i in enumerate(indices):
            features, digits = self.test_set[i]
            with no_grad():
                log_probs, _ = model(Tensor._make(features[None]))
            lp = log_probs.array[:, 0]  # (T', C)
            path = os.path.join(run_dir, "plots", f"alignment_{k}.png")
            plot_ctc_alignment(features, lp, forced_align(lp, np.asarray(digits) + 1, BLANK),
                               ["blank"] + list(WORDS), path, title=f"test utterance {i}: "
                               f"\"{' '.join(WORDS[d] for d in digits)}\"")
            paths.append(path)
        return paths


def build(config):
    features, digits = load_split(config, train=True, limit=config.limit)
    test = list(zip(*load_split(config, train=False)))
    order = np.random.default_rng(config.seed).permutation(len(features))
    n_val = int(round(config.val_fraction * len(features)))
    samples = list(zip(features, digits))
    train, val = [samples[i] for i in order[n_val:]], [samples[i] for i in order[:n_val]]
    loader = _loader(train, config.batch_size, Generator(config.seed + 1))
    model = build_model(config)
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(loader) // config.grad_accum)
    steps = config.epochs * steps_per_epoch
    evaluation = _Evaluation(val, test, 64, config.beam_width)
    return Experiment(model, optimizer, EpochBatches(loader), steps=steps,
                      loss=lambda m, b: ctc_batch_loss(m, b, config.spec_augment),
                      evaluate=evaluation.evaluate if val else None,
                      eval_every=steps_per_epoch * 2, test=evaluation.test,
                      scheduler=optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps),
                      monitor="val_wer", mode="min", grad_accum=config.grad_accum, clip_grad_norm=config.clip_grad_norm,
                      log_every=20, report=lambda m, d: evaluation.report(m, d, config.pictures),
                      items=lambda b: len(b[1]), unit="utt")


# ---- transcribing a WAV file ----------------------------------------------------------------------

def load_transcriber(run):
    """The model of a speech-digits run (a run folder: its best checkpoint, or a checkpoint file), in eval mode."""
    path = checkpoint_file(run, prefer=("best", "last"))
    checkpoint = load_checkpoint(path)
    check_recipe(RECIPE, checkpoint["config"], path)
    saved = checkpoint["config"]
    config = SpeechConfig(**{k: v for k, v in saved.items() if k in SpeechConfig.__dataclass_fields__})
    model = build_model(config)
    load_weights(RECIPE, model, checkpoint, path)
    return model.eval(), config


def transcribe(run, wav_path, beam_width=8):
    """The digits spoken in a WAV file (any sample rate, channels averaged), as words: "three one four"."""
    model, config = load_transcriber(run)
    waveform, rate = read_wav(wav_path)
    if waveform.size < SAMPLE_RATE // 10:
        raise ValueError(f"transcribe: {wav_path} holds {waveform.size / rate:.3f} s of sound; at least 0.1 s needed")
    features = features_of(resample(waveform, rate, SAMPLE_RATE), config.n_mels)
    with evaluating(model), no_grad():
        log_probs, out_lengths = model(Tensor._make(features[None]))
    digits = decode(log_probs, out_lengths, beam_width)[0]
    return " ".join(WORDS[d] for d in digits)


RECIPE = register(Recipe("speech-digits", "1-D convolutions + Transformer encoder + CTC on spoken digit sequences: "
                         "word error rate <= 5% on unseen voices", SpeechConfig, build))
