"""Characters to integer ids for Keras models (Part III). Id 0 is padding, 1 unknown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

PAD, UNK = 0, 1


def build_vocab(texts: Sequence[str], max_size: int | None = None) -> dict[str, int]:
    """Character → id, most frequent first (ties by character), ids from 2; at most `max_size`
    entries in all (padding and unknown included)."""
    counts = Counter(ch for t in texts for ch in t)
    ranked = sorted(counts, key=lambda ch: (-counts[ch], ch))
    if max_size is not None:
        ranked = ranked[: max(0, max_size - 2)]
    return {ch: i + 2 for i, ch in enumerate(ranked)}


def encode(texts: Sequence[str], vocab: dict[str, int], max_len: int) -> np.ndarray:
    """(N, max_len) int32 ids: the first `max_len` characters of each text, padded with 0 at the end."""
    out = np.full((len(texts), max_len), PAD, dtype=np.int32)
    for row, text in enumerate(texts):
        ids = [vocab.get(ch, UNK) for ch in text[:max_len]]
        out[row, : len(ids)] = ids
    return out


def char_ngrams(text: str, n: int = 5) -> set[str]:
    """The set of character n-grams of `text`; a text shorter than n is its own single n-gram.
    Near-duplicate detection (Jaccard similarity of these sets) is taught in notebook 06."""
    return {text[i : i + n] for i in range(len(text) - n + 1)} or {text}
