"""Checkers for the exercises of notebook 09 · attention, one way and two ways."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.attention import causal_mask, scaled_dot_product_attention
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
            Mistake(lambda T: np.tril(np.ones((T, T), dtype=bool), -1), "your mask hides each position from itself."),
            Mistake(
                lambda T: np.triu(np.ones((T, T), dtype=bool)),
                "your mask shows each position the future, not the past.",
            ),
            Mistake(lambda T: np.tril(np.ones((T, T))), "your mask holds numbers, not booleans."),
        ],
    )


def _distance_attention(scale=True, sign=-1.0, penalty_scaled=False, signed=False, axis=-1, mask_after=False):
    """One head of self-attention with ALiBi's distance penalty, or one of its known mistakes."""

    def attend(Q, K, V, slope, mask):
        t = np.arange(len(Q))
        distance = (t[:, None] - t[None, :]) if signed else np.abs(t[:, None] - t[None, :])
        root = np.sqrt(Q.shape[-1])
        penalty = sign * slope * distance
        scores = (Q @ K.T + penalty) / root if penalty_scaled else Q @ K.T / (root if scale else 1.0) + penalty
        if mask is not None and not mask_after:
            scores = np.where(mask, scores, -1e9)
        weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
        weights /= weights.sum(axis=axis, keepdims=True)
        if mask is not None and mask_after:
            weights = weights * mask
        return weights @ V

    return attend


def check_distance_attention(fn: Any) -> Verdict:
    """Exercise 09.2: softmax(Q Kᵀ/√d_k − m·|t − s| + M) V for one head of self-attention (ALiBi's
    distance penalty with slope m), with or without a mask."""
    rng = input_rng()
    cases = []
    for T, d_k, d_v, slope, masked in (
        (3, 4, 2, 0.5, None),
        (5, 8, 3, 0.25, "causal"),
        (4, 16, 4, float(rng.uniform(0.05, 2.0)), None),
        (6, 2, 2, 1.0, "random"),  # any mask, not only the causal one; every query sees one key at least
    ):
        Q, K, V = rng.normal(size=(T, d_k)), rng.normal(size=(T, d_k)), rng.normal(size=(T, d_v))
        mask = rng.random((T, T)) < 0.5
        mask[np.arange(T), rng.integers(0, T, T)] = True  # each query sees a key
        mask[rng.integers(0, T, T), np.arange(T)] = True  # each key is seen (no empty column either)
        cases.append((Q, K, V, slope, causal_mask(T) if masked == "causal" else mask if masked else None))

    def reference(Q, K, V, slope, mask):
        t = np.arange(len(Q))
        return scaled_dot_product_attention(Q, K, V, mask, bias=-slope * np.abs(t[:, None] - t[None, :]))[0]

    variant = _distance_attention
    return check_function(
        fn,
        cases,
        reference,
        what="one head of attention with a distance penalty",
        mistakes=[
            Mistake(variant(scale=False), "your scores Q Kᵀ are not scaled by √d_k."),
            Mistake(variant(sign=1.0), "your penalty rewards distance: far positions get the larger scores."),
            Mistake(variant(penalty_scaled=True), "your penalty is divided by √d_k along with the scores."),
            Mistake(variant(signed=True), "your penalty uses the signed distance t − s, so it rewards one side."),
            Mistake(
                variant(axis=0),
                "your weights sum to 1 down each column (over the queries), not over each query's keys.",
            ),
            Mistake(
                lambda Q, K, V, slope, mask: variant()(Q, K, V, slope, None),
                "your function ignores the mask: some queries look at keys they should not see.",
            ),
            Mistake(
                lambda Q, K, V, slope, mask: variant()(
                    Q, K, V, slope, None if mask is None else np.tril(np.ones(mask.shape, bool))
                ),
                "your function hides the future whatever mask it is given.",
            ),
            Mistake(
                lambda Q, K, V, slope, mask: variant()(Q, K, V, slope, None if mask is None else ~np.asarray(mask)),
                "your function hides the keys where the mask is True.",
            ),
            Mistake(
                variant(mask_after=True),
                "your function hides the masked keys after the softmax, so the weights left no longer sum to 1.",
            ),
        ],
    )


def _gated_block_params(d: int, h: int, k: int, f: int, *, biases: bool = False, ff: int = 3, norm: int = 1) -> int:
    """Parameters of a LLaMA-style block, or one of the known miscounts: attention projections
    4·d·h·k (no biases), a gated feed-forward of three d×f matrices, two RMS norms with a scale only."""
    attention = 4 * d * h * k + (3 * h * k + d if biases else 0)
    feed_forward = ff * d * f + ((ff - 1) * f + d if biases else 0)
    return attention + feed_forward + 2 * norm * d


def check_gated_block_params(fn: Any) -> Verdict:
    """Exercise 09.3: trainable parameters of one LLaMA-style block: 4·d·h·k + 3·d·d_ff + 2·d."""
    rng = input_rng()
    drawn = (int(rng.integers(4, 65)), int(rng.integers(1, 9)), int(rng.integers(2, 33)), int(rng.integers(4, 257)))
    cases = [(32, 2, 16, 64), (8, 1, 8, 8), (4096, 32, 128, 11008), drawn]
    return check_function(
        fn,
        cases,
        _gated_block_params,
        what="the block's parameter count",
        mistakes=[
            Mistake(
                lambda d, h, k, f: _gated_block_params(d, h, k, f, biases=True),
                "your count includes biases; this block has none.",
            ),
            Mistake(
                lambda d, h, k, f: _gated_block_params(d, h, k, f, ff=2),
                "your feed-forward has two matrices, like section 7's; the gated one has a third.",
            ),
            Mistake(
                lambda d, h, k, f: _gated_block_params(d, h, k, f, norm=2),
                "your RMS norms have a shift β as well as a scale.",
            ),
            Mistake(
                lambda d, h, k, f: _gated_block_params(d, h, k, f) - d * h * k,
                "your count leaves out the output projection that brings the heads back to d_model.",
            ),
        ],
    )
