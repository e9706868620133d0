"""Checkers for the exercises at the end of each notebook, grouped by notebook.

Each checker compares the learner's answer with one computed here (from the course's own
helpers, or from scipy and numpy), never with a number typed in by hand, and recognises the
common mistakes so that it can give a hint. No checker prints the right answer.
`tests/test_exercises.py` shows each checker accepting a correct answer and naming each mistake.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np

from helpers.baselines import accuracy_and_macro_f1
from helpers.checks import Mistake, Verdict, check_function, check_value, same
from helpers.gradients import mse_grad, numerical_gradient
from helpers.logistic import logistic_loss_and_grads
from helpers.losses import binary_cross_entropy, binary_cross_entropy_from_logits, mse, one_sided_cross_entropy, sigmoid
from helpers.rnn import lstm_step, rnn_forward
from helpers.segmentation import TAGS, segmentation_prf, word_spans, words

HAND_RTOL = 5e-3  # answers computed by hand: three significant digits are enough


def _rng(seed: int = 2026) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- 01 loss functions


def check_mse_value(answer: Any, y: Sequence[float], y_hat: Sequence[float]) -> Verdict:
    """Exercise 01.1: MSE = 1/n Σ (y_i − ŷ_i)² of the given labels and predictions."""
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    return check_value(answer, mse(y, y_hat), what="the MSE", rtol=HAND_RTOL, mistakes=[
        Mistake(np.sum((y - y_hat) ** 2), "that is the sum of the squared errors; MSE is their mean."),
        Mistake(np.sqrt(mse(y, y_hat)), "that is the root of the MSE (RMSE); leave out the square root."),
        Mistake(np.mean(np.abs(y - y_hat)), "that is the mean absolute error; square each error."),
        Mistake(np.mean((1 - y_hat) ** 2), "you measured every distance to 1, the source's §5 mistake; "
                                           "measure it to each sample's own label."),
    ])


def check_bce_value(answer: Any, y: Sequence[float], y_hat: Sequence[float]) -> Verdict:
    """Exercise 01.1: BCE = −1/n Σ [y log ŷ + (1 − y) log(1 − ŷ)], natural logarithm."""
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    value = binary_cross_entropy(y, y_hat)
    return check_value(answer, value, what="the binary cross-entropy", rtol=HAND_RTOL, mistakes=[
        Mistake(one_sided_cross_entropy(y, y_hat), "you kept only −y log ŷ, the source's one-sided formula; "
                                                   "the negative samples need −(1 − y) log(1 − ŷ)."),
        Mistake(-value, "check the sign: log of a probability is negative, so the loss has a minus in front."),
        Mistake(value / np.log(10), "use the natural logarithm (np.log), not log10."),
        Mistake(value / np.log(2), "use the natural logarithm (np.log), not log2."),
        Mistake(value * y.size, "that is the sum over samples; take the mean."),
    ])


def check_bce_from_logits(fn: Any) -> Verdict:
    """Exercise 01.2: a BCE from logits z that stays finite and exact for every finite z."""
    rng = _rng()
    cases = [(rng.integers(0, 2, 6).astype(float), rng.normal(0, 3, 6)) for _ in range(3)]
    cases.append((np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), np.array([-800.0, 800.0, -40.0, 40.0, 0.0, 1e-3])))

    def naive(y, z):
        with np.errstate(all="ignore"):
            p = 1 / (1 + np.exp(-z))
            return float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))

    def clipped(y, z):
        with np.errstate(all="ignore"):
            p = np.clip(1 / (1 + np.exp(-z)), 1e-7, 1 - 1e-7)
        return float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))

    return check_function(fn, cases, binary_cross_entropy_from_logits, what="BCE from logits", rtol=1e-7,
                          mistakes=[
        Mistake(naive, "right for moderate z, but σ(z) rounds to exactly 0 or 1 for large |z| and the log "
                       "becomes inf. Rewrite −log σ(z) and −log(1 − σ(z)) with softplus."),
        Mistake(clipped, "clipping keeps it finite but caps the loss for confident mistakes; "
                         "the softplus form is exact."),
        Mistake(lambda y, z: binary_cross_entropy_from_logits(1 - y, z),
                "the labels are swapped: −log σ(z) is the cost of y = 1."),
    ])


def check_mae(fn: Any) -> Verdict:
    """Exercise 01.3: MAE = 1/n Σ |y_i − ŷ_i|, the loss that Laplace noise asks for."""
    rng = _rng()
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (3, 5, 8)]
    return check_function(fn, cases, lambda y, y_hat: float(np.mean(np.abs(y - y_hat))),
                          what="the mean absolute error", mistakes=[
        Mistake(lambda y, y_hat: float(np.mean(y - y_hat)), "positive and negative errors cancel: take |y − ŷ|."),
        Mistake(mse, "that is the MSE, the loss for Gaussian noise. Laplace noise has |y − ŷ| in the exponent."),
        Mistake(lambda y, y_hat: float(np.sum(np.abs(y - y_hat))), "that is the sum; take the mean."),
    ])


# --------------------------------------------------------------------------- 02 gradient descent


def check_mse_grad(fn: Any) -> Verdict:
    """Exercise 02.1: ∂MSE/∂ŷ_j = −(2/n)(y_j − ŷ_j)."""
    rng = _rng()
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (2, 4, 10)]
    return check_function(fn, cases, mse_grad, what="the gradient of the MSE", mistakes=[
        Mistake(lambda y, y_hat: -2 * (y - y_hat),
                "your gradient is n times too large: the 1/n of the mean stays in the derivative "
                "(this is the source's §4.2 mistake)."),
        Mistake(lambda y, y_hat: 2 / y.size * (y - y_hat),
                "check the sign: the derivative of (y − ŷ)² with respect to ŷ is −2(y − ŷ)."),
        Mistake(lambda y, y_hat: -(y - y_hat) / y.size, "the power rule brings down a factor 2."),
        Mistake(lambda y, y_hat: np.full_like(y, -2 / y.size * np.sum(y - y_hat)),
                "each ŷ_j appears in one term of the sum only, so ∂MSE/∂ŷ_j has one term."),
    ])


def check_first_order_decrease(answer: Any, y: Sequence[float], y_hat: Sequence[float], lr: float) -> Verdict:
    """Exercise 02.2: the first-order prediction α‖g‖² of the MSE decrease after one step."""
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    g = mse_grad(y, y_hat)
    actual = mse(y, y_hat) - mse(y, y_hat - lr * g)
    return check_value(answer, lr * np.sum(g ** 2), what="the first-order prediction", rtol=HAND_RTOL, mistakes=[
        Mistake(actual, "that is the actual decrease; the question asks for the prediction α‖g‖² "
                        "made before the step."),
        Mistake(lr * np.sqrt(np.sum(g ** 2)), "the norm is squared: α‖g‖² = α Σ g_j²."),
        Mistake(lr * np.sum((y.size * g) ** 2), "your gradient is n times too large (the 1/n is missing)."),
        Mistake(-lr * np.sum(g ** 2), "a decrease is a positive number here: the loss goes down by α‖g‖²."),
    ])


def _l2_grads(X, y, theta, b, mu):
    _, d_theta, d_b = logistic_loss_and_grads(X, y, theta, b)
    return d_theta + mu * theta, d_b


def check_l2_logistic_grads(fn: Any) -> Verdict:
    """Exercise 02.3: gradients of BCE + (μ/2)‖θ‖² for logistic regression (the bias is not
    regularised): ∂/∂θ = Xᵀ(ŷ − y)/n + μθ and ∂/∂b = Σ(ŷ − y)/n."""
    rng = _rng()
    cases = []
    for n, d, mu in ((6, 2, 0.1), (10, 3, 1.0), (5, 1, 0.5)):
        cases.append((rng.normal(size=(n, d)), rng.integers(0, 2, n).astype(float), rng.normal(size=d),
                      float(rng.normal()), mu))

    def variant(theta_factor, b_factor=0.0):
        def grads(X, y, theta, b, mu):
            _, d_theta, d_b = logistic_loss_and_grads(X, y, theta, b)
            return d_theta + theta_factor * mu * theta, d_b + b_factor * mu * b
        return grads

    return check_function(fn, cases, _l2_grads, what="the regularised gradients (∂L/∂θ, ∂L/∂b)", mistakes=[
        Mistake(variant(0.0), "these are the gradients without the penalty: add ∂/∂θ of (μ/2)‖θ‖²."),
        Mistake(variant(0.5), "∂/∂θ of (μ/2)‖θ‖² is μθ: the 2 of the power rule cancels the 1/2."),
        Mistake(variant(2.0), "∂/∂θ of (μ/2)‖θ‖² is μθ, not 2μθ."),
        Mistake(variant(1.0, 1.0), "the penalty is on θ only: ∂L/∂b does not change."),
    ])


# --------------------------------------------------------------------------- 03 the source's Keras LSTM


def _lstm_param_count(units: int, input_dim: int) -> int:
    """Parameters of a Keras LSTM: 4 gates × (input weights d·u + recurrent weights u·u + bias u)."""
    return 4 * (units * input_dim + units * units + units)


def check_lstm_param_count(answer: Any, units: int, input_dim: int) -> Verdict:
    """Exercise 03.1: the parameter count of LSTM(units) on input_dim-dimensional inputs."""
    u, d = units, input_dim
    return check_value(answer, _lstm_param_count(u, d), what=f"the parameter count of LSTM({u}) on {d}-dim inputs",
                       mistakes=[
        Mistake(4 * (u * d + u * u), "each of the 4 gates also has a bias vector of u numbers."),
        Mistake(u * d + u * u + u, "an LSTM has 4 blocks of weights: input, forget, cell and output gates."),
        Mistake(4 * (u * d + u), "each gate also reads the previous state h_{t−1}: u × u recurrent weights."),
        Mistake(4 * (u * d + u * u + 2 * u), "Keras has one bias per gate (PyTorch has two)."),
    ])


def _pad_reference(sequences, maxlen, padding, truncating):
    out = np.zeros((len(sequences), maxlen), dtype=np.int64)
    for row, seq in enumerate(sequences):
        seq = list(seq)
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if kept:
            if padding == "pre":
                out[row, maxlen - len(kept):] = kept
            else:
                out[row, :len(kept)] = kept
    return out


def check_pad_sequences(fn: Any) -> Verdict:
    """Exercise 03.2: `pad(sequences, maxlen, padding, truncating)` with the behaviour of
    `keras.utils.pad_sequences` (zeros; "pre" or "post" for each argument)."""
    seqs = [[5, 3, 8, 1, 9, 2], [7, 4], [], [6, 6, 6, 6]]
    cases = [(seqs, 4, p, t) for p in ("pre", "post") for t in ("pre", "post")] + [(seqs, 7, "pre", "pre")]
    return check_function(fn, cases, _pad_reference, what="padding and truncating like Keras", mistakes=[
        Mistake(lambda s, m, p, t: _pad_reference(s, m, p, "post" if t == "pre" else "pre"),
                "truncating='pre' drops tokens from the *front* of a long sequence (Keras keeps the end)."),
        Mistake(lambda s, m, p, t: _pad_reference(s, m, "post" if p == "pre" else "pre", t),
                "padding='pre' puts the zeros *before* the tokens."),
    ])


def _classifier_param_count(vocab_size: int, embedding_dim: int, units: int, bidirectional: bool) -> int:
    """Embedding → LSTM (or Bidirectional LSTM) → Dense(1): every weight counted."""
    k = 2 if bidirectional else 1
    return vocab_size * embedding_dim + k * _lstm_param_count(units, embedding_dim) + (k * units + 1)


def check_classifier_param_count(fn: Any) -> Verdict:
    """Exercise 03.3: `count(vocab_size, embedding_dim, units, bidirectional)` for the classifier."""
    cases = [(1000, 64, 32, False), (1000, 64, 32, True), (50, 8, 4, True), (3000, 32, 32, True)]

    def variant(dense_in_doubled=True, lstm_doubled=True, dense_bias=1):
        def count(v, e, u, bi):
            k = 2 if bi else 1
            return (v * e + (k if lstm_doubled else 1) * _lstm_param_count(u, e)
                    + (k if dense_in_doubled else 1) * u + dense_bias)
        return count

    return check_function(fn, cases, _classifier_param_count, what="the classifier's parameter count", mistakes=[
        Mistake(variant(dense_in_doubled=False), "a Bidirectional layer concatenates both readers' states, "
                                                 "so the Dense layer reads 2·units numbers."),
        Mistake(variant(lstm_doubled=False), "Bidirectional holds two LSTMs with separate weights."),
        Mistake(variant(dense_bias=0), "the Dense layer has a bias too."),
    ])


# --------------------------------------------------------------------------- 04 forward and reverse passes


def check_forget_gate_bias(fn: Any) -> Verdict:
    """Exercise 04.1: `forget_bias(bias, units)` → the forget gate's block of a Keras LSTM bias."""
    rng = _rng()
    cases = [(rng.normal(size=4 * u), u) for u in (2, 3, 5)]
    block = lambda k: (lambda bias, u: bias[k * u:(k + 1) * u])  # noqa: E731
    return check_function(fn, cases, block(1), what="the forget-gate biases", mistakes=[
        Mistake(block(0), "that is the input gate's block. Keras stacks the gates as i, f, c, o."),
        Mistake(block(2), "that is the cell candidate's block. Keras stacks the gates as i, f, c, o."),
        Mistake(block(3), "that is the output gate's block. Keras stacks the gates as i, f, c, o."),
        Mistake(lambda bias, u: bias[1::4], "the gates are stacked in blocks of `units`, not interleaved."),
    ])


