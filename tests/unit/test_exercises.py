"""Every exercise checker accepts a right answer, names each common mistake, says "not answered"
for the student edition's `...`, and never crashes on a broken answer.

The right answers here are written independently of the checkers (by a formula or by the
framework), so a checker whose reference is wrong fails these tests.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers import exercises as ex
from helpers.exercises.core import NOT_ANSWERED, Verdict, check_value, same
from helpers.segmentation import ALLOWED_NEXT, TAGS, is_valid_tagging, word_spans

Y, Y_HAT = [1, 1, 0], [0.6, 0.9, 0.3]
SRC_Y, SRC_Y_HAT = np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.9, 0.2, 0.8, 0.7])


def naive_bce_from_logits(y, z):
    with np.errstate(all="ignore"):  # the point of this mistake: it overflows
        p = 1 / (1 + np.exp(-z))
        return float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))


def naive_softmax(Z):
    with np.errstate(all="ignore"):
        return np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)


def naive_softmax_ce_grad(t, Z):
    return (naive_softmax(Z) - np.eye(Z.shape[1])[t]) / len(t)


def softmax_ce_grad(t, Z):
    """Written independently of helpers.losses: scipy's softmax, then minus the one-hot rows."""
    from scipy.special import softmax

    return (softmax(Z, axis=1) - np.eye(Z.shape[1])[t]) / len(t)


def huber_grad(y, y_hat, delta):
    """∂/∂ŷ of the mean Huber loss, case by case from its two pieces."""
    e = y_hat - y
    return np.array([x if abs(x) <= delta else delta * np.sign(x) for x in e]) / len(y)


def saliency_centre(s):
    """The centre of mass of the curve on positions 0 … T − 1, as a share of T − 1."""
    total = sum(s)
    return float(sum(t * v for t, v in enumerate(s)) / total / (len(s) - 1))


def adamw(w, g, m, v, t, lr, b1, b2, eps, wd):
    """Decoupled weight decay on the weights before the step, then Adam (the paper's ε)."""
    new_w, m, v = adam_paper(w, g, m, v, t, lr, b1, b2, eps)
    return new_w - lr * wd * w, m, v


def adam_paper(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
    """Kingma & Ba's Algorithm 1, ε after the bias correction (Keras puts it before)."""
    m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g * g
    return w - lr * (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + epsilon), m, v


def one_head(Q, K, V, mask, axis=-1):
    """Attention written independently of helpers.attention: scipy's softmax over the keys."""
    from scipy.special import softmax

    scores = Q @ K.T / np.sqrt(K.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=axis) @ V


def distance_head(Q, K, V, slope, mask, axis=-1):
    """ALiBi written independently of helpers.attention: a penalty matrix by loops, scipy's softmax."""
    from scipy.special import softmax

    T = len(Q)
    penalty = np.array([[-slope * abs(t - s) for s in range(T)] for t in range(T)]).reshape(T, T)
    scores = Q @ K.T / np.sqrt(K.shape[-1]) + penalty
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=axis) @ V


def bert_corruption(X, mask_id, rate, rng, shares=(0.8, 0.1, 0.1), low=2, padding=False, fixed_rate=None):
    """BERT's corruption written independently of the checker: position by position, with loops."""
    inputs, chosen = X.copy(), np.zeros(X.shape, dtype=bool)
    for index in np.ndindex(X.shape):
        if (X[index] == 0 and not padding) or rng.random() >= (fixed_rate or rate):
            continue
        chosen[index] = True
        u = rng.random()
        if u < shares[0]:
            inputs[index] = mask_id
        elif u < shares[0] + shares[1]:
            inputs[index] = rng.integers(low, mask_id)
    return inputs, chosen


def gated_block_params(d, h, k, f):
    """A LLaMA-style block counted part by part: q, k, v, o kernels; gate, up, down; two RMS scales."""
    kernels = [(d, h * k), (d, h * k), (d, h * k), (h * k, d), (d, f), (d, f), (f, d)]
    return sum(a * b for a, b in kernels) + d + d


def corpus_perplexity(losses, lengths):
    """Every character's loss, written out, then e to their mean."""
    per_character = [loss for loss, n in zip(losses, lengths) for _ in range(int(n))]
    return float(np.exp(np.mean(per_character)))


def best_epoch(valid_scores):
    """np.argmax returns the first of equal maxima: the earliest best epoch, counted from 1."""
    return int(np.argmax(valid_scores)) + 1


