"""Small display utilities for notebooks and the command line."""

from __future__ import annotations

import inspect
import numbers
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any


def show_source(obj: Callable[..., Any] | type) -> None:
    """Display the source of a helper as a highlighted code block, so that a notebook teaches
    the very code it runs instead of a copy that could drift."""
    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```"))


def shorten(value: Any, width: int = 60) -> str:
    """`value` on one line of at most `width` characters (an ellipsis marks a cut): floats to 4
    significant digits, arrays by NumPy's summary, anything else by its repr."""
    import numpy as np

    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=8)
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def std(values: Sequence[float]) -> float:
    """The course's one "std" (first used in notebook 03): the sample standard deviation of
    repeated runs, s = √(Σᵢ (xᵢ − x̄)² / (n − 1)), the spread a 95 % t-interval is built from.
    NumPy's `np.std` divides by n instead (the population formula); for 3 seeds that makes it
    √(2/3) ≈ 0.82 times as large. One value has no spread: 0."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """The mean of repeated runs and its Student-t interval (taught in notebook 07, exercise 1):

        x̄ ± t_{n−1, (1+level)/2} · s / √n,   s = `std`

    Returned as (mean, low, high). With n runs the interval has n − 1 degrees of freedom: for 3
    seeds t is 4.30, so it is wide. Paired differences (run a − run b of the same seed or test item)
    go in as the differences. Needs two values at least."""
    import numpy as np
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if values.size < 2:
        raise ValueError(f"an interval needs at least two values, got {values.size}")
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * std(values) / np.sqrt(values.size)
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def interval_side(values: Sequence[float], level: float = 0.95) -> str:
    """Where the `t_interval` of paired differences lies, as the course words a verdict (notebooks
    07 and 08): "above 0" if low > 0, "below 0" if high < 0, otherwise "contains 0". A positive
    mean whose interval reaches below 0 is "contains 0": the runs cannot tell the sign."""
    _, low, high = t_interval(values, level)
    return "above 0" if low > 0 else "below 0" if high < 0 else "contains 0"


def mean_std(values: Sequence[float], fmt: str = ".4f") -> str:
    """`mean ± std` of repeated runs, e.g. `0.7618 ± 0.0085`, with `std` the sample standard
    deviation above."""
    import numpy as np

    return f"{np.mean(values):{fmt}} ± {std(values):{fmt}}"


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or notebook: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], floatfmt: str = ".4f") -> str:
    """A plain-text table: numbers right-aligned, non-integer numbers formatted with `floatfmt`,
    Chinese text aligned by its display width."""

    def is_number(v: Any) -> bool:
        return isinstance(v, numbers.Number) and not isinstance(v, bool)

    def cell(v: Any) -> str:
        if is_number(v) and not isinstance(v, numbers.Integral):
            return format(v, floatfmt)
        return str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in text]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        padded = [
            " " * (w - display_width(v)) + v if num else v + " " * (w - display_width(v))
            for v, w, num in zip(values, widths, numeric)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in text)])
