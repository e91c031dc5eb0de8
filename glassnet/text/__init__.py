"""Tokenizers: characters, words and byte-level BPE, each with encode/decode and JSON save/load.

    from glassnet.text import CharTokenizer, WordTokenizer, BPETokenizer
    chars = CharTokenizer(text)                                   # sorted characters of text
    words = WordTokenizer(text, lowercase=True, min_freq=2)       # regex words + punctuation, <unk>
    bpe = BPETokenizer().train(text, vocab_size=1000)             # GPT-2 style byte-level BPE

All three share: `encode(str) -> list[int]`, `decode(ids) -> str`, `vocab_size`, `len()`,
`save(path)` and the class method `load(path)`.
"""
from .bpe import *  # noqa: F401,F403
from .char import *  # noqa: F401,F403
from .word import *  # noqa: F401,F403
from .wordpiece import *  # noqa: F401,F403
from . import bpe, char, word, wordpiece

__all__ = char.__all__ + word.__all__ + bpe.__all__ + wordpiece.__all__
