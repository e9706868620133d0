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
import stat
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
SYSTEM = ("/proc", "/sys", "/dev")  # kernel folders: never a place for results
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


_INT_12 = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_FLOAT_12 = re.compile(
    r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"
)
_BOOL_12 = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reads numbers and booleans by YAML 1.2's core rules (so `1e-3` is a float,
    `1:40` and `on` stay strings instead of becoming 100 and True, as YAML 1.1 would make them),
    refuses a leading zero (`017`: 1.1 reads octal 15, 1.2 reads 17), refuses anchors/aliases (a
    parameters file never needs them, and nested aliases can expand to gigabytes), keys that are
    not plain words, and keys given twice (YAML would keep the last silently)."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag.rsplit(":", 1)[-1] not in ("int", "float", "bool")]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_yaml_int(self, node: Any) -> Any:
        text = str(node.value)
        if re.match(r"^[-+]?0[0-9]", text):
            raise yaml.YAMLError(
                f"{text[:20]!r} starts with 0, which YAML 1.1 reads as octal: write it without the 0, or quote it"
            )
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)

    def construct_yaml_float(self, node: Any) -> Any:
        text = str(node.value).lower().lstrip("+")
        if text.lstrip("-") == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        return math.nan if text == ".nan" else float(text)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            raise yaml.YAMLError("anchors and aliases (&name, *name) are not allowed in a parameters file")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.YAMLError("a key is a list or a mapping; keys are parameter names")
            key = key_node.value
            if key in seen:
                raise yaml.YAMLError(f"the key {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


for _first in "-+0123456789.":
    _StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list(_first))
    _StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list(_first))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_12, list("tTfF"))
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


def _read_limited(path: str, where: str) -> tuple[bytes | None, list[str]]:
    """At most MAX_FILE_BYTES of a regular file; a FIFO, a device or a folder is refused before
    any read (opened non-blocking, so a FIFO with no writer cannot hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        return None, [f"cannot read {where}: {err.strerror or err}"]
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None, [f"{where} is not a regular file (a pipe, device or folder); give a .yaml file"]
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return None, [f"{where} is over {MAX_FILE_BYTES:,} bytes; a parameters file is a few lines"]
    return data, []


def file_values(paths: str | list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """The `name: value` pairs of a YAML parameters file, or the problems that stop it. `-f` is
    given at most once (a list of more is refused: which file wins would be a guess)."""
    if paths is None:
        return {}, []
    if isinstance(paths, list):
        if len(paths) > 1:
            return {}, [f"-f is given {len(paths)} times: give one parameters file (merge them, or use -p)"]
        paths = paths[0]
    path = paths
    if not path.strip():
        return {}, ["-f '': the parameters file name is empty"]
    where = f"parameters file {short(path)}"
    data, problems = _read_limited(path, where)
    if data is None:
        return {}, problems
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {}, [f"{where} is not UTF-8 text; write it as `name: value` lines"]
    try:
        values = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return {}, [f"{where} is not valid here: {first}"]
    except (RecursionError, MemoryError):
        return {}, [f"{where} is nested too deeply"]
    except (ValueError, OverflowError) as err:
        return {}, [f"{where} holds a value that is not a number: {str(err)[:60]}"]
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


def out_problems(path: Path | str, option: str = "--out") -> list[str]:
    """A folder `course` may write into: named, not one of the course's own folders, not a
    kernel folder (/proc, /sys, /dev), not a file, and writable (or creatable) by this user."""
    if not str(path).strip():
        return [f"{option} '': the folder name is empty"]
    try:
        return _out_problems(Path(path), option)
    except (OSError, RuntimeError) as err:  # too long, a symlink loop, an unreadable parent
        reason = getattr(err, "strerror", None) or str(err).split(":")[0]
        return [f"{option} {short(str(path))}: cannot use this path ({reason})"]


def _out_problems(path: Path, option: str) -> list[str]:
    target = path.resolve(strict=False)
    if any(target == Path(s) or Path(s) in target.parents for s in SYSTEM):
        return [f"{option} {short(str(path))} is a kernel folder (/proc, /sys, /dev): choose a folder under build/"]
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

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        return set()
    code = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code")
    return set(re.findall(r"""\brecord\(\s*["'](\w+)["']""", code))


class FolderLock:
    """An exclusive lock file in `folder` (`name`, holding the owner's PID), so that a second
    writer of the same files stops with a message instead of racing the first: a sweep's folder
    (`.sweep.lock`), or a long study's results and saved work (`course.resume.study_lock`). The
    operating system releases the lock when its owner dies, so a lock left by a killed run never
    blocks the next one; `stale_pid` then names the killed run, for the next to say so. `what`
    names the writer in the messages, `writes_to` what it writes (default: the folder)."""

    def __init__(
        self, folder: Path, what: str = "sweep", name: str = ".sweep.lock", writes_to: Path | None = None
    ) -> None:
        self.path = folder / name
        self.what, self.writes_to = what, writes_to or folder
        self.file: Any = None
        self.stale_pid: int | None = None

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # never through a symbolic link planted as the lock (even one made after the folder check)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as err:
            raise LockedError(f"{self.path}: cannot open the {self.what}'s lock ({err.strerror}); remove it") from None
        self.file = os.fdopen(fd, "r+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            owner = self.file.read().strip() or "unknown"
            self.file.close()
            raise LockedError(
                f"another {self.what} (process {owner}) is writing to {self.writes_to}; "
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
    """The folder is locked by a running sweep or study."""
