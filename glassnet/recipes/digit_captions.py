"""Captions of MNIST digits, written from templates, for the CLIP-style recipe (clip-mnist).

A caption names the digit, as a word ("seven") or a numeral ("7"), and may describe its style, measured on
the pixels and relative to the other training images of that digit (so a "bold 1" is a bold one for a 1):

    thickness   "thin" (the least ink: bottom third of the digit's training images), "bold" (top third)
    slant       "left-leaning" / "right-leaning": bottom / top third of the digit's slant, the horizontal
                drift of the ink per row downwards (-cov(x, y) / var(y) of the pixel intensities)

Training captions come from TRAIN_TEMPLATES, drawn afresh for every image at every step among those whose
style words the image has; HELD_OUT_TEMPLATES are used only at test time (zero-shot prompts and retrieval).
Words are tokens; a word no training caption contains becomes <unk> (held-out templates have such words),
and training captions have their non-digit words replaced by <unk> with probability `word_dropout`, so
that the text encoder learns to look past words it does not know. Every caption ends with <eot>, whose
state in the text Transformer is the caption's embedding.
"""
import numpy as np

__all__ = ["TRAIN_TEMPLATES", "HELD_OUT_TEMPLATES", "Captions", "DigitStyle"]

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
THICKNESS = ("thin", "bold")
SLANT = ("left-leaning", "right-leaning")
TRAIN_TEMPLATES = ("a handwritten {word}", "the digit {numeral}", "{word}", "the number {word}",
                   "a {thickness} {numeral}", "a {thickness} handwritten {word}", "a {slant} {word}",
                   "a {thickness} {slant} {numeral}", "a photo of the number {numeral}")
HELD_OUT_TEMPLATES = ("a picture of a {word}", "this is the digit {word}", "{numeral}",
                      "a drawing of the number {numeral}", "a {thickness} {word} written by hand",
                      "a {slant} {numeral} drawn by hand")
SPECIAL = ("<pad>", "<unk>", "<eot>")
PAD, UNK, EOT = range(3)


def _fields(template):
    return {f for f in ("thickness", "slant") if "{" + f + "}" in template}


def _fill(template, digit, thickness, slant):
    """The caption's words: the template filled in, 'a' before 'eight' / '8' written 'an'."""
    words = template.format(word=WORDS[digit], numeral=str(digit), thickness=THICKNESS[thickness] if thickness >= 0
                            else "", slant=SLANT[slant] if slant >= 0 else "").split()
    return ["an" if w == "a" and i + 1 < len(words) and words[i + 1] in ("eight", "8") else w
            for i, w in enumerate(words)]


class DigitStyle:
    """Thickness and slant of digits, in thirds of each digit's training images (thresholds from `images`)."""

    def __init__(self, images, labels):
        ink, slant = self.measure(images)
        self.thresholds = {name: np.array([np.percentile(v[labels == d], [100 / 3, 200 / 3]) for d in range(10)])
                           for name, v in (("ink", ink), ("slant", slant))}

    @staticmethod
    def measure(images):
        """(ink: mean pixel value, slant: -cov(column, row) / var(row) of the pixel weights) per image of
        images (N, 1, H, W) or (N, H, W) in [0, 1]; moments from row and column sums."""
        x = images.reshape(len(images), images.shape[-2], images.shape[-1])
        rows, cols = np.arange(x.shape[1], dtype=np.float64), np.arange(x.shape[2], dtype=np.float64)
        per_row = x.sum(2, dtype=np.float64)  # (N, H)
        mass = per_row.sum(1) + 1e-9
        cy = per_row @ rows / mass
        cx = x.sum(1, dtype=np.float64) @ cols / mass
        var_y = per_row @ (rows * rows) / mass - cy * cy + 1e-9
        cov = (x @ cols.astype(x.dtype)).astype(np.float64) @ rows / mass - cx * cy  # E[col row] - E[col] E[row]
        return mass / (x.shape[1] * x.shape[2]), -cov / var_y

    def describe(self, images, labels):
        """(thickness, slant) per image: 0 / 1 for thin / bold and left- / right-leaning, -1 for neither."""
        ink, slant = self.measure(images)
        out = []
        for value, name in ((ink, "ink"), (slant, "slant")):
            low, high = self.thresholds[name][labels].T
            out.append(np.where(value < low, 0, np.where(value > high, 1, -1)))
        return out[0], out[1]


class Captions:
    """Word vocabulary of the training templates, and captions as token ids (N, context): words, <eot>, <pad>s."""

    def __init__(self, word_dropout=0.1):
        words = sorted({w for t in TRAIN_TEMPLATES for d in range(10) for w in _fill(t, d, 0, 0)} |
                       {w for t in TRAIN_TEMPLATES for d in range(10) for w in _fill(t, d, 1, 1)})
        self.vocab = list(SPECIAL) + words
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.digit_words = {w for d in range(10) for w in (WORDS[d], str(d))}
        self.word_dropout = word_dropout
        self.context = max(len(_fill(t, 8, 0, 0)) for t in TRAIN_TEMPLATES + HELD_OUT_TEMPLATES) + 1

    @property
    def vocab_size(self):
        return len(self.vocab)

    def usable(self, templates, thickness, slant):
        """The templates whose style words an image with these (thickness, slant) has."""
        have = {f for f, v in (("thickness", thickness), ("slant", slant)) if v >= 0}
        return [t for t in templates if _fields(t) <= have]

    def words(self, template, digit, thickness=-1, slant=-1):
        return _fill(template, digit, thickness, slant)

    def encode(self, word_lists, dropout_rng=None):
        """Token ids (N, context) of lists of words: unknown words -> <unk>; with dropout_rng (a NumPy
        generator), non-digit words -> <unk> with probability word_dropout."""
        out = np.full((len(word_lists), self.context), PAD, np.int64)
        for i, words in enumerate(word_lists):
            ids = [self.ids.get(w, UNK) for w in words]
            if dropout_rng is not None:
                drop = dropout_rng.random(len(words)) < self.word_dropout
                ids = [UNK if d and w not in self.digit_words else t for t, w, d in zip(ids, words, drop)]
            out[i, :len(ids) + 1] = ids + [EOT]
        return out

    def sample(self, templates, digits, thickness, slant, g, dropout=False):
        """One caption per image, its template drawn by g among the usable `templates`: token ids (N, context),
        the texts, and the (thickness, slant) each caption states (N, 2) (-1 where it says nothing)."""
        word_lists, stated = [], []
        for d, t, s in zip(digits, thickness, slant):
            options = self.usable(templates, t, s)
            template = options[g.integers(len(options))]
            word_lists.append(self.words(template, d, t, s))
            fields = _fields(template)
            stated.append((t if "thickness" in fields else -1, s if "slant" in fields else -1))
        ids = self.encode(word_lists, g if dropout else None)
        return ids, [" ".join(w) for w in word_lists], np.array(stated, np.int64).reshape(-1, 2)
