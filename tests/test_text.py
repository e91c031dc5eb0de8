"""glassnet.text: character, word and byte-level BPE tokenizers (round trips, fixed merges, files)."""
import json
import re
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet.text import SPLIT_PATTERN, BPETokenizer, CharTokenizer, WordTokenizer


EMOJI = "😀🎉👍🏽🇫🇷👨‍👩‍👧"
CJK = "日本語中文한국어漢字"
COMBINING = "e\u0301a\u0308n\u0303\u0327\u20dd"
SPACES = " \t\n\r\u00a0\u2003\u3000"
MIXED_ALPHABET = st.sampled_from(list(EMOJI + CJK + COMBINING + SPACES + "ab'sXY1 9.,!_-\\\"\x00\x7f\uffff"))
UNICODE_TEXT = st.one_of(st.text(), st.text(alphabet=MIXED_ALPHABET), st.text(alphabet=st.sampled_from(SPACES)))

SMALL_CORPUS = ("The quick brown fox jumps over the lazy dog. It's 2024 and the dogs' owners don't mind!\n"
                "日本語のテキスト、絵文字 😀😀 and cafe\u0301 café    spaces\t\ttabs\n") * 3


def shakespeare_text(n=None):
    """The tiny Shakespeare text, found through $GLASSNET_DATA or the cache (never downloaded here)."""
    from glassnet.datasets import TinyShakespeare

    try:
        text = TinyShakespeare(split="all", download=False).text
    except (FileNotFoundError, ValueError):
        pytest.skip("tiny Shakespeare unavailable: not under $GLASSNET_DATA nor in the cache")
    return text if n is None else text[:n]


def naive_bpe_merges(text, num_merges):
    """Reference trainer: recount every pair of every chunk at each merge (slow, obviously right)."""
    words = [list(c.encode("utf-8")) for c in re.findall(SPLIT_PATTERN, text)]
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for w in words:
            counts.update(zip(w, w[1:]))
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        new = 256 + len(merges)
        merges.append(best)
        out = []
        for w in words:
            m, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    m.append(new)
                    i += 2
                else:
                    m.append(w[i])
                    i += 1
            out.append(m)
        words = out
    return merges


@pytest.fixture(scope="module")
def small_bpe():
    return BPETokenizer().train(SMALL_CORPUS, vocab_size=256 + 100, special_tokens=("<|endoftext|>", "<pad>"))


# ---- CharTokenizer -----------------------------------------------------------------------------
def test_char_vocab_round_trip_and_ids():
    text = "hello world!\nÉté 😀"
    tok = CharTokenizer(text)
    assert tok.chars == sorted(set(text)) and tok.vocab_size == len(set(text)) == len(tok)
    ids = tok.encode("hello 😀")
    assert ids == [tok.chars.index(c) for c in "hello 😀"] and all(type(i) is int for i in ids)
    assert tok.decode(ids) == "hello 😀"
    assert tok.decode(np.array(ids)) == tok.decode(gn.tensor(ids)) == tok.decode(tuple(ids)) == "hello 😀"
    arr = tok.encode_array(text)
    assert arr.dtype == np.int64 and tok.decode(arr) == text
    assert tok.encode("") == [] and tok.decode([]) == ""
    assert CharTokenizer("cab").encode("abc") == [0, 1, 2]


def test_char_errors_name_the_problem():
    tok = CharTokenizer("abc")
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['d', 'é'\]"):
        tok.encode("abdé")
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['😀'\]"):  # beyond the lookup table
        tok.encode("a😀")
    with pytest.raises(ValueError, match=r"ids \[-1, 3\] are out of range .* 3 tokens"):
        tok.decode([0, 3, -1])
    with pytest.raises(TypeError, match="integers"):
        tok.decode(np.array([0.5]))
    with pytest.raises(TypeError, match="expected a str"):
        tok.encode(b"abc")
    with pytest.raises(ValueError, match="repeated characters"):
        CharTokenizer.from_vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer.from_vocab(["ab"])


def test_char_save_load(tmp_path):
    tok = CharTokenizer.from_vocab(["z", "a", "😀", "\n", '"'])
    path = tmp_path / "chars.json"
    tok.save(path)
    loaded = CharTokenizer.load(path)
    assert loaded == tok and loaded.chars == ["z", "a", "😀", "\n", '"']
    assert loaded.encode("a😀z") == [1, 2, 0]
    assert json.loads(path.read_text())["format"] == "glassnet.CharTokenizer"
    assert [p.name for p in tmp_path.iterdir()] == ["chars.json"]  # no temporary file left
    WordTokenizer("a b").save(tmp_path / "w.json")
    with pytest.raises(ValueError, match="not a glassnet.CharTokenizer file"):
        CharTokenizer.load(tmp_path / "w.json")


