"""Checkers for the exercises of notebook 10 · pretraining, then fine-tuning."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, variants
from helpers.models import reverse_like


def _corpus_perplexity(losses, lengths, *, weighted=True, of_each=False, base=np.e):
    """exp(Σ_i n_i·l_i / Σ_i n_i) for sentences of n_i characters and mean losses l_i, or a known mistake."""
    losses, lengths = np.asarray(losses, dtype=float), np.asarray(lengths, dtype=float)
    weights = lengths if weighted else np.ones_like(lengths)
    if of_each:
        return float(np.sum(weights * base**losses) / np.sum(weights))
    return float(base ** (np.sum(weights * losses) / np.sum(weights)))


def check_corpus_perplexity(fn: Any) -> Verdict:
    """Exercise 10.1: the perplexity of a corpus from each sentence's mean loss l_i (nats per
    character) and length n_i: exp(Σ_i n_i·l_i / Σ_i n_i), the perplexity of every character at once."""
    rng = input_rng()
    cases = [([1.0], [5]), ([0.5, 2.0], [10, 2]), ([0.0, 3.0, 1.5], [1, 1, 8])]
    size = int(rng.integers(4, 9))
    cases.append((list(rng.uniform(0.5, 6.0, size)), [int(n) for n in rng.integers(1, 60, size)]))
    return check_function(
        fn,
        cases,
        _corpus_perplexity,
        what="the corpus perplexity",
        mistakes=[
            *variants(
                _corpus_perplexity,
                (
                    {"weighted": False},
                    "your mean loss counts every sentence the same, whatever its number of characters.",
                ),
                ({"weighted": False, "of_each": True}, "your function averages the sentences' own perplexities."),
                ({"of_each": True}, "your function averages the sentences' own perplexities (weighted by length)."),
                ({"base": 2.0}, "your function reads the losses as bits (base 2); the course's losses are in nats."),
            ),
            Mistake(
                lambda losses, lengths: float(np.sum(np.multiply(losses, lengths)) / np.sum(lengths)),
                "your function returns the mean loss itself, not a perplexity.",
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
            Mistake(lambda s, ids: s[:, ::-1], "your function reverses the padding along with each text's characters."),
            Mistake(lambda s, ids: s, "your function leaves the backward states in the order they were read."),
            Mistake(lambda s, ids: s[::-1], "your function reverses the batch, not the time axis."),
        ],
    )
