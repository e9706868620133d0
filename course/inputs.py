"""Everything a user types into `course`, checked before any kernel starts.

Each reader returns what it understood *and* a list of problems, one line each, so that `course`
can report every problem of `-p`, `-f`, `--grid` and `--out` together and exit with status 2.
Nothing here trusts its input: files may be binary or huge, YAML may hold alias bombs or keys
that are not names, values may start with `-`, folders may be the course's own.
"""

from __future__ import annotations

import fcntl
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml

from course.runner import parse_cli_value
from helpers.params import short, show
from helpers.paths import REPO_ROOT

MAX_FILE_BYTES = 1_000_000  # a parameters file is a few lines; anything bigger is a mistake
MAX_GRID = 1000  # combinations a sweep runs without an explicit --large
VALUE_MARK = "\x1f"  # prefixed to every -p value before argparse sees it (so `-p lr -inf` works)
PROTECTED = ("notebooks", "helpers", "course", "tests", "data", "results", ".git")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def protect_values(argv: list[str]) -> list[str]:
    """Mark the VALUE of every `-p NAME VALUE` so that argparse never reads it as an option."""
    out, k = [], 0
    while k < len(argv):
        out.append(argv[k])
        if argv[k] in ("-p", "--parameter") and k + 2 < len(argv):
            out += [argv[k + 1], VALUE_MARK + argv[k + 2]]
            k += 3
            continue
        k += 1
    return out


def cli_values(pairs: list[list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The `-p NAME VALUE` pairs, read by papermill's rules; a name given twice is a problem."""
    values: dict[str, Any] = {}
    problems = []
    for name, raw in pairs:
        value = parse_cli_value(raw.removeprefix(VALUE_MARK))
        if name in values:
            problems.append(f"-p {short(name)} is given twice ({show(values[name])} and {show(value)}): give it once")
        values[name] = value
    return values, problems


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases (a parameters file never needs them, and nested
    aliases can expand to gigabytes) and keys given twice (YAML would keep the last silently)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            raise yaml.YAMLError("anchors and aliases (&name, *name) are not allowed in a parameters file")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise yaml.YAMLError(f"the key {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def file_values(path: str | None) -> tuple[dict[str, Any], list[str]]:
    """The `name: value` pairs of a YAML parameters file, or the problems that stop it."""
    if not path:
        return {}, []
    where = f"parameters file {path}"
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return {}, [f"{where} is {size:,} bytes; a parameters file is a few lines (at most {MAX_FILE_BYTES:,})"]
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return {}, [f"{where} is not UTF-8 text; write it as `name: value` lines"]
    except OSError as err:
        return {}, [f"cannot read {where}: {err.strerror or err}"]
    try:
        values = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return {}, [f"{where} is not valid here: {first}"]
    except RecursionError:
        return {}, [f"{where} is nested too deeply"]
    if values is None:
        return {}, []
    if not isinstance(values, dict):
        return {}, [f"{where} must map names to values (`name: value` lines), not hold a {type(values).__name__}"]
    bad = [k for k in values if not isinstance(k, str) or not _NAME.match(k)]
    if bad:
        return {}, [f"{where}: {', '.join(show(k) for k in bad[:3])} is not a parameter name (names are words)"]
    return values, []


def grid_values(specs: list[str]) -> tuple[dict[str, list[Any]], list[str]]:
    """`--grid NAME=V1,V2,...` options: the values of each name, or the problems."""
    grid: dict[str, list[Any]] = {}
    problems = []
    for item in specs:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            problems.append(f"--grid {show(item)}: expected NAME=V1,V2,...")
            continue
        if name in grid:
            problems.append(f"--grid names {short(name)} twice: give all its values in one --grid")
            continue
        parsed = [parse_cli_value(v.strip()) for v in values.split(",")]
        repeated = sorted({show(v) for k, v in enumerate(parsed) if _same_value(v, parsed[:k])})
        if repeated:
            problems.append(f"--grid {short(name)} repeats {', '.join(repeated)}: each combination would run twice")
        grid[name] = parsed
    return grid, problems


def _same_value(value: Any, earlier: list[Any]) -> bool:
    """1 and 1.0 and 01 are the same number for a notebook; True is not 1."""
    for other in earlier:
        if isinstance(value, bool) or isinstance(other, bool):
            if value is other:
                return True
        elif value == other and type(value) in (int, float, str) and type(other) in (int, float, str):
            return True
    return False


def grid_size(grid: dict[str, list[Any]]) -> int:
    return math.prod(len(v) for v in grid.values())


def out_problems(path: Path, option: str = "--out") -> list[str]:
    """A folder `course` may write into: not one of the course's own folders, not a file, and
    writable (or creatable) by this user."""
    target = path.resolve()
    for name in PROTECTED:
        own = (REPO_ROOT / name).resolve()
        if target == own or own in target.parents:
            return [
                f"{option} {path} is inside the course's own files ({name}/): choose a folder under build/ or elsewhere"
            ]
    if target == REPO_ROOT.resolve():
        return [f"{option} {path} is the course's own folder: choose a folder under build/ or elsewhere"]
    if target.exists() and not target.is_dir():
        return [f"{option} {path} is a file, not a folder"]
    existing = next((p for p in (target, *target.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return [f"{option} {path}: cannot write under {existing} (permission denied)"]
    return []


def recorded_names(path: Path) -> set[str]:
    """The names a notebook records with `record("name", ...)`, read from its code (not run)."""
    import json

    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code")
    return set(re.findall(r"""\brecord\(\s*["'](\w+)["']""", code))


class FolderLock:
    """An exclusive lock on a sweep folder (`.sweep.lock`, holding the owner's PID), so that a
    second sweep into the same folder stops with a message instead of racing the first. The
    operating system releases the lock when its owner dies, so a lock left by a killed sweep never
    blocks the next one; that sweep is told about it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".sweep.lock"
        self.file: Any = None
        self.stale_pid: int | None = None

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            owner = self.file.read().strip() or "unknown"
            self.file.close()
            raise LockedError(
                f"another sweep (process {owner}) is writing to {self.path.parent}; "
                "wait for it to finish, stop it, or choose another --out"
            ) from None
        self.file.seek(0)
        previous = self.file.read().strip()
        if previous.isdigit() and int(previous) != os.getpid():
            self.stale_pid = int(previous)  # we got the lock, so that process is gone
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.file.seek(0)
        self.file.truncate()
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


class LockedError(RuntimeError):
    """The sweep folder is locked by a running sweep."""
