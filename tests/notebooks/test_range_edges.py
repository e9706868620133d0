"""Every value a declared range allows must run (issue 27). The low edges of every notebook run in
the student edition's test (`tests/notebooks/test_student.py`, every range at its low edge at
once); here notebooks 01 and 02 also run at the high edges of their cheap parameters (the others'
high edges are full-size runs, minutes each: `make results-full` runs the largest profiles). Edges
are read from each notebook's `parameters` cell, so a range edited there is tested as written."""

from __future__ import annotations

import pytest

from tests.notebooks.test_papermill import edges, execute

EXPENSIVE_HIGH = {  # high edges that would take minutes: left at their defaults
    "01_loss_functions": frozenset({"num_random", "num_points"}),
    "02_gradient_descent_by_hand": frozenset(
        {"num_epochs", "num_samples", "batch_size", "lr", "learning_rates", "adam_lr"}
    ),
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE_HIGH))
def test_notebooks_run_at_the_high_edges_of_their_declared_ranges(name, tmp_path):
    values = edges(name, "high", EXPENSIVE_HIGH[name])
    nb = execute(name, values, tmp_path, cwd=tmp_path)
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
