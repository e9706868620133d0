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


def _huber_grad(y, y_hat, delta, *, mean=True, sign=1.0, cap=None, factor=1.0):
    """∂/∂ŷ_j of the mean Huber loss, (1/n)·clip(ŷ_j − y_j, −δ, δ), or one of its known mistakes."""
    y, y_hat = np.asarray(y, dtype=float), np.asarray(y_hat, dtype=float)
    limit = delta if cap is None else cap
    g = np.clip(factor * (y_hat - y), -limit, limit) * sign
    return g / y.size if mean else g


def check_huber_grad(fn: Any) -> Verdict:
    """Exercise 02.1: ∂L/∂ŷ_j of the mean Huber loss L = (1/n) Σ h(ŷ_i − y_i), with h(e) = e²/2 for
    |e| ≤ δ and δ(|e| − δ/2) beyond (keras.losses.Huber): (1/n)·clip(ŷ_j − y_j, −δ, δ)."""
    rng = input_rng()
    cases = [(rng.normal(size=n), rng.normal(scale=2.0, size=n), float(d)) for n, d in ((2, 1.0), (5, 0.5), (10, 2.5))]
    return check_function(
        fn,
        cases,
        _huber_grad,
        what="the gradient of the mean Huber loss",
        mistakes=[
            Mistake(
                lambda y, y_hat, d: _huber_grad(y, y_hat, d, mean=False),
                "your gradient is n times too large: the 1/n of the mean is missing (the source's §4.2 mistake).",
            ),
            Mistake(lambda y, y_hat, d: _huber_grad(y, y_hat, d, sign=-1.0), "your gradient points uphill."),
            Mistake(
                lambda y, y_hat, d: _huber_grad(y, y_hat, d, cap=np.inf),
                "your gradient keeps growing with the error beyond δ, as the MSE's would.",
            ),
            Mistake(
                lambda y, y_hat, d: _huber_grad(y, y_hat, d, cap=1.0), "your gradient is capped at 1, whatever δ is."
            ),
            Mistake(
                lambda y, y_hat, d: _huber_grad(y, y_hat, d, factor=2.0),
                "your gradient is twice too large where |ŷ − y| is small.",
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


def _adamw(w, g, m, v, t, lr, beta_1, beta_2, epsilon, weight_decay, *, decay="before", **adam):
    """One AdamW step as keras.optimizers.AdamW takes it: w ← w − lr·λ·w, then Adam's step; or a
    known mistake (`decay`: "after" the step, "l2" in the gradient, "no_lr", "none")."""
    if decay == "l2":
        return _adam(w, g + weight_decay * w, m, v, t, lr, beta_1, beta_2, epsilon, **adam)
    new_w, m, v = _adam(w, g, m, v, t, lr, beta_1, beta_2, epsilon, **adam)
    shrink = {"before": lr * weight_decay * w, "after": lr * weight_decay * new_w, "no_lr": weight_decay * w}
    return new_w - shrink.get(decay, 0.0), m, v


def check_adamw_update(fn: Any) -> Verdict:
    """Exercise 02.4: one AdamW step, `(w, g, m, v, t, lr, beta_1, beta_2, epsilon, weight_decay)
    → (w, m, v)`: w ← w − lr·λ·w (decoupled weight decay, on the weights before the step), then
    Adam's step, with ε after the bias correction (the paper) or before it (Keras): both are right."""
    cases = [(*c[:5], 0.1, *c[6:], wd) for c, wd in zip(_adam_cases(input_rng()), (0.2, 0.05, 0.3))]

    def reference(w, g, m, v, t, lr, beta_1, beta_2, epsilon, weight_decay):
        new_w, state = adam_update(w, g, AdamState(m, v, t - 1), lr, beta_1, beta_2, epsilon)
        keras_form = (new_w - lr * weight_decay * w, state.m, state.v)
        return AnyOf([keras_form, _adamw(w, g, m, v, t, lr, beta_1, beta_2, epsilon, weight_decay)])

    def uncorrected(w, g, m, v, t, lr, beta_1, beta_2, epsilon, weight_decay):
        m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g**2
        return w - lr * m / (np.sqrt(v) + epsilon) - lr * weight_decay * w, m, v

    return check_function(
        fn,
        cases,
        reference,
        what="AdamW's update (w, m, v)",
        rtol=1e-5,
        atol=1e-9,
        mistakes=[
            Mistake(lambda *a: _adamw(*a, decay="l2"), "your decay goes into the gradient (L2), so Adam rescales it."),
            Mistake(lambda *a: _adamw(*a, decay="after"), "your decay shrinks the weights after Adam's step."),
            Mistake(lambda *a: _adamw(*a, decay="no_lr"), "your decay does not scale with the learning rate."),
            Mistake(lambda *a: _adamw(*a, decay="none"), "your update leaves out the weight decay."),
            Mistake(
                uncorrected,
                "m and v start at 0, so early on they are too small, and your update does not correct for that.",
            ),
            Mistake(
                lambda *a: _adamw(*a, no_eps=True),
                "your update has no ε: a gradient that has always been 0 divides 0 by 0.",
            ),
            Mistake(
                lambda *a: _adamw(*a, step=a[4] - 1),
                "your bias correction uses the step number before this one.",
            ),
        ],
    )
