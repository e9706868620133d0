"""`course run`, `course params` and `course sweep`: the notebooks, headless."""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from course import BUILD_DIR, inputs
from course.commands import (
    command,
    make_folder,
    notebooks_argument,
    scheduler_options,
    scheduler_problems,
    values_options,
)
from course.executors import Dask, Local, executor_for
from course.runner import (
    RunResult,
    UsageError,
    duplicate_problems,
    key_results,
    profiles,
    resolve_parameters,
    stated_budget,
)
from course.sweep import (
    SweepPlan,
    clean_partial,
    default_jobs,
    folder_problems,
    grid_combinations,
    plot_sweep,
    run_id,
    sweep_rows,
    write_csv,
)
from helpers.display import format_table, shorten
from helpers.params import ParameterError, notebook_spec, short, validate_values
from helpers.paths import notebook_path, notebook_paths

# --- course params ------------------------------------------------------------------------------


def params_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook")


@command("params", "list a notebook's parameters and profiles", params_arguments)
def cmd_params(args: argparse.Namespace) -> int:
    path = notebook_path(args.notebook)
    spec = notebook_spec(path)
    rows = [
        [p.name, p.type, repr(p.default), p.allowed().split(" in ", 1)[1] if " in " in p.allowed() else "any", p.doc]
        for p in spec.values()
    ]
    print(f"{path.stem}: parameters (from its `parameters` cell)\n")
    print(format_table(["name", "type", "default", "allowed", "meaning"], rows))
    print("\nprofiles (notebooks/profiles.yaml):")
    for name, values in profiles(path.stem).items():
        print(f"  {name:<10} {', '.join(f'{k}={v!r}' for k, v in values.items()) or 'the defaults above'}")
    return 0


# --- course run ---------------------------------------------------------------------------------


def run_arguments(parser: argparse.ArgumentParser) -> None:
    notebooks_argument(parser, "all, in order")
    values_options(parser)
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="folder for executed copies (default: build/)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="notebooks run at once, each in its own process (default: 1)"
    )
    scheduler_options(parser)


def run_plans(args: argparse.Namespace) -> tuple[list[tuple[Path, dict[str, Any]]], int]:
    """Every notebook with its checked parameters, and the jobs to run them with; or every problem
    at once (ParameterError), before any kernel starts."""
    paths = [notebook_path(n) for n in args.notebooks] or notebook_paths()
    file_values, problems = inputs.file_values(args.file)
    cli_values, more = inputs.cli_values(args.parameter)
    problems += more + inputs.out_problems(args.out) + scheduler_problems(args) + duplicate_problems(paths)
    if args.jobs < 1:
        problems.append(f"--jobs {args.jobs}: expected at least 1")
    plans = []
    for p in paths:
        try:
            plans.append((p, resolve_parameters(p, args.profile, file_values, cli_values)))
        except (ParameterError, UsageError) as err:
            problems += [f"{p.stem}: {line}" if len(paths) > 1 else line for line in str(err).splitlines()]
    if problems:
        raise ParameterError("\n".join(problems))
    return plans, min(max(args.jobs, 1), os.cpu_count() or 1, len(paths))  # bounded by the cores


def execute_plans(executor: Local | Dask, plans: list, out_dir: Path) -> list[RunResult] | None:
    """Run the plans, printing each as it ends; None when interrupted."""
    if isinstance(executor, Dask) or executor.jobs > 1:
        print(f"running {len(plans)} notebooks {executor.where}", flush=True)
    finished = executor.run_many([(p, params, out_dir / p.name) for p, params in plans])
    by_index: dict[int, RunResult] = {}
    try:
        for done, (k, result) in enumerate(finished, 1):
            by_index[k] = result
            error = f"  {result.error}" if result.error else ""
            print(
                f"[{done}/{len(plans)}] {result.notebook} ... {result.status} {result.seconds:.1f} s{error}", flush=True
            )
    except KeyboardInterrupt:
        for path, _ in plans:
            (out_dir / (path.name + ".part")).unlink(missing_ok=True)
        print(f"\ninterrupted after {len(by_index)} of {len(plans)} notebooks; unfinished copies removed", flush=True)
        return None
    return [by_index[k] for k in sorted(by_index)]


