"""helpers.record: values recorded in a notebook are read back from the executed copy."""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from course.runner import read_records
from helpers.record import to_jsonable


def test_to_jsonable():
    assert to_jsonable({"a": np.float32(0.5), "b": (1, np.int64(2)), "c": np.arange(3)}) == {
        "a": 0.5,
        "b": [1, 2],
        "c": [0, 1, 2],
    }
    assert to_jsonable(math.inf) == "inf"
    assert to_jsonable(0.1 + 0.2) == 0.3 and to_jsonable(np.float64(1 / 3)) == 0.3333333333
    with pytest.raises(TypeError, match="cannot record a object"):
        to_jsonable(object())


def test_record_round_trip(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nfrom helpers.record import record\n"
            "record('loss', np.float64(0.25))\nrecord('table', [{'lr': 0.1, 'ok': True}])\nrecord('loss', 0.125)"
        )
    ]
    NotebookClient(nb, kernel_name="python3").execute()
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    assert read_records(path) == {"loss": 0.125, "table": [{"lr": 0.1, "ok": True}]}  # a later record wins


def test_course_notebooks_record_their_key_results():
    from helpers.paths import notebook_path

    records = read_records(notebook_path("01"))
    assert records["mse_example"] == pytest.approx(0.025)
    assert records["bce_example"] == pytest.approx(0.1643, abs=1e-4)
