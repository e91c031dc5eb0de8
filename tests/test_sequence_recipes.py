"""Character RNN language models, sampling, the seq2seq model with additive attention, the vanishing-gradient
experiment, and short runs of the recurrent recipes with stated thresholds (the full default runs are not
tests; see glassnet/recipes/sequence.py)."""
import io
import json
import math
import os

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import cli
from glassnet.generate import sample, sample_next, sample_with_states, stream
from glassnet.models.char_rnn import CharRNN
from glassnet.models.seq2seq_rnn import AdditiveAttention, Seq2SeqRNN
from glassnet.recipes import RECIPES
from glassnet.recipes import sequence as S
from glassnet.tasks import ReverseTask
from glassnet.text import CharTokenizer
from glassnet.viz import rnn_gradients as RG

from data_available import needs_shakespeare, shakespeare_available

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


# ---- the character model ----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_char_rnn_shapes_and_state_continuation(cell):
    gn.manual_seed(0)
    model = CharRNN(11, embed_dim=8, hidden_size=16, num_layers=2, cell=cell)
    idx = gn.tensor(np.random.default_rng(0).integers(0, 11, (3, 10)))
    logits, state = model(idx)
    assert logits.shape == (3, 10, 11)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 16)
    # running in two chunks with the state carried gives the same logits as one pass
    a, s = model(idx[:, :6])
    b, _ = model(idx[:, 6:], s)
    np.testing.assert_allclose(np.concatenate([a.array, b.array], 1), logits.array, rtol=1e-5, atol=1e-6)
    # one step at a time, too
    last, _ = model.step(idx[:, 6], s)
    np.testing.assert_allclose(last.array, logits.array[:, 6], rtol=1e-5, atol=1e-6)


