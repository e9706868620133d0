"""Generated cells: a previous/next bar and a course map in every notebook, the one-line
validation cell after `parameters`, and the paragraph every notebook's exercises begin with.

Written by `course tidy` (checked by `course tidy --check`).
Each notebook gets two markdown cells tagged `course-nav`: one right after its title cell (the
course map, with this notebook in bold, and previous/next links) and one at the very end
(previous/next). They are made from the notebooks' own titles, so links never drift when a
notebook is added or renamed. Markdown only: stored outputs and execution counts are untouched.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course.notebooks import dumps, tidy
from helpers.paths import notebook_paths

TAG = "course-nav"


def title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source.splitlines()[0]
    return first.lstrip("# ").strip()


def nav_cells(paths: list[Path], k: int) -> tuple[str, str]:
    titles = [title(p) for p in paths]
    prev_link = f"[← {titles[k - 1]}]({paths[k - 1].name})" if k > 0 else "← (start of the course)"
    next_link = f"[{titles[k + 1]} →]({paths[k + 1].name})" if k + 1 < len(paths) else "(end of the course) →"
    bar = f"{prev_link} · [README](../README.md) · {next_link}"
    course_map = "\n".join(
        f"{i + 1}. " + (f"**{t}** (you are here)" if i == k else f"[{t}]({p.name})")
        for i, (t, p) in enumerate(zip(titles, paths))
    )
    top = f"{bar}\n\n<details><summary>Course map</summary>\n\n{course_map}\n\n</details>"
    return top, bar


def with_nav(nb: nbformat.NotebookNode, top: str, bottom: str) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
    top_cell = nbformat.v4.new_markdown_cell(top, metadata={"slideshow": {"slide_type": "skip"}, "tags": [TAG]})
    top_cell["id"] = "course-nav-top"
    bottom_cell = nbformat.v4.new_markdown_cell(bottom, metadata={"slideshow": {"slide_type": "skip"}, "tags": [TAG]})
    bottom_cell["id"] = "course-nav-bottom"
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), 1)
    nb.cells = [*cells[:first_code], top_cell, *cells[first_code:], bottom_cell]  # after the opening
    return nb


EXERCISES_HEADING = "## Exercises"
EXERCISES_INTRO = (
    "{which} check themselves: write your answer where the `...` is, run that cell, then run "
    "the check below it. It answers ✓, or ✗ with a hint for the common mistakes — never the answer. "
    "(How the solutions and the student edition work: [README](../README.md#in-the-classroom-and-on-your-own).)"
)


def with_exercises_intro(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The `## Exercises` cell of every notebook says the same thing, from one definition here."""
    count = sum(c.cell_type == "markdown" and c.source.startswith("### Exercise ") for c in nb.cells)
    which = {1: "The exercise", 2: "Both exercises"}.get(count, f"Exercises 1–{count}")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith(EXERCISES_HEADING):
            cell.source = f"{EXERCISES_HEADING}\n\n{EXERCISES_INTRO.format(which=which)}"
    return nb


def with_validation_cell(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The cell after `parameters` is one line that names its own notebook, so a renumbered or
    renamed notebook still validates against its own specification."""
    for k, cell in enumerate(nb.cells[:-1]):
        if "parameters" in cell.metadata.get("tags", []):
            nb.cells[k + 1].source = f'check_parameters("{stem}", globals())'
            break
    return nb


def update_all(check: bool) -> list[str]:
    """Write the navigation of every notebook; return the names that changed (or would)."""
    paths = notebook_paths()
    stale = []
    for k, path in enumerate(paths):
        text = path.read_text(encoding="utf-8")
        nb = with_exercises_intro(with_validation_cell(nbformat.reads(text, as_version=4), path.stem))
        new = dumps(tidy(with_nav(nb, *nav_cells(paths, k))))
        if new != text:
            stale.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale
