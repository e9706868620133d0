"""The prose follows the computations: every number of three or more significant digits in a
notebook's markdown is shown by the page's outputs (or a results file the cell names, or is
declared with where it comes from), and every reference to a section, an exercise or a section of
the source points at something that exists. Both checks are shown failing on planted defects."""

from __future__ import annotations

import json
from decimal import Decimal

import nbformat
import pytest

from course.prose import broken_references, prose_numbers, unsourced_numbers
from helpers.paths import notebook_paths

NOTEBOOKS = notebook_paths()
ALL = {p.name[:2]: json.loads(p.read_text(encoding="utf-8")) for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_computed_on_the_page(path):
    problems = unsourced_numbers(path)
    assert not problems, "numbers no cell computes:\n" + "\n".join(f"  {p}" for p in problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_reference_points_at_something_that_exists(path):
    problems = broken_references(path, ALL)
    assert not problems, "references to nothing:\n" + "\n".join(f"  {p}" for p in problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_declared_numbers_say_where_they_come_from(path):
    declared = ALL[path.name[:2]].get("metadata", {}).get("course", {}).get("declared_numbers", {})
    for number, reason in declared.items():
        Decimal(number)  # a number
        assert len(reason) > 10, f"{number}: say where it comes from"


def notebook(tmp_path, markdown: list[str], outputs: list[str], metadata: dict | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    for text in outputs:
        cell = nbformat.v4.new_code_cell("print(...)")
        cell.outputs = [nbformat.v4.new_output("stream", text=text)]
        nb.cells.append(cell)
    nb.metadata.update(metadata or {})
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_planted_unsourced_number_is_caught(tmp_path):
    path = notebook(tmp_path, ["The model reaches 0.987 accuracy, and 0.9750 on the rest."], ["accuracy 0.5, 0.97503"])
    found = [p.number for p in unsourced_numbers(path)]
    assert found == ["0.987"], found  # 0.9750 is the output 0.97503 at the digits written


def test_percentages_rounding_and_declared_numbers(tmp_path):
    path = notebook(
        tmp_path,
        ["It is 97.5 % right, with 13,884 reviews; the source says 0.928 and 0.25; `ppf(0.975)` is code."],
        ["0.97503\n13884"],
        {"course": {"declared_numbers": {"0.928": "§5.2, the claimed output"}}},
    )
    assert unsourced_numbers(path) == []
    plain = notebook(tmp_path, ["the source says 0.928"], ["0.5"])
    assert [p.number for p in unsourced_numbers(plain)] == ["0.928"]


def test_huge_numbers_on_the_page_do_not_break_the_check(tmp_path):
    """An output like e^709 = 8.218e+307 cannot be rounded to the prose's digits; it is skipped."""
    path = notebook(
        tmp_path, ["It overflows a little above 709, and 0.123 is unsourced."], ["e^709 = 8.218e+307, e^710 = inf"]
    )
    assert [p.number for p in unsourced_numbers(path)] == ["0.123"]


def test_significant_digits():
    digits = {n.text: n.significant for n in prose_numbers("100, 0.025, 2000, 0.0821, 128, 13,884, 4.0")}
    assert digits == {"100": 1, "0.025": 2, "2000": 1, "0.0821": 3, "128": 3, "13,884": 5, "4.0": 2}


def test_planted_broken_references_are_caught(tmp_path):
    path = notebook(
        tmp_path,
        ["## 1 · Start", "### Exercise 1 · One", "See section 1 and section 9, exercise 4, §4.3 and §5.7."],
        [],
    )
    found = sorted(p.number for p in broken_references(path))
    assert found == ["exercise 4", "section 9", "§5.7"], found


def test_every_result_in_the_readme_is_printed_by_a_notebook():
    """The README's verdicts are read off the pages: a difference ("+4.5") or a score ("0.626") no
    notebook prints is a number left behind by a rerun, or typed."""
    from course.prose import readme_results_not_shown
    from helpers.paths import REPO_ROOT

    missing = readme_results_not_shown((REPO_ROOT / "README.md").read_text(encoding="utf-8"), list(ALL.values()))
    assert not missing, f"README numbers no notebook prints: {missing}"


def test_a_planted_readme_result_is_caught():
    from course.prose import readme_results_not_shown

    page = {"cells": [{"cell_type": "code", "source": "", "outputs": [{"text": "ELMo − GPT: +4.5 (−2.1 to 0.626)"}]}]}
    readme = "ELMo +4.5 (−2.1 to 0.626), `+9.9 in code` and [a link](x+7.7.md)"
    assert readme_results_not_shown(readme, [page]) == []
    assert readme_results_not_shown("gains +4.6, +2.1, 0.627 and 0.62", [page]) == ["+4.6", "+2.1", "0.627"]
