"""Gradients by formula and by finite differences. Taught in notebook 02.

`tests/unit/test_gradients.py` checks the formulas against `tf.GradientTape`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def mse_grad(y: ArrayLike, y_hat: ArrayLike) -> np.ndarray:
    """∂MSE/∂ŷ_j = −(2/n)(y_j − ŷ_j) for MSE = 1/n Σ (y_i − ŷ_i)².

    The 1/n stays: the source's §4.2 drops it, which makes the step n times too large.
    """
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    return -2.0 / y.size * (y - y_hat)


def numerical_gradient(f: Callable[[np.ndarray], float], x: ArrayLike, h: float = 1e-5) -> np.ndarray:
    """Central differences: ∂f/∂x_k ≈ [f(x + h e_k) − f(x − h e_k)] / (2h), error O(h²).

    `f` takes an array shaped like `x` and returns a scalar; `x` is not modified.
    """
    x = np.array(x, dtype=np.float64)  # a copy
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + h
        f_plus = f(x)
        x[k] = old - h
        f_minus = f(x)
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """max_k |a_k − b_k| / max(|a_k| + |b_k|, 1e-12): scale-free, 0 when equal."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
