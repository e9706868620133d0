"""Checkers for the exercises of notebook 08 · bidirectional models."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng, same
from helpers.segmentation import ALLOWED_NEXT, TAGS, is_valid_tagging, segmentation_prf, word_spans, words


def _random_tags(rng: np.random.Generator, num_words: int) -> str:
    out = []
    for _ in range(num_words):
        n = int(rng.integers(1, 5))
        out.append("s" if n == 1 else "b" + "m" * (n - 2) + "e")
    return "".join(out)


def check_tags_to_words(fn: Any) -> Verdict:
    """Exercise 08.1: `tags_to_words(text, tags)` → the list of words (b/m/e/s tags)."""
    rng = input_rng()
    chars = "迈向充满希望的新世纪一九九八年新年讲话"
    cases = [("迈向新世纪", "besbe"), ("迈向新年", "bebe"), ("我爱北京", "ssbe"), ("好", "s")]
    for _ in range(4):
        tags = _random_tags(rng, int(rng.integers(2, 7)))
        cases.append(("".join(rng.choice(list(chars), len(tags))), tags))

    def drop_last(text, tags):
        spans = [(a, b) for a, b in word_spans(tags)]
        return [text[a:b] for a, b in spans[:-1]]

    return check_function(
        fn,
        cases,
        words,
        what="the words",
        compare=lambda g, r: same(list(itertools.islice(g, len(r) + 1)), r),  # at most one word too many
        mistakes=[
            Mistake(drop_last, "your list misses the text's last word."),
            Mistake(lambda text, tags: list(text), "your function makes every character a word of its own."),
        ],
    )


def check_word_prf(fn: Any) -> Verdict:
    """Exercise 08.2: `word_prf(true_tags, pred_tags)` → (precision, recall, F1) over a corpus,
    counting words (character spans) over all sentences."""
    rng = input_rng()
    cases = []
    for num in (1, 3, 6):
        true = [_random_tags(rng, int(rng.integers(2, 6))) for _ in range(num)]
        pred = ["".join(rng.choice(list(TAGS)) if rng.random() < 0.3 else t for t in s) for s in true]
        cases.append((true, pred))

    def macro(true, pred):
        scores = np.array([segmentation_prf([t], [p]) for t, p in zip(true, pred)])
        return tuple(float(x) for x in scores.mean(axis=0))

    def char_accuracy(true, pred):
        acc = np.mean([a == b for t, p in zip(true, pred) for a, b in zip(t, p)])
        return (float(acc),) * 3

    return check_function(
        fn,
        cases,
        segmentation_prf,
        what="word precision, recall and F1",
        mistakes=[
            Mistake(
                lambda t, p: (lambda s: (s[1], s[0], s[2]))(segmentation_prf(t, p)),
                "your precision and recall are swapped.",
            ),
            Mistake(macro, "your scores average each sentence's own scores."),
            Mistake(char_accuracy, "your scores count correct tags, not correct words."),
        ],
    )


def _best_by_brute_force(log_probs, constrain_ends=True):
    best, best_score = "", -np.inf
    for seq in itertools.product(TAGS, repeat=len(log_probs)):
        tags = "".join(seq)
        ok = is_valid_tagging(tags) if constrain_ends else all(b in ALLOWED_NEXT[a] for a, b in zip(tags, tags[1:]))
        if ok:
            score = sum(log_probs[t, TAGS.index(c)] for t, c in enumerate(tags))
            if score > best_score:
                best, best_score = tags, score
    return best


def check_constrained_decode(fn: Any) -> Verdict:
    """Exercise 08.3: `decode(log_probs)` → the valid tag string (see `is_valid_tagging`) with the
    largest total log-probability; log_probs has shape (T, 4), columns in the order b, m, e, s."""
    rng = input_rng()
    cases = [(np.log(rng.dirichlet(np.ones(4) * 0.5, size=T)),) for T in (1, 2, 3, 5, 7, 7, 8)]
    return check_function(
        fn,
        cases,
        _best_by_brute_force,
        what="the constrained decoding",
        compare=lambda g, r: isinstance(g, str) and g == r,
        mistakes=[
            Mistake(
                lambda lp: "".join(TAGS[k] for k in lp.argmax(axis=1)),
                "your tags are the greedy choice per character, which can put b after b.",
            ),
            Mistake(
                lambda lp: _best_by_brute_force(lp, constrain_ends=False),
                "your transitions are valid, but your tag string can start or end where no word can.",
            ),
        ],
    )
