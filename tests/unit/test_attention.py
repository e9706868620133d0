"""helpers.attention against the framework: Keras's MultiHeadAttention and LayerNormalization
(float64, same weights) for the forward pass, tf.GradientTape for the reverse pass, each with an
explicit tolerance; and tests showing the checks can fail. helpers.transformer: the causal model
really is one-way, the parameter count by hand matches Keras."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.attention import (
    MHAWeights,
    causal_mask,
    distance_bias,
    distance_slopes,
    layer_norm,
    multi_head_attention,
    multi_head_attention_backward,
    scaled_dot_product_attention,
    sinusoidal_positions,
    transformer_block_params,
)
from helpers.tf_quiet import import_tensorflow

pytestmark = pytest.mark.unit
TOL = 1e-12  # float64 throughout: differences are rounding only


@pytest.fixture(scope="module")
def keras():
    import_tensorflow()
    import keras

    return keras


def keras_layer(keras, weights: MHAWeights, X: np.ndarray):
    h, k = weights.bq.shape
    layer = keras.layers.MultiHeadAttention(num_heads=h, key_dim=k, dtype="float64")
    layer(X, X)
    layer.set_weights(weights.as_keras())
    return layer


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(2, 5, 8, 2), (1, 1, 4, 1), (3, 7, 12, 3)])
def test_forward_matches_keras(keras, causal, shape):
    N, T, d, h = shape
    rng = np.random.default_rng(sum(shape))
    X = rng.normal(size=(N, T, d))
    weights = MHAWeights.random(d, h, d // h, rng)
    ours, _ = multi_head_attention(X, weights, causal_mask(T) if causal else None)
    theirs = keras_layer(keras, weights, X)(X, X, use_causal_mask=causal).numpy()
    np.testing.assert_allclose(ours, theirs, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("causal", [False, True])
def test_distance_biased_attention_matches_numpy(keras, causal):
    """ALiBi's layer (helpers.transformer) against the NumPy scores plus −m_j·|t − s|, float64;
    the same layer with the bias left out of the NumPy side differs (the check can fail)."""
    from helpers.transformer import DistanceBiasedAttention

    rng = np.random.default_rng(11)
    N, T, d, h = 2, 9, 12, 3
    X = rng.normal(size=(N, T, d))
    weights = MHAWeights.random(d, h, d // h, rng)
    slopes = distance_slopes(h)
    layer = DistanceBiasedAttention(slopes, num_heads=h, key_dim=d // h, dtype="float64")
    layer(X, X)
    layer.set_weights(weights.as_keras())
    mask = causal_mask(T) if causal else None
    theirs, scores = layer(X, X, use_causal_mask=causal, return_attention_scores=True)
    ours, cache = multi_head_attention(X, weights, mask, distance_bias(T, slopes))
    np.testing.assert_allclose(ours, theirs.numpy(), atol=TOL, rtol=TOL)
    np.testing.assert_allclose(cache.A, scores.numpy(), atol=TOL, rtol=TOL)
    unbiased, _ = multi_head_attention(X, weights, mask)
    assert np.max(np.abs(unbiased - theirs.numpy())) > 1e-3
    config = DistanceBiasedAttention.from_config(layer.get_config()).get_config()
    assert config["slopes"] == list(slopes)


def test_distance_bias_formula():
    slopes = distance_slopes(4)
    np.testing.assert_allclose(slopes, [1 / 4, 1 / 16, 1 / 64, 1 / 256])
    B = distance_bias(4, slopes)
    assert B.shape == (4, 4, 4)
    assert B[0, 0, 3] == -0.75 and B[0, 3, 0] == -0.75 and B[3, 2, 2] == 0.0


def tape_grads(keras, weights, X, R, causal):
    import tensorflow as tf

    layer = keras_layer(keras, weights, X)
    X_tf = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(X_tf)
        loss = tf.reduce_sum(layer(X_tf, X_tf, use_causal_mask=causal) * R)
    grads = tape.gradient(loss, [X_tf, *layer.trainable_weights])
    return grads[0].numpy(), [g.numpy() for g in grads[1:]]


@pytest.mark.parametrize("causal", [False, True])
def test_reverse_pass_matches_gradient_tape(keras, causal):
    rng = np.random.default_rng(7)
    N, T, d, h = 2, 6, 8, 2
    X, R = rng.normal(size=(2, N, T, d))
    weights = MHAWeights.random(d, h, d // h, rng)
    _, cache = multi_head_attention(X, weights, causal_mask(T) if causal else None)
    our_w, our_x = multi_head_attention_backward(R, weights, cache)
    tape_x, tape_w = tape_grads(keras, weights, X, R, causal)
    np.testing.assert_allclose(our_x, tape_x, atol=TOL, rtol=TOL)
    for ours, theirs in zip(our_w.as_keras(), tape_w, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=TOL, rtol=TOL)


def test_the_gradient_check_can_fail(keras):
    """A reverse pass given the wrong attention weights (all ones) is caught by the comparison."""
    rng = np.random.default_rng(3)
    X, R = rng.normal(size=(2, 2, 5, 8))
    weights = MHAWeights.random(8, 2, 4, rng)
    _, cache = multi_head_attention(X, weights)
    cache.A = np.ones_like(cache.A)
    wrong_w, _ = multi_head_attention_backward(R, weights, cache)
    _, tape_w = tape_grads(keras, weights, X, R, causal=False)
    assert np.max(np.abs(wrong_w.Wq - tape_w[0])) > 1e-3


def test_mask_hides_the_future_exactly():
    rng = np.random.default_rng(0)
    Q, K, V = rng.normal(size=(3, 6, 4))
    _, A = scaled_dot_product_attention(Q, K, V, causal_mask(6))
    assert np.all(A[np.triu_indices(6, 1)] == 0.0)
    np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-15)
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_without_positions_attention_is_permutation_equivariant():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 7, 6))
    weights = MHAWeights.random(6, 3, 2, rng)
    order = rng.permutation(7)
    Y, _ = multi_head_attention(X, weights)
    np.testing.assert_allclose(multi_head_attention(X[:, order], weights)[0], Y[:, order], atol=1e-13)
    P = sinusoidal_positions(7, 6)
    Y_pos, _ = multi_head_attention(X + P, weights)
    assert np.max(np.abs(multi_head_attention(X[:, order] + P, weights)[0] - Y_pos[:, order])) > 1e-2


def test_sinusoidal_positions_formula():
    pe = sinusoidal_positions(5, 6)
    assert pe.shape == (5, 6)
    np.testing.assert_allclose(pe[3, 2], np.sin(3 / 10000 ** (2 / 6)))
    np.testing.assert_allclose(pe[3, 3], np.cos(3 / 10000 ** (2 / 6)))
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1, 0, 1])


def test_layer_norm_matches_keras(keras):
    rng = np.random.default_rng(2)
    x, gamma, beta = rng.normal(size=(3, 4, 5)), rng.normal(size=5), rng.normal(size=5)
    layer = keras.layers.LayerNormalization(dtype="float64")
    layer(x)
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(layer_norm(x, gamma, beta), layer(x).numpy(), atol=TOL)


@pytest.mark.parametrize("sizes", [(32, 2, 64), (16, 4, 48)])
def test_block_parameters_by_hand_match_keras(keras, sizes):
    from helpers.transformer import char_transformer

    d_model, heads, d_ff = sizes
    model = char_transformer(50, 8, d_model, heads, d_ff, num_layers=2)
    by_hand = transformer_block_params(d_model, heads, d_model // heads, d_ff)
    block = [layer for layer in model.layers if layer.name.startswith("block1_")]
    assert sum(layer.count_params() for layer in block) == by_hand["total"]
    embed, head = 50 * d_model + 8 * d_model, d_model * 50 + 50
    assert model.count_params() == embed + 2 * by_hand["total"] + head


def test_causal_transformer_is_one_way_and_the_other_is_not(keras):
    from helpers.transformer import char_transformer

    rng = np.random.default_rng(4)
    X = rng.integers(2, 30, size=(4, 10)).astype("int32")
    changed = X.copy()
    changed[:, 6:] = rng.integers(2, 30, size=(4, 4))
    for causal in (True, False):
        keras.utils.set_random_seed(0)
        model = char_transformer(30, 10, 16, 2, 32, causal=causal)
        moved = np.max(np.abs(model.predict(X, verbose=0)[:, :6] - model.predict(changed, verbose=0)[:, :6]))
        assert (moved < 1e-5) if causal else (moved > 1e-3), (causal, moved)


def test_windows_vocab_and_masking():
    from helpers.text import PAD, UNK
    from helpers.transformer import char_vocab, char_windows, mask_characters

    vocab = char_vocab(["aab", "abc"], 5)
    assert vocab == {"a": 2, "b": 3, "[MASK]": 4}
    W = char_windows(["aabcaab", "ab"], 2, vocab)
    assert W.tolist() == [[2, 2, 3], [UNK, 2, 2]]
    X = np.array([[2, 3, 3, PAD], [4, 2, 2, 2]])
    corrupted, hidden = mask_characters(X, 9, 1.0, np.random.default_rng(0))
    assert hidden.tolist() == [[True, True, True, False], [True, True, True, True]]
    assert corrupted[hidden].tolist() == [9] * 7 and corrupted[0, 3] == PAD
    _, some = mask_characters(np.full((200, 50), 2), 9, 0.15, np.random.default_rng(0))
    assert 0.13 < some.mean() < 0.17
