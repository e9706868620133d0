"""Checkers for the exercises of notebook 02 · gradient descent by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.exercises.core import HAND_RTOL, AnyOf, Mistake, Verdict, check_function, check_value, input_rng
from helpers.gradients import mse_grad
from helpers.logistic import logistic_loss_and_grads
from helpers.losses import mse
from helpers.optimizers import AdamState, adam_update


def check_mse_grad(fn: Any) -> Verdict:
    """Exercise 02.1: ∂MSE/∂ŷ_j = −(2/n)(y_j − ŷ_j)."""
    rng = input_rng()
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (2, 4, 10)]
    return check_function(
        fn,
        cases,
        mse_grad,
        what="the gradient of the MSE",
        mistakes=[
            Mistake(
                lambda y, y_hat: -2 * (y - y_hat),
                "your gradient is n times too large: the 1/n of the mean stays in the derivative "
                "(this is the source's §4.2 mistake).",
            ),
            Mistake(
                lambda y, y_hat: 2 / y.size * (y - y_hat),
                "check the sign: the derivative of (y − ŷ)² with respect to ŷ is −2(y − ŷ).",
            ),
            Mistake(lambda y, y_hat: -(y - y_hat) / y.size, "the power rule brings down a factor 2."),
            Mistake(
                lambda y, y_hat: np.full_like(y, -2 / y.size * np.sum(y - y_hat)),
                "each ŷ_j appears in one term of the sum only, so ∂MSE/∂ŷ_j has one term.",
            ),
        ],
    )


def check_first_order_decrease(answer: Any, y: Sequence[float], y_hat: Sequence[float], lr: float) -> Verdict:
    """Exercise 02.2: the first-order prediction α‖g‖² of the MSE decrease after one step."""
    y, y_hat = np.array(y, float), np.array(y_hat, float)  # private copies
    g = mse_grad(y, y_hat)
    actual = mse(y, y_hat) - mse(y, y_hat - lr * g)
    return check_value(
        answer,
        lr * np.sum(g**2),
        what="the first-order prediction",
        rtol=HAND_RTOL,
        mistakes=[
            Mistake(
                actual, "that is the actual decrease; the question asks for the prediction α‖g‖² made before the step."
            ),
            Mistake(lr * np.sqrt(np.sum(g**2)), "the norm is squared: α‖g‖² = α Σ g_j²."),
            Mistake(lr * np.sum((y.size * g) ** 2), "your gradient is n times too large (the 1/n is missing)."),
            Mistake(-lr * np.sum(g**2), "a decrease is a positive number here: the loss goes down by α‖g‖²."),
        ],
    )


def _l2_grads(X, y, theta, b, mu):
    _, d_theta, d_b = logistic_loss_and_grads(X, y, theta, b)
    return d_theta + mu * theta, d_b


def check_l2_logistic_grads(fn: Any) -> Verdict:
    """Exercise 02.3: gradients of BCE + (μ/2)‖θ‖² for logistic regression (the bias is not
    regularised): ∂/∂θ = Xᵀ(ŷ − y)/n + μθ and ∂/∂b = Σ(ŷ − y)/n."""
    rng = input_rng()
    cases = []
    for n, d, mu in ((6, 2, 0.1), (10, 3, 1.0), (5, 1, 0.5)):
        cases.append(
            (rng.normal(size=(n, d)), rng.integers(0, 2, n).astype(float), rng.normal(size=d), float(rng.normal()), mu)
        )

    def variant(theta_factor, b_factor=0.0):
        def grads(X, y, theta, b, mu):
            _, d_theta, d_b = logistic_loss_and_grads(X, y, theta, b)
            return d_theta + theta_factor * mu * theta, d_b + b_factor * mu * b

        return grads

    return check_function(
        fn,
        cases,
        _l2_grads,
        what="the regularised gradients (∂L/∂θ, ∂L/∂b)",
        mistakes=[
            Mistake(variant(0.0), "these are the gradients without the penalty's term."),
            Mistake(
                variant(0.5), "your penalty term is half what it should be: what does the power rule do to the 1/2?"
            ),
            Mistake(variant(2.0), "your penalty term is twice what it should be: the penalty has a 1/2 in front."),
            Mistake(variant(1.0, 1.0), "the penalty is on θ only: ∂L/∂b does not change."),
        ],
    )


def _adam_cases(rng: np.random.Generator) -> list[tuple]:
    """Three Adam inputs: the first step with one zero gradient (0/0 without ε); a few steps in,
    gradients of very different scales; a late step with small gradients at w = 0 (ε inside the
    square root moves w there by far more than the tolerance)."""
    signs = lambda n: rng.choice([-1.0, 1.0], n)  # noqa: E731
    first = (rng.normal(size=3), np.array([0.0, 1.0, -1.0]) * 10 ** rng.uniform(-2, 2, 3), np.zeros(3), np.zeros(3))
    t = int(rng.integers(2, 20))
    g = signs(3) * 10 ** rng.uniform(-2, 2, 3)
    middle = (rng.normal(size=3), g, 0.1 * g * rng.random(3), 0.1 * g**2 * rng.random(3))
    late = (np.zeros(3), signs(3) * 10 ** rng.uniform(-2.5, -2, 3), np.zeros(3), 1e-4 * (1 + rng.random(3)))
    return [
        (*first, 1, 0.01, 0.9, 0.999, 1e-7),
        (*middle, t, 0.01, 0.9, 0.999, 1e-7),
        (*late, 5000, 0.01, 0.9, 0.999, 1e-7),
    ]


def _adam(w, g, m, v, t, lr, beta_1, beta_2, epsilon, eps_inside=False, no_eps=False, step=None):
    """Adam in the paper's form m̂ / (√v̂ + ε), or one of its known mistakes."""
    m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g**2
    k = t if step is None else step
    m_hat, v_hat = m / (1 - beta_1**k), v / (1 - beta_2**k)
    if eps_inside:
        denominator = np.sqrt(v_hat + epsilon)
    else:
        denominator = np.sqrt(v_hat) + (0.0 if no_eps else epsilon)
    return w - lr * m_hat / denominator, m, v