def seed_interval(scores):
    """scipy's t-interval over the pretraining seeds' means."""
    from scipy import stats

    means = np.mean(scores, axis=1)
    low, high = stats.t.interval(0.95, len(means) - 1, loc=means.mean(), scale=stats.sem(means))
    return means.mean(), low, high


def encoder_params(V, T, d, f, L):
    """Embeddings, L blocks (q, k, v, o with biases; two Dense; two layer norms), the output layer."""
    block = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 2 * (2 * d)
    return V * d + T * d + L * block + (d * V + V)


def lora_count_by_keras(d_in, d_out, r):
    """LoRA's trained numbers, counted by Keras itself: a Dense layer's `lora_kernel_a` and `lora_kernel_b`."""
    import keras

    layer = keras.layers.Dense(d_out)
    layer.build((None, d_in))
    layer.enable_lora(r)
    return int(layer.lora_kernel_a.shape.num_elements() + layer.lora_kernel_b.shape.num_elements())


def softplus(z):
    return np.logaddexp(0.0, z)


def viterbi(log_probs):
    start, end = "bs", "es"
    T = len(log_probs)
    score = np.where([t in start for t in TAGS], log_probs[0], -np.inf)
    back = []
    for t in range(1, T):
        prev = np.array([[score[i] if b in ALLOWED_NEXT[a] else -np.inf for i, a in enumerate(TAGS)] for b in TAGS])
        back.append(prev.argmax(axis=1))
        score = prev.max(axis=1) + log_probs[t]
    score = np.where([t in end for t in TAGS], score, -np.inf)
    k = int(score.argmax())
    out = [k]
    for pointers in reversed(back):
        k = int(pointers[k])
        out.append(k)
    return "".join(TAGS[k] for k in reversed(out))


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    i, f, g, o = np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def gru_step(x, h, K, R, b):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    xz, xr, xh = np.split(x @ K + b[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ R + b[1], 3, axis=-1)
    z = sig(xz + hz)
    return z * h + (1 - z) * np.tanh(xh + sig(xr + hr) * hh)


def forget_grad(x, h, c, K, R, b, v):
    """∂(Σ v · h_t)/∂b_f by finite differences on the forget block of the bias: the five-point
    stencil (error ~ eps⁴, and rounding ~ 1e-16·|L|/eps ≈ 1e-12), accurate to the checker's atol of
    1e-10 where the two-point one (rounding ≈ 1e-9 at eps = 1e-6) failed now and then."""
    u = R.shape[0]

    def loss(b_f):
        b2 = b.copy()
        b2[u : 2 * u] = b_f
        return float(np.sum(lstm_step(x, h, c, K, R, b2)[0] @ v))

    eps, grad, b_f = 1e-3, np.zeros(u), b[u : 2 * u]
    for j in range(u):
        step = np.zeros(u)
        step[j] = eps
        grad[j] = (8 * (loss(b_f + step) - loss(b_f - step)) - (loss(b_f + 2 * step) - loss(b_f - 2 * step))) / (
            12 * eps
        )
    return grad


def clip_global(grads, clip_norm):
    norm = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    return [np.asarray(g) * min(1.0, clip_norm / norm) for g in grads], norm


def backward_last_state(X, K, R, b):
    h = c = np.zeros((X.shape[0], R.shape[0]))
    for t in reversed(range(X.shape[1])):
        h, c = lstm_step(X[:, t], h, c, K, R, b)
    return h


def grad_h0(X, W, U, b, h0, v):
    hs = [h0]
    for x in X:
        hs.append(np.tanh(x @ W + hs[-1] @ U + b))
    delta = v
    for t in range(len(X), 0, -1):
        delta = (delta * (1 - hs[t] ** 2)) @ U.T
    return delta


def macro_f1(t, p):
    f1s = []
    for c in (0, 1):
        tp = np.sum((p == c) & (t == c))
        f1s.append(2 * tp / (np.sum(p == c) + np.sum(t == c)))
    return float(np.mean(f1s))


def near_twins(test, train, threshold):
    grams = lambda s: {s[i : i + 5] for i in range(len(s) - 4)} or {s}  # noqa: E731
    train_sets = [grams(t) for t in train]
    return [
        k for k, s in enumerate(test) if any(len(grams(s) & g) / len(grams(s) | g) >= threshold for g in train_sets)
    ]


def paired_interval(a, b):
    from scipy import stats

    d = np.asarray(a) - np.asarray(b)
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return d.mean() - half, d.mean() + half


def sign_test(wins, n):
    from math import comb

    k = max(wins, n - wins)
    return min(1.0, 2 * sum(comb(n, j) for j in range(k, n + 1)) / 2**n)


def permutation_p(d):
    d = np.asarray(d)
    means = [abs(np.mean(d * s)) for s in itertools.product((1, -1), repeat=d.size)]
    return float(np.mean(np.array(means) >= abs(d.mean()) - 1e-12))


def pad_with_keras(sequences, maxlen, padding, truncating):
    import keras

    return keras.utils.pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating)