def _lstm_variant(order="ifgo", candidate=np.tanh, squash_c=True):
    def step(x, h, c, kernel, recurrent_kernel, bias):
        a = dict(zip(order, np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)))
        i, f, g, o = sigmoid(a["i"]), sigmoid(a["f"]), candidate(a["g"]), sigmoid(a["o"])
        c_new = f * c + i * g
        return (o * np.tanh(c_new) if squash_c else o * c_new), c_new
    return step


def check_lstm_step(fn: Any) -> Verdict:
    """Exercise 04.2: `step(x, h, c, kernel, recurrent_kernel, bias)` → (h_t, c_t) of an LSTM."""
    rng = _rng()
    cases = []
    for n, d, u in ((1, 3, 2), (2, 4, 3)):
        cases.append((rng.normal(size=(n, d)), rng.normal(size=(n, u)), rng.normal(size=(n, u)),
                      rng.normal(size=(d, 4 * u)), rng.normal(size=(u, 4 * u)), rng.normal(size=4 * u)))
    reference = lambda *args: lstm_step(*args)[:2]  # noqa: E731
    compare = lambda got, ref: (isinstance(got, tuple) and len(got) >= 2  # noqa: E731
                                and same(got[0], ref[0]) and same(got[1], ref[1]))
    return check_function(fn, cases, reference, what="the LSTM step", compare=compare, mistakes=[
        Mistake(_lstm_variant(order="figo"), "input and forget gates are swapped: Keras's order is i, f, c, o."),
        Mistake(_lstm_variant(order="ifog"), "cell candidate and output gate are swapped: the order is i, f, c, o."),
        Mistake(_lstm_variant(candidate=sigmoid), "the cell candidate g uses tanh (values in −1…1), not σ."),
        Mistake(_lstm_variant(squash_c=False), "h_t = o ⊙ tanh(c_t): the memory is squashed before it is exposed."),
    ])


