"""helpers.gradients and helpers.logistic against tf.GradientTape and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.gradients import mse_grad, numerical_gradient, relative_error
from helpers.logistic import gradient_descent, logistic_loss_and_grads, make_two_class_data
from helpers.losses import binary_cross_entropy, mse

RTOL, ATOL = 1e-10, 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_mse_grad_matches_gradient_tape(tf, seed):
    rng = np.random.default_rng(seed)
    y, y_hat = rng.random(7), tf.Variable(rng.random(7))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((y - y_hat) ** 2)
    np.testing.assert_allclose(mse_grad(y, y_hat.numpy()), tape.gradient(loss, y_hat).numpy(), rtol=RTOL, atol=ATOL)


def test_mse_grad_keeps_the_one_over_n():
    y, y_hat = np.array([1, 0, 1, 0.0]), np.array([0.8, 0.2, 0.9, 0.1])
    np.testing.assert_allclose(mse_grad(y, y_hat), [-0.1, 0.1, -0.05, 0.05])


def test_numerical_gradient_of_a_known_function():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    x = np.array([0.5, -1.5])
    f = lambda v: 0.5 * v @ a @ v  # noqa: E731  (gradient: a @ v)
    np.testing.assert_allclose(numerical_gradient(f, x), a @ x, rtol=1e-8, atol=1e-8)
    assert x.tolist() == [0.5, -1.5]  # the input is not modified


def test_numerical_gradient_detects_a_wrong_gradient():
    y, y_hat = np.array([1, 0, 1, 0.0]), np.array([0.8, 0.2, 0.9, 0.1])
    numeric = numerical_gradient(lambda p: mse(y, p), y_hat)
    assert relative_error(numeric, mse_grad(y, y_hat)) < 1e-8
    assert relative_error(numeric, -2 * (y - y_hat)) > 0.5  # the source's formula (no 1/n)


def test_relative_error_is_scale_free():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1e-8], [2e-8]) == pytest.approx(relative_error([1.0], [2.0]))


@pytest.mark.parametrize("loss_name", ["bce", "mse"])
def test_logistic_gradients_match_gradient_tape(tf, loss_name):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), (rng.random(40) < 0.5).astype(float)
    theta, b = tf.Variable(rng.normal(size=3)), tf.Variable(0.3, dtype=tf.float64)
    with tf.GradientTape() as tape:
        z = tf.linalg.matvec(tf.constant(X), theta) + b
        if loss_name == "bce":
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
        else:
            loss = tf.reduce_mean((y - tf.sigmoid(z)) ** 2)
    g_theta, g_b = tape.gradient(loss, [theta, b])
    value, d_theta, d_b = logistic_loss_and_grads(X, y, theta.numpy(), float(b.numpy()), loss_name)
    np.testing.assert_allclose(value, loss.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(d_theta, g_theta.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(d_b, g_b.numpy(), rtol=RTOL, atol=ATOL)


def test_logistic_loss_is_the_bce_of_its_predictions():
    X, y = make_two_class_data(50, seed=2)
    value, _, _ = logistic_loss_and_grads(X, y, np.array([0.4]), -0.2)
    y_hat = 1 / (1 + np.exp(-(X[:, 0] * 0.4 - 0.2)))
    assert value == pytest.approx(binary_cross_entropy(y, y_hat))


def test_unknown_loss_is_rejected():
    X, y = make_two_class_data(10, seed=0)
    with pytest.raises(ValueError, match="loss must be one of"):
        logistic_loss_and_grads(X, y, np.zeros(1), 0.0, "hinge")


def test_make_two_class_data_is_deterministic_and_balanced():
    X1, y1 = make_two_class_data(101, seed=5)
    X2, y2 = make_two_class_data(101, seed=5)
    assert X1.shape == (101, 1) and y1.shape == (101,)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert abs(int(y1.sum()) - 50) <= 1
    assert not np.array_equal(X1, make_two_class_data(101, seed=6)[0])


def test_gradient_descent_history_and_descent():
    X, y = make_two_class_data(100, seed=0)
    run = gradient_descent(X, y, np.zeros(1), 0.0, lr=1.0, num_epochs=30)
    assert run.thetas.shape == (31, 1) and run.bs.shape == (31,) and run.losses.shape == (31,)
    assert np.all(np.diff(run.losses) < 0)  # a safe step size: the loss falls at every step
    value, _, _ = logistic_loss_and_grads(X, y, run.thetas[-1], run.bs[-1])
    assert run.losses[-1] == value