def classifier_count_with_keras(vocab, emb, units, bi):
    import keras

    lstm = keras.layers.LSTM(units)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Embedding(vocab, emb),
            keras.layers.Bidirectional(lstm) if bi else lstm,
            keras.layers.Dense(1),
        ]
    )
    return model.count_params()


def lstm_count_with_keras(units, input_dim):
    import keras

    layer = keras.layers.LSTM(units)
    layer.build((None, None, input_dim))
    return layer.count_params()


# (checker call, right answer, [(wrong answer, words the hint must contain), ...])
CASES = {
    "mse_value": (
        lambda a: ex.check_mse_value(a, Y, Y_HAT),
        np.mean((np.array(Y) - Y_HAT) ** 2),
        [(np.sum((np.array(Y) - Y_HAT) ** 2), "sum"), (np.mean((1 - np.array(Y_HAT)) ** 2), "§5")],
    ),
    "bce_value": (
        lambda a: ex.check_bce_value(a, Y, Y_HAT),
        -np.mean(np.array(Y) * np.log(Y_HAT) + (1 - np.array(Y)) * np.log(1 - np.array(Y_HAT))),
        [
            (-np.mean(np.array(Y) * np.log(Y_HAT)), "one-sided"),
            (-np.mean(np.array(Y) * np.log10(Y_HAT) + (1 - np.array(Y)) * np.log10(1 - np.array(Y_HAT))), "log10"),
        ],
    ),
    "weighted_bce": (
        ex.check_weighted_bce_from_logits,
        lambda y, z, w: float(np.mean(w * y * softplus(-z) + (1 - y) * softplus(z))),
        [
            (lambda y, z, w: naive_bce_from_logits(y, z), None),
            (lambda y, z, w: float(np.mean(y * softplus(-z) + w * (1 - y) * softplus(z))), "negative labels"),
        ],
    ),
    "mae": (
        ex.check_mae,
        lambda y, y_hat: float(np.mean(np.abs(y - y_hat))),
        [(lambda y, y_hat: float(np.mean((y - y_hat) ** 2)), "Gaussian")],
    ),
    "softmax_ce_grad": (
        ex.check_softmax_ce_grad,
        softmax_ce_grad,
        [
            (lambda t, Z: softmax_ce_grad(t, Z) * len(t), "mean"),
            (lambda t, Z: naive_softmax(Z) - np.eye(Z.shape[1])[t], None),
            (naive_softmax_ce_grad, "overflows"),
        ],
    ),
    "huber_grad": (
        ex.check_huber_grad,
        lambda y, y_hat, d: huber_grad(y, y_hat, d),
        [
            (lambda y, y_hat, d: huber_grad(y, y_hat, d) * len(y), "1/n"),
            (lambda y, y_hat, d: (y_hat - y) / len(y), "beyond δ"),
        ],
    ),
    "first_order": (
        lambda a: ex.check_first_order_decrease(a, SRC_Y, SRC_Y_HAT, 0.1),
        0.1 * np.sum((2 * (SRC_Y_HAT - SRC_Y) / 4) ** 2),
        [(0.1 * np.sum((2 * (SRC_Y_HAT - SRC_Y)) ** 2), "1/n")],
    ),
    "l2_grads": (
        ex.check_l2_logistic_grads,
        lambda X, y, th, b, mu: (
            X.T @ (1 / (1 + np.exp(-(X @ th + b))) - y) / len(y) + mu * th,
            float(np.sum(1 / (1 + np.exp(-(X @ th + b))) - y) / len(y)),
        ),
        [
            (
                lambda X, y, th, b, mu: (
                    X.T @ (1 / (1 + np.exp(-(X @ th + b))) - y) / len(y),
                    float(np.sum(1 / (1 + np.exp(-(X @ th + b))) - y) / len(y)),
                ),
                "penalty",
            )
        ],
    ),
    "adamw_update": (
        ex.check_adamw_update,
        adamw,
        [
            (lambda w, g, m, v, t, lr, b1, b2, eps, wd: adam_paper(w, g + wd * w, m, v, t, lr, b1, b2, eps), "L2"),
            (lambda w, g, m, v, t, lr, b1, b2, eps, wd: adam_paper(w, g, m, v, t, lr, b1, b2, eps), "leaves out"),
            (lambda w, g, m, v, t, lr, b1, b2, eps, wd: adamw(w, g, m, v, 10**9, lr, b1, b2, eps, wd), None),
        ],
    ),
    "lstm_count": (
        lambda a: ex.check_lstm_param_count(a, 64, 32),
        lstm_count_with_keras(64, 32),
        [(4 * (64 * 32 + 64 * 64), "bias"), (4 * (64 * 32 + 64 * 64 + 128), "PyTorch")],
    ),
    "pad": (
        ex.check_pad_sequences,
        pad_with_keras,
        [(lambda s, m, p, t: pad_with_keras(s, m, p, "post" if t == "pre" else "pre"), "wrong end")],
    ),
    "classifier_count": (
        ex.check_classifier_param_count,
        classifier_count_with_keras,
        [
            (
                lambda v, e, u, bi: (
                    classifier_count_with_keras(v, e, u, False)
                    if not bi
                    else v * e + 2 * 4 * (u * e + u * u + u) + u + 1
                ),
                "one reader",
            )
        ],
    ),
    "forget_bias": (
        ex.check_forget_gate_bias,
        lambda bias, units: bias[units : 2 * units],
        [(lambda bias, units: bias[:units], "input gate")],
    ),
    "gru_step": (
        ex.check_gru_step,
        gru_step,
        [
            (lambda x, h, K, R, b: gru_step(x, h, K, R, b[::-1]), "bias"),
        ],
    ),
    "forget_grad": (
        ex.check_lstm_forget_grad,
        forget_grad,
        [(lambda x, h, c, K, R, b, v: forget_grad(x, h, c, K, R, b, v) / len(x), "averaged")],
    ),
    "clip_global": (
        ex.check_clip_by_global_norm,
        clip_global,
        [
            (lambda g, t: ([np.asarray(a) * t / max(t, np.linalg.norm(a)) for a in g], clip_global(g, t)[1]), "own"),
            (lambda g, t: clip_global(g, t)[0], None),
        ],
    ),
    "grad_h0": (ex.check_rnn_grad_h0, grad_h0, [(lambda X, W, U, b, h0, v: grad_h0(X, W, U.T, b, h0, v), None)]),
    "saliency_centre": (
        ex.check_saliency_centre,
        saliency_centre,
        [
            (lambda s: saliency_centre(s) * (len(s) - 1), "a position"),
            (lambda s: 1 - saliency_centre(s), "from the last"),
        ],
    ),
    "join_states": (
        ex.check_join_states,
        lambda f, b: np.dstack([f, np.flip(b, axis=1)]),
        [(lambda f, b: np.dstack([f, b]), "flip it in time")],
    ),
    "backward_state": (
        ex.check_backward_last_state,
        lambda X, K, R, b: backward_last_state(X, K, R, b),
        [(lambda X, K, R, b: backward_last_state(X[:, ::-1], K, R, b), "start at the last position")],
    ),
    "causal_mask": (
        ex.check_causal_mask,
        lambda T: np.array([[s <= t for s in range(T)] for t in range(T)], dtype=bool).reshape(T, T),
        [
            (lambda T: np.array([[s < t for s in range(T)] for t in range(T)], dtype=bool).reshape(T, T), "itself"),
            (lambda T: np.array([[s >= t for s in range(T)] for t in range(T)], dtype=bool).reshape(T, T), "past"),
        ],
    ),
    "bert_corruption": (
        ex.check_bert_corruption,
        bert_corruption,
        [
            (lambda X, m, r, g: bert_corruption(X, m, r, g, shares=(1.0, 0.0, 0.0)), "every chosen position"),
            (lambda X, m, r, g: bert_corruption(X, m, r, g, fixed_rate=0.15), "whatever `rate` is"),
            (lambda X, m, r, g: bert_corruption(X, m, r, g, padding=True), "padding positions"),
            (lambda X, m, r, g: bert_corruption(X, m, r, g, low=0), "can be padding"),
            (lambda X, m, r, g: bert_corruption(X, m, r, g, shares=(0.8, 0.2, 0.0)), "left unchanged"),
            (
                lambda X, m, r, g: (lambda i, c: (i, i == m))(*bert_corruption(X, m, r, g)),
                "marks only the [MASK] positions",
            ),
        ],
    ),
    "distance_attention": (
        ex.check_distance_attention,
        distance_head,
        [
            (lambda Q, K, V, m, mask: distance_head(Q * np.sqrt(Q.shape[-1]), K, V, m, mask), "√d_k"),
            (lambda Q, K, V, m, mask: distance_head(Q, K, V, -m, mask), "rewards distance"),
            (lambda Q, K, V, m, mask: distance_head(Q, K, V, m, mask, axis=0), "each query's keys"),
        ],
    ),
    "gated_block_params": (
        ex.check_gated_block_params,
        gated_block_params,
        [
            (lambda d, h, k, f: gated_block_params(d, h, k, f) - d * f, "third"),
            (lambda d, h, k, f: gated_block_params(d, h, k, f) + 2 * d, "shift"),
        ],
    ),
    "corpus_perplexity": (
        ex.check_corpus_perplexity,
        corpus_perplexity,
        [
            (lambda losses, n: float(np.exp(np.mean(losses))), "every sentence the same"),
            (lambda losses, n: float(np.mean(np.exp(losses))), "own perplexities"),
        ],
    ),
    "best_epoch": (
        ex.check_best_epoch,
        best_epoch,
        [(lambda s: len(s), "last epoch"), (lambda s: int(np.argmax(s)), "from 0")],
    ),
    "seed_interval": (
        ex.check_seed_interval,
        seed_interval,
        [
            (lambda S: seed_interval(np.reshape(S, (-1, 1))), "every run as independent"),
            (
                lambda S: (
                    np.mean(S),
                    np.mean(S) - 1.96 * np.std(np.mean(S, 1), ddof=1) / np.sqrt(len(S)),
                    np.mean(S) + 1.96 * np.std(np.mean(S, 1), ddof=1) / np.sqrt(len(S)),
                ),
                "1.96",
            ),  # fmt: skip
        ],
    ),
    "encoder_params": (
        ex.check_encoder_params,
        encoder_params,
        [
            (lambda V, T, d, f, L: encoder_params(V, T, d, f, L) - T * d, "position embedding"),
            (lambda V, T, d, f, L: encoder_params(V, T, d, f, L) - d * V - V, "output layer"),
        ],
    ),
    "masked_mean": (
        ex.check_masked_mean,
        lambda s, ids: np.array([s[r, ids[r] != 0].mean(axis=0) for r in range(len(s))]),
        [(lambda s, ids: s.mean(axis=1), "padding positions")],
    ),
    "align_backward": (
        ex.check_align_backward,
        lambda s, ids: np.stack(
            [np.concatenate([s[r, :n][::-1], s[r, n:]]) for r, n in enumerate((ids != 0).sum(axis=1))]
        ),
        [(lambda s, ids: s[:, ::-1], "the padding"), (lambda s, ids: s, "order they were read")],
    ),
    "lora_count": (
        ex.check_lora_count,
        lora_count_by_keras,
        [(lambda i, o, r: i * o, "frozen"), (lambda i, o, r: r * (i + o) + o, "bias")],
    ),
    "lora_forward": (
        ex.check_lora_forward,
        lambda x, W, b, A, B, a: np.einsum("ni,io->no", x, W) + b + a / A.shape[1] * np.einsum("ni,ir,ro->no", x, A, B),
        [(lambda x, W, b, A, B, a: x @ W + b + (x @ A) @ B, "α/r"), (lambda x, W, b, A, B, a: x @ W + b, "low-rank")],
    ),
    "lora_switch": (
        ex.check_lora_switch,
        lambda Wm, A1, B1, A2, B2, a: (
            Wm - a / A1.shape[1] * np.einsum("ir,ro->io", A1, B1) + a / A2.shape[1] * np.einsum("ir,ro->io", A2, B2)
        ),
        [(lambda Wm, A1, B1, A2, B2, a: Wm + a / A2.shape[1] * (A2 @ B2), "still holds")],
    ),
    "lora_grads": (
        ex.check_lora_grads,
        lambda x, W, A, B, a, G: (
            a / A.shape[1] * np.einsum("ni,no,ro->ir", x, G, B),
            a / A.shape[1] * np.einsum("ni,ir,no->ro", x, A, G),
        ),
        [
            (lambda x, W, A, B, a, G: (x.T @ (G @ B.T), (x @ A).T @ G), "α/r"),
            (lambda x, W, A, B, a, G: (-a / A.shape[1] * x.T @ (G @ B.T), -a / A.shape[1] * (x @ A).T @ G), "minus"),
        ],
    ),
    "duplicates": (
        lambda a: ex.check_duplicate_share(a, list("abaaccd")),
        3 / 7,
        [(4 / 7, "distinct"), (5 / 7, "first occurrence"), (3, "count")],
    ),
    "macro_f1": (ex.check_macro_f1, macro_f1, [(lambda t, p: float(np.mean(t == p)), "accuracy")]),
    "near_twins": (
        ex.check_near_twins,
        near_twins,
        [(lambda te, tr, th: [k for k, t in enumerate(te) if t in tr], "exact copies")],
    ),
    "paired_interval": (
        ex.check_paired_interval,
        paired_interval,
        [
            (
                lambda a, b: (
                    lambda d: (
                        d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(d.size),
                        d.mean() + 1.96 * d.std(ddof=1) / np.sqrt(d.size),
                    )
                )(np.asarray(a) - b),
                "1.96",
            )
        ],
    ),
    "sign_test": (
        ex.check_sign_test,
        sign_test,
        [(lambda w, n: sign_test(w, n) / 2 if sign_test(w, n) < 1 else 0.5 + 0.5**n * 0, None)],
    ),
    "permutation": (
        ex.check_permutation_test,
        permutation_p,
        [
            (
                lambda d: float(
                    np.mean(
                        [
                            np.mean(d * np.array(s)) >= d.mean() - 1e-12
                            for s in itertools.product((1, -1), repeat=len(d))
                        ]
                    )
                ),
                "one-sided",
            )
        ],
    ),
    "tags_to_words": (
        ex.check_tags_to_words,
        lambda text, tags: [text[a:b] for a, b in word_spans(tags)],
        [(lambda text, tags: [text[a:b] for a, b in word_spans(tags)][:-1], "last word")],
    ),
    "word_prf": (ex.check_word_prf, None, []),
    "decode": (
        ex.check_constrained_decode,
        viterbi,
        [(lambda lp: "".join(TAGS[k] for k in lp.argmax(axis=1)), "greedy")],
    ),
}


