"""Toy tasks: every answer checked against an independent computation, token layouts, and no leakage
between the training draws and the held-out test sets."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.tasks import (BOS, EOS, IGNORE_INDEX, PAD, SEP, AdditionTask, CopyTask, NumberWordsTask, ReverseTask,
                            SortTask, make_task, number_to_words)

ALL = [CopyTask(6), ReverseTask(6), SortTask(6), SortTask(5, base=4), AdditionTask(3), AdditionTask(2, False),
       NumberWordsTask(), NumberWordsTask(max_number=1000)]


def _ids(task):
    return [f"{t.name}-{i}" for i, t in enumerate(task)]


def _python_answer(task, problem):
    """The answer as a string, computed with plain Python (not the task's vectorised code)."""
    if isinstance(task, CopyTask):
        return " ".join(map(str, problem))
    if isinstance(task, ReverseTask):
        return " ".join(map(str, problem[::-1]))
    if isinstance(task, SortTask):
        return " ".join(map(str, sorted(problem)))
    if isinstance(task, AdditionTask):
        digits = str(int(problem[0]) + int(problem[1])).zfill(task.digits + 1)
        return " ".join(digits[::-1] if task.reverse_answer else digits)
    return number_to_words(int(problem[0]))


def _python_source(task, problem):
    if isinstance(task, AdditionTask):
        a, b = (str(int(v)).zfill(task.digits) for v in problem)
        return " ".join(a + "+" + b)
    if isinstance(task, NumberWordsTask):
        return str(int(problem[0]))
    return " ".join(map(str, problem))


@pytest.mark.parametrize("task", ALL, ids=_ids(ALL))
def test_answers_and_sources_match_plain_python(task):
    problems = task.sample(300, generator=gn.Generator(3))
    answers, sources = task.answer(problems), task.source(problems)
    for p, a, s in zip(problems, answers, sources):
        assert task.decode(a, " ") == _python_answer(task, p)
        assert task.decode(s, task.source_joiner) == _python_source(task, p).replace(
            " ", task.source_joiner)


def test_number_words_by_hand_and_everywhere():
    for n, words in [(0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (40, "forty"),
                     (105, "one hundred five"), (1234, "one thousand two hundred thirty four"),
                     (90017, "ninety thousand seventeen"), (500000, "five hundred thousand"),
                     (999999, "nine hundred ninety nine thousand nine hundred ninety nine")]:
        assert number_to_words(n) == words
    task = NumberWordsTask()
    every = np.arange(0, 10 ** 6, 37)[:, None]  # a stride through the whole range
    answers = task.answer(every)
    assert all(task.decode(a) == number_to_words(int(n)) for n, a in zip(every[:, 0], answers))
    assert task.describe([1234]) == "1234 -> one thousand two hundred thirty four"
    with pytest.raises(ValueError, match="number_to_words"):
        number_to_words(10 ** 6)


@pytest.mark.parametrize("task", ALL, ids=_ids(ALL))
def test_no_leakage_between_training_and_test(task):
    test = task.test_set(500, seed=11)
    assert len(test) == len(np.unique(test, axis=0))  # distinct
    assert task.in_test(test).all()
    train = task.sample(20000, "train", generator=gn.Generator(5))
    assert not task.in_test(train).any()
    seen = {tuple(r) for r in train.tolist()}
    assert not any(tuple(r) in seen for r in test.tolist())
    # the same seed gives the same test set; the test part is about test_fraction of all problems
    np.testing.assert_array_equal(task.test_set(500, seed=11), test)
    distinct = np.unique(task._draw(np.random.default_rng(0), 20000), axis=0)
    assert abs(task.in_test(distinct).mean() - task.test_fraction) < 0.03


def test_number_words_test_numbers_never_drawn_for_training():
    task = NumberWordsTask(max_number=10000)
    held_out = set(np.flatnonzero(task.in_test(np.arange(10000)[:, None])).tolist())
    assert 800 < len(held_out) < 1200  # 10% of all numbers
    drawn = set(task.sample(50000, generator=gn.Generator(0))[:, 0].tolist())
    assert not drawn & held_out
    assert set(task.test_set(len(held_out), seed=0)[:, 0].tolist()) <= held_out
    # whatever the seed of training draws, the split does not move; another salt moves it
    other = NumberWordsTask(max_number=10000, salt=1)
    assert set(np.flatnonzero(other.in_test(np.arange(10000)[:, None])).tolist()) != held_out


def test_lm_batch_layout():
    task = SortTask(3)
    x, y = task.lm_batch(np.array([[2, 0, 1]]))
    d = len(task.itos) - task.base  # id of digit 0
    assert x.dtype == np.int64 and x.shape == (1, task.lm_block_size)
    assert x.array.tolist() == [[2 + d, 0 + d, 1 + d, SEP, 0 + d, 1 + d, 2 + d]]
    assert y.array.tolist() == [[IGNORE_INDEX] * 3 + [0 + d, 1 + d, 2 + d, EOS]]
    prompt = task.lm_prompt(np.array([[2, 0, 1]]))
    np.testing.assert_array_equal(prompt.array, x.array[:, :4])


def test_lm_batch_of_variable_length_answers_ignores_padding():
    task = NumberWordsTask()
    x, y = task.lm_batch(np.array([[7], [123456]]))
    # "seven" <eos>: the first row has one answer target and the eos, the rest ignored
    row = y.array[0]
    kept = row[row != IGNORE_INDEX]
    assert task.decode(kept) == "seven" and kept[-1] == EOS and len(kept) == 2
    assert (y.array[1] != IGNORE_INDEX).sum() == len(number_to_words(123456).split()) + 1


def test_seq2seq_batch_layout():
    task = NumberWordsTask()
    src, tgt_in, tgt_out = task.seq2seq_batch(np.array([[42], [100000]]))
    assert task.decode(src.array[0], "") == "42" and src.array[0, 2:].tolist() == [PAD] * 4
    assert tgt_in.array[:, 0].tolist() == [BOS, BOS]
    assert task.decode(tgt_in.array[0, 1:]) == "forty two"
    assert tgt_out.array[0, :3].tolist() == tgt_in.array[0, 1:3].tolist() + [EOS]
    assert (tgt_out.array[0, 3:] == IGNORE_INDEX).all()
    assert tgt_in.shape == tgt_out.shape == (2, task.answer_len + 1)


def test_exact_match():
    task = ReverseTask(3)
    problems = np.array([[1, 2, 3], [4, 5, 6]])
    good = task.answer(problems)
    pred = np.concatenate([good, np.full((2, 1), EOS), np.full((2, 2), 9)], 1)  # junk after the eos is ignored
    assert task.exact_match(pred, problems).tolist() == [True, True]
    pred[1, 0] = pred[1, 1]
    assert task.exact_match(pred, problems).tolist() == [True, False]
    assert task.exact_match(good[:, :2], problems).tolist() == [False, False]  # too short
    with pytest.raises(ValueError, match="exact_match"):
        task.exact_match(good[:1], problems)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="test_fraction"):
        SortTask(5, test_fraction=0)
    with pytest.raises(ValueError, match="SortTask"):
        SortTask(0)
    with pytest.raises(ValueError, match="split"):
        SortTask(5).sample(3, "val")
    with pytest.raises(ValueError, match="unknown task"):
        make_task("multiply")
    with pytest.raises(ValueError, match="max_number"):
        NumberWordsTask(max_number=10 ** 7)
    assert isinstance(make_task("add", digits=2), AdditionTask)