def _grad_h0(X, W, U, b, h0, v, use_tanh_grad=True, transpose=True):
    """The reverse pass to h_0 (for one sequence X of shape (T, d)), or one of its known mistakes."""
    H, _ = rnn_forward(X[None], W, U, b, h0=h0)
    delta = v.copy()
    for t in range(len(X) - 1, -1, -1):
        da = delta * (1 - H[0, t] ** 2) if use_tanh_grad else delta
        delta = da @ (U.T if transpose else U)
    return delta


def check_rnn_grad_h0(fn: Any) -> Verdict:
    """Exercise 04.3: ∂L/∂h_0 for L = v · h_T of a tanh RNN h_t = tanh(x_t W + h_{t−1} U + b)."""
    rng = _rng()
    cases = []
    for T, d, u in ((1, 2, 3), (4, 2, 3), (6, 3, 4)):
        cases.append((rng.normal(size=(T, d)), rng.normal(size=(d, u)), rng.normal(size=(u, u)) / np.sqrt(u),
                      rng.normal(size=u), rng.normal(size=u), rng.normal(size=u)))

    def reference(X, W, U, b, h0, v):
        return numerical_gradient(lambda h: float(v @ rnn_forward(X[None], W, U, b, h0=h)[0][0, -1]), h0)

    return check_function(fn, cases, reference, what="∂L/∂h_0", rtol=1e-5, atol=1e-8, mistakes=[
        Mistake(lambda *a: _grad_h0(*a, use_tanh_grad=False),
                "each step back multiplies by tanh′(a_t) = 1 − h_t² before Uᵀ."),
        Mistake(lambda *a: _grad_h0(*a, transpose=False),
                "h_{t−1} enters as h_{t−1} U, so the gradient flows back through Uᵀ, not U."),
    ])


