"""Checkers for the exercises of notebook 07 · forward then reverse fine-tuning."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, variants


def check_paired_interval(fn: Any) -> Verdict:
    """Exercise 06.1: `interval(a, b)` → the 95% t-interval (low, high) for the mean of a − b,
    with a and b paired by seed: d̄ ± t_{0.975, n−1} · s_d/√n (s_d with n − 1)."""
    from scipy import stats

    rng = input_rng()
    cases = []
    for n in (3, 5, 10):
        base = rng.normal(0.8, 0.05, n)
        cases.append((base + rng.normal(0.01, 0.01, n), base))

    def interval(a, b, quantile=None, paired=True, ddof=1, root=True):
        a, b = np.asarray(a, float), np.asarray(b, float)
        n = a.size
        q = stats.t.ppf(0.975, n - 1) if quantile is None else quantile
        if paired:
            spread = np.std(a - b, ddof=ddof)
        else:
            spread = np.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))
        half = q * spread / (np.sqrt(n) if root else n)
        centre = np.mean(a - b)
        return centre - half, centre + half

    return check_function(
        fn,
        cases,
        interval,
        what="the paired 95% interval",
        mistakes=variants(
            interval,
            ({"quantile": 1.96}, "your interval uses the normal quantile 1.96, too narrow for a handful of seeds."),
            (
                {"paired": False},
                "your interval treats a and b as independent, though each a is paired with a b by seed.",
            ),
            ({"ddof": 0}, "your standard deviation divides by n (the population formula, ddof=0)."),
            ({"root": False}, "your standard error divides s by n."),
        ),
    )


def check_sign_test(fn: Any) -> Verdict:
    """Exercise 06.2: `sign_test(wins, n)` → the two-sided p-value of the exact sign test
    (wins ~ Binomial(n, 1/2) when neither condition is better)."""
    from scipy import stats

    n = int(input_rng().integers(11, 31))
    cases = [(5, 5), (0, 5), (4, 5), (8, 10), (3, 10), (int(input_rng().integers(0, n + 1)), n), (5, 10), (3, 6)]
    # edges: n/2 (the doubled tail passes 1), 0, n; and one n drawn afresh each time
    reference = lambda w, n: float(stats.binomtest(w, n, 0.5).pvalue)  # noqa: E731
    one_sided = lambda w, n: float(stats.binom.sf(max(w, n - w) - 1, n, 0.5))  # noqa: E731
    return check_function(
        fn,
        cases,
        reference,
        what="the sign test's p-value",
        mistakes=[
            Mistake(
                one_sided,
                "that is one-sided; the question is whether either condition is better, so "
                "your p-value counts the extreme outcomes on one side only.",
            ),
            Mistake(
                lambda w, n: float(stats.binom.pmf(w, n, 0.5)),
                "that is the probability of exactly this outcome.",
            ),
            Mistake(
                lambda w, n: 2 * one_sided(w, n),
                "right for lopsided outcomes, but when wins = n/2 the two tails overlap and your p-value exceeds 1.",
            ),
        ],
    )


def _permutation_p(d, two_sided=True, strict=False):
    d = np.asarray(d, float)
    observed = abs(d.mean()) if two_sided else d.mean()
    count = 0
    for signs in itertools.product((1, -1), repeat=d.size):
        m = np.mean(d * np.array(signs))
        m = abs(m) if two_sided else m
        count += (m > observed + 1e-12) if strict else (m >= observed - 1e-12)
    return count / 2**d.size


def check_permutation_test(fn: Any) -> Verdict:
    """Exercise 06.3: `permutation_p(d)` → the exact two-sided p-value of the paired permutation
    (sign-flip) test: the share of the 2^n sign patterns whose |mean| is ≥ the observed |mean|."""
    rng = input_rng()
    # a negative mean too: there, twice the one-sided share is not the two-sided one
    cases = [(rng.normal(0.01, 0.01, n),) for n in (3, 5, 8)] + [(np.array([-0.02, 0.01, -0.015, -0.005]),)]
    return check_function(
        fn,
        cases,
        _permutation_p,
        what="the permutation p-value",
        mistakes=[
            Mistake(
                lambda d: _permutation_p(d, two_sided=False),
                "that is one-sided: it counts only the patterns on the observed mean's side.",
            ),
            Mistake(
                lambda d: 2 * _permutation_p(d, two_sided=False),
                "a doubled one-sided share is not the two-sided one (and it can pass 1).",
            ),
            Mistake(
                lambda d: min(1.0, 2 * _permutation_p(d, two_sided=False)),
                "a doubled one-sided share is not the two-sided one when the observed mean is negative.",
            ),
            Mistake(
                lambda d: _permutation_p(d, strict=True),
                "your count misses patterns whose |mean| equals the observed one (the observed pattern itself, or one "
                "that differs from it only in the last bit).",
            ),
        ],
    )