def word_prf(true, pred):
    correct = n_true = n_pred = 0
    for t, p in zip(true, pred):
        ts, ps = set(word_spans(t)), set(word_spans(p))
        correct, n_true, n_pred = correct + len(ts & ps), n_true + len(ts), n_pred + len(ps)
    precision, recall = correct / n_pred, correct / n_true
    return precision, recall, 2 * precision * recall / (precision + recall) if correct else 0.0


CASES["word_prf"] = (
    ex.check_word_prf,
    word_prf,
    [(lambda t, p: (lambda s: (s[1], s[0], s[2]))(word_prf(t, p)), "swapped")],
)


@pytest.mark.parametrize("name", CASES)
def test_right_answer_is_accepted(name):
    check, right, _ = CASES[name]
    verdict = check(right)
    assert verdict.correct, verdict.message
    assert verdict.message.startswith("✓")


@pytest.mark.parametrize("name", CASES)
def test_common_mistakes_get_a_hint_and_no_solution(name):
    check, right, mistakes = CASES[name]
    for wrong, words in mistakes:
        verdict = check(wrong)
        assert not verdict.correct, (name, verdict.message)
        assert verdict.message.startswith("✗")
        if words:  # None: the hint's wording is not pinned down, only that the answer is refused
            assert "Hint:" in verdict.message and words in verdict.message, verdict.message


