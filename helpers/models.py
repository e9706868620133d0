"""The Keras models of notebooks 04, 07 and 08: a review classifier and a character tagger, each
reading left-to-right, right-to-left or both ways (an LSTM built by hand in 04 opens them up).
`compile_model` and `restart` serve notebook 05's own models too.

Reading right-to-left is done on the data: `reverse_valid` reverses the characters of every
sequence (its padding stays at the end), and the same left-to-right model reads that. For the
tagger, its tags are reversed the same way, and reversed back after prediction.
"""

from __future__ import annotations

import numpy as np

DIRECTIONS = ("left-to-right", "right-to-left", "bidirectional")


def compile_model(model, optimizer, loss, metrics=None, run_eagerly: bool = False):
    """`model.compile(optimizer, loss, metrics)` without XLA (compiling the small loops of the
    course's models costs more than it saves on a CPU), then the optimizer's state built at once.
    Keras on TensorFlow otherwise creates Adam's moments inside the first traced training step, and
    a `tf.function` that creates variables is traced twice; built here, it is traced once. The
    numbers are the same (the moments start at zero either way). `run_eagerly=True` skips tracing
    altogether, for a model that makes only a few updates (`helpers.finetune.fine_tune`). Returns
    the model."""
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=False, run_eagerly=run_eagerly)
    optimizer.build(model.trainable_variables)
    return model


def restart(model, fresh):
    """Give `model` the state of `fresh`, a model of the same shape built and compiled just now:
    its weights, and its optimizer's variables (step 0, Adam's moments at zero). Returns `model`.

    Training `model` afterwards gives exactly the numbers training `fresh` would (tested), but
    its training step is already traced, so a run skips a second or so of tracing. Notebooks 05,
    07 and 08 train many models of a few shapes: each run builds its fresh model (the seed draws its
    weights) and trains the one model of that shape, restarted (05 then hands the trained state back
    to the run's own model the same way, `restart(fresh, model)`, to keep every trained model)."""
    model.set_weights(fresh.get_weights())
    for mine, theirs in zip(model.optimizer.variables, fresh.optimizer.variables, strict=True):
        mine.assign(theirs)
    return model


def outputs_of(model, X: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """model(X) as a NumPy array, computed eagerly `batch_size` rows at a time. Eager: a model built
    for one run is called a few times, and tracing `predict` for it would cost more than the call.
    In chunks: one call on every row at once holds every row's attention weights in memory at the
    same time, and is several times slower."""
    return np.concatenate(
        [np.asarray(model(X[i : i + batch_size], training=False)) for i in range(0, len(X), batch_size)]
    )


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
    return compile_model(model, keras.optimizers.Adam(learning_rate), "binary_crossentropy", metrics=["accuracy"])


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
    return compile_model(model, keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")
