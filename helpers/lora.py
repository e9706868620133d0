"""Parameter-efficient fine-tuning (参数高效微调) by hand: LoRA, a bottleneck adapter and BitFit,
in NumPy and as small Keras layers, and what each costs in memory. Taught in notebook 12.

Row-vector convention, as Keras's `Dense` (y = x W + b, W of shape d_in × d_out). LoRA (Hu et al.
2021) keeps the pretrained W frozen and learns a low-rank change beside it:

    y = x W + b + (α/r) · (x A) B,     A: d_in × r,  B: r × d_out,  B = 0 at the start,

so the model starts exactly at the pretrained function, and the update ΔW = (α/r) A B has rank
at most r. (The paper writes h = W₀x + B A x for column vectors; its A is our Aᵀ.) Keras 3 has the
same thing built in: `Dense(..., lora_rank=r, lora_alpha=α)` or `layer.enable_lora(r)`, whose
`lora_kernel_a`, `lora_kernel_b` are our A, B. `tests/unit/test_lora.py` checks every function
here against GradientTape and central finite differences, and `helpers.peft` (the Keras layers and
the methods on a whole model) against Keras's own LoRA. NumPy only: no TensorFlow is imported.
"""

from __future__ import annotations

import numpy as np

ADAM_STATES = 2  # Adam keeps two numbers per trained parameter: the first and second moments
BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


# ---------------------------------------------------------------------------- NumPy, by hand


def lora_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """y = x W + b + (α/r)·(x A) B, r = A.shape[1]. x: (N, d_in) → y: (N, d_out).

    Computed as (x A) B, never x (A B): N·r·(d_in + d_out) multiplications, not N·d_in·d_out."""
    r = A.shape[1]
    return x @ W + b + (alpha / r) * ((x @ A) @ B)


def lora_backward(
    x: np.ndarray, W: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float, G: np.ndarray
) -> dict[str, np.ndarray]:
    """The reverse pass of `lora_forward`, given G = ∂L/∂y (N, d_out), with s = α/r and u = x A:

        ∂L/∂B = s · uᵀ G          (r × d_out)
        ∂L/∂A = s · xᵀ (G Bᵀ)     (d_in × r)     — zero while B = 0: at the first update only B moves
        ∂L/∂b = Σ_n G_n           (d_out)
        ∂L/∂x = G (W + s A B)ᵀ    (N × d_in)

    W is frozen: its gradient xᵀG is never computed and no optimizer state is kept for it."""
    s = alpha / A.shape[1]
    u = x @ A
    return {"A": s * x.T @ (G @ B.T), "B": s * u.T @ G, "b": G.sum(axis=0), "x": G @ (W + s * A @ B).T}


def lora_merge(W: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """W' = W + (α/r)·A B: the same layer with the update folded in, so inference costs nothing extra."""
    return W + (alpha / A.shape[1]) * (A @ B)


def lora_param_count(d_in: int, d_out: int, rank: int) -> int:
    """Trained numbers of LoRA on one d_in × d_out matrix: A has d_in·r, B has r·d_out: r·(d_in + d_out)."""
    return rank * (d_in + d_out)


def adapter_forward(h: np.ndarray, D: np.ndarray, c: np.ndarray, U: np.ndarray, e: np.ndarray) -> np.ndarray:
    """A bottleneck adapter (Houlsby et al. 2019): h + relu(h D + c) U + e, D: d × m, U: m × d, m ≪ d.
    With U = 0 and e = 0 at the start it is the identity, like LoRA's B = 0."""
    return h + np.maximum(h @ D + c, 0.0) @ U + e


def memory_bytes(num_params: int, num_trained: int, dtype: str = "float32", states: int = ADAM_STATES) -> dict:
    """Bytes to fine-tune: weights (all of them), gradients and optimizer states (the trained ones
    only, `states` per parameter for Adam), in `dtype` (states kept in the same precision here)."""
    size = BYTES[dtype]
    weights, gradients, optimizer = num_params * size, num_trained * size, states * num_trained * size
    return {
        "weights": weights,
        "gradients": gradients,
        "optimizer states": optimizer,
        "total": weights + gradients + optimizer,
    }


def energy_share(singular_values: np.ndarray, rank: int) -> float:
    """Σ_{i≤r} σ_i² / Σ_i σ_i²: the share of ‖ΔW‖²_F the best rank-r approximation keeps (Eckart–Young)."""
    s2 = np.sort(np.asarray(singular_values, dtype=float))[::-1] ** 2
    return float(s2[:rank].sum() / s2.sum()) if s2.sum() > 0 else 1.0
