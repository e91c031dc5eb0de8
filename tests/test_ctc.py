"""The CTC loss against torch.nn.functional.ctc_loss (values and gradients through log_softmax, every
reduction, repeated labels, a non-zero blank, varied lengths, both target layouts, zero_infinity), against
a brute-force sum over all alignments, the exact gradient for log_probs that are leaves (float64
gradcheck), nn.CTCLoss, greedy and beam-search decoding, and bad input."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.ops.ctc import beam_search_decode, collapse, forced_align, greedy_decode
from parity import Case, Const, run_case


def _problem(steps, n, classes, max_len, blank=0, seed=0, repeats=True, short=False):
    """Targets (N, max_len) with labels != blank, input lengths <= steps, target lengths <= max_len."""
    rng = np.random.default_rng(seed)
    labels = [c for c in range(classes) if c != blank]
    targets = rng.choice(labels, size=(n, max_len))
    if repeats:
        targets[0, :3] = labels[0]  # a run of equal labels needs blanks between them
    target_lengths = rng.integers(0, max_len + 1, n)
    target_lengths[0] = max_len
    input_lengths = rng.integers(2 * max_len + 1, steps + 1, n)
    input_lengths[-1] = steps
    if short:  # an impossible sample: fewer frames than labels
        input_lengths[0] = max_len - 1
    return targets, input_lengths, target_lengths


def _case(name, steps, n, classes, max_len, blank=0, reduction="mean", zero_infinity=False, flat=False, **kw):
    targets, il, tl = _problem(steps, n, classes, max_len, blank, **kw)
    if flat:
        targets = np.concatenate([targets[i, :tl[i]] for i in range(n)])
    opts = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)

    def op(lib, x, t, i, l):
        fn = F.ctc_loss if lib is gn else TF.ctc_loss
        return fn(x.log_softmax(-1), t, i, l, **opts)

    return Case(name, lambda *a: op(gn, *a), [(steps, n, classes), Const(lambda rng: targets),
                                              Const(lambda rng: il), Const(lambda rng: tl)],
                torch_fn=lambda *a: op(torch, *a), atol=1e-5)


CASES = [
    _case("ctc_mean", 12, 4, 5, 4),
    _case("ctc_sum", 12, 4, 5, 4, reduction="sum"),
    _case("ctc_none", 10, 3, 4, 3, reduction="none"),
    _case("ctc_blank_last", 12, 3, 6, 4, blank=5, reduction="none", seed=1),
    _case("ctc_flat_targets", 14, 5, 7, 5, flat=True, seed=2),
    _case("ctc_long_no_repeats", 40, 2, 8, 6, repeats=False, reduction="sum", seed=3),
    _case("ctc_zero_infinity", 9, 3, 4, 4, zero_infinity=True, reduction="none", short=True, seed=4),
    _case("ctc_zero_infinity_mean", 9, 3, 4, 4, zero_infinity=True, short=True, seed=5),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_unbatched_matches_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((7, 4)).astype(np.float32)
    target = np.array([1, 3, 3])
    got = F.ctc_loss(gn.tensor(x).log_softmax(-1), gn.tensor(target), 7, 3, reduction="none")
    want = TF.ctc_loss(torch.tensor(x).log_softmax(-1), torch.tensor(target), torch.tensor(7), torch.tensor(3),
                       reduction="none")
    assert got.shape == () and abs(float(got) - float(want)) < 1e-5


def _brute_force_nll(log_probs, target, blank):
    """-log of the summed probability of every alignment (one symbol per frame) that reads as target."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        if collapse(path, blank) == list(target):
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("target, blank", [([1, 2], 0), ([1, 1], 0), ([2], 1), ([], 0), ([1, 0, 1], 2)])
def test_equals_the_sum_over_all_alignments(target, blank):
    rng = np.random.default_rng(7)
    lp = torch.tensor(rng.standard_normal((6, 3))).log_softmax(-1).numpy()
    loss = F.ctc_loss(gn.tensor(lp), gn.tensor(np.array(target, np.int64)), 6, len(target), blank=blank,
                      reduction="none")
    np.testing.assert_allclose(float(loss), _brute_force_nll(lp, target, blank), rtol=1e-10)


def test_gradient_is_exact_for_log_probs_that_are_leaves():
    """PyTorch's ctc_loss gradient is right only through a log_softmax; glassnet's is the partial derivative."""
    targets, il, tl = _problem(8, 3, 4, 3, seed=8)
    x = gn.tensor(np.random.default_rng(8).standard_normal((8, 3, 4)), requires_grad=True)
    for reduction in ("none", "mean"):
        gn.autograd.gradcheck(lambda x: F.ctc_loss(x, gn.tensor(targets), il, tl, reduction=reduction), [x])


def test_impossible_alignment_without_zero_infinity_is_inf_with_nan_gradient_as_torch():
    targets, il, tl = _problem(9, 3, 4, 4, short=True, seed=9)
    x0 = np.random.default_rng(9).standard_normal((9, 3, 4))
    x = gn.tensor(x0, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(-1), gn.tensor(targets), il, tl, reduction="none")
    xt = torch.tensor(x0, requires_grad=True)
    loss_t = TF.ctc_loss(xt.log_softmax(-1), torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                         reduction="none")
    assert np.isinf(loss.array[0]) and np.isinf(loss_t[0].item())
    loss.sum().backward()
    loss_t.sum().backward()
    np.testing.assert_array_equal(np.isnan(x.grad.array), np.isnan(xt.grad.numpy()))
    np.testing.assert_allclose(x.grad.array[:, 1:], xt.grad.numpy()[:, 1:], atol=1e-12)