@settings(max_examples=60, deadline=None)
@given(UNICODE_TEXT)
def test_char_round_trip_any_text(text):
    tok = CharTokenizer(text)
    assert tok.decode(tok.encode(text)) == text


# ---- WordTokenizer -----------------------------------------------------------------------------
def test_word_split_vocab_order_and_unknowns():
    tok = WordTokenizer("the cat, the dog. The cat don't!", min_freq=1)
    assert tok.tokenize("the cat, don't!") == ["the", "cat", ",", "don't", "!"]
    # specials first, then by decreasing count, ties in sorted order
    assert tok.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "cat", "the", "!", ",", ".", "The", "dog", "don't"]
    assert tok.encode("the bird") == [5, 1]
    lower = WordTokenizer("the cat, the dog. The cat", lowercase=True, min_freq=2)
    assert lower.itos[4:] == ["the", "cat"]
    assert lower.encode("THE Dog <bos>") == [4, 1, 2]  # special tokens are matched literally, not lowercased
    capped = WordTokenizer("a a a b b c", max_size=6)
    assert capped.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]


def test_word_decode_and_round_trip():
    text = "Hello, world! (It's fine.) [x] {y}; z: end?"
    tok = WordTokenizer(text)
    ids = tok.encode(text)
    assert tok.decode(ids) == "Hello, world! (It's fine.) [x] {y}; z: end?"
    assert tok.encode(tok.decode(ids)) == ids
    bos, eos = tok.token_to_id("<bos>"), tok.token_to_id("<eos>")
    assert tok.decode([bos] + ids + [eos]) == "<bos> " + text + " <eos>"
    assert tok.decode([bos] + ids + [eos], skip_special_tokens=True) == text
    assert tok.id_to_token(bos) == "<bos>" and tok.token_to_id("never-seen") is None


def test_word_errors_and_special_tokens():
    strict = WordTokenizer("a b", special_tokens=("<s>",), unk_token=None)
    assert strict.itos == ["<s>", "a", "b"] and strict.encode("<s>a b") == [0, 1, 2]
    with pytest.raises(ValueError, match=r"tokens not in the vocabulary: \['c', 'd'\]"):
        strict.encode("a c d c")
    with pytest.raises(ValueError, match="unk_token '<unk>' must be one of the special tokens"):
        WordTokenizer("a", special_tokens=("<s>",))
    with pytest.raises(ValueError, match="min_freq"):
        WordTokenizer("a", min_freq=0)
    with pytest.raises(ValueError, match="max_size"):
        WordTokenizer("a", max_size=2)
    with pytest.raises(ValueError, match="out of range"):
        strict.decode([3])


def test_word_save_load(tmp_path):
    tok = WordTokenizer(["To be, or not to be", "that is the question"], lowercase=True, min_freq=1,
                        special_tokens=("<unk>", "<eos>"))
    tok.save(tmp_path / "words.json")
    loaded = WordTokenizer.load(tmp_path / "words.json")
    assert loaded == tok and loaded.itos == tok.itos and loaded.lowercase
    assert loaded.encode("TO BE unknown <eos>") == tok.encode("to be unknown <eos>")
    obj = json.loads((tmp_path / "words.json").read_text())
    obj["tokens"] = obj["tokens"][1:]
    (tmp_path / "bad.json").write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="inconsistent"):
        WordTokenizer.load(tmp_path / "bad.json")


@settings(max_examples=60, deadline=None)
@given(UNICODE_TEXT)
def test_word_decode_re_encodes_to_the_same_ids(text):
    tok = WordTokenizer(text)
    ids = tok.encode(text)
    assert tok.encode(tok.decode(ids)) == ids
    assert tok.token_to_id("<unk>") not in ids  # every word of the fitting text is known


# ---- BPE: exact merges on hand-made corpora ----------------------------------------------------
def test_bpe_split_pattern():
    assert re.findall(SPLIT_PATTERN, "Hello world's  123 foo!!  \n bar") == \
        ["Hello", " world", "'s", " ", " 123", " foo", "!!", "  \n", " bar"]
    assert re.findall(SPLIT_PATTERN, "x\t\ty end  ") == ["x", "\t", "\t", "y", " end", "  "]