@pytest.mark.parametrize("name", CASES)
def test_not_answered_and_broken_answers(name):
    check, right, _ = CASES[name]
    assert check(...).message == NOT_ANSWERED and not check(...).correct
    if callable(right):
        for broken in (lambda *args: None, lambda *args: 1 / 0):
            verdict = check(broken)
            assert not verdict.correct and verdict.message.startswith("✗"), verdict.message
        verdict = check(42)
        assert not verdict.correct and "function" in verdict.message


def test_verdict_shows_its_message_and_hides_the_expected_value():
    verdict = ex.check_mse_value(0.5, Y, Y_HAT)
    assert repr(verdict) == verdict.message
    expected = np.mean((np.array(Y) - Y_HAT) ** 2)
    assert f"{expected:.4f}" not in verdict.message and f"{expected:.3f}" not in verdict.message


def test_check_value_shape_type_and_unknown_mistake():
    assert "shape" in check_value(np.zeros(3), np.zeros(2), what="x").message
    assert "number" in check_value("0.5", 0.5, what="x").message
    verdict = check_value(0.7, 0.5, what="x")
    assert not verdict.correct and "none of the common mistakes" in verdict.message
    assert isinstance(verdict, Verdict)


def test_same_compares_nested_answers():
    assert same((np.ones(2), 1.0), (np.ones(2), 1.0 + 1e-12))
    assert not same((np.ones(2), 1.0), (np.ones(2), 1.1))
    assert same("bes", "bes") and not same("bes", "bse")
    assert same([1, 2], np.array([1.0, 2.0]))