# --------------------------------------------------------------------------- 05 real data


def check_duplicate_share(answer: Any, lines: Sequence[str]) -> Verdict:
    """Exercise 05.1: the share of lines that repeat an earlier line exactly."""
    n, unique = len(lines), len(set(lines))
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    in_groups = sum(c for c in counts.values() if c > 1)
    return check_value(answer, (n - unique) / n, what="the share of repeated lines", rtol=HAND_RTOL, mistakes=[
        Mistake(unique / n, "that is the share of distinct texts; the question asks for the others."),
        Mistake(in_groups / n, "you also counted the first occurrence of each repeated text; only the "
                               "later copies are repeats."),
        Mistake(n - unique, "that is a count; divide by the number of lines to get a share."),
    ])


def check_macro_f1(fn: Any) -> Verdict:
    """Exercise 05.2: macro-F1 of binary labels, the mean of the two classes' F1."""
    rng = _rng()
    cases = []
    for n, p_true, p_flip in ((40, 0.3, 0.2), (60, 0.5, 0.3), (30, 0.2, 0.1)):
        y_true = (rng.random(n) < p_true).astype(int)
        flip = rng.random(n) < p_flip
        cases.append((y_true, np.where(flip, 1 - y_true, y_true)))

    def f1_of(y_true, y_pred, positive):
        tp = np.sum((y_pred == positive) & (y_true == positive))
        return 2 * tp / (np.sum(y_pred == positive) + np.sum(y_true == positive))

    def weighted(y_true, y_pred):
        w = np.mean(y_true == 1)
        return w * f1_of(y_true, y_pred, 1) + (1 - w) * f1_of(y_true, y_pred, 0)

    return check_function(fn, cases, lambda t, p: accuracy_and_macro_f1(t, p)[1], what="macro-F1", mistakes=[
        Mistake(lambda t, p: float(np.mean(t == p)), "that is the accuracy (= micro-F1 for one label per text). "
                                                      "Macro-F1 averages the per-class F1."),
        Mistake(lambda t, p: f1_of(t, p, 1), "that is the F1 of the positive class only; average it with "
                                             "the negative class's F1."),
        Mistake(weighted, "that average is weighted by class size; macro-F1 weights the classes equally."),
    ])


