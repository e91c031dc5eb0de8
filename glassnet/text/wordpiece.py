"""BERT's WordPiece tokenizer, read from a Hugging Face `tokenizer.json`.

    tok = WordPieceTokenizer.from_file("all-MiniLM-L6-v2/tokenizer.json")
    tok.tokenize("Héllo, wörld!")          # ['hello', ',', 'world', '!']
    batch = tok(["a sentence", "another one"], padding=True, truncation=True, max_length=256)
    batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]      # int64 (N, L)

A text goes through four steps:

1. Normalisation (BERT's): drop control characters and U+FFFD, turn every whitespace character into a
   space; put spaces around CJK ideographs (so that each becomes a word); strip accents (decompose to
   NFD, drop the combining marks) and lower-case, as configured (accents are stripped by default when
   lower-casing).
2. Pre-tokenisation: split on whitespace, and make every punctuation character a word of its own.
3. WordPiece, per word: the longest prefix that is in the vocabulary, then the longest continuation
   ("##" + piece) from where it stopped, and so on (greedy, longest match first). A word that cannot
   be covered completely, or that is longer than `max_input_chars_per_word`, becomes [UNK].
4. Post-processing: [CLS] tokens [SEP] (token type 0), truncation to max_length (the special tokens
   included), padding with [PAD] and an attention mask (1 for real tokens, 0 for padding).
"""
import json
import unicodedata

import numpy as np

from ..tensor import Tensor

__all__ = ["WordPieceTokenizer"]

# CJK Unified Ideographs blocks that BERT surrounds with spaces (the Hangul and kana are not among them)
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:  # all ASCII non-alphanumerics
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch):
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


class WordPieceTokenizer:
    """The tokenizer of BERT-family models (see the module docstring for the steps)."""

    def __init__(self, vocab, *, lowercase=True, strip_accents=None, clean_text=True, handle_chinese_chars=True,
                 unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", prefix="##",
                 max_input_chars_per_word=100, model_max_length=512):
        self.vocab = dict(vocab)
        self.inverse = {i: t for t, i in self.vocab.items()}
        self.lowercase, self.clean_text, self.handle_chinese_chars = lowercase, clean_text, handle_chinese_chars
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.prefix, self.max_input_chars_per_word = prefix, max_input_chars_per_word
        self.model_max_length = model_max_length
        for name, token in (("unk", unk_token), ("cls", cls_token), ("sep", sep_token), ("pad", pad_token)):
            if token not in self.vocab:
                raise ValueError(f"WordPieceTokenizer: the {name} token {token!r} is not in the vocabulary")
        self.unk_token, self.cls_token, self.sep_token, self.pad_token = unk_token, cls_token, sep_token, pad_token
        self.unk_id, self.cls_id = self.vocab[unk_token], self.vocab[cls_token]
        self.sep_id, self.pad_id = self.vocab[sep_token], self.vocab[pad_token]

    @classmethod
    def from_file(cls, path, model_max_length=512):
        """Read a Hugging Face tokenizer.json holding a WordPiece model with BERT's normaliser."""
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        model = spec.get("model") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"WordPieceTokenizer.from_file: {path} holds a {model.get('type')!r} model, expected "
                             "WordPiece")
        norm = spec.get("normalizer") or {}
        if norm.get("type") not in (None, "BertNormalizer"):
            raise ValueError(f"WordPieceTokenizer.from_file: {path} has a {norm.get('type')!r} normaliser; only "
                             "BertNormalizer is supported")
        return cls(model["vocab"], lowercase=norm.get("lowercase", True), strip_accents=norm.get("strip_accents"),
                   clean_text=norm.get("clean_text", True),
                   handle_chinese_chars=norm.get("handle_chinese_chars", True),
                   unk_token=model.get("unk_token", "[UNK]"), prefix=model.get("continuing_subword_prefix", "##"),
                   max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
                   model_max_length=model_max_length)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.vocab)

    # ---- the four steps ----------------------------------------------------------------------------
    def normalize(self, text):
        if self.clean_text:
            text = "".join(" " if _is_whitespace(ch) else ch for ch in text
                           if not (ch == "\x00" or ch == "\ufffd" or _is_control(ch)))
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_cjk(ch) else ch for ch in text)
        if self.strip_accents:
            text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
        if self.lowercase:  # character by character, as tokenizers does: no final-sigma rule (str.lower has one)
            text = "".join(ch.lower() for ch in text)
        return text

    @staticmethod
    def pre_tokenize(text):
        """Words: split on whitespace, every punctuation character a word of its own."""
        words, current = [], []
        for ch in text:
            if ch.isspace():
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    def wordpiece(self, word):
        """The sub-words of one word: greedy longest match first, [UNK] if it cannot be covered."""
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text):
        """The WordPiece tokens of `text` (no special tokens)."""
        return [piece for word in self.pre_tokenize(self.normalize(text)) for piece in self.wordpiece(word)]

    def encode(self, text, add_special_tokens=True, max_length=None):
        """Token ids: [CLS] pieces [SEP], truncated to max_length ids (the special tokens included)."""
        ids = [self.vocab.get(t, self.unk_id) for t in self.tokenize(text)]
        if max_length is not None:
            keep = max_length - (2 if add_special_tokens else 0)
            if keep < 0:
                raise ValueError(f"encode: max_length={max_length} leaves no room for the special tokens")
            ids = ids[:keep]
        return [self.cls_id] + ids + [self.sep_id] if add_special_tokens else ids

    def decode(self, ids, skip_special_tokens=True):
        """Text from ids: sub-words joined back ("##" pieces glued to the previous one)."""
        special = {self.cls_id, self.sep_id, self.pad_id}
        words = []
        for i in ids:
            i = int(i)
            if skip_special_tokens and i in special:
                continue
            token = self.inverse.get(i, self.unk_token)
            if token.startswith(self.prefix) and words:
                words[-1] += token[len(self.prefix):]
            else:
                words.append(token)
        return " ".join(words)

    def __call__(self, texts, padding=True, truncation=True, max_length=None, return_tensors="gn"):
        """A batch: {"input_ids", "attention_mask", "token_type_ids"}, int64 (N, L), padded to the longest
        text (or to max_length with padding="max_length"), truncated to max_length (default: the
        model's maximum length). `return_tensors="np"` gives NumPy arrays instead of Tensors."""
        if isinstance(texts, str):
            texts = [texts]
        limit = (max_length or self.model_max_length) if truncation else None
        rows = [self.encode(t, max_length=limit) for t in texts]
        width = max_length if padding == "max_length" and max_length else max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        if return_tensors == "np":
            return batch
        return {k: Tensor._make(v) for k, v in batch.items()}
