"""Word-level tokenizer: a regular expression splits text into words and punctuation marks.

    from glassnet.text import WordTokenizer
    tok = WordTokenizer(text, lowercase=True, min_freq=2)
    tok.encode("To be, or not to be")     # rare or unseen words -> the id of "<unk>"
    tok.decode(ids)                       # "to be, or not to be"

Splitting: a token is a word (letters, digits and underscores, with inner apostrophes kept: "don't"),
a single punctuation or symbol character, or one of the special tokens written literally in the text.
Whitespace only separates tokens, so `decode` rebuilds text with single spaces (none before closing
punctuation `. , ; : ! ? ) ] }` and none after `( [ {`): decode(encode(t)) re-encodes to the same ids.
"""
import re
from collections import Counter

from .char import FORMAT_VERSION, _check_text, _ids_array, _read_json, _write_json

__all__ = ["WordTokenizer"]

WORD_PATTERN = r"\w+(?:['\u2019]\w+)*|[^\w\s]"
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}")
_NO_SPACE_AFTER = frozenset("([{")


class WordTokenizer:
    """Words and punctuation to ids.

    text: the training text (str or a list of str); None gives a tokenizer holding only the special
        tokens, to be filled by `fit`.
    lowercase: lowercase every word (not the special tokens) when fitting and encoding.
    min_freq: keep the words seen at least this many times.
    max_size: at most this many tokens in the vocabulary, special tokens included (the most frequent
        words are kept).
    special_tokens: tokens placed first in the vocabulary (ids 0, 1, ...), recognised literally in text.
    unk_token: the special token that unknown words become; None makes an unknown word a ValueError.

    Vocabulary order: special tokens, then words by decreasing count, ties in sorted string order.
    """

    def __init__(self, text=None, *, lowercase=False, min_freq=1, max_size=None,
                 special_tokens=("<pad>", "<unk>", "<bos>", "<eos>"), unk_token="<unk>"):
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"WordTokenizer: min_freq must be an integer >= 1, got {min_freq!r}")
        special_tokens = list(special_tokens)
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < len(special_tokens)):
            raise ValueError(f"WordTokenizer: max_size must be an integer >= the number of special tokens "
                             f"({len(special_tokens)}), got {max_size!r}")
        for s in special_tokens:
            if not isinstance(s, str) or not s:
                raise ValueError(f"WordTokenizer: special tokens must be non-empty strings, got {s!r}")
        if len(set(special_tokens)) != len(special_tokens):
            raise ValueError(f"WordTokenizer: repeated special tokens in {special_tokens!r}")
        if unk_token is not None and unk_token not in special_tokens:
            raise ValueError(f"WordTokenizer: unk_token {unk_token!r} must be one of the special tokens "
                             f"{special_tokens!r} (or None)")
        self.lowercase = bool(lowercase)
        self.min_freq = min_freq
        self.max_size = max_size
        self.special_tokens = special_tokens
        self.unk_token = unk_token
        specials = "|".join(re.escape(s) for s in sorted(special_tokens, key=len, reverse=True))
        self._regex = re.compile((specials + "|" if specials else "") + WORD_PATTERN)
        self._set_vocab(list(special_tokens))
        if text is not None:
            self.fit(text)

    def _set_vocab(self, tokens):
        self.itos = tokens
        self.stoi = {t: i for i, t in enumerate(tokens)}
        self.unk_id = None if self.unk_token is None else self.stoi[self.unk_token]

    def tokenize(self, text):
        """The list of token strings of `text` (words lowercased when `lowercase`)."""
        _check_text(text, "WordTokenizer.tokenize")
        tokens = self._regex.findall(text)
        if self.lowercase:
            specials = set(self.special_tokens)
            tokens = [t if t in specials else t.lower() for t in tokens]
        return tokens

    def fit(self, text):
        """Build the vocabulary from `text` (str or list of str); returns self."""
        texts = [text] if isinstance(text, str) else list(text)
        counts = Counter()
        for t in texts:
            counts.update(self.tokenize(t))
        for s in self.special_tokens:
            counts.pop(s, None)
        words = sorted((w for w, c in counts.items() if c >= self.min_freq), key=lambda w: (-counts[w], w))
        if self.max_size is not None:
            words = words[:self.max_size - len(self.special_tokens)]
        self.counts = {w: counts[w] for w in words}
        self._set_vocab(list(self.special_tokens) + words)
        return self

    @property
    def vocab_size(self):
        return len(self.itos)

    def __len__(self):
        return len(self.itos)

    def token_to_id(self, token):
        """The id of `token`, or None when it is not in the vocabulary."""
        return self.stoi.get(token)

    def id_to_token(self, i):
        return self.itos[int(_ids_array([i], self.vocab_size, "WordTokenizer.id_to_token")[0])]

    def encode(self, text):
        """The ids of the tokens of `text`; unknown words become `unk_token`'s id (or a ValueError)."""
        tokens = self.tokenize(text)
        stoi, unk = self.stoi, self.unk_id
        if unk is not None:
            return [stoi.get(t, unk) for t in tokens]
        unknown = [t for t in tokens if t not in stoi]
        if unknown:
            shown = sorted(set(unknown))
            raise ValueError(f"WordTokenizer.encode: tokens not in the vocabulary: {shown[:10]!r}"
                             f"{' ...' if len(shown) > 10 else ''} (unk_token is None, so they cannot be "
                             f"mapped to an unknown-word token)")
        return [stoi[t] for t in tokens]

    def decode(self, ids, skip_special_tokens=False):
        """The tokens with ids `ids` joined by single spaces (none before closing punctuation, none after
        opening brackets); special tokens dropped when `skip_special_tokens`."""
        arr = _ids_array(ids, self.vocab_size, "WordTokenizer.decode")
        tokens = [self.itos[i] for i in arr.tolist()]
        if skip_special_tokens:
            specials = set(self.special_tokens)
            tokens = [t for t in tokens if t not in specials]
        parts = []
        for i, t in enumerate(tokens):
            if i and t not in _NO_SPACE_BEFORE and tokens[i - 1] not in _NO_SPACE_AFTER:
                parts.append(" ")
            parts.append(t)
        return "".join(parts)

    def save(self, path):
        """Write the tokenizer (settings and vocabulary in id order) to `path` as JSON (atomically)."""
        _write_json(path, {"format": "glassnet.WordTokenizer", "version": FORMAT_VERSION,
                           "lowercase": self.lowercase, "min_freq": self.min_freq, "max_size": self.max_size,
                           "special_tokens": self.special_tokens, "unk_token": self.unk_token,
                           "tokens": self.itos})

    @classmethod
    def load(cls, path):
        """The tokenizer saved at `path` by `save`."""
        obj = _read_json(path, "WordTokenizer")
        tok = cls(None, lowercase=obj["lowercase"], min_freq=obj["min_freq"], max_size=obj["max_size"],
                  special_tokens=obj["special_tokens"], unk_token=obj["unk_token"])
        tokens = obj["tokens"]
        if tokens[:len(tok.special_tokens)] != tok.special_tokens or len(set(tokens)) != len(tokens):
            raise ValueError(f"WordTokenizer.load: {path} is inconsistent (the vocabulary must start with the "
                             f"special tokens and hold no repeated token)")
        tok._set_vocab(list(tokens))
        return tok

    def __eq__(self, other):
        return (type(other) is type(self) and other.itos == self.itos and other.lowercase == self.lowercase
                and other.special_tokens == self.special_tokens and other.unk_token == self.unk_token)

    def __repr__(self):
        return f"WordTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"
