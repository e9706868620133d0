"""Shared fixtures, and each test's group (a marker given by its folder):

    tests/unit/        unit        the packages and the repository: seconds, no kernel, no browser
    tests/notebooks/   notebooks   papermill, the `course` command, the student edition
    notebooks/*.ipynb  notebooks   nbval: every notebook runs and its stored outputs still match
    tests/classroom/   classroom   slides, a real browser, JupyterLab

`make test` runs every group; `make test-unit` only `unit`. TensorFlow is the oracle for the
hand-written maths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
GROUPS = {"unit": "unit", "notebooks": "notebooks", "classroom": "classroom"}


def group_of(path: Path) -> str:
    """The marker of the test at `path`: its folder under tests/, or `notebooks` for nbval."""
    if path.suffix == ".ipynb":
        return "notebooks"
    relative = path.resolve().relative_to(TESTS)
    return GROUPS[relative.parts[0]]


# Tests that each execute one whole notebook and share nothing but a cheap module fixture: the
# two workers may take them one by one. Everything else stays with its module (nbval: with its
# notebook, whose cells must run in order in one kernel).
SPREAD = {"test_student_edition_runs_with_other_parameters_and_says_not_answered", "test_bad_parameters_fail_fast"}


def work_unit(item: pytest.Item) -> str | None:
    """The xdist group of a test (`--dist loadgroup`): its notebook or module, or None to spread."""
    function = getattr(item, "originalname", None) or item.name
    return None if any(function.startswith(name) for name in SPREAD) else Path(str(item.path)).name


def start_order(item: pytest.Item) -> tuple[int, int]:
    """Longest work first, so that the two workers finish together: one notebook per test (the
    student edition under other parameters), then nbval's notebooks, later notebooks (larger)
    first; then the end-to-end tests; the unit tests last. Stable: a notebook's cells keep their order."""
    path, unit = Path(str(item.path)), work_unit(item)
    number = -int(path.name[:2]) if path.suffix == ".ipynb" else 0
    if unit is None:
        number = -int(item.name.split("[", 1)[1][:2]) if "[" in item.name else 0
        return (0, number)
    return ({"notebooks": 1, "classroom": 2}.get(group_of(path), 3 if group_of(path) != "unit" else 4), number)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(group_of(Path(str(item.path))))
        if (unit := work_unit(item)) is not None:
            item.add_marker(pytest.mark.xdist_group(unit))
    items.sort(key=start_order)


@pytest.fixture(scope="session")
def tf():
    from helpers.tf_quiet import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras
