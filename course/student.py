"""Build the student edition: the course notebooks without their solutions and outputs.

    course student [--out DIR]        # make student → build/student/

From the same notebooks the tests run, this writes copies in which
- every cell tagged `solution` is gone (the answer cells tagged `exercise`, with their `...`,
  stay, and so do the checkers, which then say "not answered yet");
- every output and execution count is cleared, so no result of a solution survives either;
- relative links that pointed out of `notebooks/` (the README, the data) are rewritten to work
  from the new folder; files the notebooks link to inside `notebooks/` (the glossary) are copied;
- a line under the title says what the copy is and where its source lives.

`tests/notebooks/test_student.py` checks that no solution text leaks and that the copies run.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat

from course import BUILD_DIR
from course.notebooks import dumps
from helpers.paths import NOTEBOOKS_DIR, notebook_paths

SOLUTION_TAG = "solution"
DEFAULT_OUT = BUILD_DIR / "student"
COMPANION_FILES = ("glossary.md",)  # files the notebooks link to
LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
BANNER = (
    "> **Student edition** — the solutions are left out and no cell has been run. Write your "
    "answers where the `...` are; the check under each answer tells you whether it is right. "
    "Made by `make student` from `notebooks/{name}`: edit that file, not this copy."
)


def relink(markdown: str, out_dir: Path) -> str:
    """Rewrite relative links of a markdown cell so that they resolve from `out_dir`."""

    def fix(match: re.Match) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("mailto:", "/")):
            return match.group(0)
        resolved = (NOTEBOOKS_DIR / target).resolve()
        if resolved.parent == NOTEBOOKS_DIR.resolve():
            return match.group(0)  # a sibling: copied next to the student notebooks
        return match.group(1) + Path(os.path.relpath(resolved, out_dir.resolve())).as_posix() + match.group(3)

    return LINK.sub(fix, markdown)


def student_copy(nb: nbformat.NotebookNode, name: str, out_dir: Path) -> nbformat.NotebookNode:
    """The student edition of one notebook (a new object; `nb` is not changed)."""
    copy = nbformat.from_dict(nb)
    cells = []
    for cell in copy.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        cell.metadata.pop("jupyter", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            cell.source = relink(cell.source, out_dir)
        cells.append(cell)
    banner = nbformat.v4.new_markdown_cell(BANNER.format(name=name))
    banner["id"] = "student-edition"
    copy.cells = cells[:1] + [banner] + cells[1:]
    return copy


def build(out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write the student edition of every course notebook into `out_dir`; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        target = out_dir / path.name
        target.write_text(dumps(student_copy(nb, path.name, out_dir)), encoding="utf-8")
        written.append(target)
    for name in COMPANION_FILES:
        if (NOTEBOOKS_DIR / name).exists():
            shutil.copy2(NOTEBOOKS_DIR / name, out_dir / name)
    return written
