"""Every value a declared range allows must run (issue 27): notebooks 01 and 02 run with every
parameter at the low edge of its range at once (the edges that failed before: 02's `num_epochs`
below 10 and 01's `num_random` 1, now refused by its range), and at the high edge of the cheap ones.
Open bounds are approached from inside (`EPSILON` past the bound). Edges are read from each
notebook's `parameters` cell, so a range edited there is tested as written. 09 runs at its low
edges (about 20 s); the other notebooks ran at their low edges once by hand (see the report)."""

from __future__ import annotations

import math

import pytest

from helpers.params import Param, notebook_spec, validate_values
from tests.notebooks.test_papermill import execute

EPSILON = 1e-3
EXPENSIVE_HIGH = {  # high edges that would take minutes: the low edge of each is run instead
    "01_loss_functions": {"num_random", "num_points"},
    "02_gradient_descent_by_hand": {"num_epochs", "num_samples", "batch_size", "lr", "learning_rates", "adam_lr"},
}


def edge(param: Param, side: str) -> object:
    """The value of `param` at one edge of its range (inside it when that bound is open)."""
    bound, open_ = (param.low, param.low_open) if side == "low" else (param.high, param.high_open)
    if bound is None or math.isinf(bound):
        return param.default
    step = EPSILON if "float" in param.type else 1
    value = bound + (step if side == "low" else -step) if open_ else bound
    value = float(value) if "float" in param.type else int(value)
    return [value] if param.type.startswith("list[") else value


def edges(name: str, side: str) -> dict[str, object]:
    spec = notebook_spec(name)
    skip = EXPENSIVE_HIGH[name] if side == "high" else set()
    values = {p.name: edge(p, side) for p in spec.values() if p.choices is None and p.name not in skip}
    validate_values(spec, values)  # every edge is allowed by its own range
    return values


EDGES = [(name, side) for name in sorted(EXPENSIVE_HIGH) for side in ("low", "high")]
EDGES += [("09_attention_one_way_and_two_ways", "low")]  # its mask_rate once allowed 0.001: nothing hidden


@pytest.mark.parametrize("name, side", EDGES)
def test_notebooks_run_at_the_edges_of_their_declared_ranges(name, side, tmp_path):
    values = edges(name, side)
    nb = execute(name, values, tmp_path, cwd=tmp_path)
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
