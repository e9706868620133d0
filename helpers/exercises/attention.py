"""Checkers for the exercises of notebook 09 · attention, one way and two ways."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.attention import causal_mask, scaled_dot_product_attention, transformer_block_params
from helpers.exercises.core import Mistake, Verdict, check_function, input_rng


def check_causal_mask(fn: Any) -> Verdict:
    """Exercise 09.1: (T, T) booleans, True where s ≤ t (a position sees itself and the past)."""
    cases = [(1,), (2,), (5,), (int(input_rng().integers(6, 13)),)]
    return check_function(
        fn,
        cases,
        causal_mask,
        what="the causal mask",
        compare=lambda got, expected: np.asarray(got).dtype == bool and np.array_equal(got, expected),
        mistakes=[
            Mistake(lambda T: np.tril(np.ones((T, T), dtype=bool), -1), "a position may look at itself too."),
            Mistake(lambda T: np.triu(np.ones((T, T), dtype=bool)), "row t is the query: it may see s ≤ t, the past."),
            Mistake(lambda T: np.tril(np.ones((T, T))), "return booleans (True where it may look), not numbers."),
        ],
    )


def check_attention(fn: Any) -> Verdict:
    """Exercise 09.2: softmax(Q Kᵀ/√d_k + M) V for one head, with or without a mask."""
    rng = input_rng()
    cases = []
    for t_q, t_k, d_k, d_v, masked in (
        (3, 3, 4, 2, None),
        (4, 4, 8, 3, "causal"),
        (2, 5, 16, 4, None),
        (6, 7, 2, 2, "random"),  # any mask, not only the causal one; every query sees one key at least
    ):
        Q, K, V = rng.normal(size=(t_q, d_k)), rng.normal(size=(t_k, d_k)), rng.normal(size=(t_k, d_v))
        mask = rng.random((t_q, t_k)) < 0.5
        mask[np.arange(t_q), rng.integers(0, t_k, t_q)] = True  # each query sees a key
        mask[rng.integers(0, t_q, t_k), np.arange(t_k)] = True  # each key is seen (no empty column either)
        cases.append((Q, K, V, causal_mask(t_q) if masked == "causal" else mask if masked else None))

    def reference(Q, K, V, mask):
        return scaled_dot_product_attention(Q, K, V, mask)[0]

    def variant(scale=True, axis=-1, mask_after=False):
        def attend(Q, K, V, mask):
            scores = Q @ K.T / (np.sqrt(Q.shape[-1]) if scale else 1.0)
            if mask is not None and not mask_after:
                scores = np.where(mask, scores, -1e9)
            weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
            weights /= weights.sum(axis=axis, keepdims=True)
            if mask is not None and mask_after:
                weights = weights * mask
            return weights @ V

        return attend

    return check_function(
        fn,
        cases,
        reference,
        what="one head of attention",
        mistakes=[
            Mistake(variant(scale=False), "divide the scores Q Kᵀ by √d_k before the softmax."),
            Mistake(
                variant(axis=0),
                "your weights sum to 1 down each column (over the queries), not over each query's keys.",
            ),
            Mistake(
                lambda Q, K, V, mask: variant()(Q, K, V, None),
                "your function ignores the mask: some queries look at keys they should not see.",
            ),
            Mistake(
                lambda Q, K, V, mask: variant()(Q, K, V, None if mask is None else np.tril(np.ones(mask.shape, bool))),
                "your function hides the future whatever mask it is given; the mask argument says which keys "
                "each query may see.",
            ),
            Mistake(
                lambda Q, K, V, mask: variant()(Q, K, V, None if mask is None else ~np.asarray(mask, bool)),
                "your function hides the keys where the mask is True; True marks the keys a query may see.",
            ),
            Mistake(
                variant(mask_after=True),
                "hide the masked scores before the softmax (add −∞ or a huge negative number), so the weights "
                "that remain still sum to 1.",
            ),
        ],
    )


def check_block_params(fn: Any) -> Verdict:
    """Exercise 09.3: trainable parameters of one Transformer block."""
    rng = input_rng()
    drawn = (int(rng.integers(4, 65)), int(rng.integers(1, 9)), int(rng.integers(2, 33)), int(rng.integers(4, 257)))
    cases = [(32, 2, 16, 64), (8, 1, 8, 8), (768, 12, 64, 3072), drawn]

    def reference(d, h, k, f):
        return transformer_block_params(d, h, k, f)["total"]

    return check_function(
        fn,
        cases,
        reference,
        what="the block's parameter count",
        mistakes=[
            Mistake(
                lambda d, h, k, f: reference(d, h, k, f) - 4 * d, "each LayerNormalization has a scale γ and a shift β."
            ),
            Mistake(
                lambda d, h, k, f: reference(d, h, k, f) - 3 * h * k - d - f - d,
                "count the biases: of the query, key and value projections, the output projection and both "
                "Dense layers.",
            ),
            Mistake(
                lambda d, h, k, f: reference(d, h, k, f) - h * k * d - d,
                "the heads' outputs are projected back to d_model by an output kernel (h·k·d) with its bias.",
            ),
        ],
    )
