"""Record named results in a notebook's outputs (`course.runner.read_records` reads them back).

papermill's old `pm.record` is gone (and scrapbook is unmaintained). A recorded result is a
display output of type `application/json` whose metadata names it::

    record("final_loss", 0.3003)          # in a notebook cell
    read_records("build/02_....ipynb")    # later, in `course`: {"final_loss": 0.3003, ...}

The runner's tables, the sweep CSV and the course's results files all read results this way.
JupyterLab shows a recorded value as a small JSON tree. nbval compares JSON outputs like any
other: record a training result (which varies between machines) in a cell marked
`# NBVAL_IGNORE_OUTPUT`; floats are stored rounded to 10 significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

RECORD_KEY = "record"


SIGNIFICANT_DIGITS = 10  # floats are stored rounded, so that last-bit differences between CPUs vanish


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, tuples and nested containers into plain JSON values; floats
    are rounded to SIGNIFICANT_DIGITS significant digits."""
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf/nan
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}: use numbers, strings, lists or dicts")


def record(name: str, value: Any) -> None:
    """Attach `value` to the notebook's outputs under `name` (numbers, strings, small tables)."""
    from IPython.display import display

    display({"application/json": {name: to_jsonable(value)}}, raw=True, metadata={RECORD_KEY: name})
