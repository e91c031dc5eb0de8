"""Toy sequence tasks with exactly checkable answers: copy, reverse, sort, addition, number to words.

Every task draws its problems on the fly from a seed and splits them into a training and a test
part by a hash of the problem itself: a problem is a test problem when the hash of its content falls
in the lowest `test_fraction` of the hash range. Training draws reject test problems, test sets only
contain test problems, so the two can never share an example (for number to words: the test numbers
are never seen in training, whatever they are written as).

All tasks share one vocabulary layout: the special tokens

    0 <pad>   1 <bos>   2 <eos>   3 <sep>

then the task's own symbols (digits, '+', words). A problem is an int64 row; each task turns
problems into token ids two ways:

* for a decoder-only model (GPT): `lm_batch` gives x = source <sep> answer <eos> (minus the last
  token) and y = x shifted by one, with the targets of the source part and of the padding set to
  -100 (cross_entropy's ignore_index), so only the answer is learned;
* for an encoder-decoder model: `seq2seq_batch` gives src (source, <pad>-padded), tgt_in
  (<bos> answer) and tgt_out (answer <eos>, padding -100).

    task = SortTask(length=5)
    train = task.sample(256, generator=gn.Generator(0))        # (256, 5) problems, none in the test part
    x, y = task.lm_batch(train)
    test = task.test_set(1000)                                  # 1000 distinct held-out problems
    task.exact_match(predicted_answer_ids, test)                # (1000,) bool
"""
import numpy as np

from ..random import Generator, rng
from ..tensor import Tensor

__all__ = ["ToyTask", "CopyTask", "ReverseTask", "SortTask", "AdditionTask", "NumberWordsTask", "number_to_words",
           "problem_hash", "PAD", "BOS", "EOS", "SEP", "IGNORE_INDEX", "TASKS", "make_task"]

PAD, BOS, EOS, SEP = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<sep>"]
IGNORE_INDEX = -100  # the default ignore_index of cross_entropy



