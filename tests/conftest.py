"""Shared fixtures, and each test's group (a marker given by its folder):

    tests/unit/        unit        the packages and the repository: seconds, no kernel, no browser
    tests/notebooks/   notebooks   papermill, the `course` command, the student edition
    notebooks/*.ipynb  notebooks   nbval: every notebook runs and its stored outputs still match
    tests/classroom/   classroom   slides, a real browser, JupyterLab

`make test` runs every group; `make test-unit` only `unit`. TensorFlow is the oracle for the
hand-written maths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.pretraining import PretrainConfig  # no TensorFlow at import: the settings only

# One thread per process for TensorFlow and NumPy's libraries: the suite runs a worker per core and
# one more, each starting kernels; their own thread pools would only fight over the same cores (the
# whole suite took less CPU so, measured). Set before anything imports TensorFlow; the workers,
# their kernels and the `course` processes they start inherit it. A value already set wins.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS"):  # fmt: skip
    os.environ.setdefault(_name, "1")

TESTS = Path(__file__).resolve().parent
# Part IV's tiny pretraining settings and text (tests/unit/test_pretraining.py, tests/notebooks/test_studies.py)
TINY = PretrainConfig(d_model=8, num_heads=2, d_ff=16, num_layers=1, seq_len=16, vocab_size=40, batch_size=4,
                      num_steps=2)  # fmt: skip
TEXTS = ["今天天气很好，我们去公园散步。", "这本书写得不错，值得一读。", "服务态度太差了，不会再来。"] * 4
GROUPS = {"unit": "unit", "notebooks": "notebooks", "classroom": "classroom"}


def group_of(path: Path) -> str:
    """The marker of the test at `path`: its folder under tests/, or `notebooks` for nbval."""
    if path.suffix == ".ipynb":
        return "notebooks"
    relative = path.resolve().relative_to(TESTS)
    return GROUPS[relative.parts[0]]


# Tests that each execute one whole notebook: their modules are the longest work units.
WHOLE_NOTEBOOK_RUNS = ("test_student_edition_runs_with_other_parameters", "test_bad_parameters_fail_fast")


def start_order(item: pytest.Item) -> tuple[int, int]:
    """Longest work first, so that the workers finish together. Under `--dist loadscope` a
    work unit is a module, or a notebook for nbval (its cells run in order in one kernel), taken in
    the order the units first appear: the modules that run whole notebooks, then nbval's notebooks,
    later ones (larger) first, then the end-to-end tests, the unit tests last. A stable sort: a
    notebook's cells keep their order."""
    path = Path(str(item.path))
    if (getattr(item, "originalname", None) or item.name).startswith(WHOLE_NOTEBOOK_RUNS):
        return (0, 0)
    if path.suffix == ".ipynb":
        return (1, -int(path.name[:2]))
    return ({"notebooks": 2, "classroom": 3}.get(group_of(path), 4), 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(group_of(Path(str(item.path))))
    items.sort(key=start_order)


@pytest.fixture(scope="session")
def tf():
    from helpers.tf_quiet import import_tensorflow

    return import_tensorflow(quiet_retracing=True)  # Part IV's tests build many small models


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras


@pytest.fixture(scope="session")
def checkpoints(keras, tmp_path_factory):
    """Part IV's three objectives pretrained for TINY's two updates on TEXTS: (folder, models)."""
    from helpers import pretraining
    from helpers.transformer import char_vocab

    folder = tmp_path_factory.mktemp("pretrained")
    vocab = char_vocab(TEXTS, TINY.vocab_size)
    models, curves, seconds = {}, {}, {}
    for objective in pretraining.OBJECTIVES:
        models[objective], curves[objective], seconds[objective] = pretraining.pretrain(
            objective, TEXTS, vocab, TINY, report=lambda line: None
        )
    text = pretraining.PretrainingText(TEXTS, {"texts kept": len(TEXTS)})
    pretraining.write_checkpoints(models, curves, seconds, vocab, TINY, text, "test", folder)
    return folder, models