def check_adam_update(fn: Any) -> Verdict:
    """Exercise 02.4: one Adam step, `(w, g, m, v, t, lr, beta_1, beta_2, epsilon) → (w, m, v)`,
    with ε after the bias correction (the paper) or before it (Keras): both are right."""

    def reference(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
        new_w, state = adam_update(w, g, AdamState(m, v, t - 1), lr, beta_1, beta_2, epsilon)
        return AnyOf([(new_w, state.m, state.v), _adam(w, g, m, v, t, lr, beta_1, beta_2, epsilon)])

    def uncorrected(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
        m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g**2
        return w - lr * m / (np.sqrt(v) + epsilon), m, v

    def plain_g(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
        m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * np.abs(g)
        return w - lr * (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + epsilon), m, v

    def swapped(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
        m, v = beta_1 * g + (1 - beta_1) * m, beta_2 * g**2 + (1 - beta_2) * v
        return w - lr * (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + epsilon), m, v

    return check_function(
        fn,
        _adam_cases(input_rng()),
        reference,
        what="Adam's update (w, m, v)",
        rtol=1e-5,
        atol=1e-9,
        mistakes=[
            Mistake(
                uncorrected,
                "m and v start at 0, so early on they are too small, and your update does not correct for that.",
            ),
            Mistake(plain_g, "v is a running mean of the squared gradient."),
            Mistake(swapped, "each running mean keeps β of its old value and mixes in 1 − β of the new one."),
            Mistake(
                lambda w, *rest: (lambda r: (w + (w - r[0]), r[1], r[2]))(_adam(w, *rest)),
                "your step goes up the gradient, so the loss grows.",
            ),
            Mistake(
                lambda *a: _adam(*a, no_eps=True),
                "without ε, a coordinate whose gradient has always been 0 divides 0 by 0.",
            ),
            Mistake(
                lambda *a: _adam(*a, eps_inside=True),
                "ε is inside your square root; for small gradients that changes the step by far more than ε.",
            ),
            Mistake(
                lambda *a: _adam(*a, step=a[4] - 1),
                "your bias correction uses the step number before this one; t is already the new step's number.",
            ),
        ],
    )
