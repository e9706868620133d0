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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(group_of(Path(str(item.path))))


@pytest.fixture(scope="session")
def tf():
    from helpers.tf_quiet import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras
