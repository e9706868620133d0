"""Checkers for the exercises of notebook 04 · forward and reverse passes."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, same
from helpers.gradients import numerical_gradient
from helpers.losses import sigmoid
from helpers.rnn import lstm_step, rnn_forward


def check_forget_gate_bias(fn: Any) -> Verdict:
    """Exercise 04.1: `forget_bias(bias, units)` → the forget gate's block of a Keras LSTM bias."""
    rng = input_rng()
    cases = [(rng.normal(size=4 * u), u) for u in (2, 3, 5)]
    block = lambda k: lambda bias, u: bias[k * u : (k + 1) * u]  # noqa: E731
    return check_function(
        fn,
        cases,
        block(1),
        what="the forget-gate biases",
        mistakes=[
            Mistake(
                block(0), "that is the input gate's block. Keras stacks the blocks as i, f, g (the cell candidate), o."
            ),
            Mistake(
                block(2),
                "that is the cell candidate's block. Keras stacks the blocks as i, f, g (the cell candidate), o.",
            ),
            Mistake(
                block(3), "that is the output gate's block. Keras stacks the blocks as i, f, g (the cell candidate), o."
            ),
            Mistake(lambda bias, u: bias[1::4], "the gates are stacked in blocks of `units`, not interleaved."),
        ],
    )


def _lstm_variant(order="ifgo", candidate=np.tanh, squash_c=True):
    def step(x, h, c, kernel, recurrent_kernel, bias):
        a = dict(zip(order, np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)))
        i, f, g, o = sigmoid(a["i"]), sigmoid(a["f"]), candidate(a["g"]), sigmoid(a["o"])
        c_new = f * c + i * g
        return (o * np.tanh(c_new) if squash_c else o * c_new), c_new

    return step


def check_lstm_step(fn: Any) -> Verdict:
    """Exercise 04.2: `step(x, h, c, kernel, recurrent_kernel, bias)` → (h_t, c_t) of an LSTM."""
    rng = input_rng()
    cases = []
    for n, d, u in ((1, 3, 2), (2, 4, 3)):
        cases.append(
            (
                rng.normal(size=(n, d)),
                rng.normal(size=(n, u)),
                rng.normal(size=(n, u)),
                rng.normal(size=(d, 4 * u)),
                rng.normal(size=(u, 4 * u)),
                rng.normal(size=4 * u),
            )
        )
    reference = lambda *args: lstm_step(*args)[:2]  # noqa: E731

    def compare(got, ref):
        return isinstance(got, (tuple, list)) and len(got) == 2 and same(got[0], ref[0]) and same(got[1], ref[1])

    return check_function(
        fn,
        cases,
        reference,
        what="the LSTM step",
        compare=compare,
        mistakes=[
            Mistake(
                _lstm_variant(order="figo"),
                "input and forget gates are swapped: Keras's order is i, f, g (candidate), o.",
            ),
            Mistake(
                _lstm_variant(order="ifog"),
                "cell candidate and output gate are swapped: the order is i, f, g (candidate), o.",
            ),
            Mistake(_lstm_variant(candidate=sigmoid), "the cell candidate g uses tanh (values in −1…1), not σ."),
            Mistake(_lstm_variant(squash_c=False), "h_t = o ⊙ tanh(c_t): the memory is squashed before it is exposed."),
        ],
    )


def _grad_h0(X, W, U, b, h0, v, use_tanh_grad=True, transpose=True):
    """The reverse pass to h_0 (for one sequence X of shape (T, d)), or one of its known mistakes."""
    H, _ = rnn_forward(X[None], W, U, b, h0=h0)
    delta = v.copy()
    for t in range(len(X) - 1, -1, -1):
        da = delta * (1 - H[0, t] ** 2) if use_tanh_grad else delta
        delta = da @ (U.T if transpose else U)
    return delta


def check_rnn_grad_h0(fn: Any) -> Verdict:
    """Exercise 04.3: ∂L/∂h_0 for L = v · h_T of a tanh RNN h_t = tanh(x_t W + h_{t−1} U + b)."""
    rng = input_rng()
    cases = []
    for T, d, u in ((1, 2, 3), (4, 2, 3), (6, 3, 4)):
        cases.append(
            (
                rng.normal(size=(T, d)),
                rng.normal(size=(d, u)),
                rng.normal(size=(u, u)) / np.sqrt(u),
                rng.normal(size=u),
                rng.normal(size=u),
                rng.normal(size=u),
            )
        )

    def reference(X, W, U, b, h0, v):
        return numerical_gradient(lambda h: float(v @ rnn_forward(X[None], W, U, b, h0=h)[0][0, -1]), h0)

    return check_function(
        fn,
        cases,
        reference,
        what="∂L/∂h_0",
        rtol=1e-5,
        atol=1e-8,
        mistakes=[
            Mistake(
                lambda *a: _grad_h0(*a, use_tanh_grad=False),
                "each step back multiplies by tanh′(a_t) = 1 − h_t² before Uᵀ.",
            ),
            Mistake(
                lambda *a: _grad_h0(*a, transpose=False),
                "h_{t−1} enters as h_{t−1} U, so the gradient flows back through Uᵀ, not U.",
            ),
        ],
    )