def test_bpe_merges_by_hand_with_ties():
    # "aaabdaaabac" is one chunk, bytes a=97 b=98 c=99 d=100. Counts: aa 4, ab 2, bd/da/ba/ac 1.
    #  1. (97, 97) -> 256: [256 97 98 100 256 97 98 97 99]; now (97,98)=2 and (256,97)=2 tie:
    #  2. (97, 98) -> 257 (the smaller pair wins): [256 257 100 256 257 97 99]
    #  3. (256, 257) -> 258: [258 100 258 97 99]; all four pairs count 1, smallest first:
    #  4. (97, 99) -> 259: [258 100 258 259]
    #  5. (100, 258) -> 260: [258 260 259]   6. (258, 260) -> 261   7. (261, 259) -> 262, then no pair left.
    tok = BPETokenizer().train("aaabdaaabac", vocab_size=300)
    assert tok.merges == [(97, 97), (97, 98), (256, 257), (97, 99), (100, 258), (258, 260), (261, 259)]
    assert tok.vocab_size == 263  # stopped early: nothing left to merge
    assert tok.vocab[258] == b"aaab" and tok.vocab[262] == b"aaabdaaabac"
    assert tok.encode("aaabdaaabac") == [262]
    assert tok.encode("aaab") == [258] and tok.encode("aaa") == [256, 97] and tok.encode("aba") == [257, 97]


def test_bpe_merges_by_hand_never_cross_chunks():
    # chunks: "ab" x1, " ab" x2, " abc" x1 (space = 32). Pairs: (97,98) 4, (32,97) 3, (98,99) 1;
    # the pair "b " (98, 32) never counts, since a chunk boundary lies between b and the space.
    #  1. (97, 98) -> 256   2. (32, 256) -> 257 (count 3)   3. (257, 99) -> 258 (count 1), then nothing.
    tok = BPETokenizer().train("ab ab ab abc", vocab_size=256 + 10)
    assert tok.merges == [(97, 98), (32, 256), (257, 99)]
    assert tok.encode("ab ab abc") == [256, 257, 258]
    assert tok.decode([256, 257, 258]) == "ab ab abc"


def test_bpe_fast_training_matches_naive_reference():
    text = SMALL_CORPUS + "aaaa bbbb aaaaaaa ababab " * 5
    fast = BPETokenizer().train(text, vocab_size=256 + 150)
    assert fast.merges == naive_bpe_merges(text, 150)
    excerpt = shakespeare_text(20_000)
    assert BPETokenizer().train(excerpt, vocab_size=256 + 80).merges == naive_bpe_merges(excerpt, 80)


def test_bpe_encoding_replays_training_segmentation():
    """Encoding a training chunk gives exactly the tokens that training ended with."""
    text = shakespeare_text(30_000)
    tok = BPETokenizer().train(text, vocab_size=256 + 100)
    merges = tok.merges
    for chunk in sorted(set(re.findall(SPLIT_PATTERN, text)))[:300]:
        ids = list(chunk.encode())
        for r, (a, b) in enumerate(merges):  # apply every merge in training order
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
                    out.append(256 + r)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        assert tok.encode(chunk) == ids


# ---- BPE: round trips, special tokens, files ---------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(UNICODE_TEXT)
def test_bpe_round_trip_any_unicode(small_bpe, text):
    ids = small_bpe.encode(text)
    assert small_bpe.decode(ids) == text
    assert all(0 <= i < small_bpe.vocab_size for i in ids)
    assert BPETokenizer().decode(BPETokenizer().encode(text)) == text  # no merges at all: raw bytes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(UNICODE_TEXT, st.sampled_from(["<|endoftext|>", "<pad>", "<|endoftext|"])), max_size=6))
def test_bpe_round_trip_with_special_tokens(small_bpe, parts):
    text = "".join(parts)
    assert small_bpe.decode(small_bpe.encode(text)) == text
    assert small_bpe.decode(small_bpe.encode(text, allow_special=False)) == text


def test_bpe_specific_strings(small_bpe):
    for s in ["", " ", "   ", "\n\n\n", "\t \t", "😀", "👨‍👩‍👧", "e\u0301", "日本語のテキスト", "a" * 1000,
              "don't 'll 've", "\x00\x01\x7f", "\ud800 lone surrogate"]:
        assert small_bpe.decode(small_bpe.encode(s)) == s
    assert small_bpe.encode("") == []
    assert len(small_bpe.encode(" the quick brown fox")) < len(" the quick brown fox".encode())


