"""Checkers for the exercises of notebook 05 · reading one way, the other way, or both."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng


def _centre(s, *, normalise=True, start=0):
    """Σ_t t·s_t / Σ_t s_t over positions t = start, …, (divided by T − 1), or a known mistake."""
    s = np.asarray(s, dtype=float)
    t = np.arange(start, start + len(s))
    centre = float(np.sum(t * s) / np.sum(s))
    return centre / (len(s) - 1) if normalise else centre


def check_saliency_centre(fn: Any) -> Verdict:
    """Exercise 05.1: the saliency centre Σ_t t·s_t / Σ_t s_t / (T − 1), positions t = 0 … T − 1:
    0 when all the weight is on the first position, 1 on the last, 1/2 for a flat curve."""
    rng = input_rng()
    cases = [(rng.random(n) + 0.1,) for n in (2, 5, 17, int(rng.integers(30, 120)))]
    cases.append((np.linspace(3.0, 0.5, 9),))
    return check_function(
        fn,
        cases,
        _centre,
        what="the saliency centre",
        mistakes=[
            Mistake(lambda s: _centre(s, normalise=False), "your centre is a position, not a share of the length."),
            Mistake(
                lambda s: _centre(s, start=1, normalise=False) / len(s),
                "your positions are numbered from 1 (and divided by T): a flat curve does not give 1/2.",
            ),
            Mistake(lambda s: 1 - _centre(s), "your centre measures from the last position."),
            Mistake(
                lambda s: float(np.mean(np.arange(len(s)) * np.asarray(s)) / (len(s) - 1)),
                "your centre averages t·s_t without dividing by the total saliency.",
            ),
        ],
    )


def check_join_states(fn: Any) -> Verdict:
    """Exercise 05.2: [forward_t ; backward_{T−1−t}] along the last axis, for every position t."""
    rng = input_rng()
    cases = [(rng.normal(size=(n, t, u)), rng.normal(size=(n, t, u))) for n, t, u in ((2, 5, 3), (1, 4, 2), (3, 7, 1))]

    def reference(forward, backward):
        return np.concatenate([forward, backward[:, ::-1]], axis=-1)

    return check_function(
        fn,
        cases,
        reference,
        what="the joined states",
        mistakes=[
            Mistake(
                lambda f, b: np.concatenate([f, b], axis=-1),
                "the backward reader's first output belongs to the last position: flip it in time first.",
            ),
            Mistake(lambda f, b: np.concatenate([b[:, ::-1], f], axis=-1), "put the forward reader's part first."),
            Mistake(
                lambda f, b: np.concatenate([f, b[::-1]], axis=-1),
                "flip the time axis (axis 1), not the batch of sequences.",
            ),
            Mistake(
                lambda f, b: np.concatenate([f, b[:, ::-1]], axis=1), "join along the feature axis (the last one)."
            ),
        ],
    )


def check_backward_last_state(fn: Any) -> Verdict:
    """Exercise 05.3: the last h of `lstm_step` applied at positions T−1, …, 0 from h = c = 0."""
    from helpers.rnn import lstm_forward

    rng = input_rng()
    cases = []
    for n, t, d, u in ((2, 5, 3, 4), (1, 3, 2, 2), (3, 7, 1, 3)):
        cases.append(
            (
                rng.normal(size=(n, t, d)),
                rng.normal(0, 0.5, (d, 4 * u)),
                rng.normal(0, 0.5, (u, 4 * u)),
                rng.normal(0, 0.1, 4 * u),
            )
        )

    def reference(X, kernel, recurrent_kernel, bias):
        return lstm_forward(X, kernel, recurrent_kernel, bias, go_backwards=True)[1]

    return check_function(
        fn,
        cases,
        reference,
        what="the backward reader's last state",
        mistakes=[
            Mistake(
                lambda X, K, R, b: lstm_forward(X, K, R, b)[1],
                "that is the forward reader's last state: start at the last position.",
            ),
            Mistake(
                lambda X, K, R, b: lstm_forward(X, K, R, b, go_backwards=True)[2],
                "that is the cell state c; return the hidden state h.",
            ),
            Mistake(
                lambda X, K, R, b: lstm_forward(X, K, R, b, go_backwards=True)[0][:, 0],
                "that is the state after the first step read; return the one after the last.",
            ),
        ],
    )
