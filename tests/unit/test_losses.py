"""helpers.losses against keras.losses (the oracle), with explicit tolerances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers.losses import (
    EPSILON,
    binary_cross_entropy,
    binary_cross_entropy_from_logits,
    categorical_cross_entropy,
    log_softmax,
    mse,
    one_hot,
    one_sided_cross_entropy,
    sigmoid,
    softmax,
    softmax_cross_entropy_grad,
    softplus,
    sparse_categorical_cross_entropy_from_logits,
)

SEEDS = range(5)
RTOL, ATOL = 1e-10, 1e-12  # float64 on both sides: only round-off may differ


def random_case(seed: int, n: int = 500):
    """Labels, probabilities with exact 0s and 1s, and logits with extremes."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(np.float64)
    p = rng.random(n)
    p[rng.random(n) < 0.1] = 0.0
    p[rng.random(n) < 0.1] = 1.0
    z = rng.normal(scale=20.0, size=n)
    z[:4] = [80.0, -80.0, 0.0, 1e-9]
    return y, p, z


@pytest.mark.parametrize("seed", SEEDS)
def test_mse_matches_keras(keras, seed):
    y, p, _ = random_case(seed)
    np.testing.assert_allclose(mse(y, p), keras.losses.mean_squared_error(y, p).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_bce_matches_keras_including_exact_zeros_and_ones(keras, seed):
    y, p, _ = random_case(seed)
    assert np.any(p == 0.0) and np.any(p == 1.0)
    np.testing.assert_allclose(
        binary_cross_entropy(y, p), keras.losses.binary_crossentropy(y, p).numpy(), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_bce_from_logits_matches_keras(keras, seed):
    y, _, z = random_case(seed)
    np.testing.assert_allclose(
        binary_cross_entropy_from_logits(y, z),
        keras.losses.binary_crossentropy(y, z, from_logits=True).numpy(),
        rtol=RTOL,
        atol=ATOL,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_one_sided_terms_add_up_to_two_class_categorical_ce(keras, seed):
    y, p, _ = random_case(seed)
    both = one_sided_cross_entropy(y, p) + one_sided_cross_entropy(1 - y, 1 - p)
    cce = keras.losses.categorical_crossentropy(np.stack([y, 1 - y], 1), np.stack([p, 1 - p], 1)).numpy()
    np.testing.assert_allclose(both, np.mean(cce), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(both, binary_cross_entropy(y, p), rtol=RTOL, atol=ATOL)


def test_one_sided_ignores_negative_examples():
    y = np.array([1.0, 0.0])
    assert one_sided_cross_entropy(y, [0.9, 0.0]) == one_sided_cross_entropy(y, [0.9, 1.0])
    assert binary_cross_entropy(y, [0.9, 0.0]) < binary_cross_entropy(y, [0.9, 1.0])


def test_source_example_values():
    """The seed README's figures, recomputed from the formulas written independently here."""
    y, y_hat = np.array([1, 0, 1, 0.0]), np.array([0.8, 0.2, 0.9, 0.1])
    assert mse(y, y_hat) == pytest.approx((0.2**2 + 0.2**2 + 0.1**2 + 0.1**2) / 4)
    assert mse(y, y_hat) == pytest.approx(0.025)
    assert one_sided_cross_entropy(y, y_hat) == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 4)
    assert round(one_sided_cross_entropy(y, y_hat), 4) == 0.0821
    assert round(binary_cross_entropy(y, y_hat), 4) == 0.1643


def test_clipping_gives_the_keras_cap():
    assert binary_cross_entropy([1.0], [0.0]) == pytest.approx(-np.log(EPSILON))


def test_sigmoid_and_softplus_are_stable_and_match_tf(tf):
    z = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        s, sp = sigmoid(z), softplus(z)
    np.testing.assert_allclose(s, tf.sigmoid(z).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sp, tf.nn.softplus(z).numpy(), rtol=1e-12, atol=1e-300)
    assert binary_cross_entropy_from_logits([0.0], [800.0]) == pytest.approx(800.0)


# --- softmax and categorical cross-entropy ------------------------------------------------------


def logits_case(seed: int, n: int = 200, k: int = 5):
    """Integer labels and logits with a huge row (where a naive softmax overflows)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    Z = rng.normal(scale=8.0, size=(n, k))
    Z[0] = [1000.0, 1001.0, 999.0, -1000.0, 0.0]
    return labels, Z


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_and_log_softmax_match_keras(keras, seed):
    _, Z = logits_case(seed)
    np.testing.assert_allclose(softmax(Z), keras.activations.softmax(Z).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(log_softmax(Z), keras.activations.log_softmax(Z).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(softmax(Z).sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(log_softmax(Z)))


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_cross_entropies_match_keras(keras, seed):
    labels, Z = logits_case(seed)
    ours = sparse_categorical_cross_entropy_from_logits(labels, Z)
    theirs = np.mean(keras.losses.sparse_categorical_crossentropy(labels, Z, from_logits=True).numpy())
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    P = softmax(Z)
    Y = one_hot(labels, Z.shape[1])
    np.testing.assert_allclose(
        categorical_cross_entropy(Y, P), np.mean(keras.losses.categorical_crossentropy(Y, P).numpy()), rtol=RTOL
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_grad_matches_gradient_tape(tf, seed):
    labels, Z = logits_case(seed, n=30)
    Zv = tf.Variable(Z)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=Zv))
    np.testing.assert_allclose(
        softmax_cross_entropy_grad(labels, Z), tape.gradient(loss, Zv).numpy(), rtol=1e-10, atol=1e-14
    )


def test_two_classes_are_binary_cross_entropy():
    """K = 2 with logits (z, 0) is a sigmoid with logit z: softmax's first column is σ(z)."""
    rng = np.random.default_rng(0)
    z, y = rng.normal(scale=5, size=100), rng.integers(0, 2, 100)
    Z = np.stack([np.zeros_like(z), z], axis=1)  # class 1's logit is z
    np.testing.assert_allclose(softmax(Z)[:, 1], sigmoid(z), rtol=1e-12)
    np.testing.assert_allclose(
        sparse_categorical_cross_entropy_from_logits(y, Z), binary_cross_entropy_from_logits(y, z), rtol=1e-12
    )


def test_the_gradient_check_can_fail():
    """The oracle comparison above would catch the classic slip of forgetting the 1/n."""
    labels, Z = logits_case(0, n=30)
    wrong = softmax_cross_entropy_grad(labels, Z) * Z.shape[0]
    assert not np.allclose(wrong, softmax_cross_entropy_grad(labels, Z), rtol=1e-10, atol=1e-14)