def against_budget(result: RunResult, timed_alone: bool) -> str:
    """The title cell's promised run time, checked (only for one notebook at a time, teaching size)."""
    if not timed_alone or result.parameters or not result.output.exists():
        return ""
    budget = stated_budget(result.output)
    if budget is None:
        return ""
    return f"≤ {budget:.0f} ✓" if result.seconds <= budget else f"OVER {budget:.0f}"


def run_table(results: list[RunResult], timed_alone: bool) -> str:
    """One row per notebook: parameters, status, seconds, the stated budget and the key results."""
    rows = [
        [
            r.notebook,
            ", ".join(f"{k}={shorten(v, 14)}" for k, v in r.parameters.items()) or "defaults",
            r.status,
            round(r.seconds, 1),
            against_budget(r, timed_alone),
            r.error[:60] if r.error else key_results(r.records),
        ]
        for r in results
    ]
    headers = ["notebook", "parameters", "status", "seconds", "stated", "key results / error"]
    return format_table(headers, rows, floatfmt=".1f")


@command("run", "execute notebooks (default: all, in order)", run_arguments)
def cmd_run(args: argparse.Namespace) -> int:
    plans, jobs = run_plans(args)
    out_dir = args.out.resolve()
    make_folder(out_dir)
    start = time.perf_counter()
    executor = executor_for(jobs, args.scheduler, args.scheduler_file)
    results = execute_plans(executor, plans, out_dir)
    if results is None:
        return 130
    timed_alone = executor == Local(1)
    print("\n" + run_table(results, timed_alone))
    print(
        f"\n{len(results)} notebooks in {time.perf_counter() - start:.1f} s wall time "
        f"({sum(r.seconds for r in results):.1f} s of notebook time); executed copies in {out_dir}"
    )
    return 0 if all(r.status == "ok" for r in results) else 1


# --- course sweep -------------------------------------------------------------------------------


def sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook")
    parser.add_argument(
        "--grid", action="append", default=[], required=True, metavar="NAME=V1,V2,...",
        help="values to sweep for one parameter; repeat for more",
    )  # fmt: skip
    values_options(parser)
    jobs = default_jobs()
    parser.add_argument("--jobs", type=int, default=jobs, help=f"runs at once (default {jobs}, at most the cores)")
    parser.add_argument("--out", type=Path, help="sweep folder (default: build/sweeps/NOTEBOOK)")
    parser.add_argument("--y", help="record to plot (default: the first numeric one)")
    scheduler_options(parser)
    parser.add_argument("--large", action="store_true", help=f"allow more than {inputs.MAX_GRID:,} combinations")


def grid_problems(path: Path, grid: dict[str, list[Any]], args: argparse.Namespace) -> list[str]:
    """The grid's size, every grid value against its range (the notebook read once), and --y."""
    problems = []
    size = inputs.grid_size(grid)
    if size > inputs.MAX_GRID and not args.large:
        problems.append(f"the grid has {size:,} combinations (over {inputs.MAX_GRID:,}); add --large if you mean it")
    if args.y is not None and args.y not in (recorded := inputs.recorded_names(path)):
        names = ", ".join(sorted(recorded)) or "nothing"
        problems.append(f"--y {args.y}: {path.stem} records no such result; it records {names}")
    spec = notebook_spec(path)
    for name, values in grid.items():
        for value in values:
            try:
                validate_values(spec, {name: value})
            except ParameterError as err:
                problems += [line for line in str(err).splitlines() if line not in problems]
    return problems


def sweep_plan(args: argparse.Namespace, path: Path, out_dir: Path) -> tuple[dict, dict, int]:
    """The grid, the fixed values and the jobs; or every problem at once (ParameterError)."""
    grid, problems = inputs.grid_values(args.grid)
    file_values, more = inputs.file_values(args.file)
    cli_values, more2 = inputs.cli_values(args.parameter)
    problems += more + more2 + inputs.out_problems(out_dir) + scheduler_problems(args)
    problems += [f"{short(n)} is given both by -p and by --grid: give it in one place" for n in grid if n in cli_values]
    if args.jobs < 1:
        problems.append(f"--jobs {args.jobs}: expected at least 1")
    try:  # the fixed values, then every grid value once (parameters are checked one by one)
        fixed = resolve_parameters(path, args.profile, file_values, cli_values)
    except (ParameterError, UsageError) as err:
        problems += str(err).splitlines()
        fixed = {}
    problems += [line for line in grid_problems(path, grid, args) if line not in problems]
    if problems:
        raise ParameterError("\n".join(problems))
    jobs = min(max(args.jobs, 1), os.cpu_count() or 1)  # bounded by the cores
    return grid, {k: v for k, v in fixed.items() if k not in grid}, jobs


