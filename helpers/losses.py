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