def test_module_and_empty_inputs():
    loss_fn = gn.nn.CTCLoss(blank=0, reduction="sum")
    lp = gn.tensor(np.log(np.full((3, 2, 3), 1 / 3)))
    # sample 0: no frames and no labels (probability 1); sample 1: three frames, no labels
    out = loss_fn(lp, gn.tensor(np.zeros((2, 1), np.int64)), [0, 3], [0, 0])
    np.testing.assert_allclose(float(out), 3 * np.log(3))


def _peaked(path, classes, confidence=0.9):
    """Frames whose best symbol follows `path`."""
    lp = np.full((len(path), classes), (1 - confidence) / (classes - 1))
    lp[np.arange(len(path)), path] = confidence
    return np.log(lp)


def test_greedy_decode_merges_repeats_and_drops_blanks():
    lp = np.stack([_peaked([0, 3, 3, 0, 3, 1, 1, 0], 4), _peaked([2, 2, 2, 2, 0, 0, 0, 0], 4)], axis=1)
    assert greedy_decode(gn.tensor(lp)) == [[3, 3, 1], [2]]
    assert greedy_decode(lp, input_lengths=[3, 8]) == [[3], [2]]
    assert greedy_decode(lp, blank=3) == [[0, 0, 1, 0], [2, 0]]


def _most_probable_labelling(lp, blank):
    steps, classes = lp.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=steps):
        key = tuple(collapse(path, blank))
        totals[key] = totals.get(key, 0.0) + np.exp(lp[np.arange(steps), list(path)].sum())
    best = max(totals, key=totals.get)
    return list(best), np.log(totals[best])


@pytest.mark.parametrize("seed", range(4))
def test_beam_search_finds_the_most_probable_labelling(seed):
    rng = np.random.default_rng(seed)
    lp = torch.tensor(rng.standard_normal((5, 3)) * 1.5).log_softmax(-1).numpy()
    labels, scores = beam_search_decode(lp, beam_width=100, return_scores=True)
    best, log_p = _most_probable_labelling(lp, 0)
    assert labels == [best]
    np.testing.assert_allclose(scores[0], log_p, rtol=1e-10)
    np.testing.assert_allclose(-scores[0], float(F.ctc_loss(gn.tensor(lp), gn.tensor(np.array(best)), 5, len(best),
                                                            reduction="none")), rtol=1e-10)


def test_beam_search_beats_greedy_when_alignments_split_the_mass():
    # Blank wins every frame (0.4 > 0.3), so greedy reads nothing (probability 0.16); "1" has 0.33.
    lp = np.log(np.array([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]]))
    assert greedy_decode(lp) == [[]]
    labels, scores = beam_search_decode(lp, beam_width=4, return_scores=True)
    assert labels in ([[1]], [[2]]) and np.exp(scores[0]) > 0.4 ** 2


@pytest.mark.parametrize("call, match", [
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [0, 1]]), [5, 5], [2, 2]), "blank index 0"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 4], [1, 1]]), [5, 5], [2, 2]), "label 4 is out of range"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [6, 5], [2, 2]), "exceed the 5 frames"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [5, 5], [3, 2]), "at least"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([1, 2, 3]), [5, 5], [2, 2]), "sum\\(target_lengths\\) = 4"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [5], [2, 2]), "input_lengths must be 2"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [5, -1], [2, 2]), "non-negative"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [5, 5], [2, 2], blank=4), "blank must be"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1.0, 2.0]]), [5, 5], [1, 1]), "integers"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4), gn.tensor([[1, 2], [1, 1]]), [5, 5], [2, 2], reduction="avg"),
     "reduction"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4, 1), gn.tensor([[1]]), [5], [1]), r"\(T, N, C\)"),
    (lambda: F.ctc_loss(gn.zeros(5, 2, 4, dtype=gn.int64), gn.tensor([[1]]), [5], [1]), "floating point"),
    (lambda: beam_search_decode(np.zeros((3, 4)), beam_width=0), "beam_width"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        call()


def _best_alignment(lp, target, blank):
    steps, classes = lp.shape
    paths = [p for p in itertools.product(range(classes), repeat=steps) if collapse(p, blank) == list(target)]
    return max(paths, key=lambda p: lp[np.arange(steps), list(p)].sum())


@pytest.mark.parametrize("target", [[1, 2], [2, 2], [1], [2, 1, 2]])
def test_forced_align_finds_the_most_probable_alignment(target):
    lp = torch.tensor(np.random.default_rng(10).standard_normal((6, 3)) * 2).log_softmax(-1).numpy()
    path = forced_align(lp, target)
    assert collapse(path) == target
    np.testing.assert_array_equal(path, _best_alignment(lp, target, 0))
    with pytest.raises(ValueError, match="cannot hold"):
        forced_align(lp[:2], [1, 1])
