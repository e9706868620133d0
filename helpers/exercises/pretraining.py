"""Checkers for the exercises of notebook 10 · pretraining, then fine-tuning."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng
from helpers.models import reverse_like


def check_perplexity(fn: Any) -> Verdict:
    """Exercise 10.1: perplexity = exp(mean loss in nats per character)."""
    cases = [(0.0,), (1.0,), (float(input_rng().uniform(0.5, 6.0)),), (float(np.log(1000.0)),)]
    return check_function(
        fn,
        cases,
        lambda loss: float(np.exp(loss)),
        what="the perplexity",
        mistakes=[
            Mistake(
                lambda loss: float(2.0**loss),
                "your function reads the loss as bits (base 2); the course's losses are in nats.",
            ),
            Mistake(
                lambda loss: float(np.exp(-loss)),
                "your perplexity falls as the loss grows; a worse model should be more perplexed.",
            ),
            Mistake(
                lambda loss: float(1 / loss) if loss else float("inf"),
                "1/loss is not the number of equally likely choices a loss of that size stands for.",
            ),
            Mistake(
                lambda loss: float(np.log(loss)) if loss > 0 else float("-inf"),
                "your function takes the logarithm of a loss that is already an average of logarithms.",
            ),
        ],
    )


def _padded_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = input_rng()
    cases = []
    for n, t, d, lengths in ((2, 5, 3, (5, 2)), (3, 4, 2, (1, 4, 3)), (1, 6, 4, (6,))):
        ids = np.zeros((n, t), dtype=int)
        for row, length in enumerate(lengths):
            ids[row, :length] = rng.integers(1, 50, size=length)  # every id but 0 (padding) may occur
        ids[0, 0] = 1  # and id 1 does: it is a character, not padding
        cases.append((rng.normal(size=(n, t, d)), ids))
    return cases


def check_masked_mean(fn: Any) -> Verdict:
    """Exercise 10.2: the mean of each text's states over its characters, padding (id 0) skipped."""

    def reference(states, ids):
        keep = (ids != 0)[..., None]
        return (states * keep).sum(axis=1) / keep.sum(axis=1)

    return check_function(
        fn,
        _padded_cases(),
        reference,
        what="the masked mean",
        mistakes=[
            Mistake(
                lambda s, ids: s.mean(axis=1), "padding positions (id 0) must not count: average over characters only."
            ),
            Mistake(lambda s, ids: (s * (ids != 0)[..., None]).sum(axis=1), "divide by the number of characters."),
            Mistake(
                lambda s, ids: (s * (ids != 0)[..., None]).sum(axis=1) / s.shape[1],
                "divide by each text's own number of characters, not by the padded length.",
            ),
        ],
    )


def check_align_backward(fn: Any) -> Verdict:
    """Exercise 10.3: a backward reader's states, computed on each text reversed, put back in the
    order of the original positions (padding stays at the end)."""
    return check_function(
        fn,
        _padded_cases(),
        lambda states, ids: reverse_like(states, ids),
        what="the aligned backward states",
        mistakes=[
            Mistake(lambda s, ids: s[:, ::-1], "reverse only each text's characters: its padding stays at the end."),
            Mistake(lambda s, ids: s, "the backward reader read the text reversed: its states come in reverse order."),
            Mistake(lambda s, ids: s[::-1], "reverse along time (axis 1), not the batch."),
        ],
    )
