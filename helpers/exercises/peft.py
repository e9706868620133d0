"""Checkers for the exercises of notebook 12 · parameter-efficient fine-tuning."""

from __future__ import annotations

from typing import Any

from helpers.exercises.core import Mistake, Verdict, check_function, input_rng
from helpers.lora import lora_backward, lora_forward, lora_merge, lora_param_count


def check_lora_count(fn: Any) -> Verdict:
    """Exercise 12.1: LoRA trains r·(d_in + d_out) numbers on a d_in × d_out matrix."""
    rng = input_rng()
    cases = [(128, 128, 4), (128, 256, 1), (4096, 11008, 8), (int(rng.integers(3, 50)), int(rng.integers(51, 90)), 3)]
    return check_function(
        fn,
        cases,
        lora_param_count,
        what="LoRA's parameter count",
        mistakes=[
            Mistake(lambda i, o, r: i * o, "that is W's own size: LoRA keeps W frozen and trains A and B."),
            Mistake(lambda i, o, r: i * o + r * (i + o), "W is frozen: count only A (d_in × r) and B (r × d_out)."),
            Mistake(lambda i, o, r: r * (i + o) + o, "leave the bias out: the question asks for A and B only."),
            Mistake(lambda i, o, r: i * r * o, "A and B are two matrices: add their sizes, d_in·r + r·d_out."),
            Mistake(lambda i, o, r: 2 * r * i, "B has r × d_out numbers, not r × d_in: the matrix need not be square."),
            Mistake(lambda i, o, r: r * r, "A is d_in × r and B is r × d_out: neither is r × r."),
        ],
    )


def _weights(rng, n, d_in, d_out, r):
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    return x, W, b, rng.normal(size=(d_in, r)), rng.normal(size=(r, d_out))


def check_lora_forward(fn: Any) -> Verdict:
    """Exercise 12.2: y = x W + b + (α/r)·(x A) B, r = A.shape[1]."""
    rng = input_rng()
    shapes = ((4, 6, 5, 2, 8.0), (3, 5, 7, 3, 1.0), (2, 4, 4, 1, 2.0), (5, 8, 3, 4, float(rng.uniform(0.5, 16))))
    cases = [(*_weights(rng, n, i, o, r), alpha) for n, i, o, r, alpha in shapes]  # α ≠ r in every case
    return check_function(
        fn,
        cases,
        lora_forward,
        what="the LoRA forward pass",
        mistakes=[
            Mistake(lambda x, W, b, A, B, a: x @ W + b + (x @ A) @ B, "scale the low-rank term by α/r."),
            Mistake(lambda x, W, b, A, B, a: x @ W + b + a * (x @ A) @ B, "the scale is α/r, not α."),
            Mistake(lambda x, W, b, A, B, a: x @ W + b + (A.shape[1] / a) * (x @ A) @ B, "the scale is α/r, not r/α."),
            Mistake(lambda x, W, b, A, B, a: x @ W + (a / A.shape[1]) * (x @ A) @ B, "add the bias b."),
            Mistake(lambda x, W, b, A, B, a: x @ W + b, "add the low-rank term (α/r)·(x A) B."),
            Mistake(
                lambda x, W, b, A, B, a: (a / A.shape[1]) * (x @ A) @ B + b,
                "keep the frozen term x W: LoRA adds to the pretrained layer, it does not replace it.",
            ),
            Mistake(
                lambda x, W, b, A, B, a: x @ W + b + (a / B.shape[1]) * (x @ A) @ B,
                "r is the rank, A's number of columns (B's number of rows), not d_out.",
            ),
        ],
    )


def _switch(W_merged, A1, B1, A2, B2, alpha, *, remove=1.0, scale=True):
    """W' − s·A₁B₁ + s·A₂B₂ with s = α/r: task 1's change taken out of a merged kernel, task 2's put in."""
    s1 = alpha / A1.shape[1] if scale else 1.0
    s2 = alpha / A2.shape[1] if scale else 1.0
    return W_merged - remove * s1 * (A1 @ B1) + s2 * (A2 @ B2)


def check_lora_switch(fn: Any) -> Verdict:
    """Exercise 12.3: a kernel with task 1's LoRA merged in, W' = W + (α/r₁)·A₁B₁, switched to task 2
    in place: W' − (α/r₁)·A₁B₁ + (α/r₂)·A₂B₂ (the ranks may differ)."""
    rng = input_rng()
    cases = []
    for d_in, d_out, r1, r2, alpha in ((6, 5, 2, 3, 8.0), (4, 4, 1, 1, 1.0), (5, 9, 4, 2, float(rng.uniform(0.5, 16)))):
        _, W, _, A1, B1 = _weights(rng, 1, d_in, d_out, r1)
        A2, B2 = rng.normal(size=(d_in, r2)), rng.normal(size=(r2, d_out))
        cases.append((lora_merge(W, A1, B1, alpha), A1, B1, A2, B2, alpha))
    return check_function(
        fn,
        cases,
        _switch,
        what="the kernel switched to task 2",
        mistakes=[
            Mistake(lambda *a: _switch(*a, remove=0.0), "your kernel still holds task 1's change."),
            Mistake(lambda *a: _switch(*a, remove=-1.0), "your kernel adds task 1's change a second time."),
            Mistake(lambda *a: _switch(*a, scale=False), "your changes are not scaled by α/r."),
            Mistake(
                lambda W, A1, B1, A2, B2, a: W - (a / A2.shape[1]) * (A1 @ B1) + (a / A2.shape[1]) * (A2 @ B2),
                "your kernel takes task 1's change out with task 2's rank.",
            ),
        ],
    )


def check_lora_grads(fn: Any) -> Verdict:
    """Exercise 12.4: given G = ∂L/∂y, (∂L/∂A, ∂L/∂B) = (s·xᵀ(G Bᵀ), s·(x A)ᵀ G), s = α/r."""
    rng = input_rng()
    cases = []
    for n, d_in, d_out, r, alpha in ((4, 6, 5, 2, 8.0), (3, 5, 7, 3, 1.0), (5, 4, 4, 1, float(rng.uniform(0.5, 16)))):
        x, W, _, A, B = _weights(rng, n, d_in, d_out, r)
        cases.append((x, W, A, B, alpha, rng.normal(size=(n, d_out))))

    def grads(x, W, A, B, a, G, scale=None, sign=1.0, per_row=False):
        s = a / A.shape[1] if scale is None else scale(a, A.shape[1])
        dA, dB = s * x.T @ (G @ B.T), s * (x @ A).T @ G
        k = sign / (len(x) if per_row else 1)
        return k * dA, k * dB

    return check_function(
        fn,
        cases,
        lambda x, W, A, B, a, G: tuple(lora_backward(x, W, A, B, a, G)[k] for k in ("A", "B")),
        what="LoRA's gradients (∂L/∂A, ∂L/∂B)",
        mistakes=[
            Mistake(
                lambda *c: grads(*c, scale=lambda a, r: 1.0), "both gradients carry the scale α/r of the forward pass."
            ),
            Mistake(lambda *c: grads(*c, scale=lambda a, r: a), "the scale is α/r, not α."),
            Mistake(lambda *c: grads(*c, sign=-1.0), "these are gradients, not update steps: no minus sign."),
            Mistake(
                lambda *c: grads(*c, per_row=True),
                "G is already ∂L/∂y for the whole batch: sum over the rows, do not average again.",
            ),
        ],
    )
