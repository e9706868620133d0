"""helpers.rnn against Keras layers and tf.GradientTape, and BPTT against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.gradients import numerical_gradient, relative_error
from helpers.rnn import (
    lstm_classifier_loss_and_grads,
    lstm_forward,
    lstm_step,
    rnn_classifier_loss_and_grads,
    rnn_forward,
)

FLOAT32_TOL = dict(rtol=1e-5, atol=1e-6)  # Keras computes in float32
N, T, D, U = 3, 6, 4, 5
MASK = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4])  # variable lengths


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T, D)), (rng.random(N) < 0.5).astype(float)


def weights64(layer):
    return [w.numpy().astype(np.float64) for w in layer.weights]


@pytest.mark.parametrize("mask", [None, MASK], ids=["full", "masked"])
def test_rnn_forward_matches_keras_simple_rnn(keras, mask):
    X, _ = inputs()
    layer = keras.layers.SimpleRNN(U, return_sequences=True)
    out = layer(X.astype("float32"), mask=None if mask is None else mask.astype(bool))
    H, _ = rnn_forward(X, *weights64(layer), mask)
    np.testing.assert_allclose(H, out.numpy(), **FLOAT32_TOL)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [None, MASK], ids=["full", "masked"])
def test_lstm_forward_matches_keras(keras, mask, go_backwards):
    X, _ = inputs(1)
    layer = keras.layers.LSTM(U, return_sequences=True, return_state=True, go_backwards=go_backwards)
    out, h, c = layer(X.astype("float32"), mask=None if mask is None else mask.astype(bool))
    H, h_T, c_T = lstm_forward(X, *weights64(layer), mask, go_backwards=go_backwards)
    np.testing.assert_allclose(h_T, h.numpy(), **FLOAT32_TOL)
    np.testing.assert_allclose(c_T, c.numpy(), **FLOAT32_TOL)
    np.testing.assert_allclose(H, out.numpy(), **FLOAT32_TOL)


def test_lstm_step_gates_are_in_range():
    rng = np.random.default_rng(2)
    h, c, gates = lstm_step(
        rng.normal(size=(2, D)),
        np.zeros((2, U)),
        np.zeros((2, U)),
        rng.normal(size=(D, 4 * U)),
        rng.normal(size=(U, 4 * U)),
        np.zeros(4 * U),
    )
    for name in "ifo":
        assert np.all((gates[name] > 0) & (gates[name] < 1))
    assert np.all(np.abs(gates["g"]) < 1) and np.all(np.abs(h) < 1)
    np.testing.assert_allclose(c, gates["i"] * gates["g"])  # c_0 = 0: only what was written


def rnn_params(seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(scale=0.5, size=s) for s in [(D, U), (U, U), (U,), (U,)]] + [0.1]


@pytest.mark.parametrize("mask", [None, MASK], ids=["full", "masked"])
def test_bptt_matches_gradient_tape(tf, mask):
    X, y = inputs(4)
    W, Uw, b, w, c = rnn_params()
    loss, grads = rnn_classifier_loss_and_grads(X, y, W, Uw, b, w, c, mask)
    vars_ = [tf.Variable(v, dtype=tf.float64) for v in (X, W, Uw, b, w, c)]
    m = tf.constant(np.ones((N, T)) if mask is None else mask, tf.float64)
    with tf.GradientTape() as tape:
        Xv, Wv, Uv, bv, wv, cv = vars_
        h = tf.zeros((N, U), tf.float64)
        for t in range(T):
            h_new = tf.tanh(Xv[:, t] @ Wv + h @ Uv + bv)
            h = m[:, t, None] * h_new + (1 - m[:, t, None]) * h
        z = tf.linalg.matvec(h, wv) + cv
        loss_tf = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    g = tape.gradient(loss_tf, vars_)
    np.testing.assert_allclose(loss, loss_tf.numpy(), rtol=1e-12)
    for ours, theirs in zip([grads.X, grads.W, grads.U, grads.b, grads.w, grads.c], g):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)
    if mask is not None:  # no gradient reaches a padded position
        assert np.all(grads.X[MASK == 0] == 0)


def test_bptt_matches_finite_differences():
    X, y = inputs(5)
    W, Uw, b, w, c = rnn_params(6)
    _, grads = rnn_classifier_loss_and_grads(X, y, W, Uw, b, w, c, MASK)
    numeric_U = numerical_gradient(lambda u_: rnn_classifier_loss_and_grads(X, y, W, u_, b, w, c, MASK)[0], Uw)
    assert relative_error(grads.U, numeric_U) < 1e-6


def test_bptt_detects_a_wrong_gradient():
    """The check above can fail: drop the tanh derivative and it does."""
    X, y = inputs(5)
    W, Uw, b, w, c = rnn_params(6)
    H, _ = rnn_forward(X, W, Uw, b)
    numeric_w = numerical_gradient(lambda w_: rnn_classifier_loss_and_grads(X, y, W, Uw, b, w_, c)[0], w)
    wrong = H[:, -1].T @ (1 / (1 + np.exp(-(H[:, -1] @ w + c))) - y)  # forgot the 1/N
    assert relative_error(wrong, numeric_w) > 0.1


def test_counting_task_labels_follow_the_rule():
    from helpers.sequence_data import make_counting_task

    X, y = make_counting_task(500, 7, seed=0)
    assert X.shape == (500, 7) and X.min() >= 1 and X.max() <= 10
    by_hand = [(sum(t <= 5 for t in row) > 3.5) for row in X.tolist()]
    assert y.tolist() == [float(v) for v in by_hand]
    assert 0.4 < y.mean() < 0.6
    X2, _ = make_counting_task(500, 7, seed=0)
    assert np.array_equal(X, X2)


def test_rnn_forward_from_a_given_initial_state_continues_the_sequence():
    rng = np.random.default_rng(5)
    X, W, U, b = rng.normal(size=(3, 6, 2)), rng.normal(size=(2, 4)), rng.normal(size=(4, 4)) / 2, rng.normal(size=4)
    H, _ = rnn_forward(X, W, U, b)
    H_rest, _ = rnn_forward(X[:, 1:], W, U, b, h0=H[:, 0])
    np.testing.assert_allclose(H_rest, H[:, 1:], rtol=0, atol=1e-14)


def lstm_params(seed=4):
    rng = np.random.default_rng(seed)
    shapes = [(D, 4 * U), (U, 4 * U), (4 * U,), (U,)]
    return [rng.normal(scale=0.5, size=s) for s in shapes] + [0.1]


@pytest.mark.parametrize("mask", [None, MASK], ids=["full", "masked"])
def test_lstm_bptt_matches_gradient_tape(tf, keras, mask):
    """Our LSTM reverse pass against Keras's LSTM (float64, same weights) under tf.GradientTape."""
    X, y = inputs(7)
    K, R, bias, w, c = lstm_params()
    loss, grads = lstm_classifier_loss_and_grads(X, y, K, R, bias, w, c, mask)
    layer = keras.layers.LSTM(U, dtype="float64")
    layer.build((None, T, D))
    layer.set_weights([K, R, bias])
    Xv, wv, cv = tf.Variable(X), tf.Variable(w), tf.Variable(c, dtype=tf.float64)
    with tf.GradientTape() as tape:
        h = layer(Xv, mask=None if mask is None else tf.constant(mask.astype(bool)))
        z = tf.linalg.matvec(h, wv) + cv
        loss_tf = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    g = tape.gradient(loss_tf, [*layer.trainable_weights, wv, cv, Xv])
    np.testing.assert_allclose(loss, loss_tf.numpy(), rtol=1e-12)
    for ours, theirs in zip([grads.kernel, grads.recurrent_kernel, grads.bias, grads.w, grads.c, grads.X], g):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_lstm_bptt_check_can_fail():
    """Finite differences agree with our gradient, and catch the classic slip of a wrong gate order
    (the i and f blocks of the kernel's gradient swapped)."""
    X, y = inputs(7)
    K, R, bias, w, c = lstm_params()
    _, grads = lstm_classifier_loss_and_grads(X, y, K, R, bias, w, c, MASK)
    numeric = numerical_gradient(lambda k: lstm_classifier_loss_and_grads(X, y, k, R, bias, w, c, MASK)[0], K)
    assert relative_error(grads.kernel, numeric) < 1e-6
    swapped = np.concatenate([grads.kernel[:, U : 2 * U], grads.kernel[:, :U], grads.kernel[:, 2 * U :]], axis=1)
    assert relative_error(swapped, numeric) > 0.1


def test_train_rnn_sgd_clipping_caps_every_step():
    """With a tiny clipping threshold every update is at most lr·τ long, so the weights barely move
    and the held-out accuracy stays at chance; without it, SGD changes the model."""
    from helpers.rnn import train_rnn_sgd
    from helpers.sequence_data import make_counting_task

    X, y = make_counting_task(300, 9, 0)
    Xv, yv = make_counting_task(200, 9, 1)
    one_hot = np.eye(11)[X][:, :, 1:]
    one_hot_v = np.eye(11)[Xv][:, :, 1:]
    kw = dict(units=4, lr=0.5, num_epochs=1, recurrent_scale=1.0, seed=0)
    free = train_rnn_sgd(one_hot, y, one_hot_v, yv, clip_norm=None, **kw)
    capped = train_rnn_sgd(one_hot, y, one_hot_v, yv, clip_norm=1e-6, **kw)
    assert free.grad_norms.shape == free.losses.shape == (10,)
    assert abs(capped.recurrent_norm - 1.0) < 1e-4  # U = 1.0 · Q moved by at most 10 · 0.5e-6
    assert abs(free.recurrent_norm - 1.0) > 1e-3
