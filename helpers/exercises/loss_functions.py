"""Checkers for the exercises of notebook 01 · loss functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.exercises.core import HAND_RTOL, Mistake, Verdict, check_function, check_value, input_rng
from helpers.losses import (
    binary_cross_entropy,
    mse,
    one_hot,
    one_sided_cross_entropy,
    softmax,
    softmax_cross_entropy_grad,
)


def check_mse_value(answer: Any, y: Sequence[float], y_hat: Sequence[float]) -> Verdict:
    """Exercise 01.1: MSE = 1/n Σ (y_i − ŷ_i)² of the given labels and predictions."""
    y, y_hat = np.array(y, float), np.array(y_hat, float)  # private copies, read before the answer is
    return check_value(
        answer,
        mse(y, y_hat),
        what="the MSE",
        rtol=HAND_RTOL,
        mistakes=[
            Mistake(np.sum((y - y_hat) ** 2), "that is the sum of the squared errors; MSE is their mean."),
            Mistake(np.sqrt(mse(y, y_hat)), "that is the root of the MSE (RMSE)."),
            Mistake(np.mean(np.abs(y - y_hat)), "that is the mean absolute error."),
            Mistake(
                np.mean((1 - y_hat) ** 2),
                "you measured every distance to 1, the source's §5 mistake.",
            ),
        ],
    )


def check_bce_value(answer: Any, y: Sequence[float], y_hat: Sequence[float]) -> Verdict:
    """Exercise 01.1: BCE = −1/n Σ [y log ŷ + (1 − y) log(1 − ŷ)], natural logarithm."""
    y, y_hat = np.array(y, float), np.array(y_hat, float)  # private copies, read before the answer is
    value = binary_cross_entropy(y, y_hat)
    return check_value(
        answer,
        value,
        what="the binary cross-entropy",
        rtol=HAND_RTOL,
        mistakes=[
            Mistake(
                one_sided_cross_entropy(y, y_hat),
                "you kept only −y log ŷ, the source's one-sided formula; "
                "the negative samples need −(1 − y) log(1 − ŷ).",
            ),
            Mistake(-value, "check the sign: log of a probability is negative, so the loss has a minus in front."),
            Mistake(value / np.log(10), "use the natural logarithm (np.log), not log10."),
            Mistake(value / np.log(2), "use the natural logarithm (np.log), not log2."),
            Mistake(value * y.size, "that is the sum over samples; take the mean."),
        ],
    )


def _weighted_bce(y, z, pos_weight, *, swapped=False, weight_on_negatives=False, total=False):
    """mean[pos_weight·y·softplus(−z) + (1 − y)·softplus(z)], or one of its known mistakes."""
    y, z = np.asarray(y, dtype=float), np.asarray(z, dtype=float)
    if swapped:
        y = 1 - y
    positive, negative = y * np.logaddexp(0.0, -z), (1 - y) * np.logaddexp(0.0, z)
    per_sample = positive + pos_weight * negative if weight_on_negatives else pos_weight * positive + negative
    return float(np.sum(per_sample) if total else np.mean(per_sample))


def check_weighted_bce_from_logits(fn: Any) -> Verdict:
    """Exercise 01.2: the weighted BCE from logits, as `tf.nn.weighted_cross_entropy_with_logits`
    computes it (then averaged): mean[w·y·softplus(−z) + (1 − y)·softplus(z)], exact for every finite z."""
    rng = input_rng()
    cases = [(rng.integers(0, 2, 6).astype(float), rng.normal(0, 3, 6), float(w)) for w in (1.0, 3.0, 0.25)]
    extreme = (np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), np.array([-800.0, 800.0, -40.0, 40.0, 0.0, 1e-3]), 2.0)
    cases.append(extreme)

    def naive(y, z, w):
        with np.errstate(all="ignore"):
            p = 1 / (1 + np.exp(-z))
            return float(np.mean(-w * y * np.log(p) - (1 - y) * np.log(1 - p)))

    def clipped(y, z, w):
        with np.errstate(all="ignore"):
            p = np.clip(1 / (1 + np.exp(-z)), 1e-7, 1 - 1e-7)
        return float(np.mean(-w * y * np.log(p) - (1 - y) * np.log(1 - p)))

    return check_function(
        fn,
        cases,
        _weighted_bce,
        what="the weighted BCE from logits",
        rtol=1e-7,
        mistakes=[
            Mistake(
                naive, "your loss goes through σ(z), which rounds to exactly 0 or 1 for large |z|: its log is inf."
            ),
            Mistake(clipped, "your loss is clipped, so it stops growing for confident mistakes."),
            Mistake(
                lambda y, z, w: _weighted_bce(y, z, w, weight_on_negatives=True),
                "your pos_weight multiplies the cost of the negative labels.",
            ),
            Mistake(lambda y, z, w: _weighted_bce(y, z, w, swapped=True), "your labels are swapped."),
            Mistake(lambda y, z, w: _weighted_bce(y, z, 1.0), "your loss ignores pos_weight."),
            Mistake(lambda y, z, w: _weighted_bce(y, z, w, total=True), "your loss is the sum over samples."),
        ],
    )


def check_mae(fn: Any) -> Verdict:
    """Exercise 01.3: MAE = 1/n Σ |y_i − ŷ_i|, the loss that Laplace noise asks for."""
    rng = input_rng()
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (3, 5, 8)]
    return check_function(
        fn,
        cases,
        lambda y, y_hat: float(np.mean(np.abs(y - y_hat))),
        what="the mean absolute error",
        mistakes=[
            Mistake(lambda y, y_hat: float(np.mean(y - y_hat)), "in your mean, positive and negative errors cancel."),
            Mistake(mse, "that is the MSE, the loss for Gaussian noise. Laplace noise has |y − ŷ| in the exponent."),
            Mistake(lambda y, y_hat: float(np.sum(np.abs(y - y_hat))), "that is the sum; take the mean."),
        ],
    )


def check_softmax_ce_grad(fn: Any) -> Verdict:
    """Exercise 01.4: ∂CCE/∂Z = (softmax(Z) − one-hot(labels)) / n for integer labels and (n, K) logits."""
    rng = input_rng()
    cases = [(rng.integers(0, k, n), rng.normal(0, 3, (n, k))) for n, k in ((5, 4), (3, 2), (8, 6))]
    # huge logits, and a row far below the others (one maximum for the whole batch empties it)
    cases.append(
        (np.array([0, 2, 1]), np.array([[1000.0, 0.0, -1000.0], [5.0, 1001.0, 1000.0], [-1000.0, -999.0, -1001.0]]))
    )

    def naive(labels, Z):  # e^{1000} = inf: nan in the huge rows
        with np.errstate(all="ignore"):
            E = np.exp(Z)
            return (E / E.sum(axis=1, keepdims=True) - one_hot(labels, Z.shape[1])) / len(labels)

    def batch_max(labels, Z):
        with np.errstate(all="ignore"):
            E = np.exp(Z - Z.max())
            return (E / E.sum(axis=1, keepdims=True) - one_hot(labels, Z.shape[1])) / len(labels)

    def columns(labels, Z):
        with np.errstate(all="ignore"):
            E = np.exp(Z - Z.max(axis=0))
            return (E / E.sum(axis=0) - one_hot(labels, Z.shape[1])) / len(labels)

    return check_function(
        fn,
        cases,
        softmax_cross_entropy_grad,
        what="the gradient of the mean softmax cross-entropy",
        rtol=1e-7,
        atol=1e-12,
        mistakes=[
            Mistake(lambda t, Z: softmax_cross_entropy_grad(t, Z) * len(t), "the loss is a mean over n samples."),
            Mistake(lambda t, Z: -softmax_cross_entropy_grad(t, Z), "check the sign: the loss falls as z_t grows."),
            Mistake(lambda t, Z: softmax(Z) / len(t), "differentiate the −z_t term of the loss too."),
            Mistake(
                naive,
                "right for moderate logits, but e^z overflows for z = 1000, and inf/inf is nan.",
            ),
            Mistake(columns, "softmax normalises each sample's row (axis=1), not each class's column."),
            Mistake(
                batch_max,
                "one maximum for the whole batch: a row far below it has every e^(z − max) round to 0, "
                "and 0/0 is nan. The shift that keeps softmax finite is per row.",
            ),
        ],
    )
