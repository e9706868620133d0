"""helpers.models: reading directions really are what their names say."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.models import (
    DIRECTIONS,
    build_classifier,
    build_tagger,
    compile_model,
    lengths_of,
    outputs_of,
    restart,
    reverse_like,
    reverse_valid,
)


def test_reverse_valid_keeps_padding_at_the_end():
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [6, 0, 0, 0, 0]])
    assert reverse_valid(ids).tolist() == [[3, 2, 1, 0, 0], [5, 4, 0, 0, 0], [6, 0, 0, 0, 0]]
    assert lengths_of(ids).tolist() == [3, 2, 1]
    tags = np.array([[0, 1, 2, 3, 3], [3, 3, 0, 0, 0], [3, 0, 0, 0, 0]])
    assert np.array_equal(reverse_like(reverse_like(tags, ids), ids), tags)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_models_build_and_predict(tf, direction):
    ids = np.array([[2, 3, 4, 0], [5, 6, 0, 0]], dtype=np.int32)
    classifier = build_classifier(10, embedding_dim=4, units=3, direction=direction, seed=0)
    tagger = build_tagger(10, embedding_dim=4, units=3, direction=direction, seed=0)
    assert classifier.predict(ids, verbose=0).shape == (2, 1)
    probs = tagger.predict(ids, verbose=0)
    assert probs.shape == (2, 4, 4) and np.allclose(probs.sum(-1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="direction must be one of"):
        build_classifier(10, embedding_dim=4, units=3, direction="sideways", seed=0)


@pytest.mark.parametrize("direction, sees_the_future", [("left-to-right", False), ("bidirectional", True)])
def test_a_tagger_sees_the_right_context_only_when_bidirectional(tf, direction, sees_the_future):
    """Change the token after position 2: a left-to-right tagger's output at 2 must not move."""
    tagger = build_tagger(10, embedding_dim=4, units=3, direction=direction, seed=1)
    a = np.array([[2, 3, 4, 5, 6]], dtype=np.int32)
    b = a.copy()
    b[0, 3] = 9
    out_a, out_b = tagger.predict(a, verbose=0), tagger.predict(b, verbose=0)
    assert np.allclose(out_a[0, :3], out_b[0, :3], atol=1e-7) != sees_the_future


def test_right_to_left_by_reversal_sees_only_the_right_context(tf):
    tagger = build_tagger(10, embedding_dim=4, units=3, direction="left-to-right", seed=2)
    a = np.array([[2, 3, 4, 5, 6, 0]], dtype=np.int32)
    b = a.copy()
    b[0, 1] = 9  # change a token BEFORE position 3
    out_a = reverse_like(tagger.predict(reverse_valid(a), verbose=0), a)
    out_b = reverse_like(tagger.predict(reverse_valid(b), verbose=0), b)
    assert np.allclose(out_a[0, 2:5], out_b[0, 2:5], atol=1e-7)  # positions after it do not move
    assert not np.allclose(out_a[0, :2], out_b[0, :2], atol=1e-7)


def traces_of_training(tf, compile_with) -> int:
    """How many times the first three training steps of a fresh tiny model are traced: a layer
    whose Python body runs only while TensorFlow traces counts them."""
    import keras

    traced = []

    def count(x):
        traced.append(1)
        return x

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(count), keras.layers.Dense(1)])
    compile_with(model, keras.optimizers.Adam(0.01), "mse")
    traced.clear()  # building the model ran it once, symbolically
    X, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    for _ in range(3):
        model.train_on_batch(X, y)
    return len(traced)


def test_compile_model_traces_the_training_step_once_where_plain_compile_traces_twice(tf):
    def plain(model, optimizer, loss):
        model.compile(optimizer=optimizer, loss=loss, jit_compile=False)

    assert traces_of_training(tf, plain) == 2  # the double trace compile_model exists to avoid
    assert traces_of_training(tf, compile_model) == 1


def test_outputs_of_is_one_call_on_every_row_computed_in_chunks(tf):
    model = build_tagger(10, embedding_dim=4, units=3, direction="bidirectional", seed=0)
    ids = np.random.default_rng(0).integers(1, 10, size=(150, 7)).astype("int32")
    whole = np.asarray(model(ids, training=False))
    for batch_size in (7, 64, 150, 1000):  # 7: the last chunk is short
        np.testing.assert_allclose(outputs_of(model, ids, batch_size), whole, rtol=1e-6, atol=1e-7)


def test_a_restarted_model_trains_exactly_as_the_fresh_one_would(tf):
    """`restart` gives a used model a fresh model's weights and optimizer state: training it then
    matches training the fresh model bit for bit, after the used one has trained on other data."""
    rng = np.random.default_rng(0)
    X, y = rng.integers(1, 30, size=(96, 9)).astype("int32"), rng.integers(0, 2, size=96)

    def build(seed):
        return build_classifier(30, embedding_dim=4, units=3, direction="left-to-right", seed=seed)

    def train(model):
        model.fit(X, y, epochs=2, batch_size=32, shuffle=True, verbose=0)
        return outputs_of(model, X)

    used = build(7)
    train(used)  # it has moved: its weights and Adam's moments are no longer a fresh model's
    expected = train(build(1))
    assert not np.array_equal(train(used), expected)  # trained on, without a restart, it differs
    restarted = restart(used, build(1))
    assert restarted is used and int(used.optimizer.iterations.numpy()) == 0
    np.testing.assert_array_equal(train(used), expected)
