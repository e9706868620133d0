"""Build the student edition: the course notebooks without their solutions and outputs.

    course student [--out DIR] [--reset NOTEBOOK ...]   # make student → student/

From the same notebooks the tests run, this writes copies in which
- every cell tagged `solution` is gone (the answer cells tagged `exercise`, with their `...`,
  stay, and so do the checkers, which then say "not answered yet");
- every output and execution count is cleared, so no result of a solution survives either;
- relative links that pointed out of `notebooks/` (the README, the data) are rewritten to work
  from the new folder; files the notebooks link to inside `notebooks/` (the glossary) are copied;
- a line under the title tells the learner that this copy is theirs.

**A learner's work is never overwritten.** The folder keeps a record (`.student-edition.json`)
of the SHA-256 of every file the build wrote. On a rebuild, a file whose bytes still match its
record is the course's and is refreshed; any other file at a name the build would write (edited,
run, or never written by the build) is the learner's and is left exactly as it is, with one line
naming it and the command that gives a fresh copy. `--reset NOTEBOOK` moves the learner's copy
to `backups/` in the same folder (never deleting it) and writes a fresh one. The default folder
`student/` lies outside `build/`, so `make clean` never touches it. Two builds into one folder
take turns (a lock), and every file is written whole or not at all (a temporary file, renamed).

`tests/notebooks/test_student.py` checks that no solution text leaks, that the copies run, and
that an edited answer survives every way of rebuilding.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.notebooks import dumps
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, notebook_path, notebook_paths
from helpers.provenance import write_whole

SOLUTION_TAG = "solution"
DEFAULT_OUT = REPO_ROOT / "student"
OLD_DEFAULT_OUT = REPO_ROOT / "build" / "student"  # where editions lived before they were kept
RECORD = ".student-edition.json"
LOCK = ".student-edition.lock"
BACKUPS = "backups"
COMPANION_FILES = ("glossary.md",)  # files the notebooks link to
LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
BANNER = (
    "> **Your copy of this lesson** (student edition: no solutions, no cell run yet). Write your "
    "answers where the `...` are, then run the check under each answer: it tells you whether it "
    "is right. Your answers are kept: rebuilding the edition (`make student`, `make lab-student`) "
    "never overwrites a notebook you have changed. For a fresh copy of this one, run "
    "`make student RESET={number}` (yours is moved to `backups/`, not deleted)."
)


@dataclass
class Edition:
    """What one build did: files written fresh or refreshed, the learner's files kept as they
    were, files moved to `backups/` by `--reset`, and an old `build/student/` moved here."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    backed_up: list[Path] = field(default_factory=list)
    moved_from: Path | None = None


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
    banner = nbformat.v4.new_markdown_cell(BANNER.format(number=name.split("_", 1)[0]))
    banner["id"] = "student-edition"
    copy.cells = cells[:1] + [banner] + cells[1:]
    return copy


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_record(out_dir: Path) -> dict[str, str]:
    """File name → SHA-256 of what the last build wrote there ({} if there is no usable record)."""
    try:
        record = json.loads((out_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = record.get("files") if isinstance(record, dict) else None
    return {k: v for k, v in files.items() if isinstance(v, str)} if isinstance(files, dict) else {}


def is_ours(path: Path, record: dict[str, str], new: bytes) -> bool:
    """May the build write `new` at `path`? Yes if nothing is there, if the file is byte for byte
    what the last build wrote (the learner never changed it), or if it already holds `new`."""
    if not os.path.lexists(path):
        return True
    if path.is_symlink() or not path.is_file():
        return False
    current = path.read_bytes()
    return current == new or record.get(path.name) == digest(current)


def back_up(path: Path, out_dir: Path) -> Path:
    """Move the learner's `path` to `backups/NAME-YYYYmmdd-HHMMSS[-k].ipynb`; never overwrite."""
    folder = out_dir / BACKUPS
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        target = folder / f"{path.stem}-{stamp}{f'-{k}' if k else ''}{path.suffix}"
        try:
            os.link(path, target)  # fails if target exists: no backup is ever overwritten
        except FileExistsError:
            continue
        path.unlink()
        return target
    raise FileExistsError(f"too many backups of {path.name} in {folder}")


def reset_names(names: Iterable[str]) -> set[str]:
    """File names of the notebooks named by `--reset` (a number, stem or file name).
    Raises FileNotFoundError naming the notebooks that exist."""
    return {notebook_path(Path(name).name).name for name in names}


def move_old_edition(out_dir: Path) -> Path | None:
    """An edition in `build/student/` (where it lived before it was kept, and where `make clean`
    would delete it) moves to `student/` when the default folder does not exist yet."""
    if Path(os.path.abspath(out_dir)) != DEFAULT_OUT or os.path.lexists(out_dir) or not OLD_DEFAULT_OUT.is_dir():
        return None
    shutil.move(str(OLD_DEFAULT_OUT), str(out_dir))
    return OLD_DEFAULT_OUT


def planned_files(out_dir: Path) -> dict[str, bytes]:
    """File name → the bytes this build would write: every notebook's copy and the companions."""
    files = {}
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        files[path.name] = dumps(student_copy(nb, path.name, out_dir)).encode("utf-8")
    for name in COMPANION_FILES:
        if (NOTEBOOKS_DIR / name).exists():
            files[name] = (NOTEBOOKS_DIR / name).read_bytes()
    return files


def build(out_dir: Path = DEFAULT_OUT, reset: Iterable[str] = ()) -> Edition:
    """Write the student edition into `out_dir`, keeping every file the learner has changed."""
    fresh = reset_names(reset)
    edition = Edition(moved_from=move_old_edition(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build waits for this one
        record = read_record(out_dir)
        for name, data in planned_files(out_dir).items():
            path = out_dir / name
            if name in fresh and os.path.lexists(path) and not is_ours(path, record, data):
                edition.backed_up.append(back_up(path, out_dir))
            if is_ours(path, record, data):
                write_whole(path, data)
                record[name] = digest(data)
                edition.written.append(path)
            else:
                edition.kept.append(path)
        write_whole(out_dir / RECORD, json.dumps({"files": record}, indent=1, sort_keys=True).encode())
    return edition
