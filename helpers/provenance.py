"""Where a committed result came from, and how it is written: one definition for every command
that commits something (`make pretrain`, `make pretrain-more`, `make finetune-all`,
`make results-full`) and for the student edition's files.

    versions()          Python and the libraries that decide the numbers
    hardware()          the machine: CPU model, cores, system
    describe_hardware   one line for a table or a sentence (also reads the older one-line form)
    write_whole         a file written whole or not at all: temporary file, fsync, rename
    write_json          a result as JSON, through write_whole

Results are shown in notebooks 06-08 and 10; tested in tests/unit/test_results.py.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("tensorflow", "keras", "numpy", "scikit-learn")


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """{"python": "3.11.7", "tensorflow": "2.21.0", ...}, read from the installed metadata (no
    library is imported for it); a package that is not installed is "not installed"."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def hardware() -> dict[str, str | int]:
    """{"cpu": model, "cpus": cores, "machine": "x86_64", "system": "Linux 6.1..."}."""
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count() or 0,
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
    }


def describe_hardware(found: dict[str, Any] | str) -> str:
    """ "Intel(R) Xeon(R) ..., 2 cores, Linux 6.1" from `hardware()`'s dict (a string, as older
    results files hold, is returned as it is)."""
    if isinstance(found, str):
        return found
    cpu = found.get("cpu") or found.get("processor") or found.get("machine", "unknown CPU")
    return f"{cpu}, {found.get('cpus', '?')} cores, {found.get('system', '')}".rstrip(", ")


def write_whole(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` whole or not at all: a temporary file beside it, flushed to disk,
    then renamed over `path` (a reader never sees half a file; a symlink at `path` is replaced,
    never followed)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    tmp.unlink(missing_ok=True)  # a file or link left there is removed, never written through
    try:
        with os.fdopen(os.open(tmp, flags, 0o644), "wb") as f:  # a new file, or an error
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(value: Any, path: Path) -> Path:
    """`value` as indented UTF-8 JSON (Chinese kept readable), through `write_whole`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_whole(path, json.dumps(value, ensure_ascii=False, indent=1) + "\n")
