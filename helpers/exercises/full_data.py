"""Checkers for the exercises of notebook 11 · Part IV at full data."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, variants


def _best_epoch(valid_scores, *, earliest=True, one_based=True, lowest=False):
    """The epoch whose validation score is best (the earliest on a tie), counted from 1."""
    values = np.asarray(valid_scores, dtype=float)
    target = values.min() if lowest else values.max()
    hits = np.flatnonzero(values == target)
    index = int(hits[0] if earliest else hits[-1])
    return index + 1 if one_based else index


def check_best_epoch(fn: Any) -> Verdict:
    """Exercise 11.1: `best_epoch(valid_scores)` → the epoch (1, 2, …) with the highest validation
    score, the earliest on a tie: the epoch early stopping keeps, chosen without the test set."""
    rng = input_rng()
    drawn = np.round(rng.uniform(0.5, 0.9, int(rng.integers(5, 12))), 2)
    fixed = [[0.61, 0.70, 0.74, 0.72], [0.80, 0.83, 0.83, 0.79, 0.83], [0.9], [0.5, 0.6, 0.7]]
    cases = [(np.array(scores),) for scores in fixed] + [(drawn,)]  # one validation score per epoch
    return check_function(
        fn,
        cases,
        _best_epoch,
        what="the epoch early stopping keeps",
        mistakes=[
            *variants(
                _best_epoch,
                ({"earliest": False}, "on a tie your function keeps the latest of the best epochs, not the earliest."),
                ({"one_based": False}, "your epochs are counted from 0; the course counts them 1, 2, …"),
                ({"lowest": True}, "your function picks the lowest score: these are accuracies, higher is better."),
            ),
            Mistake(lambda s: len(s), "your function keeps the last epoch whatever its validation score."),
        ],
    )


def _seed_interval(scores, *, pooled=False, ddof=1, quantile=None):
    """Mean over pretraining seeds (rows) of each seed's mean over its fine-tuning runs (columns),
    with the 95% t-interval over the n = rows seed means."""
    from scipy import stats

    scores = np.asarray(scores, dtype=float)
    values = scores.ravel() if pooled else scores.mean(axis=1)
    n = values.size
    q = stats.t.ppf(0.975, n - 1) if quantile is None else quantile
    half = q * np.std(values, ddof=ddof) / np.sqrt(n)
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def check_seed_interval(fn: Any) -> Verdict:
    """Exercise 11.2: `seed_interval(scores)`, scores[p, s] the test score of fine-tuning seed s on
    pretraining seed p → (mean, low, high): the 95% t-interval over the pretraining seeds, each
    seed's value the mean of its fine-tuning runs (n = number of pretraining seeds)."""
    rng = input_rng()
    cases = []
    for p, s in ((3, 3), (4, 2), (3, 5)):
        seed_effect = rng.normal(0.8, 0.03, (p, 1))
        cases.append((seed_effect + rng.normal(0, 0.01, (p, s)),))
    return check_function(
        fn,
        cases,
        _seed_interval,
        what="the interval over pretraining seeds",
        mistakes=variants(
            _seed_interval,
            (
                {"pooled": True},
                "your interval treats every run as independent; runs from one pretraining seed share "
                "its checkpoint, so the seeds, not the runs, are the independent draws.",
            ),
            ({"ddof": 0}, "your standard deviation divides by n (the population formula, ddof=0)."),
            ({"quantile": 1.96}, "your interval uses the normal quantile 1.96, too narrow for three seeds."),
        ),
    )


def _encoder_params(vocab_size, seq_len, d_model, d_ff, num_layers, *, biases=True, positions=True,
                    norms=True, output=True, projections=4):  # fmt: skip
    """The parameters of `helpers.transformer.char_transformer` (post-norm blocks, a Dense output), or
    a known mistake; tests/unit/test_exercises.py holds it equal to Keras's `count_params`."""
    b = 1 if biases else 0
    attention = projections * (d_model * d_model + b * d_model)
    block = attention + (d_model * d_ff + b * d_ff) + (d_ff * d_model + b * d_model) + (4 * d_model if norms else 0)
    embed = vocab_size * d_model + (seq_len * d_model if positions else 0)
    head = d_model * vocab_size + b * vocab_size if output else 0
    return embed + num_layers * block + head


def check_encoder_params(fn: Any) -> Verdict:
    """Exercise 11.3: `encoder_params(vocab_size, seq_len, d_model, d_ff, num_layers)` → the number
    of parameters of Part IV's encoder with its output layer, as Keras counts them."""
    rng = input_rng()
    sizes = rng.integers([20, 8, 2, 1, 1], [300, 65, 17, 9, 4])  # vocabulary, length, d_model / 2, d_ff / 8, layers
    drawn = (int(sizes[0]), int(sizes[1]), 2 * int(sizes[2]), 8 * int(sizes[3]), int(sizes[4]))
    cases = [(100, 16, 8, 16, 1), (50, 32, 16, 32, 2), drawn]
    return check_function(
        fn,
        cases,
        _encoder_params,
        what="the encoder's parameter count",
        mistakes=variants(
            _encoder_params,
            ({"biases": False}, "your count leaves out the biases of the Dense layers and of the attention."),
            ({"positions": False}, "your count leaves out the learnt position embedding (seq_len × d_model)."),
            (
                {"norms": False},
                "your count leaves out each block's two layer normalisations (a scale and a shift each).",
            ),
            ({"output": False}, "your count stops at the encoder: the output layer over the vocabulary counts too."),
            (
                {"projections": 3},
                "your attention has three projections (query, key, value); its output one counts too.",
            ),
        ),
    )
