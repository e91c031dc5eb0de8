"""Byte-level byte-pair encoding (BPE), as in GPT-2: lossless for any text, trained in seconds.

    from glassnet.text import BPETokenizer
    tok = BPETokenizer().train(text, vocab_size=1000, special_tokens=("<|endoftext|>",))
    ids = tok.encode("To be, or not to be")
    tok.decode(ids) == "To be, or not to be"
    tok.save("bpe.json"); tok = BPETokenizer.load("bpe.json")

Vocabulary: ids 0-255 are the 256 byte values; id 256 + r is the r-th merge (the concatenation of the
bytes of its two parts); the special tokens come last.

Training. The text is first cut at the special tokens (which are never learned from), then pre-split
by a regular expression into chunks: words with their leading space, numbers, runs of punctuation,
runs of whitespace (the last space of a run before a word goes with the word). Merges never cross
chunk boundaries. Each distinct chunk is kept once with its count, as a list of byte ids. Then,
`vocab_size - 256 - len(special_tokens)` times: take the most frequent adjacent pair (occurrences
weighted by chunk counts; overlapping occurrences such as the two (a, a) of "aaa" both count) and
replace it by a new id in every chunk, left to right. Tie-breaking rule: among pairs of equal count,
the smallest pair (first id, then second id) wins, so the result is deterministic. Training stops
early when no chunk has two tokens left.

Speed: pair counts live in a dict, updated only for the chunks that contain the merged pair (found
through an index pair -> chunks), and the best pair comes from a heap with lazy deletion, so no
merge recounts the text.

Encoding splits the text the same way and, within each chunk, repeatedly merges the adjacent pair of
lowest merge rank (the merges replayed in training order), caching the ids of each distinct chunk.
Decoding concatenates the bytes of the ids and decodes UTF-8 (bytes that are not valid UTF-8, which
only arbitrary id sequences can produce, become U+FFFD).
"""
import heapq
import re
from collections import Counter, defaultdict

from .char import FORMAT_VERSION, _check_text, _ids_array, _read_json, _write_json

__all__ = ["BPETokenizer", "SPLIT_PATTERN"]

SPLIT_PATTERN = (
    r"'(?:[sdmt]|ll|ve|re)"   # English contractions: 's 'd 'm 't 'll 've 're
    r"| ?[^\W\d_]+"            # letters, with at most one leading space
    r"| ?\d+"                  # digits, with at most one leading space
    r"| ?(?:[^\w\s]|_)+"       # punctuation and symbols (anything but letters, digits, whitespace)
    r"|\s+(?!\S)"              # whitespace not followed by a non-space: a run minus its last space
    r"|\s+"                    # any other whitespace (a run at the end of the text)
    r"|[\s\S]"                 # safety net: every character belongs to some chunk
)

_CACHE_LIMIT = 200_000


def _to_bytes(s):
    return s.encode("utf-8", "surrogatepass")


