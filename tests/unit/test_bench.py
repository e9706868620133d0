"""`course bench tests` sums pytest's durations by kind of test (course/bench.py)."""

from __future__ import annotations

import pytest

from course.bench import seconds_by_kind

pytestmark = pytest.mark.unit


def test_durations_are_summed_by_the_first_kind_that_matches():
    lines = [
        "12.50s call     notebooks/10_pretraining_then_finetuning.ipynb::Cell 3",
        "2.00s setup    notebooks/10_pretraining_then_finetuning.ipynb::Cell 0",
        "80.00s call     tests/notebooks/test_student.py::test_student_edition_runs_with_other_parameters[10]",
        "1.00s call     tests/notebooks/test_student.py::test_make_clean_keeps_the_learners_folder",
        "30.00s call     tests/notebooks/test_studies.py::test_the_peft_study",
        "20.00s call     tests/classroom/test_site.py::test_every_page",
        "0.50s teardown tests/unit/test_losses.py::test_mse",
        "(3028 durations < 0.005s hidden.  Use -vv to show these durations.)",
        "1405 passed, 317 warnings in 1696.16s (0:28:16)",
    ]
    assert seconds_by_kind(lines) == {
        "the student edition at low edges (papermill)": 80.0,
        "Part IV studies on tiny checkpoints": 30.0,
        "classroom: browser, slides, site, JupyterLab": 20.0,
        "nbval: the notebooks at teaching size": 14.5,
        "runner, sweeps, cluster, CLI, papermill cases": 1.0,
        "unit": 0.5,
    }
    assert list(seconds_by_kind(lines))[0] == "the student edition at low edges (papermill)"  # largest first