def test_char_rnn_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        CharRNN(10, cell="transformer")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        CharRNN(10, hidden_size=0)
    model = CharRNN(10, 4, 8, 1)
    with pytest.raises(TypeError, match="integer Tensor"):
        model(gn.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        model(gn.tensor(np.zeros(3, np.int64)))


def test_char_rnn_matches_torch_loss_and_gradients():
    """The model equals the same stack built from torch modules (same weights)."""
    gn.manual_seed(0)
    model = CharRNN(13, embed_dim=6, hidden_size=10, num_layers=2, cell="lstm")
    emb, lstm, head = torch.nn.Embedding(13, 6), torch.nn.LSTM(6, 10, 2, batch_first=True), torch.nn.Linear(10, 13)
    sd = {k: torch.from_numpy(v.array.copy()) for k, v in model.state_dict().items()}
    emb.load_state_dict({"weight": sd["embed.weight"]})
    lstm.load_state_dict({k[4:]: v for k, v in sd.items() if k.startswith("rnn.")})
    head.load_state_dict({"weight": sd["head.weight"], "bias": sd["head.bias"]})
    data = np.random.default_rng(1).integers(0, 13, (4, 9))
    loss, _ = model.loss(gn.tensor(data[:, :-1]), gn.tensor(data[:, 1:]))
    loss.backward()
    t_logits = head(lstm(emb(torch.from_numpy(data[:, :-1])))[0])
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, 13), torch.from_numpy(data[:, 1:]).reshape(-1))
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
    np.testing.assert_allclose(model.rnn.weight_hh_l0.grad.array, lstm.weight_hh_l0.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(model.embed.weight.grad.array, emb.weight.grad.numpy(), rtol=1e-4, atol=1e-6)


# ---- sampling ---------------------------------------------------------------------------------------------
def _toy_model(cell="gru"):
    gn.manual_seed(1)
    tok = CharTokenizer(TEXT)
    return CharRNN(tok.vocab_size, 8, 16, 2, cell=cell, dropout=0.2), tok


def test_sampling_is_reproducible_for_a_seed():
    model, tok = _toy_model()
    a = sample(model, tok, "First", 60, temperature=1.0, top_k=5, generator=gn.Generator(3))
    b = sample(model, tok, "First", 60, temperature=1.0, top_k=5, generator=gn.Generator(3))
    c = sample(model, tok, "First", 60, temperature=1.0, top_k=5, generator=gn.Generator(4))
    assert a == b and a != c
    assert a.startswith("First") and len(a) == len("First") + 60
    assert model.training  # sampling ran in eval mode (no dropout) and restored the mode
    gn.manual_seed(7)
    d = sample(model, tok, "First", 60)  # the default generator follows manual_seed
    gn.manual_seed(7)
    assert sample(model, tok, "First", 60) == d


def test_sampling_streams_and_greedy_limits():
    model, tok = _toy_model("lstm")
    out = io.StringIO()
    text = sample(model, tok, "Be", 30, temperature=0.7, generator=gn.Generator(0), out=out)
    assert out.getvalue() == text
    pieces = stream(model, tok, "Be", 5, generator=gn.Generator(0))
    first = next(pieces)  # a generator: text arrives one character at a time
    assert isinstance(first, str) and len(first) == 1
    greedy = sample(model, tok, "Be", 30, temperature=0.0)
    assert greedy == sample(model, tok, "Be", 30, temperature=0.0, generator=gn.Generator(5))
    assert sample(model, tok, "Be", 30, top_k=1, generator=gn.Generator(9)) == greedy  # top-1 is greedy
    with pytest.raises(ValueError, match="prompt must be a non-empty str"):
        sample(model, tok, "", 5)
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        sample(model, tok, "Be", 5, top_k=0)
    with pytest.raises(ValueError, match="temperature must be"):
        sample(model, tok, "Be", 5, temperature=-1)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sample(model, tok, "Q~", 5)


def test_sample_next_top_k_and_temperature():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    draws = np.array([sample_next(logits, 1.0, 2, gn.Generator(s))[0] for s in range(300)])
    assert set(draws.tolist()) <= {0, 1}  # only the two most likely
    assert 0.5 < (draws == 0).mean() < 0.75  # 0.5 / 0.8 = 0.625 after renormalising
    cold = np.array([sample_next(logits, 0.1, None, gn.Generator(s))[0] for s in range(100)])
    assert (cold == 0).mean() > 0.95  # a low temperature sharpens towards the argmax


def test_sampling_a_context_model_gpt():
    """A model without step() (GPT) is asked for one token at a time on its cropped context."""
    from glassnet.models import GPT

    gn.manual_seed(0)
    tok = CharTokenizer(TEXT)
    model = GPT(tok.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=16)
    a = sample(model, tok, "Before", 20, temperature=0.9, top_k=4, generator=gn.Generator(2))
    assert a == sample(model, tok, "Before", 20, temperature=0.9, top_k=4, generator=gn.Generator(2))
    assert a.startswith("Before") and len(a) == 26
    greedy = sample(model, tok, "Before", 12, temperature=0.0)
    ids = model.generate(gn.tensor(np.array([tok.encode("Before")])), 12, temperature=0.0).array[0]
    assert greedy == tok.decode(ids)


def test_sample_with_states_shapes():
    model, tok = _toy_model("lstm")
    text, pieces, h = sample_with_states(model, tok, "Be", 12, generator=gn.Generator(0))
    assert len(text) == 12 and len(pieces) == 14 and h.shape == (14, 16)
    assert "".join(pieces) == "Be" + text


# ---- seq2seq with additive attention ----------------------------------------------------------------------
def test_additive_attention_formula_and_masking():
    gn.manual_seed(0)
    att = AdditiveAttention(5, 6, 7)
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 5)).astype(np.float32), rng.standard_normal((2, 4, 6)).astype(np.float32)
    mask = np.array([[True, True, True, True], [True, True, False, False]])
    context, w = att(gn.tensor(q), gn.tensor(k), mask=gn.tensor(mask))
    # v^T tanh(W_q q + W_k k + b), softmax over the unmasked keys, weighted sum of the keys
    Wq, Wk, b, v = (p.array.astype(np.float64) for p in (att.query_proj.weight, att.key_proj.weight,
                                                        att.key_proj.bias, att.v.weight))
    scores = np.tanh((q @ Wq.T)[:, None] + k @ Wk.T + b) @ v[0]  # (B, S)
    scores = np.where(mask, scores, -np.inf)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(w.array, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(w.array.sum(1), 1.0, rtol=1e-6)
    assert (w.array[1, 2:] == 0).all()
    np.testing.assert_allclose(context.array, np.einsum("bs,bsk->bk", expected, k), rtol=1e-5, atol=1e-6)


def test_additive_attention_gradients_match_torch():
    gn.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 6, 4)).astype(np.float32)
    gq, gk = gn.tensor(q, requires_grad=True), gn.tensor(k, requires_grad=True)
    context, w = att(gq, gk)
    ((context * context).sum() + (w * w).sum()).backward()
    P = {n: torch.tensor(p.array, requires_grad=True) for n, p in att.named_parameters()}
    tq, tk = torch.tensor(q, requires_grad=True), torch.tensor(k, requires_grad=True)
    e = torch.tanh(tk @ P["key_proj.weight"].T + P["key_proj.bias"] + (tq @ P["query_proj.weight"].T)[:, None])
    tw = torch.softmax((e @ P["v.weight"].T)[..., 0], -1)
    tc = (tw[:, :, None] * tk).sum(1)
    ((tc * tc).sum() + (tw * tw).sum()).backward()
    np.testing.assert_allclose(gq.grad.array, tq.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gk.grad.array, tk.grad.numpy(), rtol=1e-4, atol=1e-6)
    for n, p in att.named_parameters():
        np.testing.assert_allclose(p.grad.array, P[n].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_seq2seq_shapes_and_attention_rows_sum_to_one(cell):
    gn.manual_seed(0)
    model = Seq2SeqRNN(12, 9, embed_dim=8, hidden_size=16, cell=cell, src_pad=0)
    src = np.random.default_rng(0).integers(4, 12, (3, 7))
    src[1, 5:] = 0  # padding at the end of row 1
    tgt_in = np.random.default_rng(1).integers(1, 9, (3, 5))
    logits, w = model(gn.tensor(src), gn.tensor(tgt_in), return_attention=True)
    assert logits.shape == (3, 5, 9) and w.shape == (3, 5, 7)
    np.testing.assert_allclose(w.array.sum(-1), 1.0, rtol=1e-5)
    assert (w.array[1, :, 5:] == 0).all()  # no attention on padding
    tokens, gw = model.greedy_decode(gn.tensor(src), bos=1, eos=2, max_len=6)
    assert tokens.shape[0] == 3 and tokens.shape[1] <= 6 and gw.shape == (3, tokens.shape[1], 7)
    np.testing.assert_allclose(gw.sum(-1), 1.0, rtol=1e-5)
    # teacher forcing on the greedy output reproduces the greedy choices
    forced = np.concatenate([np.ones((3, 1), np.int64), tokens[:, :-1]], 1)
    np.testing.assert_array_equal(model(gn.tensor(src), gn.tensor(forced)).array.argmax(-1)[tokens != 2],
                                  tokens[tokens != 2])


def test_seq2seq_attention_tiny_run_reaches_accuracy(tmp_path):
    """Reversing 5 digits: >= 95% exact match on held-out sequences after 200 steps (100% when written)."""
    config = S.Seq2SeqConfig(task="reverse", length=5, iters=200, batch_size=64, hidden_size=48, embed_dim=16,
                             eval_every=100, eval_problems=200, test_problems=500, pictures=2, lr=5e-3, warmup=20)
    summary = RECIPES["seq2seq-attention"].run(config, str(tmp_path))
    assert summary["test_exact_match"] >= 0.95, summary
    assert summary["steps"] == 200
    attention = [p for p in summary["plots"] if os.path.basename(p).startswith("attention_")]
    assert len(attention) == 2 and all(os.path.getsize(p) > 1000 for p in attention)
    assert (tmp_path / "examples.txt").read_text().count("\n") == 40
    # the held-out problems were never trained on: they are test problems by hash
    task = ReverseTask(length=5)
    assert task.in_test(task.test_set(500, seed=config.seed + 2)).all()
    state = gn.load(str(tmp_path / "checkpoints" / "best.safetensors"))
    ev = RECIPES["seq2seq-attention"].evaluate(config, state)
    assert ev["test_exact_match"] >= 0.95


def test_seq2seq_task_choice(tmp_path):
    from glassnet.recipes.config import check_config

    with pytest.raises(ValueError, match="--task: must be one of number-words, reverse, sort, copy, got 'chess'"):
        check_config(S.Seq2SeqConfig(task="chess"))
    assert S._seq2seq_task(S.Seq2SeqConfig(task="number-words")).name == "number-words"


# ---- the vanishing-gradient experiment --------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_unroll_matches_the_fused_layer_and_state_gradients(cell):
    gn.manual_seed(0)
    model = CharRNN(9, 5, 12, 2, cell=cell)
    tokens = np.random.default_rng(0).integers(0, 9, 16)
    x = model.embed(gn.tensor(tokens[:-1, None]))
    out, states = RG.unroll(model.rnn, x, retain=False)
    fused, _ = model.features(gn.tensor(tokens[None, :-1]))
    np.testing.assert_allclose(out.array[:, 0], fused.array[0], rtol=1e-5, atol=1e-6)
    norms = RG.state_gradient_norms(model, tokens)
    assert norms.shape == (15,)
    # the other way: the gradient with respect to the fused layer's initial state, starting at s_t
    t = 6
    with gn.no_grad():
        _, s_t = model(gn.tensor(tokens[None, : t + 1]))
    start = tuple(gn.tensor(s.array, requires_grad=True) for s in (s_t if cell == "lstm" else (s_t,)))
    logits, _ = model(gn.tensor(tokens[None, t + 1:-1]), start if cell == "lstm" else start[0])
    loss = gn.nn.functional.cross_entropy(logits[:, -1], gn.tensor(tokens[-1:]))
    grads = gn.autograd.grad(loss, list(start))
    direct = math.sqrt(sum(float((g.array.astype(np.float64) ** 2).sum()) for g in grads))
    assert norms[t] == pytest.approx(direct, rel=1e-4)


def test_vanishing_gradients_rnn_loses_the_gradient_fastest(tmp_path):
    tokens = np.random.default_rng(0).integers(0, 65, 61)
    profiles = RG.state_gradient_norms_by_cell(tokens, 65, embed_dim=16, hidden_size=64)
    rel = {k: RG.relative(v) for k, v in profiles.items()}
    assert set(rel) == {"rnn (init)", "lstm (init)", "gru (init)"}
    for r in rel.values():
        assert r[-1] == 1.0 and r[0] < 1e-5  # 60 steps back the gradient has faded for every cell at init
    # ... but far more for the vanilla RNN: at least 100x smaller than the gated cells' at step 0
    assert rel["lstm (init)"][0] > 100 * rel["rnn (init)"][0]
    assert rel["gru (init)"][0] > 100 * rel["rnn (init)"][0]
    fig = RG.plot_state_gradients(profiles, tmp_path / "v.png")
    assert fig is not None and os.path.getsize(tmp_path / "v.png") > 1000


# ---- the character recipes -----------------------------------------------------------------------------------
TINY = dict(iters=150, batch_size=32, seq_len=32, embed_dim=32, hidden_size=96, eval_every=75, lr=4e-3, warmup=10,
            train_chars=300_000, val_chars=20_000, sample_chars=40)


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory):
    if not shakespeare_available():
        pytest.skip("tiny Shakespeare not found (set GLASSNET_DATA)")
    run_dir = str(tmp_path_factory.mktemp("char-gru"))
    config = S.CharConfig(**TINY)
    return config, run_dir, RECIPES["char-gru"].run(config, run_dir)


