"""Short runs of the Transformer recipes with stated thresholds. The full recipe runs are not tests (see the
recipes' docstrings); the loop, its schedule and exact resuming are tested in test_train.py and test_resume.py."""
import json
import math
import os

import numpy as np
import pytest

from glassnet import cli
from glassnet.recipes import RECIPES
from glassnet.recipes import transformers as T
from glassnet.train.checkpoint import load_checkpoint

from data_available import needs_shakespeare

def _openblas_threads():
    """(set, get) of the OpenBLAS that NumPy uses, through ctypes; None if it cannot be found."""
    import ctypes
    import glob

    folder = os.path.dirname(np.__file__) + ".libs"
    for path in glob.glob(os.path.join(folder, "*openblas*.so*")):
        lib = ctypes.CDLL(path)  # the library NumPy already loaded: the same thread setting
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                setter, getter = f"{prefix}set_num_threads{suffix}", f"{prefix}get_num_threads{suffix}"
                if hasattr(lib, setter) and hasattr(lib, getter):
                    return getattr(lib, setter), getattr(lib, getter)
    return None


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The models here are small: handing each tiny matrix product to a second BLAS thread costs more than
    it saves, and on a busy 2-core machine it makes these trainings several times slower."""
    threads = _openblas_threads()
    if threads is None:
        yield
        return
    set_threads, get_threads = threads
    before = get_threads()
    set_threads(1)
    try:
        yield
    finally:
        set_threads(before)


SORT_QUICK = dict(iters=200, eval_every=100, length=5, batch_size=64, n_embd=32, eval_problems=200,
                  test_problems=500, lr=5e-3, warmup=20)


def test_sort_toy_reaches_99_percent_in_200_steps(tmp_path):
    """A 26k-parameter GPT sorts 5 digits: >= 99% exact match on 500 held-out sequences (about 5 s)."""
    summary = RECIPES["sort-toy"].run(T.SortConfig(**SORT_QUICK), str(tmp_path))
    assert summary["test_exact_match"] >= 0.99
    for name in ("summary.json", "metrics.jsonl", "examples.txt", "plots/curves.png",
                 "checkpoints/last.safetensors", "checkpoints/best.safetensors"):
        assert os.path.exists(tmp_path / name), name
    with open(tmp_path / "summary.json") as f:
        assert json.load(f)["test_exact_match"] == summary["test_exact_match"]
    state = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    again = RECIPES["sort-toy"].evaluate(T.SortConfig(**SORT_QUICK), state)
    assert again["test_exact_match"] == summary["test_exact_match"]


def test_add_toy_learns(tmp_path):
    """A small GPT adding 2-digit numbers (answer reversed): >= 95% on held-out sums after 600 steps."""
    config = T.AddConfig(iters=600, eval_every=600, digits=2, batch_size=64, n_layer=2, n_embd=48,
                         eval_problems=100, test_problems=500, lr=5e-3, warmup=20)
    summary = RECIPES["add-toy"].run(config, str(tmp_path))
    assert summary["test_exact_match"] >= 0.95


def test_translate_toy_learns_numbers_below_1000(tmp_path):
    """Numbers below 1000 in words, encoder-decoder with greedy decoding: >= 95% on the 94 held-out numbers."""
    config = T.TranslateConfig(iters=250, eval_every=250, max_number=1000, d_model=32, dim_feedforward=64,
                               batch_size=64, eval_problems=50, test_problems=200, lr=1e-2, warmup=15, pictures=2)
    summary = RECIPES["translate-toy"].run(config, str(tmp_path))
    assert summary["test_exact_match"] >= 0.95
    attention = [p for p in summary["plots"] if "cross_attention" in p]
    assert len(attention) == 2 and all(os.path.exists(p) for p in attention)


def test_cli_trains_resumes_and_evaluates_sort_toy(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "sort-toy", "--length", "3", "--iters", "6", "--eval-every", "3", "--batch-size", "8",
            "--n-embd", "16", "--n-layer", "1", "--eval-problems", "20", "--test-problems", "20", "--out", str(out)]
    assert cli.main(args) == 0
    assert json.load(open(out / "config.json"))["recipe"] == "sort-toy"
    assert cli.main(["train", "sort-toy", "--resume", str(out)]) == 0  # already finished: just re-tests
    assert cli.main(["eval", str(out)]) == 0
    assert "test_exact_match" in capsys.readouterr().out


def test_vit_mnist_runs_on_the_embedded_sample(tmp_path):
    config = T.ViTConfig(sample=True, limit=256, epochs=1, batch_size=64, dim=16, depth=1, heads=2, mlp_dim=32,
                         augment=False, pictures=True)
    summary = RECIPES["vit-mnist"].run(config, str(tmp_path))
    assert summary["recipe"] == "vit-mnist" and 0 <= summary["test_accuracy"] <= 1 and summary["steps"] == 4
    assert os.path.exists(tmp_path / "plots" / "filters.png")  # the patch embedding's filters


@needs_shakespeare
def test_gpt_shakespeare_short_run_learns(tmp_path):
    config = T.ShakespeareConfig(iters=60, eval_every=30, eval_iters=4, final_eval_iters=4, n_layer=1, n_embd=32,
                                 block_size=32, batch_size=8, warmup=5, sample_chars=50, lr=3e-3)
    summary = RECIPES["gpt-shakespeare"].run(config, str(tmp_path))
    assert summary["val_loss"] < math.log(65) - 0.8  # well below the uniform 4.17 nats
    assert len(open(tmp_path / "samples.txt").read()) == 51
