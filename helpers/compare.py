"""`cmp`: compare a hand computation with a reference, print the verdict, and assert it.

In the spirit of the `cmp` helper of Karpathy's backprop lesson, but it fails loudly: a notebook
whose hand-written gradient drifts from TensorFlow stops with an AssertionError. Used in every
notebook's "check against the framework" section.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def max_abs_diff(a: ArrayLike, b: ArrayLike) -> float:
    """max_i |a_i - b_i| (0.0 for empty arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def cmp(name: str, ours: ArrayLike, reference: ArrayLike, *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Print `name | exact | allclose | max diff` and assert |ours - ref| <= atol + rtol·|ref|.

    Shapes must match exactly (no broadcasting hides a transposed gradient). Returns nothing,
    so that a notebook cell ending in `cmp(...)` shows only the printed line.
    """
    ours_arr = np.asarray(ours, dtype=np.float64)
    ref_arr = np.asarray(reference, dtype=np.float64)
    if ours_arr.shape != ref_arr.shape:
        raise AssertionError(f"{name}: shape {ours_arr.shape} differs from the reference's {ref_arr.shape}")
    exact = bool(np.array_equal(ours_arr, ref_arr))
    close = bool(np.allclose(ours_arr, ref_arr, atol=atol, rtol=rtol))
    diff = max_abs_diff(ours_arr, ref_arr)
    print(
        f"{name:<32} exact: {exact!s:<5} | allclose(atol={atol:g}, rtol={rtol:g}): {close!s:<5} | max diff: {diff:.1e}"
    )
    if not close:
        raise AssertionError(
            f"{name}: max |ours - reference| = {diff:.3e} exceeds atol={atol:g} + rtol={rtol:g}·|reference|"
        )