@needs_shakespeare
def test_char_gru_tiny_run_learns(gru_run):
    """A 2-layer GRU (96 units) for 150 steps of 32 x 32 characters: validation loss below 2.5 nats/char
    (2.31 when written; the uniform guess is ln 65 = 4.17)."""
    config, run_dir, summary = gru_run
    assert summary["val_loss"] < 2.5, summary
    assert summary["val_loss"] < summary["train_loss"] + 0.5
    assert summary["char_per_second"] > 0 and 0 < summary["epochs"] < 1
    with open(os.path.join(run_dir, "summary.json")) as f:
        assert json.load(f)["val_loss"] == summary["val_loss"]
    for name in ("curves.png", "hidden_states.png", "vanishing_gradients.png"):
        assert os.path.getsize(os.path.join(run_dir, "plots", name)) > 1000
    assert len(open(os.path.join(run_dir, "samples.txt")).read()) == 41
    ratios = summary["grad_ratio_50_steps_back"]
    assert ratios["rnn (init)"] < ratios["gru (init)"]


@needs_shakespeare
def test_char_recipe_evaluate_and_sample_command(gru_run, capsys):
    config, run_dir, summary = gru_run
    state = gn.load(os.path.join(run_dir, "checkpoints", "last.safetensors"))
    ev = RECIPES["char-gru"].evaluate(config, state)
    assert ev["val_loss"] == pytest.approx(summary["val_loss"], rel=1e-6)
    args = ["sample", run_dir, "--prompt", "ROMEO:", "--temperature", "0.8", "--top-k", "10", "--length", "30",
            "--seed", "1"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 30 + 1
    cli.main(args)
    assert capsys.readouterr().out == first  # same seed, same text
    assert cli.main(["sample", run_dir, "--prompt", "Q~"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err


def test_tbptt_carries_the_state_and_resets_streams():
    model, tok = _toy_model("lstm")
    model.eval()  # no dropout: the losses below are deterministic
    ids = np.asarray(tok.encode(TEXT * 4))
    batcher = S.StreamBatcher(ids, 4, 8, drop_last=True)
    (x0, y0), (x1, y1) = batcher[0], batcher[1]
    _, s0 = model.loss(x0, y0)
    never, always = S.TBPTT(batcher), S.TBPTT(batcher, reset_prob=1.0)
    for t in (never, always):
        t.loss(model, t.next())
    carried = never.loss(model, never.next()).item()
    assert carried == pytest.approx(model.loss(x1, y1, s0)[0].item(), rel=1e-6)
    fresh = always.loss(model, always.next()).item()  # every stream reset: the same as no state
    assert fresh == pytest.approx(model.loss(x1, y1)[0].item(), rel=1e-6)
    assert carried != pytest.approx(fresh, rel=1e-4)
    half = S.TBPTT(batcher, reset_prob=0.5)
    gn.manual_seed(3)
    h, c = half._reset_some((gn.ones(2, 4, 16), gn.ones(2, 4, 16)))
    assert set(h.array[0, :, 0].tolist()) == {0.0, 1.0} and (h.array == c.array).all()
    with pytest.raises(ValueError, match="reset_prob"):
        S.TBPTT(batcher, reset_prob=1.5)


def test_tbptt_checkpoint_holds_the_carried_state(tmp_path):
    """The state carried from chunk to chunk goes into the checkpoint and comes back bit for bit, so the
    chunk after a resume starts from it (without it a resumed character model diverges from the first step)."""
    model, tok = _toy_model("lstm")
    ids = np.asarray(tok.encode(TEXT * 4))
    source = S.TBPTT(S.StreamBatcher(ids, 4, 8, drop_last=True), reset_prob=0.3)
    for _ in range(3):
        source.loss(model, source.next())
    gn.save({"batches": source.state_dict()}, tmp_path / "c.safetensors")
    back = S.TBPTT(S.StreamBatcher(ids, 4, 8, drop_last=True), reset_prob=0.3)
    back.load_state_dict(gn.load(tmp_path / "c.safetensors")["batches"])
    assert back.position == 3 and isinstance(back.state, tuple)
    for a, b in zip(source.state, back.state):
        np.testing.assert_array_equal(a.array, b.array)
    gn.manual_seed(1)
    expected = source.loss(model, source.next()).item()
    gn.manual_seed(1)
    assert back.loss(model, back.next()).item() == expected


def test_stream_loss_counts_every_character():
    model, tok = _toy_model()
    ids = np.asarray(tok.encode(TEXT * 3))
    loss, batches, chars = S.stream_loss(model, ids, streams=4, seq_len=10)
    assert chars == 4 * ((len(ids) - 1) // 4) and batches == math.ceil((len(ids) - 1) // 4 / 10)
    # equals one pass over each stream from a zero state
    L = (len(ids) - 1) // 4
    x, y = ids[: 4 * L].reshape(4, L), ids[1: 4 * L + 1].reshape(4, L)
    model.eval()
    full, _ = model.loss(gn.tensor(x), gn.tensor(y))
    assert loss == pytest.approx(full.item(), rel=1e-5)
