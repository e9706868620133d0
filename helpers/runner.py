"""Execute course notebooks headless with papermill; used by `make run`.

    python -m helpers.runner                 # every notebook, default parameters
    python -m helpers.runner 02 -p lr 1.5    # one notebook, one parameter changed

Executed copies go to `build/` (never over the sources); the run ends with a table of notebook,
status and seconds. Parameters are validated against the notebook's `parameters` cell before a
kernel starts (the notebook validates them again itself). Works from any working directory.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers.display import format_table
from helpers.params import ParameterError, notebook_spec, validate_values
from helpers.paths import BUILD_DIR, notebook_path, notebook_paths


@dataclass
class RunResult:
    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    output: Path
    error: str = ""


def run_notebook(path: Path, parameters: dict[str, Any] | None = None,
                 out_dir: Path = BUILD_DIR) -> RunResult:
    """Execute one notebook with papermill into `out_dir`; never raises for a failing notebook."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / path.name
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.execute_notebook(str(path), str(output), parameters=parameters or {},
                                kernel_name="python3", progress_bar=False)
        status, error = "ok", ""
    except Exception as err:  # papermill.PapermillExecutionError and kernel failures
        status = "failed"
        error = f"{getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', err)}"
    return RunResult(path.stem, status, time.perf_counter() - start, output, error)


def _parse_value(text: str) -> Any:
    """`-p` values are read as YAML scalars/lists, as papermill's `-y` does (`3` -> int, `[1, 2]` -> list)."""
    return yaml.safe_load(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names or numbers (default: all)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a parameter (YAML value); repeatable")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="folder for executed copies")
    args = parser.parse_args(argv)

    try:
        paths = [notebook_path(n) for n in args.notebooks] or notebook_paths()
        given = {name: _parse_value(value) for name, value in args.p}
        for path in paths:
            validate_values(notebook_spec(path), given)
    except (FileNotFoundError, ParameterError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    results = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        results.append(run_notebook(path, given, args.out.resolve()))
    rows = [[r.notebook, r.status, round(r.seconds, 1), r.error[:80]] for r in results]
    total = sum(r.seconds for r in results)
    print()
    print(format_table(["notebook", "status", "seconds", "error"], rows, floatfmt=".1f"))
    print(f"\n{len(results)} notebooks in {total:.1f} s; executed copies in {args.out}")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