def test_is_valid_tagging():
    assert is_valid_tagging("bes") and is_valid_tagging("bmme")
    assert not is_valid_tagging("bb") and not is_valid_tagging("mes") and not is_valid_tagging("sb")


WEIRD_VALUES = [{"a": 1}, "0.5", (x for x in range(2)), None, [[1.0], [2.0, 3.0]], object(), [0.1, 0.2, 0.3]]
WEIRD_FUNCTIONS = [
    lambda *a: {"a": 1},
    lambda *a: (x for x in range(3)),
    lambda *a: "text",
    lambda *a: (1.0,),
    lambda *a: [[1.0, 2.0], [3.0]],
    lambda *a: np.array([np.nan]),
    lambda *a: object(),
    lambda *a: np.zeros((2, 2, 2)),
]


@pytest.mark.parametrize("name", CASES)
def test_any_answer_gets_a_verdict_never_a_traceback(name):
    """Adversarial answers: wrong types, ragged lists, generators, objects, NaN, wrong shapes."""
    check, right, _ = CASES[name]
    for answer in WEIRD_FUNCTIONS if callable(right) else WEIRD_VALUES:
        verdict = check(answer)
        assert isinstance(verdict, Verdict) and not verdict.correct, (name, verdict)
        assert verdict.message.startswith(("✗", "…")), verdict.message


def test_the_encoder_count_reference_agrees_with_keras(keras):
    """check_encoder_params's reference is a formula; Keras counts the course's encoder the same."""
    from helpers.exercises.full_data import _encoder_params
    from helpers.transformer import char_transformer

    for V, T, d, f, L in ((100, 16, 8, 16, 1), (50, 32, 16, 32, 2), (283, 64, 32, 64, 3)):
        model = char_transformer(V, T, d, 2, f, L, distance_bias=True)
        assert _encoder_params(V, T, d, f, L) == model.count_params() == encoder_params(V, T, d, f, L)


def test_the_gated_block_reference_agrees_with_keras():
    """09.3's independent count, against Keras layers built without biases (RMSNormalization: a scale only)."""
    import keras

    for d, h, k, f in ((8, 2, 4, 16), (6, 3, 2, 10)):
        x = keras.Input(shape=(3, d))
        norm = keras.layers.RMSNormalization
        y = norm()(x)
        y = x + keras.layers.MultiHeadAttention(num_heads=h, key_dim=k, use_bias=False)(y, y)
        z = norm()(y)
        gate = keras.layers.Dense(f, activation="silu", use_bias=False)(z)
        up = keras.layers.Dense(f, use_bias=False)(z)
        y = y + keras.layers.Dense(d, use_bias=False)(gate * up)
        assert keras.Model(x, y).count_params() == gated_block_params(d, h, k, f)


