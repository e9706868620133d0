"""The Keras models of notebooks 04, 07 and 08: a review classifier and a character tagger, each
reading left-to-right, right-to-left or both ways (an LSTM built by hand in 04 opens them up).

Reading right-to-left is done on the data: `reverse_valid` reverses the characters of every
sequence (its padding stays at the end), and the same left-to-right model reads that. For the
tagger, its tags are reversed the same way, and reversed back after prediction.
"""

from __future__ import annotations

import numpy as np

DIRECTIONS = ("left-to-right", "right-to-left", "bidirectional")


def lstm_param_count(units: int, input_dim: int) -> int:
    """Weights of a Keras LSTM(units) on input_dim-dimensional inputs: 4 blocks (3 gates and the
    cell candidate), each with input weights (d·u), recurrent weights (u·u) and a bias (u), so
    4(du + u² + u). Taught in notebook 03."""
    return 4 * (units * input_dim + units * units + units)


def reverse_valid(ids: np.ndarray) -> np.ndarray:
    """Reverse each row's non-padding prefix: [a b c 0 0] → [c b a 0 0] (also for tag arrays
    aligned with `lengths_of` the ids: pass them through with the same lengths)."""
    out = np.array(ids, copy=True)
    for row, n in enumerate(lengths_of(ids)):
        out[row, :n] = out[row, :n][::-1]
    return out


def lengths_of(ids: np.ndarray) -> np.ndarray:
    """Number of non-padding positions in each row (padding = 0, always at the end)."""
    return np.sum(np.asarray(ids) != 0, axis=1)


def reverse_like(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Reverse each row of `values` (tags, predictions) over the valid length of `ids`'s row."""
    out = np.array(values, copy=True)
    for row, n in enumerate(lengths_of(ids)):
        out[row, :n] = out[row, :n][::-1]
    return out


def _recurrent(keras, direction: str, units: int, return_sequences: bool):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    lstm = keras.layers.LSTM(units, return_sequences=return_sequences)
    return keras.layers.Bidirectional(lstm) if direction == "bidirectional" else lstm


def build_classifier(
    vocab_size: int, *, embedding_dim: int, units: int, direction: str, seed: int, learning_rate: float = 0.001
):
    """Embedding(mask_zero) → LSTM (one way or both) → Dense(1, sigmoid); compiled with Adam + BCE."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True),
            _recurrent(keras, direction, units, return_sequences=False),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,  # XLA-compiling the LSTM's loop costs more than it saves at the course's sizes
    )
    return model


def build_tagger(
    vocab_size: int,
    *,
    embedding_dim: int,
    units: int,
    direction: str,
    seed: int,
    num_tags: int = 4,
    learning_rate: float = 0.001,
):
    """Embedding(mask_zero) → LSTM returning every step (one way or both) → Dense(num_tags, softmax)
    at every position; compiled with Adam + sparse categorical cross-entropy (pass the padding
    mask as `sample_weight`)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True),
            _recurrent(keras, direction, units, return_sequences=True),
            keras.layers.Dense(num_tags, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", jit_compile=False
    )
    return model
