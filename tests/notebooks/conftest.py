"""What the runner and cluster tests share: a one-second notebook, and the process table."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from course.runner import process_tree


@pytest.fixture
def tiny(tmp_path):
    """A one-second notebook: fails when x == 2, records x squared, sleeps `nap` seconds first."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(
        "x = 1  # int in [0, 100]: a number\nnap = 0.0  # float in [0, 100]: seconds to sleep"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import time\nfrom helpers.record import record\ntime.sleep(nap)\n"
            "assert x != 2, 'two is not allowed'\nrecord('square', x * x)"
        ),
    ]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def private_tmp():
    """Environment for a `course` process whose temporary folder is a fresh one of its own (where
    its kernels keep their sockets), so a test can see exactly what it leaves there: (env, folder).
    Made under /tmp with a short name: a socket's path must stay under about 100 characters."""
    folder = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    yield {**os.environ, "TMPDIR": str(folder)}, folder
    shutil.rmtree(folder, ignore_errors=True)


def kernel_folders(folder: Path) -> list[str]:
    """The kernels' socket folders (course.runner.KERNEL_PREFIX) left in `folder`."""
    return sorted(p.name for p in folder.glob("course-kernel-*"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, grandchildren: workers and kernels), from /proc."""
    return process_tree(pid)