@command("sweep", "run every combination of a grid of parameter values", sweep_arguments)
def cmd_sweep(args: argparse.Namespace) -> int:
    path = notebook_path(args.notebook)
    out_dir = (args.out or BUILD_DIR / "sweeps" / path.stem).resolve()
    grid, fixed, jobs = sweep_plan(args, path, out_dir)
    if problems := folder_problems(out_dir):
        raise UsageError("\n".join(problems))
    make_folder(out_dir)
    with inputs.FolderLock(out_dir) as lock:
        if lock.stale_pid:
            print(
                f"a sweep into this folder (process {lock.stale_pid}) was killed before it finished; "
                "its unfinished files are removed, its finished runs kept",
                flush=True,
            )
        return run_sweep(args, path, grid, jobs, out_dir, fixed, grid_combinations(grid))


def collect(results, grid: dict[str, list[Any]], done_before: int, total: int) -> bool:
    """Print each run as it ends; True when Ctrl-C (or SIGTERM) stopped the sweep. A run that
    ended because of Ctrl-C is not a result: its file is removed."""
    ctrl_c = {"pressed": False}

    def on_sigint(signum, frame):  # remember Ctrl-C even if a library swallows the KeyboardInterrupt
        ctrl_c["pressed"] = True
        raise KeyboardInterrupt

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        for finished, result in enumerate(results, 1):
            if ctrl_c["pressed"]:
                if result.status != "ok" and result.output.exists():
                    result.output.unlink()
                raise KeyboardInterrupt
            label = run_id({k: result.parameters[k] for k in grid})
            error = f"  {result.error}" if result.error else ""
            print(
                f"[{done_before + finished}/{total}] {label}: {result.status} {result.seconds:.1f} s{error}", flush=True
            )
    except KeyboardInterrupt:
        return True
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    return False


def report_sweep(plan: SweepPlan, grid: dict, out_dir: Path, y: str | None, seconds: float) -> bool:
    """Write results.csv and the plot from every run on disk; print where they are. True when every
    combination ran and none failed."""
    rows = sweep_rows(plan)
    write_csv(rows, out_dir / "results.csv")
    plotted = plot_sweep(rows, grid, out_dir / "results.png", y)
    failed = [r for r in rows if r["status"] != "ok"]
    print(
        f"\n{len(rows)} of {len(plan.combinations)} runs on disk ({len(rows) - len(failed)} ok, {len(failed)} failed) "
        f"in {out_dir}; this call took {seconds:.1f} s"
    )
    print(f"table: {out_dir / 'results.csv'}" + (f"; plot of {plotted}: {out_dir / 'results.png'}" if plotted else ""))
    for r in failed:
        print(f"  failed {run_id({k: r[k] for k in grid})}: {r['error']}")
    return not failed and len(rows) == len(plan.combinations)


def run_sweep(
    args: argparse.Namespace,
    path: Path,
    grid: dict[str, list[Any]],
    jobs: int,
    out_dir: Path,
    fixed: dict[str, Any],
    combinations: list[dict[str, Any]],
) -> int:
    """The sweep itself, once everything is checked and the folder is locked."""
    plan = SweepPlan(path, out_dir, fixed, combinations)
    removed = clean_partial(out_dir)
    todo = [c for c in combinations if not plan.done(c)]
    kept = len(combinations) - len(todo)
    executor = executor_for(jobs, args.scheduler, args.scheduler_file)
    print(
        f"sweep {path.stem}: {len(combinations)} combinations of {', '.join(grid)}; "
        f"{kept} already done (kept), {len(todo)} to run {executor.where}"
        + (f"; removed {removed} unfinished file(s)" if removed else ""),
        flush=True,
    )
    start = time.perf_counter()
    results = executor.sweep(plan, todo)
    interrupted = collect(results, grid, kept, len(combinations))
    if interrupted:
        clean_partial(out_dir)
        print("\ninterrupted: finished runs are kept; run the same command again to do the rest", flush=True)
    all_ok = report_sweep(plan, grid, out_dir, args.y, time.perf_counter() - start)
    return 130 if interrupted else (0 if all_ok else 1)
