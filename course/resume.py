"""What a long study has finished so far, kept on disk so that a run stopped midway (Ctrl-C, a
closed laptop, the end of a working day) goes on where it stopped instead of starting again.

A study saves each finished unit (for `course finetune-all`, one start) in a partial file beside
its results; the next run with the same settings reads the units back and runs only the others.
The file is keyed by everything the units depend on (the study's settings, the checkpoints'
SHA-256, the data's sizes, the library versions, the course's own code: `code_sha256`): a run
with another key starts afresh, and says so. The study removes the file once its results are
written. Two runs of one study at once would mix their units and race for the results file, so a
run holds `study_lock` throughout: the second stops with one line. Tested in tests/notebooks/test_studies.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.paths import REPO_ROOT
from helpers.provenance import write_json

PARTIAL_DIR = REPO_ROOT / "build" / "partial"  # outside results/: never committed by mistake


def partial_path(results: Path, out: Path | None) -> Path:
    """Where a study's finished units wait: beside an --out folder's results, or in build/partial/."""
    return (PARTIAL_DIR if out is None else out) / f"{results.stem}.partial.json"


def code_sha256() -> str:
    """One SHA-256 over every Python file of `helpers/` and `course/` (path and bytes, in order):
    a unit saved by other code is not reused, whatever changed."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(REPO_ROOT / "helpers").rglob("*.py"), *(REPO_ROOT / "course").rglob("*.py")]):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def study_lock(config: Any, out: Path | None) -> Any:
    """The lock one run of a study (`config`: its dataclass) holds while it runs, beside its partial
    file: a second run of the same study, writing the same files, stops with one line."""
    from course.inputs import FolderLock

    results = config.results if out is None else out / config.results.name
    folder, name = partial_path(config.results, out).parent, f".{config.results.stem}.lock"
    return FolderLock(folder, what=f"{config.command} run", name=name, writes_to=results)


# how a message names each part of a study's key (`course.studies.finetune_key`)
KEY_WORDS = {"settings": "settings", "checkpoints": "checkpoints", "sizes": "data", "versions": "library versions",
             "code": "course code (helpers/ or course/ changed)"}  # fmt: skip


class Partial:
    """The finished units of one study run, `units[name] = what the study saved for it`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key: Any = None
        self.units: dict[str, Any] = {}

    def load(self, key: dict[str, Any]) -> str:
        """Take the units saved under `key` (as JSON gives it back); return a line that says what
        was found ("" when nothing was saved)."""
        self.key, self.units = json.loads(json.dumps(key)), {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ""
        except (OSError, ValueError):
            return f"{self.path} could not be read: starting afresh"
        if not isinstance(saved, dict) or not isinstance(saved.get("key"), dict):
            return f"{self.path} could not be read: starting afresh"
        differ = [KEY_WORDS.get(k, k) for k in self.key if saved["key"].get(k) != self.key[k]]
        differ += [KEY_WORDS.get(k, k) for k in saved["key"] if k not in self.key]
        if differ:
            return f"{self.path} was made with other {', '.join(differ)}: starting afresh"
        self.units = saved.get("units", {})
        return f"resuming from {self.path}: done already: {', '.join(self.units)}" if self.units else ""

    def save(self, name: str, value: Any) -> None:
        """One more unit finished: written whole, so a stop during the write loses only this unit."""
        self.units[name] = value
        write_json({"key": self.key, "units": self.units}, self.path)

    def remove(self) -> None:
        """The study is done and its results written: the partial file goes."""
        self.path.unlink(missing_ok=True)
