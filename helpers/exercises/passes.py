"""Checkers for the exercises of notebook 04 · forward and reverse passes."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, variants
from helpers.gradients import numerical_gradient
from helpers.losses import sigmoid
from helpers.rnn import rnn_forward


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
            Mistake(block(0), "that is the input gate's block, not the forget gate's."),
            Mistake(
                block(2),
                "that is the cell candidate's block, not the forget gate's.",
            ),
            Mistake(block(3), "that is the output gate's block, not the forget gate's."),
            Mistake(lambda bias, u: bias[1::4], "the gates are stacked in blocks of `units`, not interleaved."),
        ],
    )


def _gru_variant(order="zrh", keep_old="z", reset_after=True, bias_rows=(0, 1)):
    """One Keras GRU step (reset_after=True), or one of its known mistakes."""

    def step(x, h, kernel, recurrent_kernel, bias):
        b_in, b_rec = bias[bias_rows[0]], bias[bias_rows[1]]
        xs = dict(zip(order, np.split(x @ kernel + b_in, 3, axis=-1)))
        hs = dict(zip(order, np.split(h @ recurrent_kernel + b_rec, 3, axis=-1)))
        z, r = sigmoid(xs["z"] + hs["z"]), sigmoid(xs["r"] + hs["r"])
        if reset_after:
            candidate = np.tanh(xs["h"] + r * hs["h"])
        else:
            u = h.shape[-1]
            candidate = np.tanh(xs["h"] + (r * h) @ recurrent_kernel[:, 2 * u :] + b_rec[2 * u :])
        return z * h + (1 - z) * candidate if keep_old == "z" else (1 - z) * h + z * candidate

    return step


def check_gru_step(fn: Any) -> Verdict:
    """Exercise 04.3: `step(x, h, kernel, recurrent_kernel, bias)` → h_t of Keras's GRU (reset_after=True):
    z = σ(x W_z + b_z + h U_z + b'_z), r = σ(x W_r + b_r + h U_r + b'_r),
    h̃ = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), h_t = z ⊙ h + (1 − z) ⊙ h̃;
    blocks z, r, h along the last axis; bias row 0 is b (input), row 1 is b' (recurrent)."""
    rng = input_rng()
    cases = [
        (
            rng.normal(size=(n, d)),
            rng.normal(size=(n, u)),
            rng.normal(size=(d, 3 * u)),
            rng.normal(size=(u, 3 * u)),
            rng.normal(size=(2, 3 * u)),
        )
        for n, d, u in ((1, 3, 2), (2, 4, 3))
    ]
    return check_function(
        fn,
        cases,
        _gru_variant(),
        what="the GRU step",
        mistakes=[
            Mistake(_gru_variant(order="rzh"), "your update gate and reset gate have each other's blocks of weights."),
            Mistake(
                _gru_variant(keep_old="1-z"),
                "your update gate z weighs the candidate, and 1 − z the old state: the other way round from Keras.",
            ),
            Mistake(
                _gru_variant(reset_after=False),
                "your reset gate scales h before the recurrent kernel (the 2014 GRU, Keras's reset_after=False).",
            ),
            Mistake(_gru_variant(bias_rows=(1, 0)), "your input bias and recurrent bias are each other's rows."),
        ],
    )


def _lstm_gate_grad(x, h, c, kernel, recurrent_kernel, bias, v, *, through_h=True, sigmoid_grad=True, old_c=True):
    """∂L/∂b_f for L = Σ_n v · h_t[n] after one LSTM step, or one of its known mistakes."""
    a_i, a_f, a_g, a_o = np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    d_c = v * o * (1 - np.tanh(c_new) ** 2) if through_h else v * np.ones_like(c)
    d_a_f = d_c * (c if old_c else c_new) * (f * (1 - f) if sigmoid_grad else 1.0)
    return d_a_f.sum(axis=0)