def char_ngrams(text: str, n: int = 5) -> set[str]:
    """The set of character n-grams of `text`; a text shorter than n is its own single n-gram."""
    return {text[i:i + n] for i in range(len(text) - n + 1)} or {text}


def _near_twins_reference(test_texts, train_texts, threshold):
    train_sets = [char_ngrams(t) for t in train_texts]
    twins = []
    for k, text in enumerate(test_texts):
        grams = char_ngrams(text)
        if any(len(grams & g) / len(grams | g) >= threshold for g in train_sets):
            twins.append(k)
    return twins


def check_near_twins(fn: Any) -> Verdict:
    """Exercise 05.3: `near_twins(test_texts, train_texts, threshold)` → sorted indices of test
    texts with a training text whose character 5-gram sets have Jaccard similarity ≥ threshold."""
    rng = _rng()
    alphabet = list("好差很不错慢快贵便宜服务房间早餐干净位置")
    make = lambda n: "".join(rng.choice(alphabet, n))  # noqa: E731
    train = [make(int(rng.integers(3, 30))) for _ in range(40)]
    test = []
    for k in range(30):
        base = train[k] if k % 2 == 0 else make(int(rng.integers(3, 30)))
        if k % 4 == 0 and len(base) > 6:
            j = int(rng.integers(len(base)))
            base = base[:j] + "!" + base[j + 1:]  # one character changed
        test.append(base)
    cases = [(test, train, 0.8), (test, train, 0.5), (test[:5], train, 1.0)]
    as_list = lambda got, ref: sorted(int(i) for i in got) == ref if hasattr(got, "__iter__") else False  # noqa: E731
    return check_function(fn, cases, _near_twins_reference, what="the near-twin indices", compare=as_list, mistakes=[
        Mistake(lambda te, tr, th: [k for k, t in enumerate(te) if t in set(tr)],
                "that finds exact copies only; compare the 5-gram sets with Jaccard similarity."),
    ])


