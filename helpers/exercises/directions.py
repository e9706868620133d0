"""Checkers for the exercises of notebook 05 · reading one way, the other way, or both."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng


def check_early_late_ratio(fn: Any) -> Verdict:
    """Exercise 05.1: mean of the first ⌊T/10⌋ (at least 1) values over the mean of the last as many."""
    rng = input_rng()
    # 5: 10% rounds to 0 (at least 1); 17: to nearest 2, down 1; 23: up 3, nearest and down 2
    cases = [(rng.random(n) + 0.1,) for n in (5, 17, 23, int(rng.integers(30, 120)))]

    def reference(s):
        k = max(1, len(s) // 10)
        return float(np.mean(s[:k]) / np.mean(s[-k:]))

    def nearest(s):
        k = max(1, int(round(len(s) / 10)))
        return float(np.mean(s[:k]) / np.mean(s[-k:]))

    def rounded_up(s):
        k = max(1, int(np.ceil(len(s) / 10)))
        return float(np.mean(s[:k]) / np.mean(s[-k:]))

    return check_function(
        fn,
        cases,
        reference,
        what="the early/late ratio",
        mistakes=[
            Mistake(lambda s: 1 / reference(s), "the early positions go on top: first 10% over last 10%."),
            Mistake(rounded_up, "you rounded 10% of the length up; the statement rounds it down."),
            Mistake(
                nearest, "you rounded 10% of the length to the nearest whole number; the statement rounds it down."
            ),
            Mistake(lambda s: float(s[0] / s[-1]), "average over the first and last 10% of positions, not one each."),
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
