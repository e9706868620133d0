"""Execute course notebooks headless with papermill: single runs, profiles and sweeps.

The engine behind the `course` command (`helpers.cli`). Executed copies always go under
`build/` (or another folder you name), never over the sources; runs work from any directory.
Parameters are validated against the notebook's own `parameters` cell before a kernel starts.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from helpers.params import ParameterError, notebook_spec, validate_values
from helpers.paths import BUILD_DIR, NOTEBOOKS_DIR
from helpers.record import read_records

PROFILES_FILE = NOTEBOOKS_DIR / "profiles.yaml"
TEACHING = "teaching"


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


def resolve_parameters(path: Path, profile: str = TEACHING, file_values: dict[str, Any] | None = None,
                       cli_values: dict[str, Any] | None = None) -> dict[str, Any]:
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


def execute(path: Path, parameters: dict[str, Any], output: Path) -> RunResult:
    """Run one notebook with papermill into `output`; never raises for a failing notebook.

    The copy is written as `output` + `.part` while it runs and renamed when it is done, so an
    interrupted run never leaves a file that looks finished.
    """
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_name(output.name + ".part")
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.execute_notebook(str(path), str(part), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False)
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


def short(value: Any, width: int = 14) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def key_results(records: dict[str, Any], limit: int = 4) -> str:
    scalars = [(k, v) for k, v in records.items() if not isinstance(v, (list, dict))]
    return ", ".join(f"{k}={short(v)}" for k, v in scalars[:limit])


# ---------------------------------------------------------------------------- sweeps


def grid_combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order (last name varies fastest)."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def run_id(parameters: dict[str, Any]) -> str:
    """A file-name-safe name for one combination, e.g. `lr=0.5_seed=1`."""
    text = "_".join(f"{k}={v}" for k, v in parameters.items())
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", text) or "defaults"


@dataclass
class SweepPlan:
    notebook: Path
    out_dir: Path
    fixed: dict[str, Any]
    combinations: list[dict[str, Any]]

    def output(self, combination: dict[str, Any], failed: bool = False) -> Path:
        return self.out_dir / "runs" / f"{run_id(combination)}{'.failed' if failed else ''}.ipynb"

    def done(self, combination: dict[str, Any]) -> bool:
        return self.output(combination).exists()


def _run_combination(notebook: str, parameters: dict[str, Any], output: str) -> RunResult:
    """Worker: execute one combination; a failure is kept as `<id>.failed.ipynb`."""
    result = execute(Path(notebook), parameters, Path(output))
    if result.status != "ok" and result.output.exists():
        failed = result.output.with_name(result.output.stem + ".failed.ipynb")
        result.output.replace(failed)
        result.output = failed
    return result


def sweep_rows(plan: SweepPlan) -> list[dict[str, Any]]:
    """The tidy table of a sweep, rebuilt from the executed notebooks on disk (so nothing that
    finished is ever lost): one row per combination that has run, ok or failed."""
    rows = []
    for combination in plan.combinations:
        for failed in (False, True):
            path = plan.output(combination, failed)
            if not path.exists():
                continue
            nb = json.loads(path.read_text(encoding="utf-8"))
            meta = nb.get("metadata", {}).get("papermill", {})
            error = ""
            for cell in nb.get("cells", []):
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error" and not error:
                        error = f"{out.get('ename')}: {out.get('evalue')}".splitlines()[0]
            row = {"run": run_id(combination), **combination, "status": "failed" if failed else "ok",
                   "seconds": round(meta.get("duration") or 0.0, 2)}
            row.update({k: v for k, v in read_records(path).items() if not isinstance(v, (list, dict))})
            row["error"] = error
            rows.append(row)
    return rows


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    columns = [c for c in columns if c != "error"] + ["error"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def plot_sweep(rows: list[dict[str, Any]], grid: dict[str, list[Any]], path: Path, y: str | None = None) -> str | None:
    """Plot the first numeric record against the first grid parameter, one line per combination
    of the others; returns the record plotted (None when there is nothing to plot)."""
    ok = [r for r in rows if r["status"] == "ok"]
    names = list(grid)
    skip = set(names) | {"run", "status", "seconds", "error"}
    numeric = [k for k in (ok[0] if ok else {}) if k not in skip and isinstance(ok[0][k], (int, float))
               and not isinstance(ok[0][k], bool)]
    y = y or (numeric[0] if numeric else None)
    if y is None or not names:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_name, others = names[0], names[1:]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in ok:
        groups.setdefault(tuple(r[n] for n in others), []).append(r)
    for key, members in groups.items():
        members.sort(key=lambda r: r[x_name])
        label = ", ".join(f"{n}={v}" for n, v in zip(others, key)) or None
        ax.plot([r[x_name] for r in members], [r.get(y) for r in members], "o-", label=label)
    xs = [r[x_name] for r in ok]
    if xs and all(isinstance(v, (int, float)) and v > 0 for v in xs) and max(xs) / min(xs) >= 20:
        ax.set_xscale("log")
    ax.set(xlabel=x_name, ylabel=y, title=f"{y} by {x_name} ({len(ok)} runs)")
    if others:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return y


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def iter_results(plan: SweepPlan, todo: Iterable[dict[str, Any]], jobs: int):
    """Yield RunResults as runs finish, `jobs` at a time (separate processes)."""
    todo = list(todo)
    if jobs <= 1:
        for combination in todo:
            yield _run_combination(str(plan.notebook), {**plan.fixed, **combination}, str(plan.output(combination)))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_combination, str(plan.notebook), {**plan.fixed, **c}, str(plan.output(c)))
                   for c in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def clean_partial(out_dir: Path) -> int:
    """Remove `.part` files left by an interrupted sweep; returns how many."""
    parts = list((out_dir / "runs").glob("*.part")) if (out_dir / "runs").exists() else []
    for p in parts:
        p.unlink()
    return len(parts)


__all__ = ["UsageError", "ParameterError", "parse_cli_value", "profiles", "resolve_parameters", "execute",
           "RunResult", "grid_combinations", "run_id", "SweepPlan", "sweep_rows", "write_csv", "plot_sweep",
           "iter_results", "clean_partial", "default_jobs", "key_results", "BUILD_DIR"]
