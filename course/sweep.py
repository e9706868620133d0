"""Sweeps: every combination of a grid of parameter values, run in parallel, kept on disk, and
gathered into one tidy table (`course sweep`).

A run is written under a temporary name and renamed only when it has finished, so an
interrupted sweep never leaves a file that looks finished, and running the same command again
does only what is missing.

A run is named after everything that determines it: a readable part (the grid values) and a
short hash of the notebook's name and content and of every parameter value, fixed ones included
(`x=a-b-3f9c0e12d4.ipynb`). So grid values that read alike (`x y`, `x-y`, `x/y`) never share a
file, and a sweep resumed with other fixed values (`-p lr 4` after `-p lr 0.5`) or an edited
notebook reuses nothing of the earlier plan and never mixes its runs into the table. A file that
does not parse as a whole notebook (a full disk, a kill) is not done, and is run again.
Nothing in the folder is written through a symbolic link: a folder with links where the sweep
writes is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.runner import (
    RunResult,
    execute,
    execute_many,
    is_complete,
    read_records,
)
from helpers.provenance import write_whole


def grid_combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order (last name varies fastest)."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def run_id(parameters: dict[str, Any]) -> str:
    """A file-name-safe name for one combination, e.g. `lr=0.5_seed=1`."""
    text = "_".join(f"{k}={v}" for k, v in parameters.items())
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", text) or "defaults"


def identity(notebook: Path, content: bytes, parameters: dict[str, Any]) -> str:
    """A short hash of what determines a run: the notebook's name and content, every value
    (types kept: 1, 1.0 and "1" differ)."""
    text = json.dumps([notebook.name, hashlib.sha256(content).hexdigest(), sorted(parameters.items())], default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass
class SweepPlan:
    notebook: Path
    out_dir: Path
    fixed: dict[str, Any]
    combinations: list[dict[str, Any]]
    content: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        self.content = self.content or Path(self.notebook).read_bytes()

    def name(self, combination: dict[str, Any]) -> str:
        """`<readable values>-<identity>`: unique per run by construction (the hash), readable by eye."""
        run = identity(Path(self.notebook), self.content, {**self.fixed, **combination})
        return f"{run_id(combination)[:80]}-{run}"

    def output(self, combination: dict[str, Any], failed: bool = False) -> Path:
        return self.out_dir / "runs" / f"{self.name(combination)}{'.failed' if failed else ''}.ipynb"

    def done(self, combination: dict[str, Any]) -> bool:
        return is_complete(self.output(combination))


def folder_problems(out_dir: Path) -> list[str]:
    """Why a sweep must not write into `out_dir`: a symbolic link in it or in its `runs/` (a write
    there, or to a temporary name beside it, would land outside the folder), or `runs` that is not
    a folder. One line each."""
    runs = out_dir / "runs"
    if runs.exists() and not runs.is_symlink() and not runs.is_dir():
        return [f"--out {out_dir}: runs is not a folder; remove it or choose another --out"]
    problems = []
    for folder in (out_dir, runs):
        try:
            links = sorted(p.name for p in folder.iterdir() if p.is_symlink()) if folder.is_dir() else []
        except OSError as err:
            return [f"--out {out_dir}: cannot read {folder.name} ({err.strerror})"]
        if links and not (folder == runs and runs.is_symlink()):
            where = "runs/" if folder == runs else "the folder"
            problems.append(
                f"--out {out_dir}: {where} holds {len(links)} symbolic link(s) ({links[0][:40]}); "
                "a sweep writes only inside its folder: remove them or choose another --out"
            )
    return problems


def _run_combination(notebook: Path, parameters: dict[str, Any], output: Path) -> RunResult:
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
            if not is_complete(path):
                continue
            nb = json.loads(path.read_text(encoding="utf-8"))
            meta = nb.get("metadata", {}).get("papermill", {})
            error = ""
            for cell in nb.get("cells", []):
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error" and not error:
                        error = f"{out.get('ename')}: {out.get('evalue')}".splitlines()[0]
            row = {
                "run": plan.name(combination),
                **combination,
                "status": "failed" if failed else "ok",
                "seconds": round(meta.get("duration") or 0.0, 2),
            }
            row.update({k: v for k, v in read_records(path).items() if not isinstance(v, (list, dict))})
            row.update({k: v for k, v in plan.fixed.items() if k not in row})  # after the records: not plotted
            row["error"] = error
            rows.append(row)
    return rows


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    columns = [c for c in columns if c != "error"] + ["error"]
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_whole(path, text.getvalue())


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
    image = io.BytesIO()
    fig.savefig(image, dpi=110, format="png")
    plt.close(fig)
    write_whole(path, image.getvalue())
    return y


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def iter_results(plan: SweepPlan, todo: Iterable[dict[str, Any]], jobs: int):
    """Yield RunResults as runs finish, `jobs` at a time (separate processes: `execute_many`)."""
    plans = [(plan.notebook, {**plan.fixed, **c}, plan.output(c)) for c in todo]
    for _, result in execute_many(plans, jobs, run=_run_combination):
        yield result


def clean_partial(out_dir: Path) -> int:
    """Remove `.part` files left by an interrupted sweep; returns how many."""
    parts = list((out_dir / "runs").glob("*.part")) if (out_dir / "runs").is_dir() else []
    for p in parts:
        p.unlink()
    for name in ("results.csv.part", "results.png.part"):
        (out_dir / name).unlink(missing_ok=True)
    return len(parts)
