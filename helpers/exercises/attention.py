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


# --- exercise 09.4: BERT's 80/10/10 corruption --------------------------------------------------

FIRST_ORDINARY = 2  # ids 0 and 1 are padding and unknown; [MASK] is the last id (helpers.pretraining)
SHARE_TOLERANCE = 0.035  # over thousands of chosen positions a share is known to about ±0.007


def _corruption_spec(
    rate=None, shares=(0.8, 0.1, 0.1), padding=False, low=FIRST_ORDINARY, high_offset=-1, masked_only=False
):
    """What a corruption should look like on one case (a right answer, or one of the mistakes):
    the share of positions chosen, and of the chosen ones the shares that become [MASK], a random
    ordinary character, or stay; whether padding may be chosen; the range random ids come from."""

    def spec(X, mask_id, given_rate, rng):
        return {
            "X": X, "mask_id": mask_id, "rate": given_rate if rate is None else rate, "shares": shares,
            "padding": padding, "low": low, "high": mask_id + high_offset, "masked_only": masked_only,
        }  # fmt: skip

    return spec


def _looks_like(got: Any, spec: dict) -> bool:
    """True when `got` = (inputs, chosen) is a draw of the corruption `spec` describes, within
    SHARE_TOLERANCE for every share (the draws are random, so shares, not positions, are checked)."""
    X, mask_id = spec["X"], spec["mask_id"]
    inputs, chosen = (np.asarray(part) for part in got)
    if inputs.shape != X.shape or chosen.shape != X.shape or not np.isin(chosen, (0, 1)).all():
        return False
    chosen = chosen.astype(bool)
    if spec["masked_only"]:  # "chosen" reports the [MASK] positions only; other changes go unreported
        return np.array_equal(chosen, inputs == mask_id) and not np.array_equal(inputs[~chosen], X[~chosen])
    pad = X == 0
    if (chosen & pad).any() and not spec["padding"]:
        return False
    if not np.array_equal(inputs[~chosen], X[~chosen]):
        return False
    eligible = np.ones_like(pad) if spec["padding"] else ~pad
    if abs(chosen[eligible].mean() - spec["rate"]) > SHARE_TOLERANCE / 2:
        return False
    new, old = inputs[chosen], X[chosen]
    masked, kept = new == mask_id, new == old
    other = ~masked & ~kept
    if ((new[other] < spec["low"]) | (new[other] > spec["high"])).any():
        return False
    p_mask, p_random, p_keep = spec["shares"]
    n = spec["high"] - spec["low"] + 1  # a random draw can give back the same character
    expected = (p_mask, p_random * (1 - 1 / n), p_keep + p_random / n)
    shares = (masked.mean(), other.mean(), kept.mean())
    return all(abs(share - want) <= SHARE_TOLERANCE for share, want in zip(shares, expected))


def check_bert_corruption(fn: Any) -> Verdict:
    """Exercise 09.4: BERT's corruption — each non-padding position chosen with probability `rate`;
    of the chosen, 80 % become [MASK], 10 % a random ordinary character (ids 2 … mask_id − 1), 10 %
    stay as they are. Returns (inputs, chosen). Checked by its shares on large random batches."""
    rng = input_rng()
    cases = []
    for rate, vocab in ((0.15, 60), (0.4, 30)):
        X = rng.integers(FIRST_ORDINARY, vocab - 1, size=(250, 160))
        lengths = rng.integers(40, 161, size=len(X))
        X[np.arange(X.shape[1])[None, :] >= lengths[:, None]] = 0  # padding after each text
        cases.append((X, vocab - 1, rate, np.random.default_rng(int(rng.integers(2**32)))))
    return check_function(
        fn,
        cases,
        _corruption_spec(),
        what="BERT's 80/10/10 corruption",
        compare=_looks_like,
        mistakes=[
            Mistake(_corruption_spec(shares=(1.0, 0.0, 0.0)), "every chosen position became [MASK]."),
            Mistake(_corruption_spec(shares=(0.8, 0.0, 0.2)), "no chosen position became a random character."),
            Mistake(_corruption_spec(rate=0.15), "your function chooses 15 % of the positions whatever `rate` is."),
            Mistake(_corruption_spec(padding=True), "your function also chooses padding positions."),
            Mistake(
                _corruption_spec(low=0, high_offset=0),
                "your random characters can be padding, unknown or [MASK] itself.",
            ),
            Mistake(_corruption_spec(shares=(0.8, 0.2, 0.0)), "no chosen position is left unchanged."),
            Mistake(
                _corruption_spec(masked_only=True),
                "your `chosen` marks only the [MASK] positions, so the loss would skip the ones changed "
                "to a random character or kept.",
            ),
        ],
    )
