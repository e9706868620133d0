"""Synthetic sequence tasks for opening up recurrent models. Taught in notebooks 04 and 05."""

from __future__ import annotations

import numpy as np


def make_counting_task(num_samples: int, length: int, seed: int, vocab_size: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Random token sequences with a label that depends on every position equally.

    Tokens are drawn uniformly from 1..vocab_size (0 is reserved for padding). Tokens
    1..vocab_size/2 are "positive", the rest "negative"; y = 1 when the sequence holds more
    positive than negative tokens (a tie, possible only for an even length, counts as 0).
    Returns X of shape (num_samples, length), dtype int64, and y of shape (num_samples,), float.
    """
    rng = np.random.default_rng(seed)
    X = rng.integers(1, vocab_size + 1, size=(num_samples, length), dtype=np.int64)
    positives = np.sum(X <= vocab_size // 2, axis=1)
    y = (positives > length - positives).astype(np.float64)
    return X, y
