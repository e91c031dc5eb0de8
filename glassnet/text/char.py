"""Character-level tokenizer: one id per distinct character, ids in sorted character order.

    from glassnet.text import CharTokenizer
    tok = CharTokenizer(text)            # vocabulary = sorted(set(text))
    ids = tok.encode("To be")            # list[int]
    tok.decode(ids) == "To be"

Also the small JSON and id-checking helpers shared by the other tokenizers of glassnet.text.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["CharTokenizer"]

FORMAT_VERSION = 1


# ---- helpers shared by the tokenizers -----------------------------------------------------------
def _write_json(path, obj):
    """Write `obj` as JSON to `path` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    text = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_json(path, cls_name):
    """The JSON object stored by `cls_name.save` at `path`, after checking its format tag and version."""
    with open(path, encoding="utf-8") as f:
        try:
            obj = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{cls_name}.load: {path} is not valid JSON ({e})") from None
    expected = f"glassnet.{cls_name}"
    found = obj.get("format") if isinstance(obj, dict) else None
    if found != expected:
        raise ValueError(f"{cls_name}.load: {path} is not a {expected} file (its format tag is {found!r})")
    if obj.get("version") != FORMAT_VERSION:
        raise ValueError(f"{cls_name}.load: {path} has format version {obj.get('version')!r}, "
                         f"this glassnet reads version {FORMAT_VERSION}")
    return obj


def _ids_array(ids, vocab_size, where):
    """`ids` (list, NumPy array or Tensor of integers, any shape) as a flat int64 array, every id in
    [0, vocab_size); otherwise a ValueError naming the offending ids."""
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{where}: ids must be integers, got an array of dtype {arr.dtype}")
    arr = arr.reshape(-1).astype(np.int64, copy=False)
    bad = (arr < 0) | (arr >= vocab_size)
    if bad.any():
        shown = sorted(set(arr[bad].tolist()))
        raise ValueError(f"{where}: ids {shown[:10]}{' ...' if len(shown) > 10 else ''} are out of range for "
                         f"a vocabulary of {vocab_size} tokens (expected 0 <= id < {vocab_size})")
    return arr


def _check_text(text, where):
    if not isinstance(text, str):
        raise TypeError(f"{where}: expected a str, got {type(text).__name__}")
    return text


def _codepoints(text):
    """The Unicode code points of `text` as a uint32 array (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


# ---- the tokenizer ------------------------------------------------------------------------------
class CharTokenizer:
    """Maps each character of a fixed vocabulary to an id (its position in the sorted vocabulary).

    CharTokenizer(text): the vocabulary is the sorted set of the characters of `text`.
    CharTokenizer.from_vocab(chars): the vocabulary given explicitly, in id order.

    `encode(str) -> list[int]`, `encode_array(str) -> int64 ndarray` (same ids, vectorised),
    `decode(ids) -> str`, `vocab_size`, `save(path)` / `CharTokenizer.load(path)` (JSON).
    A character outside the vocabulary is a ValueError naming it.
    """

    def __init__(self, text=""):
        _check_text(text, "CharTokenizer")
        self._set_vocab(sorted(set(text)), "CharTokenizer")

    @classmethod
    def from_vocab(cls, chars):
        """A tokenizer whose id i is `chars[i]` (distinct single characters, any order)."""
        tok = cls.__new__(cls)
        tok._set_vocab(list(chars), "CharTokenizer.from_vocab")
        return tok

    def _set_vocab(self, chars, where):
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"{where}: vocabulary entries must be single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"{where}: repeated characters in the vocabulary: {dup!r}")
        self.chars = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        # vectorised lookup: a table code point -> id (-1 for characters outside the vocabulary)
        cps = _codepoints("".join(self.chars)).astype(np.int64)
        self._id_codepoints = cps.astype(np.uint32)  # code point of id i
        self._table = np.full(int(cps.max()) + 1 if len(cps) else 0, -1, dtype=np.int32)
        self._table[cps] = np.arange(len(cps), dtype=np.int32)

    @property
    def vocab_size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode_array(self, text):
        """The ids of the characters of `text` as an int64 NumPy array (vectorised lookup)."""
        _check_text(text, "CharTokenizer.encode")
        cps = _codepoints(text)
        table = self._table
        inside = cps < len(table)
        ids = (table[np.where(inside, cps, 0)].astype(np.int64) if len(table)
               else np.full(len(cps), -1, dtype=np.int64))
        ids[~inside] = -1
        if (ids < 0).any():
            bad = np.flatnonzero(ids < 0)
            unknown = sorted(set(text[i] for i in bad[:1000].tolist()))
            raise ValueError(f"CharTokenizer.encode: {len(bad)} characters not in the vocabulary: {unknown!r} "
                             f"(the vocabulary has {self.vocab_size} characters)")
        return ids

    def encode(self, text):
        """`text` as a list of ids, one per character."""
        return self.encode_array(text).tolist()

    def decode(self, ids):
        """The string of the characters with ids `ids` (list, array or Tensor of ints)."""
        arr = _ids_array(ids, self.vocab_size, "CharTokenizer.decode")
        return self._id_codepoints[arr].tobytes().decode("utf-32-le", "surrogatepass")

    def save(self, path):
        """Write the vocabulary to `path` as JSON (atomically)."""
        _write_json(path, {"format": "glassnet.CharTokenizer", "version": FORMAT_VERSION, "chars": self.chars})

    @classmethod
    def load(cls, path):
        """The tokenizer saved at `path` by `save`."""
        obj = _read_json(path, "CharTokenizer")
        return cls.from_vocab(obj["chars"])

    def __eq__(self, other):
        return type(other) is type(self) and other.chars == self.chars

    def __repr__(self):
        return f"CharTokenizer(vocab_size={self.vocab_size})"
