"""The house rules: each room holds one kind of thing, and the code stays clean by tools.

- `helpers/` is what the notebooks import; `course/` is the command and the maintainer's tools.
  `course` may import `helpers`, never the other way round.
- Nothing edits `sys.path`: the packages are installed (`make`, or `-e .` in conda) and pytest
  finds them from `pyproject.toml`.
- ruff's lint and format are clean over the packages, the tests and the notebooks' code.
- No block of six or more lines is repeated across the packages and the tests.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

PACKAGES = ("helpers", "course")
CODE_DIRS = (*PACKAGES, "tests")


def python_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (REPO_ROOT / d).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_helpers_never_imports_course():
    for path in python_files("helpers"):
        wrong = {m for m in imported_modules(path) if m == "course" or m.startswith("course.")}
        assert not wrong, f"{path.relative_to(REPO_ROOT)} imports {sorted(wrong)}: helpers must not import course"


def test_the_direction_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from course.runner import execute\n")
    assert "course.runner" in imported_modules(bad)


def test_each_room_holds_its_own_kind():
    lesson_side = {p.stem for p in (REPO_ROOT / "helpers").glob("*.py")}
    assert not lesson_side & {"cli", "runner", "sweep", "slides", "student", "browser", "bench"}
    assert (REPO_ROOT / "helpers" / "exercises" / "core.py").exists()
    assert not (REPO_ROOT / "tools").exists(), "maintainer tools live in course/"
    for group in ("unit", "notebooks", "classroom"):
        assert list((REPO_ROOT / "tests" / group).glob("test_*.py")), f"tests/{group}/ is empty"
    assert not list((REPO_ROOT / "tests").glob("test_*.py")), "every test file sits in its group's folder"


def test_nothing_edits_sys_path():
    for path in python_files(*CODE_DIRS):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"sys\.path\.(insert|append)", text) or path.name == "test_layout.py", path


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is pinned in requirements.txt: run `make setup`"
    result = subprocess.run([ruff, *command], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"run `make format`:\n{result.stdout[-3000:]}{result.stderr[-1000:]}"


def repeated_blocks(paths: list[Path], size: int = 6) -> list[tuple[str, str]]:
    """Places where `size` consecutive non-blank lines (stripped) appear again elsewhere; lines
    that are only brackets, imports, decorators or docstring quotes do not start a block."""
    seen: dict[tuple[str, ...], str] = {}
    found = []
    trivial = re.compile(r"^([\])},:]*|\"\"\"|from .* import .*|import .*|@.*|#.*)$")
    for path in paths:
        lines = [(n, line.strip()) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
        lines = [(n, s) for n, s in lines if s]
        for k in range(len(lines) - size + 1):
            window = tuple(s for _, s in lines[k : k + size])
            if sum(not trivial.match(s) for s in window) < size - 1:
                continue
            where = f"{path.relative_to(REPO_ROOT)}:{lines[k][0]}"
            if window in seen and not seen[window].startswith(f"{path.relative_to(REPO_ROOT)}:"):
                found.append((seen[window], where))
            seen.setdefault(window, where)
    return found


def test_no_block_of_six_lines_is_repeated():
    found = repeated_blocks(python_files(*CODE_DIRS))
    assert not found, "the same six lines in two places; make one serve both:\n" + "\n".join(
        f"  {a} ~ {b}" for a, b in found[:10]
    )


def test_the_repetition_check_can_fail(tmp_path, monkeypatch):
    block = "".join(f"x{k} = compute({k})\n" for k in range(6))
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(f"def f():\n    return 1\n{block}")
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    assert repeated_blocks(sorted(tmp_path.glob("*.py")))[0] == ("a.py:1", "b.py:1")
