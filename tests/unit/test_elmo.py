"""helpers.elmo's pooling for sentiment (notebook 10, section 6): a text read in pieces pools to
exactly what reading it whole gives, against a plain NumPy computation."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.tf_quiet import import_tensorflow

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def reader():
    """ids (N, L) → one-hot-like states that depend on the character only (a reader with no
    context), so pieces and whole texts give the same states."""
    import_tensorflow()
    import keras

    ids = keras.Input(shape=(None,), dtype="int32")
    table = keras.layers.Embedding(20, 3, embeddings_initializer="random_normal")
    return keras.Model(ids, table(ids))


def by_hand(reader, text, vocab):
    ids = np.asarray([[vocab[c] for c in text]])
    states = np.asarray(reader(ids))[0]
    return np.concatenate([states.mean(0), states.max(0), states[-1]])


def test_pieces_cover_every_text_in_order():
    from helpers.elmo import text_pieces

    pieces, owner = text_pieces(["abcdefg", "", "xy"], 3)
    assert pieces == ["abc", "def", "g", "", "xy"]
    assert owner.tolist() == [0, 0, 0, 1, 2]


@pytest.mark.parametrize("length", [2, 3, 8])
def test_pooling_pieces_equals_pooling_the_whole_text(reader, length):
    import keras

    from helpers.elmo import pooled_states, text_pieces

    vocab = {c: i for i, c in enumerate("abcdefghij", 2)}
    texts = ["abcdefg", "hij", "a", "jihgfedcba"]
    fixed = keras.Model(reader.input, reader.output)  # pooled_states reads the input length
    inputs = keras.Input(shape=(length,), dtype="int32")
    windowed = keras.Model(inputs, fixed(inputs))
    pieces, owner = text_pieces(texts, length)
    pooled = pooled_states(windowed, pieces, owner, vocab, len(texts), batch_size=2)
    expected = np.stack([by_hand(reader, t, vocab) for t in texts])
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    wrong = expected.copy()
    wrong[:, -3:] = np.stack([np.asarray(reader(np.asarray([[vocab[t[0]]]])))[0, 0] for t in texts])
    assert np.abs(pooled - wrong).max() > 1e-3  # "last" is the last character, not the first


def test_empty_texts_pool_to_zeros_and_disorder_is_refused(reader):
    import keras

    from helpers.elmo import pooled_states, text_pieces

    vocab = {c: i for i, c in enumerate("abc", 2)}
    inputs = keras.Input(shape=(4,), dtype="int32")
    windowed = keras.Model(inputs, reader(inputs))
    pieces, owner = text_pieces(["ab", "", "c"], 4)
    pooled = pooled_states(windowed, pieces, owner, vocab, 3)
    assert np.all(pooled[1] == 0.0) and np.all(pooled[0] != 0.0)
    assert pooled_states(windowed, [], np.zeros(0, int), vocab, 2).shape == (2, 9)
    with pytest.raises(ValueError, match="non-decreasing"):
        pooled_states(windowed, ["a", "b"], np.array([1, 0]), vocab, 2)


def test_the_probe_reads_what_the_states_carry(reader):
    """Labels that a character decides are read perfectly; labels unrelated to the text are not."""
    import keras

    from helpers.elmo import probe_probabilities

    vocab = {c: i for i, c in enumerate("abcdefghij", 2)}
    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(list("cdefghij"), 6)) + ("a" if k % 2 else "b") for k in range(200)]
    y = np.arange(200) % 2  # 'a' at the end: positive
    inputs = keras.Input(shape=(4,), dtype="int32")
    windowed = keras.Model(inputs, reader(inputs))
    p = probe_probabilities(windowed, texts[:150], y[:150], texts[150:], vocab)
    assert p.shape == (50,) and np.all((p > 0.5) == y[150:])
    shuffled = rng.permutation(y)
    p = probe_probabilities(windowed, texts[:150], shuffled[:150], texts[150:], vocab)
    assert np.mean((p > 0.5) == shuffled[150:]) < 0.8