# --------------------------------------------------------------------------- 06 forward then reverse


def check_paired_interval(fn: Any) -> Verdict:
    """Exercise 06.1: `interval(a, b)` → the 95% t-interval (low, high) for the mean of a − b,
    with a and b paired by seed: d̄ ± t_{0.975, n−1} · s_d/√n (s_d with n − 1)."""
    from scipy import stats

    rng = _rng()
    cases = []
    for n in (3, 5, 10):
        base = rng.normal(0.8, 0.05, n)
        cases.append((base + rng.normal(0.01, 0.01, n), base))

    def interval(a, b, quantile=None, paired=True, ddof=1, root=True):
        a, b = np.asarray(a, float), np.asarray(b, float)
        n = a.size
        q = stats.t.ppf(0.975, n - 1) if quantile is None else quantile
        if paired:
            spread = np.std(a - b, ddof=ddof)
        else:
            spread = np.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))
        half = q * spread / (np.sqrt(n) if root else n)
        centre = np.mean(a - b)
        return centre - half, centre + half

    return check_function(fn, cases, interval, what="the paired 95% interval", mistakes=[
        Mistake(lambda a, b: interval(a, b, quantile=1.96),
                "1.96 is the normal quantile; with n seeds use Student's t with n − 1 degrees of freedom."),
        Mistake(lambda a, b: interval(a, b, paired=False),
                "that interval treats a and b as independent; pair them by seed and use the spread of a − b."),
        Mistake(lambda a, b: interval(a, b, ddof=0), "use the sample standard deviation (ddof=1)."),
        Mistake(lambda a, b: interval(a, b, root=False), "the standard error is s/√n, not s/n."),
    ])


def check_sign_test(fn: Any) -> Verdict:
    """Exercise 06.2: `sign_test(wins, n)` → the two-sided p-value of the exact sign test
    (wins ~ Binomial(n, 1/2) when neither condition is better)."""
    from scipy import stats

    cases = [(5, 5), (0, 5), (4, 5), (8, 10), (3, 10), (12, 20)]
    reference = lambda w, n: float(stats.binomtest(w, n, 0.5).pvalue)  # noqa: E731
    one_sided = lambda w, n: float(stats.binom.sf(max(w, n - w) - 1, n, 0.5))  # noqa: E731
    return check_function(fn, cases, reference, what="the sign test's p-value", mistakes=[
        Mistake(one_sided, "that is one-sided; the question is whether either condition is better, so "
                           "count the equally extreme outcomes on the other side too."),
        Mistake(lambda w, n: float(stats.binom.pmf(w, n, 0.5)),
                "that is the probability of exactly this outcome; a p-value adds every outcome at least as extreme."),
    ])


def _permutation_p(d, two_sided=True, strict=False):
    d = np.asarray(d, float)
    observed = abs(d.mean()) if two_sided else d.mean()
    count = 0
    for signs in itertools.product((1, -1), repeat=d.size):
        m = np.mean(d * np.array(signs))
        m = abs(m) if two_sided else m
        count += (m > observed + 1e-12) if strict else (m >= observed - 1e-12)
    return count / 2 ** d.size


def check_permutation_test(fn: Any) -> Verdict:
    """Exercise 06.3: `permutation_p(d)` → the exact two-sided p-value of the paired permutation
    (sign-flip) test: the share of the 2^n sign patterns whose |mean| is ≥ the observed |mean|."""
    rng = _rng()
    cases = [(rng.normal(0.01, 0.01, n),) for n in (3, 5, 8)] + [(np.array([0.02, -0.01, 0.015, 0.005]),)]
    return check_function(fn, cases, _permutation_p, what="the permutation p-value", mistakes=[
        Mistake(lambda d: _permutation_p(d, two_sided=False), "that is one-sided: compare |mean|, not the mean."),
        Mistake(lambda d: _permutation_p(d, strict=True),
                "count the patterns with |mean| ≥ observed, the observed pattern itself included."),
    ])


# --------------------------------------------------------------------------- 07 bidirectional


def _random_tags(rng: np.random.Generator, num_words: int) -> str:
    out = []
    for _ in range(num_words):
        n = int(rng.integers(1, 5))
        out.append("s" if n == 1 else "b" + "m" * (n - 2) + "e")
    return "".join(out)


