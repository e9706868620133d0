"""Logistic regression by hand: the smallest model with parameters to fine-tune. Notebook 02.

Model:   z = X θ + b,   ŷ = σ(z)
Loss:    BCE (default) or MSE of ŷ against y
Reverse: ∂L/∂z_i = (ŷ_i − y_i)/n                        for BCE
         ∂L/∂z_i = (2/n)(ŷ_i − y_i) ŷ_i (1 − ŷ_i)          for MSE
         ∂L/∂θ = Xᵀ ∂L/∂z,   ∂L/∂b = Σ_i ∂L/∂z_i
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.losses import binary_cross_entropy_from_logits, mse, sigmoid

LOSSES = ("bce", "mse")


def make_two_class_data(
    num_samples: int, seed: int, *, separation: float = 2.0, centre: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-feature, 2-class data set: x ~ Normal(centre ± separation/2, 1), half of each class.

    Returns X of shape (num_samples, 1) and y of shape (num_samples,) with y ∈ {0, 1}. The classes
    overlap, so the best logistic regression has finite weights. Since the centre is not 0 the
    bias matters, and the loss surface over (θ, b) is a tilted, elongated valley.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(num_samples) % 2
    x = centre + (y - 0.5) * separation + rng.standard_normal(num_samples)
    order = rng.permutation(num_samples)
    return x[order, None], y[order].astype(np.float64)


def logistic_forward(X: np.ndarray, theta: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass: z = X θ + b and ŷ = σ(z). Returns (z, y_hat)."""
    z = X @ theta + b
    return z, sigmoid(z)


def logistic_loss_and_grads(
    X: np.ndarray, y: np.ndarray, theta: np.ndarray, b: float, loss: str = "bce"
) -> tuple[float, np.ndarray, float]:
    """Loss and its gradients (L, ∂L/∂θ, ∂L/∂b) for ŷ = σ(Xθ + b), by the chain rule."""
    n = y.size
    z, y_hat = logistic_forward(X, theta, b)
    if loss == "bce":
        value = binary_cross_entropy_from_logits(y, z)
        dz = (y_hat - y) / n  # σ'(z) cancels against ∂BCE/∂ŷ
    elif loss == "mse":
        value = mse(y, y_hat)
        dz = 2.0 / n * (y_hat - y) * y_hat * (1.0 - y_hat)  # σ'(z) = ŷ(1 − ŷ) stays
    else:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return value, X.T @ dz, float(np.sum(dz))


@dataclass
class History:
    """Parameters and loss at every step of gradient descent (index 0 = the start)."""

    thetas: np.ndarray  # (num_epochs + 1, d)
    bs: np.ndarray  # (num_epochs + 1,)
    losses: np.ndarray  # (num_epochs + 1,)


def gradient_descent(
    X: np.ndarray, y: np.ndarray, theta0: np.ndarray, b0: float, lr: float, num_epochs: int, loss: str = "bce"
) -> History:
    """Full-batch gradient descent: θ ← θ − α ∂L/∂θ, b ← b − α ∂L/∂b, `num_epochs` times."""
    theta, b = np.array(theta0, dtype=np.float64), float(b0)
    thetas, bs, losses = [theta.copy()], [b], []
    for _ in range(num_epochs):
        value, d_theta, d_b = logistic_loss_and_grads(X, y, theta, b, loss)
        losses.append(value)
        theta = theta - lr * d_theta
        b = b - lr * d_b
        thetas.append(theta.copy())
        bs.append(b)
    losses.append(logistic_loss_and_grads(X, y, theta, b, loss)[0])
    return History(np.array(thetas), np.array(bs), np.array(losses))
