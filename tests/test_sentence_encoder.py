"""all-MiniLM-L6-v2 loaded from its PyPI package gives sentence-transformers' embeddings."""
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet.models import BertConfig, BertModel, SentenceEncoder

SENTENCES = [
    "A man is eating food.", "Someone is eating a piece of bread.", "The girl is carrying a baby.",
    "A man is riding a horse.", "Two men pushed carts through the woods.", "ROMEO: But, soft! what light through "
    "yonder window breaks?", "Héllo, wörld! Ça va? 你好，世界 😀", "1234 5678 + 9 = ?", "",
    "The quick brown fox jumps over the lazy dog. " * 30,  # longer than max_seq_length: truncated at 256 tokens
]


@pytest.fixture(scope="module")
def encoder():
    try:
        return SentenceEncoder.from_pretrained()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def test_embeddings_equal_sentence_transformers(encoder):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    st = pytest.importorskip("sentence_transformers", reason="the test extra installs sentence-transformers")
    reference = st.SentenceTransformer(encoder.folder, device="cpu").encode(SENTENCES, convert_to_numpy=True)
    ours = encoder.encode(SENTENCES).array
    cosine = (ours * reference).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() >= 0.99999, cosine
    assert np.abs(ours - reference).max() <= 1e-4
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, rtol=1e-6)


def test_similar_sentences_are_closer(encoder):
    e = encoder.encode(SENTENCES[:4]).array
    sims = e @ e.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]


def test_hugging_face_keys_load_strictly_and_bad_input_is_refused(encoder):
    keys = set(encoder.bert.state_dict())
    assert "encoder.layer.5.attention.self.query.weight" in keys and "embeddings.position_ids" in keys
    small = BertModel(BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=16, max_position_embeddings=6))
    with pytest.raises(ValueError, match="max_position_embeddings"):
        small(gn.zeros(1, 7, dtype=gn.int64))
    with pytest.raises(FileNotFoundError, match="no model folder"):
        SentenceEncoder.from_pretrained(os.path.join("no", "such", "folder"))


def test_embed_command_prints_similarities_and_writes_npy(encoder, tmp_path, capsys):
    from glassnet.cli import main

    out = tmp_path / "e.npy"
    assert main(["embed", "A man is eating food.", "Someone is eating bread.", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cosine similarities" in printed and "384 values" in printed
    saved = np.load(out, allow_pickle=False)
    np.testing.assert_allclose(saved, encoder.encode(["A man is eating food.", "Someone is eating bread."]).array,
                               rtol=1e-5, atol=1e-6)
    assert main(["embed", "x", "--model", str(tmp_path / "missing")]) == 2
    assert "glassnet: error: SentenceEncoder: no model folder" in capsys.readouterr().err