def check_tags_to_words(fn: Any) -> Verdict:
    """Exercise 07.1: `tags_to_words(text, tags)` → the list of words (b/m/e/s tags)."""
    rng = _rng()
    chars = "迈向充满希望的新世纪一九九八年新年讲话"
    cases = [("迈向新世纪", "bebme"), ("我爱北京", "ssbe"), ("好", "s")]
    for _ in range(4):
        tags = _random_tags(rng, int(rng.integers(2, 7)))
        cases.append(("".join(rng.choice(list(chars), len(tags))), tags))

    def drop_last(text, tags):
        spans = [(a, b) for a, b in word_spans(tags)]
        return [text[a:b] for a, b in spans[:-1]]

    return check_function(fn, cases, words, what="the words", compare=lambda g, r: list(g) == r, mistakes=[
        Mistake(drop_last, "the last word is missing: a word also ends at the end of the text."),
        Mistake(lambda text, tags: list(text), "a word runs from a b to the next e; only s is a one-character word."),
    ])


def check_word_prf(fn: Any) -> Verdict:
    """Exercise 07.2: `word_prf(true_tags, pred_tags)` → (precision, recall, F1) over a corpus,
    counting words (character spans) over all sentences."""
    rng = _rng()
    cases = []
    for num in (1, 3, 6):
        true = [_random_tags(rng, int(rng.integers(2, 6))) for _ in range(num)]
        pred = ["".join(rng.choice(list(TAGS)) if rng.random() < 0.3 else t for t in s) for s in true]
        cases.append((true, pred))

    def macro(true, pred):
        scores = np.array([segmentation_prf([t], [p]) for t, p in zip(true, pred)])
        return tuple(float(x) for x in scores.mean(axis=0))

    def char_accuracy(true, pred):
        acc = np.mean([a == b for t, p in zip(true, pred) for a, b in zip(t, p)])
        return (float(acc),) * 3

    return check_function(fn, cases, segmentation_prf, what="word precision, recall and F1", mistakes=[
        Mistake(lambda t, p: (lambda s: (s[1], s[0], s[2]))(segmentation_prf(t, p)),
                "precision and recall are swapped: precision divides by the *predicted* words."),
        Mistake(macro, "that averages per sentence; count the words over the whole corpus first."),
        Mistake(char_accuracy, "that is the share of correct tags; the word metric compares word spans."),
    ])


ALLOWED_NEXT = {"b": "me", "m": "me", "e": "bs", "s": "bs"}


def is_valid_tagging(tags: str) -> bool:
    """True when `tags` is a consistent b/m/e/s sequence: it starts with b or s, ends with e or s,
    and every tag is followed by an allowed one (b, m → m, e;  e, s → b, s)."""
    return (bool(tags) and tags[0] in "bs" and tags[-1] in "es"
            and all(b in ALLOWED_NEXT[a] for a, b in zip(tags, tags[1:])))


def _best_by_brute_force(log_probs, constrain_ends=True):
    best, best_score = "", -np.inf
    for seq in itertools.product(TAGS, repeat=len(log_probs)):
        tags = "".join(seq)
        ok = is_valid_tagging(tags) if constrain_ends else all(b in ALLOWED_NEXT[a] for a, b in zip(tags, tags[1:]))
        if ok:
            score = sum(log_probs[t, TAGS.index(c)] for t, c in enumerate(tags))
            if score > best_score:
                best, best_score = tags, score
    return best


def check_constrained_decode(fn: Any) -> Verdict:
    """Exercise 07.3: `decode(log_probs)` → the valid tag string (see `is_valid_tagging`) with the
    largest total log-probability; log_probs has shape (T, 4), columns in the order b, m, e, s."""
    rng = _rng()
    cases = [(np.log(rng.dirichlet(np.ones(4) * 0.5, size=T)),) for T in (1, 2, 3, 5, 7, 7, 8)]
    return check_function(fn, cases, _best_by_brute_force, what="the constrained decoding",
                          compare=lambda g, r: isinstance(g, str) and g == r, mistakes=[
        Mistake(lambda lp: "".join(TAGS[k] for k in lp.argmax(axis=1)),
                "that is the greedy choice per character, which can give b after b; allow only valid transitions."),
        Mistake(lambda lp: _best_by_brute_force(lp, constrain_ends=False),
                "the transitions are right, but a sentence must also start with b or s and end with e or s."),
    ])
