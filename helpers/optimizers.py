"""Optimisers by hand: full-batch gradient descent, mini-batch SGD, momentum and Adam.
Taught in notebook 02, section 9; clipping in notebook 04, section 6.

Every update is a pure function of the parameters w (one flat vector), the gradient g and the
optimiser's state, and returns the new parameters (and state). The formulas are the ones Keras 3
implements (`keras.optimizers.SGD`, `SGD(momentum=...)`, `Adam`); `tests/unit/test_optimizers.py`
checks them step by step against Keras on the same gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.logistic import History, logistic_loss_and_grads

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")


def sgd_update(w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
    """Plain (stochastic) gradient descent: w ← w − α g."""
    return w - lr * g


def momentum_update(
    w: np.ndarray, g: np.ndarray, velocity: np.ndarray, lr: float, momentum: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-ball momentum, as Keras writes it: v ← μ v − α g, then w ← w + v. Returns (w, v).

    Unrolled, v_t = −α Σ_{s≤t} μ^{t−s} g_s: a running sum of past gradients, so a direction the
    gradient keeps pointing in builds up speed (up to 1/(1 − μ) times α g) while a direction in
    which it flips sign cancels out.
    """
    velocity = momentum * velocity - lr * g
    return w + velocity, velocity


@dataclass(frozen=True)
class AdamState:
    """Adam's running averages of g (m) and of g² (v), and the number of steps taken (t)."""

    m: np.ndarray
    v: np.ndarray
    t: int = 0


def adam_init(w: np.ndarray) -> AdamState:
    """m = v = 0, t = 0."""
    return AdamState(np.zeros_like(w, dtype=np.float64), np.zeros_like(w, dtype=np.float64), 0)


def adam_update(
    w: np.ndarray,
    g: np.ndarray,
    state: AdamState,
    lr: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> tuple[np.ndarray, AdamState]:
    """Adam (Kingma & Ba, 2015), in the form Keras implements. With t the new step number:

        m ← β₁ m + (1 − β₁) g            running mean of the gradient
        v ← β₂ v + (1 − β₂) g²           running mean of its square (element by element)
        α_t = α √(1 − β₂ᵗ) / (1 − β₁ᵗ)   both bias corrections folded into the step size
        w ← w − α_t m / (√v + ε)

    This is the paper's m̂ / (√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), except that ε is
    added before the correction (the paper's own "ε-hat" variant); the two differ only when √v is
    as small as ε. Each coordinate moves by about α whatever the gradient's scale.
    """
    t = state.t + 1
    m = beta_1 * state.m + (1.0 - beta_1) * g
    v = beta_2 * state.v + (1.0 - beta_2) * g**2
    alpha_t = lr * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    return w - alpha_t * m / (np.sqrt(v) + epsilon), AdamState(m, v, t)


def minibatch_indices(num_samples: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch of mini-batches: a fresh shuffle of 0..n−1 cut into batches of `batch_size`
    (the last one may be smaller). Every sample is used exactly once per epoch."""
    order = rng.permutation(num_samples)
    return [order[k : k + batch_size] for k in range(0, num_samples, batch_size)]


def train_logistic(
    X: np.ndarray,
    y: np.ndarray,
    method: str,
    lr: float,
    num_steps: int,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    momentum: float = 0.9,
    w0: tuple[float, float] = (0.0, 0.0),
) -> History:
    """Logistic regression with one feature (notebook 02) trained by `method` ∈ OPTIMIZERS for
    `num_steps` updates from w0 = (θ, b). "gd" uses every sample at every step; "sgd", "momentum"
    and "adam" use mini-batches of `batch_size` (all samples if None), reshuffled every epoch.
    The history holds (θ, b) after every update and the full-data BCE there."""
    if method not in OPTIMIZERS:
        raise ValueError(f"method must be one of {OPTIMIZERS}, got {method!r}")
    rng = np.random.default_rng(seed)
    n = y.size
    size = n if method == "gd" or batch_size is None else batch_size
    w = np.array(w0, dtype=np.float64)
    velocity, adam = np.zeros_like(w), adam_init(w)
    batches: list[np.ndarray] = []
    path = [w.copy()]
    for _ in range(num_steps):
        if not batches:
            batches = minibatch_indices(n, size, rng) if size < n else [np.arange(n)]
        idx = batches.pop(0)
        _, d_theta, d_b = logistic_loss_and_grads(X[idx], y[idx], w[:1], w[1])
        g = np.array([d_theta[0], d_b])
        if method in ("gd", "sgd"):
            w = sgd_update(w, g, lr)
        elif method == "momentum":
            w, velocity = momentum_update(w, g, velocity, lr, momentum)
        else:
            w, adam = adam_update(w, g, adam, lr)
        path.append(w.copy())
    path_arr = np.array(path)
    losses = np.array([logistic_loss_and_grads(X, y, p[:1], p[1])[0] for p in path_arr])
    return History(path_arr[:, :1], path_arr[:, 1], losses)


# --- clipping (notebook 04, section 6) ---------------------------------------------------------


def clip_by_norm(g: np.ndarray, max_norm: float) -> np.ndarray:
    """g · min(1, c/‖g‖): the same direction, at most c long. What `keras.optimizers.X(clipnorm=c)`
    does to the gradient of *each* variable separately."""
    norm = float(np.sqrt(np.sum(np.square(g))))
    return g * min(1.0, max_norm / norm) if norm > 0 else g


def clip_by_global_norm(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Scale every gradient by the same min(1, c/‖(g₁, …, g_k)‖), with the norm taken over all of
    them together: the update keeps its direction in the space of all parameters. What
    `keras.optimizers.X(global_clipnorm=c)` does."""
    norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return [g * scale for g in grads]