def test_bpe_special_tokens(small_bpe):
    eot, pad = small_bpe.special_tokens["<|endoftext|>"], small_bpe.special_tokens["<pad>"]
    assert (eot, pad) == (256 + 98, 256 + 99) and small_bpe.vocab_size == 256 + 100
    assert len(small_bpe.merges) == 98
    ids = small_bpe.encode("the dog<|endoftext|><pad>fox")
    assert ids.count(eot) == 1 and ids.count(pad) == 1 and ids.index(eot) + 1 == ids.index(pad)
    assert small_bpe.decode(ids) == "the dog<|endoftext|><pad>fox"
    plain = small_bpe.encode("<|endoftext|>", allow_special=False)
    assert eot not in plain and small_bpe.decode(plain) == "<|endoftext|>"
    assert small_bpe.id_to_token(eot) == b"<|endoftext|>"
    # special tokens are never learned from: training on text full of them gives the same merges as without
    text = "hello world, hello there " * 4
    with_special = BPETokenizer().train(("<|endoftext|>" + text) * 5, 256 + 30, special_tokens=("<|endoftext|>",))
    without = BPETokenizer().train([text] * 5, 256 + 29)  # a list: each text pre-split on its own
    assert with_special.merges == without.merges
    with pytest.raises(ValueError, match="vocab_size must be an integer >= 256"):
        BPETokenizer().train("abc", 256, special_tokens=("<s>",))
    with pytest.raises(ValueError, match="repeated special tokens"):
        BPETokenizer().train("abc", 300, special_tokens=("<s>", "<s>"))


def test_bpe_decode_invalid_and_out_of_range_ids(small_bpe):
    assert small_bpe.decode([0xFF, ord("a")]) == "\ufffda"  # a lone continuation-less byte
    assert small_bpe.decode_bytes([0xE6, 0x97]) == b"\xe6\x97"
    with pytest.raises(ValueError, match=rf"ids \[{small_bpe.vocab_size}\] are out of range"):
        small_bpe.decode([1, small_bpe.vocab_size])
    assert small_bpe.decode(gn.tensor([104, 105])) == "hi"


def test_bpe_determinism_and_save_load(tmp_path, small_bpe):
    again = BPETokenizer().train(SMALL_CORPUS, vocab_size=256 + 100, special_tokens=("<|endoftext|>", "<pad>"))
    assert json.dumps(again.to_dict()) == json.dumps(small_bpe.to_dict())
    small_bpe.save(tmp_path / "a.json")
    again.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    loaded = BPETokenizer.load(tmp_path / "a.json")
    assert loaded == small_bpe and loaded.vocab == small_bpe.vocab
    assert loaded.special_tokens == small_bpe.special_tokens
    text = "The lazy dog 😀<|endoftext|> café"
    assert loaded.encode(text) == small_bpe.encode(text)
    loaded.save(tmp_path / "c.json")
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "a.json").read_bytes()
    obj = json.loads((tmp_path / "a.json").read_text())
    assert obj["vocab"][256] == small_bpe.vocab[256].hex() and obj["merges"][0] == list(small_bpe.merges[0])
    obj["vocab"][300] = "00"
    (tmp_path / "bad.json").write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="inconsistent"):
        BPETokenizer.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"merge 1 \(5, 999\) refers to ids outside \[0, 257\)"):
        BPETokenizer(merges=[(1, 2), (5, 999)])


def test_bpe_training_on_shakespeare_is_fast():
    text = shakespeare_text(200_000)
    start = time.perf_counter()
    tok = BPETokenizer().train(text, vocab_size=256 + 300)
    elapsed = time.perf_counter() - start
    assert len(tok.merges) == 300 and elapsed < 10, f"300 merges on 200 kB took {elapsed:.1f} s"
    assert tok.vocab[256] == b" t"  # the most frequent pair of English prose with GPT-2 pre-splitting
    # merges stay inside chunks: a space can only open a token, never follow another character
    assert all(t.isspace() or b" " not in t[1:] for t in tok.vocab[256:])
    sample = text[:5000]
    ids = tok.encode(sample)
    assert tok.decode(ids) == sample and len(ids) < 0.5 * len(sample)
