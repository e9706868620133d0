"""Chinese word segmentation as character tagging, and its standard word-level metric.

Each character gets a tag: b (begins a word), m (middle), e (ends), s (a one-character word).
`words("迈向新世纪", "besbe")` → ["迈向", "新", "世纪"] (as People's Daily segments it). Scoring
compares predicted and true words by their character spans: precision = correct words / predicted
words, recall = correct words / true words, F1 their harmonic mean. Taught in notebook 08.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from helpers.text import encode

TAGS = "bmes"
TAG_IDS = {t: i for i, t in enumerate(TAGS)}
ALLOWED_NEXT = {"b": "me", "m": "me", "e": "bs", "s": "bs"}  # the tags that may follow each tag


def word_spans(tags: str) -> list[tuple[int, int]]:
    """Word spans [start, end) from a tag string. Any string is accepted (a model's prediction
    may be inconsistent): a word starts at b or s, or after e or s."""
    spans, start = [], 0
    for i in range(1, len(tags) + 1):
        if i == len(tags) or tags[i] in "bs" or tags[i - 1] in "es":
            spans.append((start, i))
            start = i
    return spans


def words(text: str, tags: str) -> list[str]:
    """The words of `text` under `tags`."""
    if len(text) != len(tags):
        raise ValueError(f"{len(text)} characters but {len(tags)} tags")
    return [text[a:b] for a, b in word_spans(tags)]


def segmentation_prf(true_tags: Iterable[str], pred_tags: Iterable[str]) -> tuple[float, float, float]:
    """Word-level precision, recall and F1 over a corpus (spans counted over all sentences)."""
    correct = n_true = n_pred = 0
    for t, p in zip(true_tags, pred_tags, strict=True):
        if len(t) != len(p):
            raise ValueError(f"a sentence has {len(t)} true tags but {len(p)} predicted")
        true_spans, pred_spans = set(word_spans(t)), set(word_spans(p))
        correct += len(true_spans & pred_spans)
        n_true += len(true_spans)
        n_pred += len(pred_spans)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def is_valid_tagging(tags: str) -> bool:
    """True when `tags` is a consistent b/m/e/s sequence: it starts with b or s, ends with e or s,
    and every tag is followed by an allowed one (b, m → m, e;  e, s → b, s). Taught in notebook 08."""
    return (
        bool(tags)
        and tags[0] in "bs"
        and tags[-1] in "es"
        and all(b in ALLOWED_NEXT[a] for a, b in zip(tags, tags[1:]))
    )


def encode_tagged(
    pairs: Sequence[tuple[str, str]], vocab: dict[str, int], max_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Tagged sentences (characters, tags) → character ids X and tag ids Y, both (N, max_len):
    cut at max_len characters, padded with 0 (padding's tag id 0 is masked out by X == 0).
    Used in notebooks 08 and 10."""
    X = encode([text for text, _ in pairs], vocab, max_len)
    Y = np.zeros_like(X)
    for row, (_, tags) in enumerate(pairs):
        Y[row, : min(len(tags), max_len)] = [TAG_IDS[t] for t in tags[:max_len]]
    return X, Y
