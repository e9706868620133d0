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


def viterbi_tags(log_probs: np.ndarray) -> str:
    """The valid tag string (`is_valid_tagging`) with the largest total log-probability, by
    dynamic programming (Viterbi): with δ_t(k) the best score of a valid prefix ending in tag k,

        δ_0(k) = log p_0(k) for k in {b, s} (−∞ otherwise),
        δ_t(k) = log p_t(k) + max over j allowed before k of δ_{t−1}(j),

    and the answer ends in e or s, read back through the maximising j of each step.
    log_probs: (T, 4), columns b, m, e, s. Exercise 3 of notebook 08 writes it; notebook 10
    decodes every tagger's output with it."""
    log_probs = np.asarray(log_probs, dtype=float)
    allowed = np.array([[b in ALLOWED_NEXT[a] for b in TAGS] for a in TAGS])  # [previous, next]
    score = np.where([t in "bs" for t in TAGS], log_probs[0], -np.inf)
    back = []
    for t in range(1, len(log_probs)):
        candidates = np.where(allowed, score[:, None], -np.inf)
        back.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + log_probs[t]
    k = int(np.where([t in "es" for t in TAGS], score, -np.inf).argmax())
    path = [k]
    for pointers in reversed(back):
        k = int(pointers[k])
        path.append(k)
    return "".join(TAGS[k] for k in reversed(path))


# punctuation after which a long sentence may be cut (a one-character word: always a word end);
# the corpora are NFKC-normalised, which turns full-width ，；：！？ into , ; : ! ? (。 and 、 stay)
BREAKS = "。、，；：！？,;:!?"


def sentence_pieces(text: str, max_len: int) -> list[tuple[int, int]]:
    """Spans [start, end) that cover `text` in order, each at most max_len characters: a piece ends
    after the last punctuation mark of BREAKS within reach, or at max_len when there is none.
    A tagger that reads max_len characters thus sees every character of a long sentence, and its
    pieces' tags, joined, tag the whole sentence (notebook 10)."""
    spans, start = [], 0
    while len(text) - start > max_len:
        window = text[start : start + max_len]
        cut = max(window.rfind(p) for p in BREAKS) + 1
        end = start + (cut if cut > 0 else max_len)
        spans.append((start, end))
        start = end
    return spans + [(start, len(text))] if start < len(text) or not text else spans
