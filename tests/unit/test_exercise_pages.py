"""No exercise's answer is printed on the page above it (issue 23 §3): the lines of each solution
cell that carry its computation must not already stand, as code or as a displayed helper's source,
in the lesson above `## Exercises`. Short or generic lines (a `def`, a docstring, `return x`) do
not count; a solution that repeats more than a third of its working lines from the page fails.
It catches verbatim repeats only (on the notebooks before issue 23 it flagged 02.1 and 05.1); an
answer shown in other words (other names, a formula in the prose) still needs a reader's eye."""

from __future__ import annotations

import json
import re

import pytest

from helpers.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
MIN_LENGTH = 20  # characters of code (spaces removed) for a line to count as carrying work


def _text(cell: dict) -> str:
    """A cell's source, and for code cells what its outputs display (a helper's shown source)."""
    parts = ["".join(cell["source"])]
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts.append("".join(data.get("text/markdown", "")) + "".join(data.get("text/plain", "")))
        parts.append("".join(output.get("text", "")))
    return "\n".join(parts)


def _working_lines(code: str) -> set[str]:
    lines = set()
    for line in code.splitlines():
        line = re.sub(r"#.*", "", line)  # comments are teaching, not the answer
        squeezed = re.sub(r"\s+", "", line)
        if len(squeezed) < MIN_LENGTH or squeezed.startswith(("def", '"""', "print(", "cmp(", "from", "import")):
            continue
        lines.add(squeezed)
    return lines


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_exercise_answer_is_printed_above_it(name):
    cells = json.loads((NOTEBOOKS_DIR / name).read_text(encoding="utf-8"))["cells"]
    start = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("## Exercises"))
    page = {re.sub(r"\s+", "", line) for c in cells[:start] for line in _text(c).splitlines()}
    solutions = [c for c in cells[start:] if "solution" in c.get("metadata", {}).get("tags", [])]
    assert solutions, f"{name}: no solution cells under ## Exercises"
    for cell in solutions:
        lines = _working_lines("".join(cell["source"]))
        shown = sorted(line for line in lines if line in page)
        assert len(shown) <= len(lines) / 3, f"{name}: a solution's lines already on the page above: {shown}"
