"""Checkers for the exercises of notebook 03 · the source's Keras LSTM."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, check_value, input_rng
from helpers.models import lstm_param_count


def check_lstm_param_count(answer: Any, units: int, input_dim: int) -> Verdict:
    """Exercise 03.1: the parameter count of LSTM(units) on input_dim-dimensional inputs."""
    u, d = units, input_dim
    return check_value(
        answer,
        lstm_param_count(u, d),
        what=f"the parameter count of LSTM({u}) on {d}-dim inputs",
        mistakes=[
            Mistake(4 * (u * d + u * u), "your count leaves out the blocks' biases."),
            Mistake(u * d + u * u + u, "your count has a single block of weights, as a simple RNN would."),
            Mistake(4 * (u * d + u), "your count leaves out the recurrent weights that read h_{t−1}."),
            Mistake(4 * (u * d + u * u + 2 * u), "your count has two biases per block, PyTorch's layout, not Keras's."),
        ],
    )


def _pad_reference(sequences, maxlen, padding, truncating):
    out = np.zeros((len(sequences), maxlen), dtype=np.int64)
    for row, seq in enumerate(sequences):
        seq = list(seq)
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if kept:
            if padding == "pre":
                out[row, maxlen - len(kept) :] = kept
            else:
                out[row, : len(kept)] = kept
    return out


def check_pad_sequences(fn: Any) -> Verdict:
    """Exercise 03.2: `pad(sequences, maxlen, padding, truncating)` with the behaviour of
    `keras.utils.pad_sequences` (zeros; "pre" or "post" for each argument)."""
    rng = input_rng()
    ids = lambda n: [int(i) for i in rng.integers(1, 30, n)]  # noqa: E731
    seqs = [ids(int(rng.integers(5, 10))), ids(2), [], ids(4)]  # longer than 4, shorter, empty, exactly 4
    cases = [(seqs, 4, p, t) for p in ("pre", "post") for t in ("pre", "post")] + [(seqs, 7, "pre", "pre")]
    return check_function(
        fn,
        cases,
        _pad_reference,
        what="padding and truncating like Keras",
        mistakes=[
            Mistake(
                lambda s, m, p, t: _pad_reference(s, m, p, "post" if t == "pre" else "pre"),
                "your function drops tokens from the wrong end of a long sequence for this `truncating`.",
            ),
            Mistake(
                lambda s, m, p, t: _pad_reference(s, m, "post" if p == "pre" else "pre", t),
                "your zeros are on the wrong side of the tokens for this `padding`.",
            ),
        ],
    )


def _classifier_param_count(vocab_size: int, embedding_dim: int, units: int, bidirectional: bool) -> int:
    """Embedding → LSTM (or Bidirectional LSTM) → Dense(1): every weight counted."""
    k = 2 if bidirectional else 1
    return vocab_size * embedding_dim + k * lstm_param_count(units, embedding_dim) + (k * units + 1)


def check_classifier_param_count(fn: Any) -> Verdict:
    """Exercise 03.3: `count(vocab_size, embedding_dim, units, bidirectional)` for the classifier."""
    rng = input_rng()
    drawn = (int(rng.integers(20, 5000)), int(rng.integers(2, 65)), int(rng.integers(1, 65)), bool(rng.random() < 0.5))
    cases = [(1000, 64, 32, False), (1000, 64, 32, True), (50, 8, 4, True), drawn]

    def variant(dense_in_doubled=True, lstm_doubled=True, dense_bias=1):
        def count(v, e, u, bi):
            k = 2 if bi else 1
            return (
                v * e
                + (k if lstm_doubled else 1) * lstm_param_count(u, e)
                + (k if dense_in_doubled else 1) * u
                + dense_bias
            )

        return count

    return check_function(
        fn,
        cases,
        _classifier_param_count,
        what="the classifier's parameter count",
        mistakes=[
            Mistake(
                variant(dense_in_doubled=False),
                "your Dense layer reads one reader's state only (units numbers) from the Bidirectional layer.",
            ),
            Mistake(variant(lstm_doubled=False), "your count has the weights of one LSTM inside Bidirectional."),
            Mistake(variant(dense_bias=0), "your count leaves out the Dense layer's bias."),
        ],
    )
