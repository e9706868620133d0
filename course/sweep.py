"""Sweeps: every combination of a grid of parameter values, run in parallel, kept on disk, and
gathered into one tidy table (`course sweep`).

A run is written under a temporary name and renamed only when it has finished, so an
interrupted sweep never leaves a file that looks finished, and running the same command again
does only what is missing.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.runner import RunResult, execute, read_records, stop_pool, thread_limits, worker_init


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
            row = {
                "run": run_id(combination),
                **combination,
                "status": "failed" if failed else "ok",
                "seconds": round(meta.get("duration") or 0.0, 2),
            }
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
    numeric = [
        k
        for k in (ok[0] if ok else {})
        if k not in skip and isinstance(ok[0][k], (int, float)) and not isinstance(ok[0][k], bool)
    ]
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

    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_init,
        initargs=(thread_limits(jobs),),
    ) as pool:
        futures = [
            pool.submit(_run_combination, str(plan.notebook), {**plan.fixed, **c}, str(plan.output(c))) for c in todo
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            stop_pool(pool)
            raise


def clean_partial(out_dir: Path) -> int:
    """Remove `.part` files left by an interrupted sweep; returns how many."""
    parts = list((out_dir / "runs").glob("*.part")) if (out_dir / "runs").exists() else []
    for p in parts:
        p.unlink()
    return len(parts)
