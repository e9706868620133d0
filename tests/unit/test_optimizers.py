"""helpers.optimizers against keras.optimizers (the oracle): the same gradients fed to both, the
same parameters after every step, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.logistic import gradient_descent, make_two_class_data
from helpers.optimizers import (
    AdamState,
    adam_init,
    adam_update,
    clip_by_global_norm,
    clip_by_norm,
    minibatch_indices,
    momentum_update,
    sgd_update,
    train_logistic,
)

NUM_STEPS = 25
# Keras keeps the learning rate in a float32 variable and casts momentum and β₁, β₂ through
# float32 (0.9 becomes 0.899999976…), relative changes near 3e-8 that a float64 comparison at
# 1e-12 would see. So the exact checks use hyper-parameters that float32 holds exactly; the
# defaults are checked at a tolerance that allows for that rounding.
LR, MOMENTUM, BETA_1, BETA_2 = 0.0625, 0.875, 0.875, 1 - 2.0**-10
LR = LR
RTOL, ATOL = 1e-12, 1e-14


def gradient_sequence(seed: int) -> np.ndarray:
    """Gradients whose coordinates differ in scale by 10⁶ and change sign: Adam's hard case."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(NUM_STEPS, 3)) * np.array([1e-3, 1.0, 1e3])


def keras_path(tf, keras, optimizer, grads: np.ndarray, w0: np.ndarray) -> np.ndarray:
    w = keras.Variable(w0, dtype="float64")
    path = [w.numpy().copy()]
    for g in grads:
        optimizer.apply_gradients([(tf.constant(g), w)])
        path.append(w.numpy().copy())
    return np.array(path)


def our_path(update, grads: np.ndarray, w0: np.ndarray, state) -> np.ndarray:
    w, path = w0.copy(), [w0.copy()]
    for g in grads:
        w, state = update(w, g, state)
        path.append(w.copy())
    return np.array(path)


W0 = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("seed", range(3))
def test_sgd_matches_keras(tf, keras, seed):
    grads = gradient_sequence(seed)
    ours = our_path(lambda w, g, s: (sgd_update(w, g, LR), s), grads, W0, None)
    np.testing.assert_allclose(ours, keras_path(tf, keras, keras.optimizers.SGD(LR), grads, W0), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", range(3))
def test_momentum_matches_keras(tf, keras, seed):
    grads = gradient_sequence(seed)
    ours = our_path(lambda w, g, v: momentum_update(w, g, v, LR, MOMENTUM), grads, W0, np.zeros(3))
    theirs = keras_path(tf, keras, keras.optimizers.SGD(LR, momentum=MOMENTUM), grads, W0)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", range(3))
def test_adam_matches_keras(tf, keras, seed):
    grads = gradient_sequence(seed)
    ours = our_path(lambda w, g, s: adam_update(w, g, s, LR, BETA_1, BETA_2), grads, W0, adam_init(W0))
    theirs = keras_path(tf, keras, keras.optimizers.Adam(LR, beta_1=BETA_1, beta_2=BETA_2), grads, W0)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-12)


def test_default_hyper_parameters_agree_to_float32_rounding(tf, keras):
    grads = gradient_sequence(0)
    ours = our_path(lambda w, g, s: adam_update(w, g, s, 0.001), grads, W0, adam_init(W0))
    np.testing.assert_allclose(ours, keras_path(tf, keras, keras.optimizers.Adam(), grads, W0), rtol=1e-6)
    ours = our_path(lambda w, g, v: momentum_update(w, g, v, 0.01, 0.9), grads, W0, np.zeros(3))
    theirs = keras_path(tf, keras, keras.optimizers.SGD(0.01, momentum=0.9), grads, W0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5)  # positions up to ~100


def test_the_adam_check_can_fail(tf, keras):
    """Adam without its bias correction moves 10× too little at the first step: the check sees it."""

    def uncorrected(w, g, s):
        m, v = BETA_1 * s.m + (1 - BETA_1) * g, BETA_2 * s.v + (1 - BETA_2) * g**2
        return w - LR * m / (np.sqrt(v) + 1e-7), AdamState(m, v, s.t + 1)

    grads = gradient_sequence(0)
    theirs = keras_path(tf, keras, keras.optimizers.Adam(LR, beta_1=BETA_1, beta_2=BETA_2), grads, W0)
    assert not np.allclose(our_path(uncorrected, grads, W0, adam_init(W0)), theirs, rtol=RTOL, atol=1e-12)


def test_adam_first_step_is_lr_in_every_coordinate():
    """m̂ = g and v̂ = g² at t = 1, so each coordinate moves by α g/|g| (up to ε)."""
    g = np.array([1e-2, -1.0, 1e3])
    w, _ = adam_update(np.zeros(3), g, adam_init(np.zeros(3)), lr=0.01)
    np.testing.assert_allclose(w, -0.01 * np.sign(g), rtol=1e-3)


def test_full_batch_method_is_notebook_02s_gradient_descent():
    X, y = make_two_class_data(100, 0)
    ours = train_logistic(X, y, "gd", 0.5, 30)
    reference = gradient_descent(X, y, np.zeros(1), 0.0, 0.5, 30)
    np.testing.assert_allclose(ours.thetas, reference.thetas, rtol=1e-12)
    np.testing.assert_allclose(ours.bs, reference.bs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.losses, reference.losses, rtol=1e-12)


def test_minibatches_use_every_sample_once_per_epoch():
    batches = minibatch_indices(10, 4, np.random.default_rng(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))


def test_unknown_method_is_refused():
    X, y = make_two_class_data(10, 0)
    with pytest.raises(ValueError, match="method must be one of"):
        train_logistic(X, y, "rmsprop", 0.1, 1)


def test_clipping_matches_keras(tf, keras):
    """clipnorm clips each variable's gradient on its own; global_clipnorm all of them together."""
    grads = [np.array([3.0, 4.0]), np.array([0.1, -0.2, 0.2]), np.array([12.0])]  # norms 5, 0.3, 12
    for kind, ours in [
        ("clipnorm", [clip_by_norm(g, 1.0) for g in grads]),
        ("global_clipnorm", clip_by_global_norm(grads, 1.0)),
    ]:
        variables = [keras.Variable(np.zeros_like(g), dtype="float64") for g in grads]
        keras.optimizers.SGD(1.0, **{kind: 1.0}).apply_gradients(
            [(tf.constant(g), v) for g, v in zip(grads, variables)]
        )
        for mine, v in zip(ours, variables):
            np.testing.assert_allclose(-v.numpy(), mine, rtol=1e-7)  # SGD with α = 1: w = −clipped g
    assert np.isclose(np.linalg.norm(clip_by_norm(grads[0], 1.0)), 1.0)
    assert np.array_equal(clip_by_norm(grads[1], 1.0), grads[1])  # short gradients are left alone


def test_the_clipping_check_can_fail():
    """Per-variable and global clipping really differ, so the comparison above tells them apart."""
    grads = [np.array([3.0, 4.0]), np.array([12.0])]
    assert not np.allclose(clip_by_global_norm(grads, 1.0)[0], clip_by_norm(grads[0], 1.0))
