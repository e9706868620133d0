"""`course`: run, inspect and sweep the course notebooks headless.

    course run [NOTEBOOK ...] [-p NAME VALUE ...] [-f params.yaml] [--profile NAME] [--out DIR]
    course params NOTEBOOK
    course sweep NOTEBOOK --grid NAME=V1,V2 [--grid ...] [-p ...] [-f ...] [--profile NAME] [--jobs N] [--out DIR]

NOTEBOOK is a file name, a stem (`02_gradient_descent_by_hand`) or a number (`02`). Values follow
papermill's `-p` rules (True/False/None, int, float, else text); a list is written `"[1, 2]"`.
Bad input - an unknown notebook, profile or parameter name, a wrong type, an out-of-range value -
is rejected with exit status 2 and one line per problem, before any kernel starts. Also available
as `python -m helpers`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from helpers.display import format_table
from helpers.params import ParameterError, notebook_spec
from helpers.paths import BUILD_DIR, notebook_path, notebook_paths
from helpers.runner import (SweepPlan, UsageError, clean_partial, default_jobs, execute,
                            grid_combinations, iter_results, key_results, parse_cli_value,
                            plot_sweep, profiles, resolve_parameters, run_id, short, sweep_rows,
                            write_csv)


def _file_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"cannot read parameters file {path}: {err}") from None
    if not isinstance(values, dict):
        raise UsageError(f"parameters file {path} must map names to values")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Run `course COMMAND --help` for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_values(p: argparse.ArgumentParser) -> None:
        p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="set a parameter; repeatable")
        p.add_argument("-f", "--file", help="YAML file of parameters (name: value)")
        p.add_argument("--profile", default="teaching", help="named parameter set (default: teaching)")

    run = sub.add_parser("run", help="execute notebooks (default: all, in order)")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all)")
    add_values(run)
    run.add_argument("--out", type=Path, default=BUILD_DIR, help="folder for executed copies (default: build/)")

    params = sub.add_parser("params", help="list a notebook's parameters and profiles")
    params.add_argument("notebook")

    sweep = sub.add_parser("sweep", help="run every combination of a grid of parameter values")
    sweep.add_argument("notebook")
    sweep.add_argument("--grid", action="append", default=[], required=True, metavar="NAME=V1,V2,...",
                       help="values to sweep for one parameter; repeat for more")
    add_values(sweep)
    sweep.add_argument("--jobs", type=int, default=default_jobs(),
                       help=f"runs at once (default {default_jobs()}, at most the number of cores)")
    sweep.add_argument("--out", type=Path, help="sweep folder (default: build/sweeps/NOTEBOOK)")
    sweep.add_argument("--y", help="record to plot (default: the first numeric one)")
    return parser


def cmd_params(args: argparse.Namespace) -> int:
    path = notebook_path(args.notebook)
    spec = notebook_spec(path)
    rows = [[p.name, p.type, repr(p.default), p.allowed().split(" in ", 1)[1] if " in " in p.allowed() else "any",
             p.doc] for p in spec.values()]
    print(f"{path.stem}: parameters (from its `parameters` cell)\n")
    print(format_table(["name", "type", "default", "allowed", "meaning"], rows))
    print("\nprofiles (notebooks/profiles.yaml):")
    for name, values in profiles(path.stem).items():
        print(f"  {name:<10} {', '.join(f'{k}={v!r}' for k, v in values.items()) or 'the defaults above'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    paths = [notebook_path(n) for n in args.notebooks] or notebook_paths()
    file_values = _file_values(args.file)
    cli_values = {name: parse_cli_value(value) for name, value in args.parameter}
    plans = [(p, resolve_parameters(p, args.profile, file_values, cli_values)) for p in paths]
    out_dir = args.out.resolve()
    results = []
    for k, (path, parameters) in enumerate(plans, 1):
        print(f"[{k}/{len(plans)}] {path.stem} ...", end=" ", flush=True)
        result = execute(path, parameters, out_dir / path.name)
        print(f"{result.status} {result.seconds:.1f} s" + (f"  {result.error}" if result.error else ""), flush=True)
        results.append(result)
    rows = [[r.notebook, ", ".join(f"{k}={short(v)}" for k, v in r.parameters.items()) or "defaults", r.status,
             round(r.seconds, 1), r.error[:60] if r.error else key_results(r.records)] for r in results]
    print()
    print(format_table(["notebook", "parameters", "status", "seconds", "key results / error"], rows, floatfmt=".1f"))
    print(f"\n{len(results)} notebooks in {sum(r.seconds for r in results):.1f} s; executed copies in {out_dir}")
    return 0 if all(r.status == "ok" for r in results) else 1


def _grid(specs: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in specs:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise UsageError(f"--grid {item!r}: expected NAME=V1,V2,...")
        if name in grid:
            raise UsageError(f"--grid names {name} twice")
        grid[name] = [parse_cli_value(v.strip()) for v in values.split(",")]
    return grid


def cmd_sweep(args: argparse.Namespace) -> int:
    path = notebook_path(args.notebook)
    grid = _grid(args.grid)
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: expected at least 1")
    jobs = min(args.jobs, os.cpu_count() or 1)  # bounded by the cores
    file_values = _file_values(args.file)
    cli_values = {name: parse_cli_value(value) for name, value in args.parameter}
    fixed = resolve_parameters(path, args.profile, file_values, cli_values)
    combinations = grid_combinations(grid)
    problems = []
    for combination in combinations:  # every combination is checked before anything runs
        try:
            resolve_parameters(path, args.profile, file_values, {**cli_values, **combination})
        except ParameterError as err:
            problems += [line for line in str(err).splitlines() if line not in problems]
    if problems:
        raise ParameterError("\n".join(problems))
    fixed = {k: v for k, v in fixed.items() if k not in grid}
    out_dir = (args.out or BUILD_DIR / "sweeps" / path.stem).resolve()
    plan = SweepPlan(path, out_dir, fixed, combinations)
    removed = clean_partial(out_dir)
    todo = [c for c in combinations if not plan.done(c)]
    kept = len(combinations) - len(todo)
    print(f"sweep {path.stem}: {len(combinations)} combinations of {', '.join(grid)}; "
          f"{kept} already done (kept), {len(todo)} to run with {jobs} job(s)"
          + (f"; removed {removed} unfinished file(s)" if removed else ""), flush=True)
    start, interrupted, finished = time.perf_counter(), False, 0
    ctrl_c = {"pressed": False}

    def on_sigint(signum, frame):  # remember Ctrl-C even if a library swallows the KeyboardInterrupt
        ctrl_c["pressed"] = True
        raise KeyboardInterrupt

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        for result in iter_results(plan, todo, jobs):
            if ctrl_c["pressed"]:  # a run that ended because of Ctrl-C is not a result
                if result.status != "ok" and result.output.exists():
                    result.output.unlink()
                raise KeyboardInterrupt
            finished += 1
            label = run_id({k: result.parameters[k] for k in grid})
            print(f"[{kept + finished}/{len(combinations)}] {label}: {result.status} {result.seconds:.1f} s"
                  + (f"  {result.error}" if result.error else ""), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        clean_partial(out_dir)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        print("\ninterrupted: finished runs are kept; run the same command again to do the rest", flush=True)
    rows = sweep_rows(plan)
    write_csv(rows, out_dir / "results.csv")
    plotted = plot_sweep(rows, grid, out_dir / "results.png", args.y)
    failed = [r for r in rows if r["status"] != "ok"]
    print(f"\n{len(rows)} of {len(combinations)} runs on disk ({len(rows) - len(failed)} ok, {len(failed)} failed) "
          f"in {out_dir}; this call took {time.perf_counter() - start:.1f} s")
    print(f"table: {out_dir / 'results.csv'}" + (f"; plot of {plotted}: {out_dir / 'results.png'}" if plotted else ""))
    for r in failed:
        print(f"  failed {r['run']}: {r['error']}")
    if interrupted:
        return 130
    return 0 if not failed and len(rows) == len(combinations) else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {"run": cmd_run, "params": cmd_params, "sweep": cmd_sweep}[args.command]
    try:
        return command(args)
    except (UsageError, ParameterError, FileNotFoundError) as err:
        for line in str(err).splitlines():
            print(f"course {args.command}: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
