"""Loss functions, written from their formulas. Taught in notebook 01.

Conventions: `y` are the targets (0/1 for classification), `y_hat` the predicted probabilities,
`z` logits (y_hat = σ(z)). Each loss returns the mean over all elements, as Keras does for 1-D
inputs. `tests/unit/test_losses.py` checks each one against `keras.losses`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

EPSILON = 1e-7  # Keras's `keras.config.epsilon()`: probabilities are clipped to [ε, 1 - ε]


def sigmoid(z: ArrayLike) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), evaluated without overflow for large |z|.

    For z < 0 it uses the equal form e^{z} / (1 + e^{z}), so e^{-z} is never formed.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def mse(y: ArrayLike, y_hat: ArrayLike) -> float:
    """Mean squared error: MSE = 1/n Σ (y_i − ŷ_i)²  (source §4.1, correct as printed).

    The negative log-likelihood of y ~ Normal(ŷ, σ²), up to a constant and a scale.
    """
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    return float(np.mean((y - y_hat) ** 2))


def binary_cross_entropy(y: ArrayLike, y_hat: ArrayLike, eps: float = EPSILON) -> float:
    """Binary cross-entropy: BCE = −1/n Σ [y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i)].

    The negative log-likelihood of y ~ Bernoulli(ŷ). ŷ is clipped to [ε, 1 − ε] first, as Keras
    does, so that ŷ = 0 or 1 gives a large finite loss instead of inf.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(y_hat, dtype=np.float64), eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def one_sided_cross_entropy(y: ArrayLike, y_hat: ArrayLike, eps: float = EPSILON) -> float:
    """The source's §4.1 formula, CE = −1/n Σ y_i log ŷ_i, for a single sigmoid output.

    This is the categorical cross-entropy with only the positive class written down: every
    sample with y_i = 0 contributes 0 whatever ŷ_i is. Kept to show why it is wrong here.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(y_hat, dtype=np.float64), eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p)))


def softplus(z: ArrayLike) -> np.ndarray:
    """softplus(z) = log(1 + e^{z}) = max(z, 0) + log1p(e^{−|z|}), overflow-free."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_from_logits(y: ArrayLike, z: ArrayLike) -> float:
    """BCE of ŷ = σ(z), computed from the logits z without forming ŷ.

    Since −log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z),
    BCE = 1/n Σ [y_i softplus(−z_i) + (1 − y_i) softplus(z_i)] = 1/n Σ [softplus(z_i) − y_i z_i].
    Exact (no clipping) and finite for every finite z.
    """
    y, z = np.asarray(y, dtype=np.float64), np.asarray(z, dtype=np.float64)
    return float(np.mean(softplus(z) - y * z))


# --- more than two classes (notebook 01, section 8) -------------------------------------------
# Conventions: `Z` is an (n, K) array of logits, one row per sample; `labels` are class indices
# 0..K−1 ("sparse" labels); `Y` is the same information as one-hot rows.


def logsumexp(Z: ArrayLike) -> np.ndarray:
    """log Σ_k e^{z_k} along the last axis, computed as m + log Σ_k e^{z_k − m} with m = max_k z_k.

    Every exponent z_k − m is ≤ 0, so nothing overflows, and the largest term is e^0 = 1, so the
    sum is at least 1 and its log never underflows to −inf.
    """
    Z = np.asarray(Z, dtype=np.float64)
    m = np.max(Z, axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(Z - m), axis=-1, keepdims=True)))[..., 0]


def log_softmax(Z: ArrayLike) -> np.ndarray:
    """log softmax(z)_k = z_k − log Σ_j e^{z_j}, row by row, without forming e^{z}."""
    Z = np.asarray(Z, dtype=np.float64)
    return Z - logsumexp(Z)[..., None]


def softmax(Z: ArrayLike) -> np.ndarray:
    """softmax(z)_k = e^{z_k} / Σ_j e^{z_j} along the last axis: positive, each row sums to 1.

    Adding the same constant to every logit of a row changes nothing, so it is computed as
    exp(log_softmax(z)), which never overflows.
    """
    return np.exp(log_softmax(Z))


def one_hot(labels: ArrayLike, num_classes: int) -> np.ndarray:
    """The (n, K) matrix Y with Y[i, labels[i]] = 1 and 0 elsewhere."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.eye(num_classes)[labels]


def categorical_cross_entropy(Y: ArrayLike, P: ArrayLike, eps: float = EPSILON) -> float:
    """Categorical cross-entropy of probability rows P against one-hot (or soft) rows Y:
    CCE = −1/n Σ_i Σ_k Y_ik log P_ik.

    The negative log-likelihood of a categorical label; with one-hot Y only the true class's term
    survives, −log P_{i, true}. As Keras does, each row of P is first divided by its sum and then
    clipped to [ε, 1 − ε].
    """
    Y = np.asarray(Y, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    P = np.clip(P / np.sum(P, axis=-1, keepdims=True), eps, 1.0 - eps)
    return float(-np.mean(np.sum(Y * np.log(P), axis=-1)))


def sparse_categorical_cross_entropy_from_logits(labels: ArrayLike, Z: ArrayLike) -> float:
    """Categorical cross-entropy of ŷ = softmax(z) for integer labels t_i, from the logits:
    CCE = 1/n Σ_i [log Σ_k e^{z_ik} − z_{i, t_i}]   (= −1/n Σ_i log softmax(z_i)_{t_i}).

    Exact and finite for every finite logit (log-sum-exp); what
    `keras.losses.sparse_categorical_crossentropy(labels, Z, from_logits=True)` computes.
    """
    Z = np.asarray(Z, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    return float(np.mean(logsumexp(Z) - Z[np.arange(len(labels)), labels]))


def softmax_cross_entropy_grad(labels: ArrayLike, Z: ArrayLike) -> np.ndarray:
    """∂CCE/∂z_ik = (softmax(z_i)_k − Y_ik) / n: the predicted probabilities minus the one-hot label.

    From ∂/∂z_k [log Σ_j e^{z_j} − z_t] = softmax(z)_k − [k = t], and the 1/n of the mean.
    """
    Z = np.asarray(Z, dtype=np.float64)
    return (softmax(Z) - one_hot(labels, Z.shape[-1])) / Z.shape[0]
