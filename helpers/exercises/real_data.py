"""Checkers for the exercises of notebook 06 · real data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.baselines import accuracy_and_macro_f1
from helpers.exercises.core import HAND_RTOL, Mistake, Verdict, check_function, check_value, input_rng, same
from helpers.text import char_ngrams


def check_duplicate_share(answer: Any, lines: Sequence[str]) -> Verdict:
    """Exercise 05.1: the share of lines that repeat an earlier line exactly."""
    lines = [str(line) for line in lines]  # a private copy, counted before the answer is read
    n, unique = len(lines), len(set(lines))
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    in_groups = sum(c for c in counts.values() if c > 1)
    return check_value(
        answer,
        (n - unique) / n,
        what="the share of repeated lines",
        rtol=HAND_RTOL,
        mistakes=[
            Mistake(unique / n, "that is the share of distinct texts."),
            Mistake(
                in_groups / n,
                "your count includes the first occurrence of each repeated text.",
            ),
            Mistake(n - unique, "that is a count, not a share."),
        ],
    )


def check_macro_f1(fn: Any) -> Verdict:
    """Exercise 05.2: macro-F1 of binary labels, the mean of the two classes' F1."""
    rng = input_rng()
    cases = []
    for n, p_true, p_flip in ((40, 0.3, 0.2), (60, 0.5, 0.3), (30, 0.2, 0.1)):
        y_true = (rng.random(n) < p_true).astype(int)
        flip = rng.random(n) < p_flip
        cases.append((y_true, np.where(flip, 1 - y_true, y_true)))

    def f1_of(y_true, y_pred, positive):
        tp = np.sum((y_pred == positive) & (y_true == positive))
        return 2 * tp / (np.sum(y_pred == positive) + np.sum(y_true == positive))

    def weighted(y_true, y_pred):
        w = np.mean(y_true == 1)
        return w * f1_of(y_true, y_pred, 1) + (1 - w) * f1_of(y_true, y_pred, 0)

    return check_function(
        fn,
        cases,
        lambda t, p: accuracy_and_macro_f1(t, p)[1],
        what="macro-F1",
        mistakes=[
            Mistake(
                lambda t, p: float(np.mean(t == p)),
                "that is the accuracy (= micro-F1 for one label per text).",
            ),
            Mistake(
                lambda t, p: f1_of(t, p, 1),
                "that is the F1 of the positive class only.",
            ),
            Mistake(weighted, "your average weights the classes by their size."),
        ],
    )


def _near_twins_reference(test_texts, train_texts, threshold):
    train_sets = [char_ngrams(t) for t in train_texts]
    twins = []
    for k, text in enumerate(test_texts):
        grams = char_ngrams(text)
        if any(len(grams & g) / len(grams | g) >= threshold for g in train_sets):
            twins.append(k)
    return twins


def check_near_twins(fn: Any) -> Verdict:
    """Exercise 05.3: `near_twins(test_texts, train_texts, threshold)` → sorted indices of test
    texts with a training text whose character 5-gram sets have Jaccard similarity ≥ threshold."""
    rng = input_rng()
    alphabet = list("好差很不错慢快贵便宜服务房间早餐干净位置")
    make = lambda n: "".join(rng.choice(alphabet, n))  # noqa: E731
    train = [make(int(rng.integers(3, 30))) for _ in range(40)]
    twin_of = rng.permutation(40)  # test text k copies training text twin_of[k]: their indices differ
    test = []
    for k in range(30):
        base = train[twin_of[k]] if k % 2 == 0 else make(int(rng.integers(3, 30)))
        if k % 4 == 0 and len(base) > 6:
            j = int(rng.integers(len(base)))
            base = base[:j] + "!" + base[j + 1 :]  # one character changed
        test.append(base)
    cases = [(test, train, 0.8), (test, train, 0.5), (test[:5], train, 1.0)]
    as_list = lambda got, ref: same(sorted(int(i) for i in got), ref)  # noqa: E731
    return check_function(
        fn,
        cases,
        _near_twins_reference,
        what="the near-twin indices",
        compare=as_list,
        mistakes=[
            Mistake(
                lambda te, tr, th: [k for k, t in enumerate(te) if t in set(tr)],
                "your function finds exact copies only.",
            ),
            Mistake(
                lambda te, tr, th: [j for j, g in enumerate(tr) if _near_twins_reference([g], te, th)],
                "those are indices into the training texts.",
            ),
        ],
    )
