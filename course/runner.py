"""Execute course notebooks headless with papermill: parameters, profiles, one run, its records.

The engine behind `course run` (sweeps build on it in `course.sweep`). Executed copies always go under
`build/` (or another folder you name), never over the sources; runs work from any directory.
Parameters are validated against the notebook's own `parameters` cell before a kernel starts.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.display import shorten
from helpers.params import notebook_spec, validate_values
from helpers.paths import NOTEBOOKS_DIR
from helpers.record import RECORD_KEY

PROFILES_FILE = NOTEBOOKS_DIR / "profiles.yaml"
TEACHING = "teaching"


def read_records(path: str | Path) -> dict[str, Any]:
    """Every value recorded (`helpers.record.record`) in the executed notebook at `path`, by
    name; a later record of the same name wins."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get(RECORD_KEY)
            if name is not None and "application/json" in out.get("data", {}):
                found[name] = out["data"]["application/json"][name]
    return found


class UsageError(ValueError):
    """Bad input to the runner (unknown notebook, profile or parameter): exit status 2."""


def parse_cli_value(text: str) -> Any:
    """A `-p` value, read by papermill's rules: True/False/None, int, float, else the string."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def profiles(notebook: str) -> dict[str, dict[str, Any]]:
    """The named profiles of a notebook (`teaching` = its defaults), from notebooks/profiles.yaml."""
    table = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8")) or {}
    return {TEACHING: {}, **(table.get(notebook) or {})}


def profile_values(notebook: str, name: str) -> dict[str, Any]:
    known = profiles(notebook)
    if name not in known:
        raise UsageError(f"unknown profile {name!r} for {notebook}: its profiles are {', '.join(known)}")
    return dict(known[name])


def resolve_parameters(
    path: Path,
    profile: str = TEACHING,
    file_values: dict[str, Any] | None = None,
    cli_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge profile < YAML file < -p values and validate them; return only the non-default ones.

    Raises ParameterError (every problem, one a line) or UsageError, before any kernel starts.
    """
    given = {**profile_values(path.stem, profile), **(file_values or {}), **(cli_values or {})}
    spec = notebook_spec(path)
    checked = validate_values(spec, given)
    return {name: checked[name] for name in spec if name in given}


@dataclass
class RunResult:
    notebook: str
    parameters: dict[str, Any]
    status: str  # "ok" or "failed"
    seconds: float
    output: Path
    error: str = ""
    records: dict[str, Any] = field(default_factory=dict)


def execute(path: Path, parameters: dict[str, Any], output: Path, progress: bool = False) -> RunResult:
    """Run one notebook with papermill into `output`; never raises for a failing notebook.

    The copy is written as `output` + `.part` while it runs and renamed when it is done, so an
    interrupted run never leaves a file that looks finished. With `progress`, papermill shows a
    bar of cells done, with the time elapsed and an estimate of the time left (for long runs).
    """
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_name(output.name + ".part")
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.execute_notebook(
                str(path),
                str(part),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=progress,
                log_output=False,
            )
        status, error = "ok", ""
    except Exception as err:  # papermill.PapermillExecutionError, a dead kernel, ...
        status = "failed"
        error = f"{getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', err)}".strip()
        error = error.splitlines()[0] if error else type(err).__name__
    seconds = time.perf_counter() - start
    if part.exists():
        part.replace(output)
    records = read_records(output) if output.exists() else {}
    return RunResult(path.stem, parameters, status, seconds, output, error, records)


def key_results(records: dict[str, Any], limit: int = 4) -> str:
    scalars = [(k, v) for k, v in records.items() if not isinstance(v, (list, dict))]
    return ", ".join(f"{k}={shorten(v, 14)}" for k, v in scalars[:limit])