def check_lstm_forget_grad(fn: Any) -> Verdict:
    """Exercise 04.4: ∂L/∂b_f of one LSTM step, L = Σ_n v · h_t[n]:
    ∂L/∂b_f = Σ_n v ⊙ o ⊙ (1 − tanh²c_t) ⊙ c_{t−1} ⊙ f ⊙ (1 − f)."""
    rng = input_rng()
    cases = []
    for n, d, u in ((1, 2, 3), (3, 4, 2)):
        args = [rng.normal(size=s) for s in ((n, d), (n, u), (n, u), (d, 4 * u), (u, 4 * u), (4 * u,), (u,))]
        cases.append(tuple(args))
    return check_function(
        fn,
        cases,
        _lstm_gate_grad,
        what="∂L/∂b_f",
        rtol=1e-6,
        atol=1e-10,
        mistakes=[
            *variants(
                _lstm_gate_grad,
                ({"through_h": False}, "your gradient reaches c_t without passing through h_t = o ⊙ tanh(c_t)."),
                (
                    {"sigmoid_grad": False},
                    "your gradient stops at the gate's value f: it never passes through the gate's sigmoid.",
                ),
                (
                    {"old_c": False},
                    "your gradient uses the memory after the step, not the one the forget gate multiplies.",
                ),
            ),
            Mistake(
                lambda *a: _lstm_gate_grad(*a) / len(a[0]),
                "your gradient is averaged over the batch, but L is a sum over it.",
            ),
        ],
    )


def _clip_global(grads, clip_norm, *, joint=True, sum_of_norms=False, always=False, norm_after=False):
    """tf.clip_by_global_norm(grads, clip_norm) → (clipped list, global norm), or a known mistake."""
    grads = [np.asarray(g, dtype=float) for g in grads]
    norms = [float(np.sqrt(np.sum(g**2))) for g in grads]
    norm = sum(norms) if sum_of_norms else float(np.sqrt(sum(n**2 for n in norms)))
    if joint:
        scale = clip_norm / norm if always else clip_norm / max(norm, clip_norm)
        clipped = [g * scale for g in grads]
    else:
        clipped = [g * clip_norm / max(n, clip_norm) for g, n in zip(grads, norms)]
    if norm_after:
        norm = float(np.sqrt(sum(np.sum(g**2) for g in clipped)))
    return clipped, norm


def check_clip_by_global_norm(fn: Any) -> Verdict:
    """Exercise 04.2: `clip(grads, clip_norm)` → (grads · τ / max(‖g‖, τ), ‖g‖) with
    ‖g‖ = √(Σ_k ‖g_k‖²), as `tf.clip_by_global_norm` returns them."""
    rng = input_rng()
    big = [rng.normal(size=3) * 4, rng.normal(size=(2, 2)) * 4, rng.normal(size=1) * 4]
    small = [rng.normal(size=2) * 0.01, rng.normal(size=(2, 3)) * 0.01]
    one_big = [np.array([0.1, 0.0]), np.array([30.0 + rng.random()])]  # clipping each would spare the first
    mixed = [rng.normal(size=2) * 0.3, rng.normal(size=2) * 0.3]  # each below 1, jointly above it
    mixed = [m * 0.9 / np.linalg.norm(m) for m in mixed]
    cases = [(big, 1.0), (small, 5.0), (one_big, 2.0), (mixed, 1.0)]
    return check_function(
        fn,
        cases,
        _clip_global,
        what="the clipped gradients and their global norm",
        mistakes=variants(
            _clip_global,
            (
                {"joint": False},
                "your function clips each array by its own norm (that is Keras's clipnorm, not global_clipnorm).",
            ),
            (
                {"sum_of_norms": True},
                "your global norm adds up the arrays' norms; it is not the length of all entries as one vector.",
            ),
            ({"always": True}, "your function also stretches gradients that are already shorter than clip_norm."),
            (
                {"norm_after": True},
                "the norm you return is measured after clipping; tf.clip_by_global_norm returns the one before.",
            ),
        ),
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
    """Exercise 04.5: ∂L/∂h_0 for L = v · h_T of a tanh RNN h_t = tanh(x_t W + h_{t−1} U + b)."""
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
        mistakes=variants(
            _grad_h0,
            ({"use_tanh_grad": False}, "your reverse pass leaves out tanh's derivative at every step."),
            ({"transpose": False}, "your reverse pass multiplies by U the same way the forward pass does."),
        ),
    )
