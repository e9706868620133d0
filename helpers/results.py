"""The committed results: full-size runs (`results/full_size.json`, made by `make results-full`)
and Part IV's studies (`write_results` / `read_results`: `make pretrain-more`, `make finetune-all`).

Default parameters are teaching-sized; the numbers the text of Part III relies on at full size
come from one papermill run of the same notebooks with their `full` profile. That run's recorded
results, the command, parameters, library versions, hardware and wall time are saved together, and
each notebook shows them next to its own small-run numbers. Taught in notebooks 06-08.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from helpers.paths import REPO_ROOT
from helpers.provenance import describe_hardware, write_json

FULL_RESULTS = REPO_ROOT / "results" / "full_size.json"


def load_full_results(path: Path = FULL_RESULTS) -> dict[str, Any] | None:
    """The full-size results file as a dict, or None if it has not been made yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def describe_full_run(notebook: str, path: Path = FULL_RESULTS) -> dict[str, Any] | None:
    """Print where a notebook's full-size results come from; return its records (None if absent)."""
    results = load_full_results(path)
    if results is None or notebook not in results.get("notebooks", {}):
        where = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"no full-size results for {notebook} yet: `course results-full {notebook[:2]}` adds them to {where}")
        return None
    entry = results["notebooks"][notebook]
    command = entry.get("command", results["command"])  # the entry's own; older entries have only the file's
    print(f"full-size run of {notebook} (from {path.relative_to(REPO_ROOT)}, made by `{command}`)")
    print(f"  parameters: {', '.join(f'{k}={v}' for k, v in entry['parameters'].items()) or 'defaults'}")
    machine, libraries = entry.get("hardware", results["hardware"]), entry.get("versions", results["versions"])
    print(
        f"  {entry['status']} in {entry['seconds']:.0f} s on {describe_hardware(machine)}; "
        f"TensorFlow {libraries.get('tensorflow')}, Keras {libraries.get('keras')}"
    )
    return entry["records"]


def write_results(result: dict[str, Any], command: str, path: Path) -> Path:
    """Save a study as JSON with the command that made it and when (written whole, then renamed:
    a reader never sees half a file)."""
    made = {"command": command, "made": time.strftime("%Y-%m-%d %H:%M:%S %Z"), **result}
    return write_json(made, path)


def read_results(path: Path) -> dict[str, Any] | None:
    """A committed study, or None when it has not been made."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