def _mix64(h):
    """SplitMix64's finaliser on a uint64 array: every input bit affects every output bit."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def problem_hash(problems, salt=0):
    """A uint64 hash of each row of the int64 array `problems` (N, K): the same row, the same hash.

    Columns are folded in one after another (a loop over the K columns, vectorised over the rows).
    """
    problems = np.asarray(problems, dtype=np.int64)
    with np.errstate(over="ignore"):
        h = np.full(problems.shape[0], np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(salt), np.uint64)
        for column in problems.T:
            h = _mix64(h ^ (column.astype(np.uint64) + np.uint64(0x632BE59BD9B4E019)))
    return h


class ToyTask:
    """Base class. A subclass sets `name`, `symbols`, `source_len`, `answer_len` and writes `_draw`,
    `_source`, `_answer` (and may override `_source_lengths` / `_answer_lengths` when they vary).

    test_fraction: the share of all problems kept for testing (by hash of the problem).
    salt: a non-negative int; changing it changes which problems are test problems.
    """

    name = "toy"
    symbols = []
    source_joiner = " "
    answer_joiner = " "

    def __init__(self, test_fraction=0.1, salt=0):
        if not 0 < test_fraction < 1:
            raise ValueError(f"{type(self).__name__}: test_fraction must be in (0, 1), got {test_fraction!r}")
        if not (isinstance(salt, (int, np.integer)) and salt >= 0):
            raise ValueError(f"{type(self).__name__}: salt must be a non-negative int, got {salt!r}")
        self.test_fraction = float(test_fraction)
        self.salt = int(salt)
        self.itos = SPECIALS + list(self.symbols)
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError(f"{type(self).__name__}: duplicate symbols in the vocabulary")

    # ---- what a subclass writes ----------------------------------------------------------------
    def _draw(self, g, n):
        """n random problems (n, K) int64 from the NumPy generator g (any split)."""
        raise NotImplementedError

    def _source(self, problems):
        """(N, source_len) token ids of the question, <pad> after its end."""
        raise NotImplementedError

    def _answer(self, problems):
        """(N, answer_len) token ids of the exact answer, <pad> after its end."""
        raise NotImplementedError

    # ---- the vocabulary --------------------------------------------------------------------------
    @property
    def vocab_size(self):
        return len(self.itos)

    def tokens(self, symbols):
        """Token ids of a sequence of symbols (strings)."""
        try:
            return np.array([self.stoi[s] for s in symbols], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"{self.name}: unknown symbol {e.args[0]!r}; the vocabulary is {self.itos}") from None

    def decode(self, ids, joiner=" "):
        """Symbols of `ids` up to the first <eos> (or <pad>), joined by `joiner`."""
        out = []
        for i in np.asarray(ids).tolist():
            if i in (EOS, PAD):
                break
            out.append(self.itos[i] if 0 <= i < len(self.itos) else "<?>")
        return joiner.join(out)

    def describe(self, problem):
        """One problem as text: 'question -> answer'."""
        row = np.asarray(problem, dtype=np.int64)[None]
        return (f"{self.decode(self._source(row)[0], self.source_joiner)} -> "
                f"{self.decode(self._answer(row)[0], self.answer_joiner)}")

    # ---- splits ----------------------------------------------------------------------------------
    def in_test(self, problems):
        """(N,) bool: whether each problem belongs to the held-out test part."""
        h = problem_hash(problems, self.salt)
        return (h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 < self.test_fraction

    def sample(self, n, split="train", generator=None):
        """n problems of the given split ('train' or 'test'), drawn from `generator`."""
        if split not in ("train", "test"):
            raise ValueError(f"{self.name}: split must be 'train' or 'test', got {split!r}")
        g = rng(generator)
        want_test = split == "test"
        share = self.test_fraction if want_test else 1 - self.test_fraction
        parts, have = [], 0
        while have < n:
            batch = self._draw(g, int((n - have) / share * 1.2) + 16)
            batch = batch[self.in_test(batch) == want_test]
            parts.append(batch)
            have += len(batch)
        return np.concatenate(parts)[:n]

    def test_set(self, n=1000, seed=1234):
        """n DISTINCT test problems, always the same for the same seed (fewer if the test part is smaller)."""
        g = Generator(seed)
        found = np.zeros((0, 0), np.int64)
        for _ in range(64):
            more = self.sample(max(2 * n, 64), "test", g)
            found = more if found.size == 0 else np.concatenate([found, more])
            _, first = np.unique(found, axis=0, return_index=True)
            found = found[np.sort(first)]  # distinct, in order of drawing
            if len(found) >= n:
                break
        return found[:n]

    # ---- token layouts ---------------------------------------------------------------------------
    def source(self, problems):
        return self._source(np.asarray(problems, dtype=np.int64))

    def answer(self, problems):
        return self._answer(np.asarray(problems, dtype=np.int64))

    @property
    def lm_block_size(self):
        """Length of the model input for `lm_batch`: source, <sep>, answer, <eos>, minus one."""
        return self.source_len + self.answer_len + 1

    def lm_sequences(self, problems):
        """(N, source_len + answer_len + 2): source <sep> answer <eos> (<pad> after the eos)."""
        src, ans = self.source(problems), self.answer(problems)
        n = len(src)
        seq = np.concatenate([src, np.full((n, 1), SEP), ans, np.full((n, 1), PAD)], 1)
        ends = self.source_len + 1 + _lengths(ans)  # where the answer stops
        seq[np.arange(n), ends] = EOS
        return seq

    def lm_batch(self, problems):
        """(x, y) int64 Tensors (N, lm_block_size): x = the sequence, y = the next tokens, with
        IGNORE_INDEX wherever the next token is part of the question or padding."""
        seq = self.lm_sequences(problems)
        x, y = seq[:, :-1].copy(), seq[:, 1:].copy()
        y[:, : self.source_len] = IGNORE_INDEX
        y[x == EOS] = IGNORE_INDEX
        y[(x == PAD) & (np.arange(x.shape[1]) > self.source_len)] = IGNORE_INDEX
        return Tensor._make(x), Tensor._make(y)

    def lm_prompt(self, problems):
        """(N, source_len + 1) int64 Tensor: the question and <sep>, for a GPT to continue."""
        src = self.source(problems)
        return Tensor._make(np.concatenate([src, np.full((len(src), 1), SEP)], 1))

    def seq2seq_batch(self, problems):
        """(src, tgt_in, tgt_out) int64 Tensors: src (N, source_len) <pad>-padded; tgt_in (N, answer_len + 1)
        = <bos> answer; tgt_out = answer <eos>, with IGNORE_INDEX after the eos."""
        src, ans = self.source(problems), self.answer(problems)
        n = len(ans)
        tgt_in = np.concatenate([np.full((n, 1), BOS), ans], 1)
        tgt_out = np.concatenate([ans, np.full((n, 1), PAD)], 1)
        tgt_out[np.arange(n), _lengths(ans)] = EOS
        tgt_out[tgt_out == PAD] = IGNORE_INDEX
        return Tensor._make(src), Tensor._make(tgt_in), Tensor._make(tgt_out)

    def exact_match(self, predicted, problems):
        """(N,) bool: whether each predicted answer (ids, stopping at the first <eos> or <pad>) equals
        the true answer exactly. `predicted` is (N, L), any L; ids after the stop are ignored."""
        pred = np.asarray(predicted, dtype=np.int64)
        ans = self.answer(problems)
        if pred.ndim != 2 or len(pred) != len(ans):
            raise ValueError(f"{self.name}.exact_match: expected predictions (N={len(ans)}, L), got {pred.shape}")
        L = max(pred.shape[1], ans.shape[1]) + 1
        pred = _cut(np.pad(pred, ((0, 0), (0, L - pred.shape[1])), constant_values=PAD))
        ans = np.pad(ans, ((0, 0), (0, L - ans.shape[1])), constant_values=PAD)
        return (pred == ans).all(1)


def _lengths(tokens):
    """Number of tokens before the first <pad> (or <eos>) of each row."""
    stop = (tokens == PAD) | (tokens == EOS)
    return np.where(stop.any(1), stop.argmax(1), tokens.shape[1])


def _cut(tokens):
    """Rows with everything from the first <eos> or <pad> on set to <pad>."""
    stop = np.cumsum((tokens == EOS) | (tokens == PAD), axis=1) > 0
    return np.where(stop, PAD, tokens)


# ---- digit-sequence tasks ----------------------------------------------------------------------
class _DigitSequenceTask(ToyTask):
    """Problems are sequences of `length` symbols '0' ... str(base-1); the source is the sequence."""

    source_joiner = answer_joiner = " "

    def __init__(self, length=8, base=10, test_fraction=0.1, salt=0):
        if not (isinstance(length, int) and length > 0 and isinstance(base, int) and 2 <= base <= 10):
            raise ValueError(f"{type(self).__name__}: need length > 0 and 2 <= base <= 10, got length={length!r}, "
                             f"base={base!r}")
        self.length, self.base = length, base
        self.symbols = [str(d) for d in range(base)]
        self.source_len = self.answer_len = length
        super().__init__(test_fraction, salt)

    def _draw(self, g, n):
        return g.integers(0, self.base, size=(n, self.length))

    def _digits(self, values):
        return values + len(SPECIALS)  # digit d -> its token id

    def _source(self, problems):
        return self._digits(problems)


class CopyTask(_DigitSequenceTask):
    """Repeat the sequence: 3 1 4 -> 3 1 4."""

    name = "copy"

    def _answer(self, problems):
        return self._digits(problems)


class ReverseTask(_DigitSequenceTask):
    """Reverse the sequence: 3 1 4 -> 4 1 3."""

    name = "reverse"

    def _answer(self, problems):
        return self._digits(problems[:, ::-1])


class SortTask(_DigitSequenceTask):
    """Sort the sequence in ascending order: 3 1 4 1 -> 1 1 3 4."""

    name = "sort"

    def _answer(self, problems):
        return self._digits(np.sort(problems, axis=1))


class AdditionTask(ToyTask):
    """Add two numbers of up to `digits` digits: '0 4 2 + 1 9 9' -> '0 2 4 1' (= 241).

    The source has both numbers zero-padded to `digits` digits; the answer has `digits + 1` digits,
    most significant first, or least significant first with reverse_answer=True (the order in which
    the carries are produced, which a left-to-right model learns far more easily).
    A problem is the row (a, b).
    """

    name = "add"
    source_joiner = answer_joiner = " "

    def __init__(self, digits=3, reverse_answer=True, test_fraction=0.1, salt=0):
        if not (isinstance(digits, int) and 1 <= digits <= 17):
            raise ValueError(f"AdditionTask: digits must be an int in [1, 17], got {digits!r}")
        self.digits, self.reverse_answer = digits, bool(reverse_answer)
        self.symbols = [str(d) for d in range(10)] + ["+"]
        self.source_len = 2 * digits + 1
        self.answer_len = digits + 1
        super().__init__(test_fraction, salt)

    def _draw(self, g, n):
        return g.integers(0, 10 ** self.digits, size=(n, 2))

    @staticmethod
    def _digit_tokens(values, width):
        """(N,) ints -> (N, width) digit token ids, most significant first, zero-padded."""
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return (values[:, None] // powers) % 10 + len(SPECIALS)

    def _source(self, problems):
        plus = np.full((len(problems), 1), self.stoi["+"])
        return np.concatenate([self._digit_tokens(problems[:, 0], self.digits), plus,
                               self._digit_tokens(problems[:, 1], self.digits)], 1)

    def _answer(self, problems):
        total = self._digit_tokens(problems[:, 0] + problems[:, 1], self.digits + 1)
        return total[:, ::-1].copy() if self.reverse_answer else total


# ---- number to words ---------------------------------------------------------------------------
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_to_words(n):
    """English words of 0 <= n < 10**6, without 'and' or hyphens: 1234 -> 'one thousand two hundred
    thirty four' (the reference the vectorised NumberWordsTask is tested against)."""
    if not 0 <= n < 10 ** 6:
        raise ValueError(f"number_to_words: n must be in [0, 1000000), got {n}")
    if n == 0:
        return "zero"

    def below_thousand(m):
        words = []
        if m >= 100:
            words += [_ONES[m // 100], "hundred"]
            m %= 100
        if m >= 20:
            words.append(_TENS[m // 10])
            m %= 10
        if m:
            words.append(_ONES[m])
        return words

    thousands, rest = divmod(n, 1000)
    words = (below_thousand(thousands) + ["thousand"]) if thousands else []
    return " ".join(words + below_thousand(rest))


class NumberWordsTask(ToyTask):
    """Write a number in English words: '1 2 3 4' -> 'one thousand two hundred thirty four'.

    Numbers are drawn from [0, max_number) (max_number <= 10**6), uniformly in their number of digits
    first (so short numbers are not rare) with digits_uniform=True, else uniformly. The source is
    the decimal digits without leading zeros, <pad>-padded; the answer is word tokens. A problem is
    the row (n,). Test numbers (by hash) are never drawn for training.
    """

    name = "number-words"
    source_joiner = ""
    answer_joiner = " "

    def __init__(self, max_number=10 ** 6, digits_uniform=True, test_fraction=0.1, salt=0):
        if not (isinstance(max_number, int) and 10 <= max_number <= 10 ** 6):
            raise ValueError(f"NumberWordsTask: max_number must be an int in [10, 1000000], got {max_number!r}")
        self.max_number, self.digits_uniform = max_number, bool(digits_uniform)
        self.symbols = [str(d) for d in range(10)] + _ONES + [w for w in _TENS if w] + ["hundred", "thousand"]
        self.source_len = len(str(max_number - 1))
        self.answer_len = 9  # nine hundred ninety nine thousand nine hundred ninety nine
        ToyTask.__init__(self, test_fraction, salt)
        # word tokens: symbol "7" is a digit, the word "seven" is _ONES[7]
        self._one_ids = self.tokens(_ONES)
        self._ten_ids = np.array([-1, -1] + list(self.tokens(_TENS[2:])), dtype=np.int64)
        self._hundred, self._thousand = self.stoi["hundred"], self.stoi["thousand"]

    def _draw(self, g, n):
        if not self.digits_uniform:
            return g.integers(0, self.max_number, size=(n, 1))
        width = g.integers(1, self.source_len + 1, size=n)  # number of digits
        low = np.where(width == 1, 0, 10 ** (width - 1))
        high = np.minimum(10 ** width, self.max_number)
        return (low + (g.random(n) * (high - low)).astype(np.int64))[:, None]

    def _source(self, problems):
        n = problems[:, 0]
        width = np.maximum(1, np.floor(np.log10(np.maximum(n, 1))).astype(np.int64) + 1)
        # the digits right-aligned in source_len columns, then shifted left by the unused columns
        powers = 10 ** np.arange(self.source_len - 1, -1, -1, dtype=np.int64)
        digits = (n[:, None] // powers) % 10 + len(SPECIALS)
        shift = self.source_len - width
        cols = np.arange(self.source_len)[None, :] + shift[:, None]
        out = np.take_along_axis(digits, np.minimum(cols, self.source_len - 1), 1)
        out[cols >= self.source_len] = PAD
        return out

    def _chunk_slots(self, m):
        """(N,) numbers below 1000 -> (N, 4) slots [hundreds word, 'hundred', tens word, ones word], -1 = empty."""
        h, u = m // 100, m % 100
        slots = np.full((len(m), 4), -1, np.int64)
        slots[:, 0] = np.where(h > 0, self._one_ids[h], -1)
        slots[:, 1] = np.where(h > 0, self._hundred, -1)
        slots[:, 2] = np.where(u >= 20, self._ten_ids[u // 10], np.where(u > 0, self._one_ids[np.minimum(u, 19)], -1))
        slots[:, 3] = np.where((u >= 20) & (u % 10 > 0), self._one_ids[u % 10], -1)
        return slots

    def _answer(self, problems):
        n = problems[:, 0]
        thousands, rest = n // 1000, n % 1000
        slots = np.concatenate([self._chunk_slots(thousands), np.where(thousands > 0, self._thousand, -1)[:, None],
                                self._chunk_slots(rest)], 1)  # (N, 9)
        slots[n == 0, 0] = self._one_ids[0]  # "zero"
        # move the filled slots to the front, keeping their order, and pad
        order = np.argsort(slots < 0, axis=1, kind="stable")
        words = np.take_along_axis(slots, order, 1)
        return np.where(words < 0, PAD, words)


TASKS = {"copy": CopyTask, "reverse": ReverseTask, "sort": SortTask, "add": AdditionTask,
         "number-words": NumberWordsTask}


def make_task(name, **options):
    """A task by name ('copy', 'reverse', 'sort', 'add', 'number-words') with its options."""
    if name not in TASKS:
        raise ValueError(f"make_task: unknown task {name!r}; available: {', '.join(TASKS)}")
    return TASKS[name](**options)