def test_the_hand_references_agree_with_keras_and_tensorflow(tf):
    """02.1's Huber gradient against GradientTape on keras.losses.Huber; 02.4's AdamW step against
    keras.optimizers.AdamW (first step, ε tiny so that its two placements agree)."""
    import keras

    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=7), rng.normal(scale=2.0, size=7)
    y_hat_var = tf.Variable(y_hat)
    with tf.GradientTape() as tape:
        loss = keras.losses.Huber(delta=0.7)(tf.constant(y), y_hat_var)
    np.testing.assert_allclose(huber_grad(y, y_hat, 0.7), tape.gradient(loss, y_hat_var).numpy(), rtol=1e-6)
    w, g = rng.normal(size=4), rng.normal(size=4)
    variable = keras.Variable(w, dtype="float64")
    exact = {
        "learning_rate": 0.125,
        "weight_decay": 0.25,
        "beta_1": 0.875,
        "beta_2": 1 - 2.0**-10,
    }  # float32 holds them
    optimizer = keras.optimizers.AdamW(**exact, epsilon=1e-12)  # tiny: Keras puts ε before the bias correction
    optimizer.apply_gradients([(tf.constant(g), variable)])
    ours, _, _ = adamw(w, g, np.zeros(4), np.zeros(4), 1, 0.125, 0.875, 1 - 2.0**-10, 1e-12, 0.25)
    np.testing.assert_allclose(ours, variable.numpy(), rtol=1e-9)


def test_a_mismatch_of_kind_is_named():
    column = ex.check_huber_grad(lambda y, y_hat, d: huber_grad(y, y_hat, d)[:, None])
    assert "shape (2, 1), where shape (2,)" in column.message
    assert "dict" in ex.check_huber_grad(lambda y, y_hat, d: {"g": 1}).message
    assert "3 values" in ex.check_clip_by_global_norm(lambda *a: (*clip_global(*a), 0)).message


def test_equivalent_containers_and_float32_are_accepted():
    assert ex.check_clip_by_global_norm(lambda *a: list(clip_global(*a))).correct  # [g, n] as well as (g, n)
    assert ex.check_clip_by_global_norm(lambda *a: (tuple(clip_global(*a)[0]), clip_global(*a)[1])).correct
    assert ex.check_l2_logistic_grads(lambda *a: list(CASES["l2_grads"][1](*a))).correct
    assert ex.check_huber_grad(lambda y, y_hat, d: list(huber_grad(y, y_hat, d))).correct
    assert ex.check_huber_grad(lambda y, y_hat, d: huber_grad(y, y_hat, d).astype(np.float32)).correct


def test_an_untouched_function_is_not_answered_yet():
    def my_answer(x):
        """What the student edition leaves: a docstring and `...`."""
        ...

    def forgot_return(y, y_hat, delta):
        g = huber_grad(y, y_hat, delta)  # noqa: F841

    assert ex.check_huber_grad(my_answer).message.startswith("… Not answered yet")
    assert "None" in ex.check_huber_grad(forgot_return).message


def test_sign_test_edges_catch_an_uncapped_p_value():
    from scipy import stats

    def uncapped(w, n):
        return 2 * float(stats.binom.sf(max(w, n - w) - 1, n, 0.5))

    verdict = ex.check_sign_test(uncapped)
    assert not verdict.correct and "exceeds 1" in verdict.message


def test_hints_do_not_state_the_answer():
    """02.3: the hint for a halved or doubled penalty must not give the derivative away."""
    for factor in (0.5, 2.0):

        def grads(X, y, th, b, mu, factor=factor):
            d_theta, d_b = CASES["l2_grads"][1](X, y, th, b, 0.0)
            return d_theta + factor * mu * th, d_b

        message = ex.check_l2_logistic_grads(grads).message
        assert "Hint:" in message and "μθ" not in message, message


def test_an_answer_that_changes_the_inputs_while_read_does_not_change_the_verdict():
    """The share is counted from a private copy, before the answer is read: an answer object that
    empties the list of lines and claims the share of what is left gets no ✓."""
    lines = list("abaaccd")

    class Sneaky:
        def __float__(self):
            lines[:] = ["x", "y"]  # no repeats left: a share of 0
            return 0.0

        def __array__(self, dtype=None, copy=None):
            return np.asarray(float(self), dtype=dtype)

    assert not ex.check_duplicate_share(Sneaky(), lines).correct
    assert ex.check_duplicate_share(3 / 7, list("abaaccd")).correct


def test_a_tensorflow_answer_and_a_learners_seterr_are_fine(tf):
    saved = np.seterr(all="raise")  # what a learner might try in a course about overflow
    try:
        assert ex.check_mae(lambda y, y_hat: tf.reduce_mean(tf.abs(y - y_hat))).correct
        assert ex.check_mse_value(tf.constant(np.mean((np.array(Y) - Y_HAT) ** 2), tf.float32), Y, Y_HAT).correct
        assert ex.check_softmax_ce_grad(softmax_ce_grad).correct
        assert not ex.check_softmax_ce_grad(naive_softmax_ce_grad).correct
    finally:
        np.seterr(**saved)
