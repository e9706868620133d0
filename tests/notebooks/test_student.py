"""The exercises check themselves, and the student edition (`make student`) hides the solutions
but still runs.

- Every notebook has at least three checked exercises (answer cell, solution cell, check cell),
  and the stored output of every check in the teacher's edition is ✓ (nbval re-runs them, so a
  solution that stops passing its checker fails the suite).
- The student edition has no solution cell, no output, and no line of solution code.
- Its relative links resolve, and it runs to the end under papermill; every check then says
  "not answered yet" instead of failing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from course import student
from helpers.exercises.core import CORRECT, NOT_ANSWERED, NOT_ANSWERED_FUNCTION
from helpers.params import notebook_spec
from helpers.paths import REPO_ROOT, notebook_paths
from tests.notebooks.test_papermill import assert_parameters_applied, low_edges
from tests.unit.test_student_edition import FIRST, answer

NOTEBOOKS = notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def exercise_section(nb) -> list:
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    return nb.cells[start:]


def output_text(cell) -> str:
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    student.build(out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_three_checked_exercises_whose_solutions_pass(path):
    cells = exercise_section(nbformat.read(path, as_version=4))
    answers = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
    assert len(answers) >= 3, "at least three exercises with an answer cell"
    levels = " ".join(c.source for c in cells if c.cell_type == "markdown")
    assert "*(easy)*" in levels and "*(stretch)*" in levels
    for i in answers:
        assert "..." in cells[i].source, "the answer cell leaves `...` for the learner"
        following = cells[i + 1 :]
        assert "solution" in tags(following[0]), "a solution cell follows each answer cell"
        assert following[0].metadata.get("jupyter", {}).get("source_hidden"), "solutions start collapsed"
        check = next(c for c in following if c.cell_type == "code" and not {"solution", "exercise"} & set(tags(c)))
        assert "helpers.exercises import check_" in check.source
        lines = [line for line in output_text(check).splitlines() if line.strip()]
        assert lines and all(line.startswith(CORRECT) for line in lines), lines


def solution_lines(nb) -> set[str]:
    """Lines of solution code that appear nowhere else in the teacher's notebook."""
    elsewhere = "\n".join(c.source for c in nb.cells if "solution" not in tags(c))
    lines = set()
    for cell in nb.cells:
        if "solution" in tags(cell):
            for line in cell.source.splitlines():
                line = line.strip()
                if len(line) >= 12 and not line.startswith(("#", "from ", "import ", '"""')) and line not in elsewhere:
                    lines.add(line)
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_edition_leaks_no_solution(path, edition):
    teacher = nbformat.read(path, as_version=4)
    copy_path = edition / path.name
    text = copy_path.read_text(encoding="utf-8")
    pupil = nbformat.reads(text, as_version=4)
    assert not [c for c in pupil.cells if "solution" in tags(c)]
    assert all(not c.outputs and c.execution_count is None for c in pupil.cells if c.cell_type == "code")
    leaked = [line for line in solution_lines(teacher) if line in text]
    assert not leaked, leaked
    assert CORRECT not in text
    assert pupil.cells[1].get("id") == "student-edition" and "Your answers are kept" in pupil.cells[1].source
    kept = [
        student.relink(c.source, edition) if c.cell_type == "markdown" else c.source
        for c in teacher.cells
        if "solution" not in tags(c)
    ]
    assert [c.source for c in pupil.cells if c.get("id") != "student-edition"] == kept, (
        "apart from the solutions and links, the student edition is the teacher's notebook"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_links_resolve(path, edition):
    pupil = nbformat.read(edition / path.name, as_version=4)
    for cell in pupil.cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)", cell.source):
            if "://" not in target:
                assert (edition / target).resolve().exists(), f"{path.name}: broken link {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_edition_runs_with_other_parameters_and_says_not_answered(path, edition, tmp_path):
    """The student edition runs to the end with other parameters — every range at its low edge
    (`low_edges`) — from another directory; every check then says "not answered yet". One run
    checks the parameters, the edges of their ranges and the student edition together; nbval runs
    the teacher's notebook, solutions included, at the defaults."""
    out, parameters = tmp_path / path.name, low_edges(path.stem)
    pm.execute_notebook(
        str(edition / path.name),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    executed = nbformat.read(out, as_version=4)
    defaults = {name: p.default for name, p in notebook_spec(path.stem).items()}
    assert_parameters_applied(executed, parameters, defaults)
    cells = exercise_section(executed)
    checks = [c for c in cells if c.cell_type == "code" and "helpers.exercises import check_" in c.source]
    assert len(checks) >= 3
    for check in checks:
        text = output_text(check)
        assert text.strip(), "every check says something"
        for line in text.strip().splitlines():
            assert line in (NOT_ANSWERED, NOT_ANSWERED_FUNCTION), line  # a value or a function left `...`


def make(target: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`make TARGET` as a learner types it, into `out` instead of the repository's student/, with
    the installed environment (the set-up stamp is taken as done) and a stand-in for JupyterLab."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "course").exists():
        pytest.skip(f"no `course` command next to {sys.executable} (the package is not installed)")
    args = ["make", "-s", "-o", ".venv/.installed", target, f"BIN={bin_dir}", f"STUDENT_DIR={out}", "JUPYTER=true"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([*args, *extra], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("target", ["student", "lab-student"])
def test_an_answer_survives_each_make_route(target, tmp_path):
    """The README's routes: `make student` and `make lab-student` rebuild the edition; the learner's
    answer is still there afterwards, and the command says it was kept. `make clean` leaves it."""
    out = tmp_path / "student"
    assert make("student", out).returncode == 0
    answer(out / FIRST, "0.025  # my answer")
    rebuilt = make(target, out)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "my answer" in (out / FIRST).read_text(encoding="utf-8")
    assert f"kept your work (not overwritten): {FIRST}" in rebuilt.stdout
    reset = make("student", out, "RESET=01")
    assert reset.returncode == 0 and "my answer" not in (out / FIRST).read_text(encoding="utf-8")
    assert any("my answer" in p.read_text(encoding="utf-8") for p in (out / "backups").iterdir())


def test_make_clean_keeps_the_learners_folder(tmp_path):
    """`make clean` in a checkout (here a stand-in folder) removes build/ and keeps student/, and
    a stopped study's saved starts (build/partial/)."""
    for folder in ("build/slides", "student"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "student" / FIRST).write_text("my answers", encoding="utf-8")
    done = subprocess.run(
        ["make", "-f", str(REPO_ROOT / "Makefile"), "clean"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and "kept: student/" in done.stdout
    assert not (tmp_path / "build").exists()
    assert (tmp_path / "student" / FIRST).read_text(encoding="utf-8") == "my answers"
    partial = tmp_path / "build" / "partial"
    partial.mkdir(parents=True)
    (partial / ".finetune_all.lock").write_text("", encoding="utf-8")  # a finished study's lock: not kept
    done = subprocess.run(
        ["make", "-f", str(REPO_ROOT / "Makefile"), "clean"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and "kept: build/partial/" not in done.stdout and not (tmp_path / "build").exists()
    partial.mkdir(parents=True)  # a stopped study's finished starts: kept
    (partial / "finetune_all.partial.json").write_text("{}", encoding="utf-8")
    (tmp_path / "build" / "site").mkdir()
    done = subprocess.run(
        ["make", "-f", str(REPO_ROOT / "Makefile"), "clean"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and "kept: build/partial/" in done.stdout
    assert [p.name for p in (tmp_path / "build").iterdir()] == ["partial"]
    assert student.DEFAULT_OUT == REPO_ROOT / "student"