def _merge_ids(ids, a, b, new):
    """`ids` with every non-overlapping occurrence of the pair (a, b), left to right, replaced by `new`."""
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """Byte-level BPE tokenizer.

    BPETokenizer(): 256 byte tokens, no merges (train it with `train`).
    BPETokenizer(merges=[(a, b), ...], special_tokens=[...], pattern=...): from learned merges (merge r
        creates id 256 + r; special tokens get the ids after the merges).

    Attributes: `merges` (list of id pairs in rank order), `vocab` (list: id -> bytes),
    `special_tokens` (dict: string -> id), `pattern` (the pre-split regular expression).
    """

    def __init__(self, merges=(), special_tokens=(), pattern=None):
        self.pattern = SPLIT_PATTERN if pattern is None else pattern
        if not isinstance(self.pattern, str):
            raise TypeError(f"BPETokenizer: pattern must be a str, got {type(self.pattern).__name__}")
        self._split = re.compile(self.pattern)
        self._set(list(merges), list(special_tokens), "BPETokenizer")

    # ---- state ----------------------------------------------------------------------------------
    def _set(self, merges, special_tokens, where):
        vocab = [bytes([i]) for i in range(256)]
        ranks = {}
        for r, pair in enumerate(merges):
            if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
                raise ValueError(f"{where}: merge {r} must be a pair of ints, got {pair!r}")
            a, b = pair
            new = 256 + r
            if not (0 <= a < new and 0 <= b < new):
                raise ValueError(f"{where}: merge {r} ({a}, {b}) refers to ids outside [0, {new}), the ids "
                                 f"that exist before it")
            if (a, b) in ranks:
                raise ValueError(f"{where}: merge {r} ({a}, {b}) repeats merge {ranks[(a, b)] - 256}")
            ranks[(a, b)] = new
            vocab.append(vocab[a] + vocab[b])
        for s in special_tokens:
            if not isinstance(s, str) or not s:
                raise ValueError(f"{where}: special tokens must be non-empty strings, got {s!r}")
        if len(set(special_tokens)) != len(special_tokens):
            raise ValueError(f"{where}: repeated special tokens in {special_tokens!r}")
        self.merges = [tuple(p) for p in merges]
        self._ranks = ranks
        self.special_tokens = {s: len(vocab) + i for i, s in enumerate(special_tokens)}
        self._special_by_id = {i: s for s, i in self.special_tokens.items()}
        self.vocab = vocab + [_to_bytes(s) for s in special_tokens]
        self._special_split = (re.compile("(" + "|".join(re.escape(s) for s in sorted(
            special_tokens, key=len, reverse=True)) + ")") if special_tokens else None)
        self._cache = {}

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.vocab)

    # ---- training -------------------------------------------------------------------------------
    def train(self, text, vocab_size, special_tokens=(), verbose=False):
        """Learn `vocab_size - 256 - len(special_tokens)` merges from `text` (str or list of str),
        replacing any previous merges; returns self. See the module docstring for the algorithm."""
        texts = [text] if isinstance(text, str) else list(text)
        for t in texts:
            _check_text(t, "BPETokenizer.train")
        special_tokens = list(special_tokens)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256 + len(special_tokens):
            raise ValueError(f"BPETokenizer.train: vocab_size must be an integer >= 256 + the number of special "
                             f"tokens ({256 + len(special_tokens)}), got {vocab_size!r}")
        self._set([], special_tokens, "BPETokenizer.train")  # validates the special tokens
        num_merges = vocab_size - 256 - len(special_tokens)

        # distinct chunks with their counts
        chunk_counts = Counter()
        for t in texts:
            for piece in (self._special_split.split(t) if self._special_split else [t]):
                if piece and piece not in self.special_tokens:
                    chunk_counts.update(self._split.findall(piece))
        words = [list(_to_bytes(c)) for c in chunk_counts]
        freqs = list(chunk_counts.values())

        # pair counts and the index pair -> chunks containing it (entries may go stale; checked on use)
        counts = defaultdict(int)
        where = defaultdict(set)
        for w, (ids, f) in enumerate(zip(words, freqs)):
            for pair in zip(ids, ids[1:]):
                counts[pair] += f
                where[pair].add(w)
        heap = [(-c, p) for p, c in counts.items()]
        heapq.heapify(heap)

        merges = []
        while len(merges) < num_merges and heap:
            neg, pair = heapq.heappop(heap)
            if counts.get(pair, 0) != -neg:
                continue  # stale heap entry: the count has changed since it was pushed
            a, b = pair
            new = 256 + len(merges)
            merges.append(pair)
            changed = set()
            for w in where.pop(pair):
                ids, f = words[w], freqs[w]
                merged = _merge_ids(ids, a, b, new)
                if len(merged) == len(ids):
                    continue  # stale index entry
                for p in zip(ids, ids[1:]):
                    counts[p] -= f
                    changed.add(p)
                for p in zip(merged, merged[1:]):
                    counts[p] += f
                    changed.add(p)
                    if p != pair:
                        where[p].add(w)
                words[w] = merged
            for p in changed:
                c = counts[p]
                if c > 0:
                    heapq.heappush(heap, (-c, p))
                else:
                    del counts[p]
                    where.pop(p, None)
            counts.pop(pair, None)
            if verbose:
                print(f"merge {len(merges)}/{num_merges}: {pair} -> {new} ({-neg} occurrences)")
        self._set(merges, special_tokens, "BPETokenizer.train")
        return self

    # ---- encoding -------------------------------------------------------------------------------
    def _encode_chunk(self, chunk):
        ids = self._cache.get(chunk)
        if ids is not None:
            return ids
        ids = list(_to_bytes(chunk))
        ranks = self._ranks
        while len(ids) > 1:
            best = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, 1 << 62))
            new = ranks.get(best)
            if new is None:
                break
            ids = _merge_ids(ids, best[0], best[1], new)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[chunk] = ids
        return ids

    def _encode_ordinary(self, text, out):
        for chunk in self._split.findall(text):
            out.extend(self._encode_chunk(chunk))

    def encode(self, text, allow_special=True):
        """The ids of `text`. Special tokens written in the text become their ids when `allow_special`,
        otherwise they are encoded as ordinary text."""
        _check_text(text, "BPETokenizer.encode")
        out = []
        if allow_special and self._special_split is not None:
            for i, piece in enumerate(self._special_split.split(text)):
                if i % 2:
                    out.append(self.special_tokens[piece])
                elif piece:
                    self._encode_ordinary(piece, out)
        else:
            self._encode_ordinary(text, out)
        return out

    def decode_bytes(self, ids):
        """The bytes of the tokens `ids` concatenated."""
        arr = _ids_array(ids, self.vocab_size, "BPETokenizer.decode")
        vocab = self.vocab
        return b"".join([vocab[i] for i in arr.tolist()])

    def decode(self, ids):
        """The text of the tokens `ids`; invalid UTF-8 (possible only for arbitrary ids) becomes U+FFFD."""
        raw = self.decode_bytes(ids)
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")

    def id_to_token(self, i):
        """The bytes of token `i` (a special token's UTF-8 bytes for special ids)."""
        return self.vocab[int(_ids_array([i], self.vocab_size, "BPETokenizer.id_to_token")[0])]

    # ---- files ----------------------------------------------------------------------------------
    def to_dict(self):
        """The tokenizer as a JSON-ready dict: merges, special tokens, pattern, and the vocabulary
        (each token's bytes in hexadecimal, id order; redundant, checked on load)."""
        return {"format": "glassnet.BPETokenizer", "version": FORMAT_VERSION, "pattern": self.pattern,
                "merges": [list(p) for p in self.merges],
                "special_tokens": [s for s, _ in sorted(self.special_tokens.items(), key=lambda kv: kv[1])],
                "vocab": [t.hex() for t in self.vocab]}

    def save(self, path):
        """Write the tokenizer to `path` as JSON (atomically); the same tokenizer gives the same file."""
        _write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """The tokenizer saved at `path` by `save` (its vocabulary checked against its merges)."""
        obj = _read_json(path, "BPETokenizer")
        tok = cls(merges=[tuple(p) for p in obj["merges"]], special_tokens=obj["special_tokens"],
                  pattern=obj["pattern"])
        if "vocab" in obj and obj["vocab"] != [t.hex() for t in tok.vocab]:
            raise ValueError(f"BPETokenizer.load: {path} is inconsistent: its vocabulary does not match the "
                             f"one its merges and special tokens build")
        return tok

    def __eq__(self, other):
        return (type(other) is type(self) and other.merges == self.merges and other.pattern == self.pattern
                and other.special_tokens == self.special_tokens)

    def __repr__(self):
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={list(self.special_tokens)})")
