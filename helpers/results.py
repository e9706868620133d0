"""The committed full-size results (`results/full_size.json`, made by `make results-full`).

Default parameters are teaching-sized; the numbers the text of Part III relies on at full size
come from one papermill run of the same notebooks with their `full` profile. That run's recorded
results, the command, parameters, library versions, hardware and wall time are saved together, and
each notebook shows them next to its own small-run numbers. Taught in notebooks 06-08.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.paths import REPO_ROOT

FULL_RESULTS = REPO_ROOT / "results" / "full_size.json"


def load_full_results(path: Path = FULL_RESULTS) -> dict[str, Any] | None:
    """The full-size results file as a dict, or None if it has not been made yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def describe_full_run(notebook: str, path: Path = FULL_RESULTS) -> dict[str, Any] | None:
    """Print where a notebook's full-size results come from; return its records (None if absent)."""
    results = load_full_results(path)
    if results is None or notebook not in results.get("notebooks", {}):
        print(f"no full-size results for {notebook} yet: `make results-full` makes {path.relative_to(REPO_ROOT)}")
        return None
    entry = results["notebooks"][notebook]
    print(f"full-size run of {notebook} (from {path.relative_to(REPO_ROOT)}, made by `{results['command']}`)")
    print(f"  parameters: {', '.join(f'{k}={v}' for k, v in entry['parameters'].items()) or 'defaults'}")
    print(
        f"  {entry['status']} in {entry['seconds']:.0f} s on {results['hardware']}; "
        f"TensorFlow {results['versions'].get('tensorflow')}, Keras {results['versions'].get('keras')}"
    )
    return entry["records"]
