"""`course`: run, inspect, sweep and look after the course notebooks.

    course run [NOTEBOOK ...] [-p NAME VALUE ...] [-f params.yaml] [--profile NAME] [--jobs N] [--out DIR]
    course params NOTEBOOK
    course sweep NOTEBOOK --grid NAME=V1,V2 [--grid ...] [-p ...] [-f ...] [--profile NAME] [--jobs N] [--out DIR]
                 [--scheduler ADDRESS|local[:N] | --scheduler-file FILE] [--large] [--y RESULT]
    course tidy [--check]          slide metadata, navigation, glossary links, tidy metadata
    course refresh [NOTEBOOK ...]  re-execute notebooks in place (their stored outputs)
    course student [--out DIR] [--reset NOTEBOOK ...]   the student edition (no solutions); your edits are kept
    course slides [--out DIR]      reveal.js decks that work offline
    course check-slides [--out DIR] [--shots DIR]   build the decks, then measure every slide in Chromium
    course setup-browser           install Debian's chromium and CJK fonts once (root)
    course pretrain [--steps N] [--out DIR]   Part IV's pretrained checkpoints (data/pretrained/), with provenance
    course pretrain-more [--steps N] [--out DIR]   Part IV: more pretraining, two ways (results/pretrain_more.json)
    course finetune-all [--epochs N] [--max-len L] [--out DIR]   Part IV: every start fine-tuned on every review
    course peft [--seeds N] [--updates N] [--max-len L] [--out DIR]   notebook 11's comparison (results/peft.json)
    course results-full [NOTEBOOK ...]   full-size runs (default Part III; 10 for Part IV): results/full_size.json
    course bench {runner,classroom,tests}   benchmarks that print figures
    course site [--out DIR]        the course as a static website in build/site/ (offline)

NOTEBOOK is a file name, a stem (`02_gradient_descent_by_hand`) or a number (`02`). Values follow
papermill's `-p` rules (True/False/None, int, float, else text); a list is written `"[1, 2]"`.
Bad input - an unknown notebook, profile or parameter name, a wrong type, an out-of-range value -
is rejected with exit status 2 and one line per problem, before any kernel starts. Also available
as `python -m course`.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from course import BUILD_DIR, inputs, studies
from course.runner import (
    UsageError,
    duplicate_problems,
    execute_many,
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
    iter_results,
    plot_sweep,
    run_id,
    sweep_rows,
    write_csv,
)
from helpers.display import format_table, shorten
from helpers.params import ParameterError, SpecError, notebook_spec, short, validate_values
from helpers.paths import notebook_path, notebook_paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `course COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_values(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-p",
            "--parameter",
            nargs=2,
            action="append",
            default=[],
            metavar=("NAME", "VALUE"),
            help="set a parameter; repeatable",
        )
        p.add_argument("-f", "--file", action="append", help="YAML file of parameters (name: value); at most one")
        p.add_argument("--profile", default="teaching", help="named parameter set (default: teaching)")

    run = sub.add_parser("run", help="execute notebooks (default: all, in order)")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all)")
    add_values(run)
    run.add_argument("--out", type=Path, default=BUILD_DIR, help="folder for executed copies (default: build/)")
    run.add_argument("--jobs", type=int, default=1, help="notebooks run at once, each in its own process (default: 1)")
    run.add_argument("--scheduler", help="run on Dask: tcp://host:port, tls://..., or local[:N] for a LocalCluster")
    run.add_argument("--scheduler-file", help="run on the Dask scheduler described in this file")

    params = sub.add_parser("params", help="list a notebook's parameters and profiles")
    params.add_argument("notebook")

    sweep = sub.add_parser("sweep", help="run every combination of a grid of parameter values")
    sweep.add_argument("notebook")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        required=True,
        metavar="NAME=V1,V2,...",
        help="values to sweep for one parameter; repeat for more",
    )
    add_values(sweep)
    sweep.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help=f"runs at once (default {default_jobs()}, at most the number of cores)",
    )
    sweep.add_argument("--out", type=Path, help="sweep folder (default: build/sweeps/NOTEBOOK)")
    sweep.add_argument("--y", help="record to plot (default: the first numeric one)")
    sweep.add_argument(
        "--scheduler",
        help="run on Dask: a scheduler address (tcp://host:8786, tls://...) or local[:N] for a LocalCluster",
    )
    sweep.add_argument("--scheduler-file", help="run on the Dask scheduler described in this file (HPC launchers)")
    sweep.add_argument(
        "--large", action="store_true", help=f"allow a grid of more than {inputs.MAX_GRID:,} combinations"
    )

    tidy = sub.add_parser("tidy", help="regenerate slide metadata, navigation, glossary links; tidy metadata")
    tidy.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    refresh = sub.add_parser("refresh", help="re-execute notebooks in place, then tidy them")
    refresh.add_argument("notebooks", nargs="*", help="notebooks to refresh (default: all)")
    student = sub.add_parser("student", help="build the student edition")
    student.add_argument("--out", type=Path, default=None, help="folder (default: student/, kept by make clean)")
    student.add_argument(
        "--reset",
        nargs="+",
        default=[],
        metavar="NOTEBOOK",
        help="a fresh copy of these notebooks; your copy is moved to backups/ first, never deleted",
    )
    slides = sub.add_parser("slides", help="build reveal.js decks of every notebook")
    slides.add_argument("--out", type=Path, default=BUILD_DIR / "slides", help="folder (default: build/slides/)")
    check = sub.add_parser("check-slides", help="build the decks and check every slide fits 1280x800 in Chromium")
    check.add_argument("--out", type=Path, default=BUILD_DIR / "slides", help="folder (default: build/slides/)")
    check.add_argument(
        "--shots", type=Path, default=BUILD_DIR / "screenshots", help="each deck's tallest slide (build/screenshots/)"
    )
    pre = sub.add_parser("pretrain", help="pretrain Part IV's three checkpoints into data/pretrained/")
    pre.add_argument("--steps", type=int, default=None, help="updates per objective (default: PretrainConfig's)")
    pre.add_argument("--out", type=Path, default=None, help="folder (default: data/pretrained/)")
    for name, (config, _) in studies.STUDIES.items():  # each study's options come from its config
        study = sub.add_parser(name, help=config.help)
        for f in studies.options(config):
            study.add_argument(
                f.metadata["flag"], type=int, default=None, help=f"{f.metadata['help']} (default: {f.default})"
            )
        file = config.results.name
        study.add_argument(
            "--out",
            type=Path,
            default=None,
            help=f"another folder for {file}, outside the course's own (default: results/)",
        )
    sub.add_parser("setup-browser", help="install Debian's chromium and CJK fonts if missing (root)")
    full = sub.add_parser(
        "results-full",
        help="run notebooks with their full profile into results/full_size.json (default: Part III; `10` for Part IV)",
    )
    full.add_argument("notebooks", nargs="*", help="notebooks (default: 06 07 08)")
    full.add_argument("--scheduler", help="run them on Dask: tcp://host:port, tls://..., or local[:N]")
    full.add_argument("--scheduler-file", help="run them on the Dask scheduler described in this file")
    from course import site  # the website: its parser and command live in course/site.py

    site.add_parser(sub)
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench.add_argument("which", choices=["runner", "classroom", "tests"])
    return parser


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


def cmd_run(args: argparse.Namespace) -> int:
    paths = [notebook_path(n) for n in args.notebooks] or notebook_paths()
    file_values, problems = inputs.file_values(args.file)
    cli_values, more = inputs.cli_values(args.parameter)
    problems += more + inputs.out_problems(args.out) + _scheduler_problems(args) + duplicate_problems(paths)
    if args.jobs < 1:
        problems.append(f"--jobs {args.jobs}: expected at least 1")
    jobs = min(max(args.jobs, 1), os.cpu_count() or 1, len(paths))  # bounded by the cores
    plans = []
    for p in paths:
        try:
            plans.append((p, resolve_parameters(p, args.profile, file_values, cli_values)))
        except (ParameterError, UsageError) as err:
            problems += [f"{p.stem}: {line}" if len(paths) > 1 else line for line in str(err).splitlines()]
    if problems:
        raise ParameterError("\n".join(problems))
    out_dir = args.out.resolve()
    _make_folder(out_dir)
    by_index: dict[int, Any] = {}
    start = time.perf_counter()
    on_dask = args.scheduler or args.scheduler_file
    if on_dask:
        from course.cluster import run_many_on_cluster

        print(f"running {len(plans)} notebooks on Dask ({on_dask})", flush=True)
        finished = run_many_on_cluster(
            [(p, params, lambda failed, p=p: out_dir / p.name) for p, params in plans],
            args.scheduler,
            args.scheduler_file,
        )
    else:
        if jobs > 1:
            print(f"running {len(plans)} notebooks, {jobs} at a time", flush=True)
        finished = execute_many([(p, params, out_dir / p.name) for p, params in plans], jobs)
    try:
        for done, (k, result) in enumerate(finished, 1):
            by_index[k] = result
            print(
                f"[{done}/{len(plans)}] {result.notebook} ... {result.status} {result.seconds:.1f} s"
                + (f"  {result.error}" if result.error else ""),
                flush=True,
            )
    except KeyboardInterrupt:
        for path, _ in plans:
            (out_dir / (path.name + ".part")).unlink(missing_ok=True)
        print(f"\ninterrupted after {len(by_index)} of {len(plans)} notebooks; unfinished copies removed", flush=True)
        return 130
    results = [by_index[k] for k in sorted(by_index)]

    def against_budget(r: Any) -> str:  # the title cell's promise, checked at the teaching size
        if jobs > 1 or on_dask or r.parameters:  # the budgets assume one notebook at a time, teaching size
            return ""
        budget = stated_budget(r.output) if r.output.exists() else None
        if budget is None:
            return ""
        return f"≤ {budget:.0f} ✓" if r.seconds <= budget else f"OVER {budget:.0f}"

    rows = [
        [
            r.notebook,
            ", ".join(f"{k}={shorten(v, 14)}" for k, v in r.parameters.items()) or "defaults",
            r.status,
            round(r.seconds, 1),
            against_budget(r),
            r.error[:60] if r.error else key_results(r.records),
        ]
        for r in results
    ]
    print()
    headers = ["notebook", "parameters", "status", "seconds", "stated", "key results / error"]
    print(format_table(headers, rows, floatfmt=".1f"))
    print(
        f"\n{len(results)} notebooks in {time.perf_counter() - start:.1f} s wall time "
        f"({sum(r.seconds for r in results):.1f} s of notebook time); executed copies in {out_dir}"
    )
    return 0 if all(r.status == "ok" for r in results) else 1


def _scheduler_problems(args: argparse.Namespace) -> list[str]:
    from course.cluster import scheduler_problems

    return scheduler_problems(args.scheduler, args.scheduler_file)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {folder}: cannot create it ({err.strerror or err})") from None


def cmd_sweep(args: argparse.Namespace) -> int:
    path = notebook_path(args.notebook)
    grid, problems = inputs.grid_values(args.grid)
    file_values, more = inputs.file_values(args.file)
    cli_values, more2 = inputs.cli_values(args.parameter)
    out_dir = (args.out or BUILD_DIR / "sweeps" / path.stem).resolve()
    problems += more + more2 + inputs.out_problems(out_dir)
    problems += [
        f"{short(name)} is given both by -p and by --grid: give it in one place" for name in grid if name in cli_values
    ]
    if args.jobs < 1:
        problems.append(f"--jobs {args.jobs}: expected at least 1")
    jobs = min(max(args.jobs, 1), os.cpu_count() or 1)  # bounded by the cores
    problems += _scheduler_problems(args)
    size = inputs.grid_size(grid)
    if size > inputs.MAX_GRID and not args.large:
        problems.append(f"the grid has {size:,} combinations (over {inputs.MAX_GRID:,}); add --large if you mean it")
    if args.y is not None:
        recorded = inputs.recorded_names(path)
        if args.y not in recorded:
            problems.append(
                f"--y {args.y}: {path.stem} records no such result; "
                f"it records {', '.join(sorted(recorded)) or 'nothing'}"
            )
    try:  # the fixed values, then every grid value once (parameters are checked one by one)
        fixed = resolve_parameters(path, args.profile, file_values, cli_values)
    except (ParameterError, UsageError) as err:
        problems += str(err).splitlines()
        fixed = {}
    spec = notebook_spec(path)  # read once, not once per grid value
    for name, values in grid.items():
        for value in values:
            try:
                validate_values(spec, {name: value})
            except ParameterError as err:
                problems += [line for line in str(err).splitlines() if line not in problems]
    if problems:
        raise ParameterError("\n".join(problems))
    combinations = grid_combinations(grid)
    fixed = {k: v for k, v in fixed.items() if k not in grid}
    if problems := folder_problems(out_dir):
        raise UsageError("\n".join(problems))
    _make_folder(out_dir)
    with inputs.FolderLock(out_dir) as lock:
        if lock.stale_pid:
            print(
                f"a sweep into this folder (process {lock.stale_pid}) was killed before it finished; "
                "its unfinished files are removed, its finished runs kept",
                flush=True,
            )
        return _run_sweep(args, path, grid, jobs, out_dir, fixed, combinations)


def _run_sweep(
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
    print(
        f"sweep {path.stem}: {len(combinations)} combinations of {', '.join(grid)}; "
        f"{kept} already done (kept), {len(todo)} to run "
        + (
            f"on Dask ({args.scheduler or args.scheduler_file})"
            if args.scheduler or args.scheduler_file
            else f"with {jobs} job(s)"
        )
        + (f"; removed {removed} unfinished file(s)" if removed else ""),
        flush=True,
    )
    start, interrupted, finished = time.perf_counter(), False, 0
    ctrl_c = {"pressed": False}

    def on_sigint(signum, frame):  # remember Ctrl-C even if a library swallows the KeyboardInterrupt
        ctrl_c["pressed"] = True
        raise KeyboardInterrupt

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        if args.scheduler or args.scheduler_file:
            from course.cluster import iter_results_on_cluster

            results = iter_results_on_cluster(plan, todo, args.scheduler, args.scheduler_file)
        else:
            results = iter_results(plan, todo, jobs)
        for result in results:
            if ctrl_c["pressed"]:  # a run that ended because of Ctrl-C is not a result
                if result.status != "ok" and result.output.exists():
                    result.output.unlink()
                raise KeyboardInterrupt
            finished += 1
            label = run_id({k: result.parameters[k] for k in grid})
            print(
                f"[{kept + finished}/{len(combinations)}] {label}: {result.status} {result.seconds:.1f} s"
                + (f"  {result.error}" if result.error else ""),
                flush=True,
            )
    except KeyboardInterrupt:
        interrupted = True
        clean_partial(out_dir)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if interrupted:
        print("\ninterrupted: finished runs are kept; run the same command again to do the rest", flush=True)
    rows = sweep_rows(plan)
    write_csv(rows, out_dir / "results.csv")
    plotted = plot_sweep(rows, grid, out_dir / "results.png", args.y)
    failed = [r for r in rows if r["status"] != "ok"]
    print(
        f"\n{len(rows)} of {len(combinations)} runs on disk ({len(rows) - len(failed)} ok, {len(failed)} failed) "
        f"in {out_dir}; this call took {time.perf_counter() - start:.1f} s"
    )
    print(f"table: {out_dir / 'results.csv'}" + (f"; plot of {plotted}: {out_dir / 'results.png'}" if plotted else ""))
    for r in failed:
        print(f"  failed {run_id({k: r[k] for k in grid})}: {r['error']}")
    if interrupted:
        return 130
    return 0 if not failed and len(rows) == len(combinations) else 1


def cmd_tidy(args: argparse.Namespace) -> int:
    """Every generator, in order; with --check, what each would change (exit 1 if anything)."""
    from course import glossary, nav, notebooks, slides

    changed = [
        *slides.annotate_all(args.check),
        *nav.update_all(args.check),
        *glossary.run(args.check),
        *notebooks.tidy_all(args.check),
    ]
    for name in dict.fromkeys(changed):
        print(f"{'out of date' if args.check else 'updated'}: {name}")
    if args.check and changed:
        print("run `make tidy` (course tidy) to update them")
    return 1 if args.check and changed else 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from course import notebooks

    notebooks.refresh_all(args.notebooks)
    return cmd_tidy(argparse.Namespace(check=False))


def cmd_student(args: argparse.Namespace) -> int:
    from course import student

    out = args.out or student.DEFAULT_OUT
    if problems := inputs.out_problems(out):
        raise UsageError(problems[0])
    try:
        student.reset_names(args.reset)
    except FileNotFoundError as error:
        raise UsageError(f"--reset: {error}") from None
    start = time.perf_counter()
    edition = student.build(out, reset=args.reset)
    if edition.moved_from:
        print(f"moved your earlier edition from {edition.moved_from} to {out}, where make clean never reaches it")
    for path in edition.backed_up:
        print(f"your earlier copy is kept in {path}; a fresh copy took its place")
    if edition.kept:
        names = ", ".join(p.name for p in edition.kept)
        first = edition.kept[0].name.split("_", 1)[0]
        print(f"kept your work (not overwritten): {names}; a fresh copy of one: make student RESET={first}")
    seconds = time.perf_counter() - start
    counts = f"{len(edition.written)} files written, {len(edition.kept)} of yours kept"
    print(f"student edition in {out}: {counts} ({seconds:.1f} s)")
    return 0


def cmd_slides(args: argparse.Namespace) -> int:
    from course import slides

    if problems := inputs.out_problems(args.out):
        raise UsageError(problems[0])
    start = time.perf_counter()
    decks = slides.build(args.out)
    print(
        f"slides: {len(decks)} decks in {args.out} ({time.perf_counter() - start:.1f} s); "
        f"open {decks[0]} in a browser (arrow keys; 's' opens the speaker notes)"
    )
    return 0


def cmd_check_slides(args: argparse.Namespace) -> int:
    from course import browser, layout, slides

    for folder in (args.out, args.shots):
        if problems := inputs.out_problems(folder):
            raise UsageError(problems[0])
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        raise UsageError(str(error)) from None
    start = time.perf_counter()
    decks = slides.build(args.out)
    print(f"built {len(decks)} decks in {time.perf_counter() - start:.1f} s; measuring every slide at 1280x800 ...")
    reports = layout.check_all(decks, "deck", args.shots)
    for r in reports:
        verdict = "fits" if not r.problems else f"{len(r.problems)} problem(s)"
        print(f"  {r.name:48} {r.slides:3} slides  tallest {r.tallest:4.0f} px  {verdict}  ({r.seconds:.1f} s)")
        for problem in r.problems:
            print(f"      {problem}")
    bad = sum(bool(r.problems) for r in reports)
    print(
        f"{'all decks fit' if not bad else f'{bad} deck(s) with problems'}; tallest slides in {args.shots} "
        f"({time.perf_counter() - start:.1f} s in all)"
    )
    return 1 if bad else 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from helpers import pretraining

    config = pretraining.PretrainConfig()
    if args.steps is not None:
        if not 1 <= args.steps <= 1_000_000:
            raise UsageError(f"--steps {args.steps}: allowed is an int in [1, 1000000]")
        config.num_steps = args.steps
    out = args.out or pretraining.CHECKPOINT_DIR
    if args.out is not None and (problems := inputs.out_problems(args.out)):
        raise UsageError(problems[0])
    start = time.perf_counter()
    command = "course pretrain" + (f" --steps {args.steps}" if args.steps is not None else "")
    path = pretraining.make(config, out, command=command)
    print(f"pretrained checkpoints and {path.name} in {out} ({time.perf_counter() - start:.0f} s)")
    return 0


def study_config(name: str, args: argparse.Namespace):
    """The study's config from its options (each checked against its range), or UsageError."""
    config, _ = studies.STUDIES[name]
    given = {}
    for f in studies.options(config):
        value = getattr(args, f.name)
        low, high = f.metadata["range"]
        if value is not None and not low <= value <= high:
            note = f" ({f.metadata['note']})" if f.metadata["note"] else ""
            raise UsageError(f"{f.metadata['flag']} {value}: allowed is an int in [{low}, {high}]{note}")
        if value is not None:
            given[f.name] = value
    return config(**given), "".join(f" {studies.flag_of(config, k)} {v}" for k, v in given.items())


def cmd_study(args: argparse.Namespace) -> int:
    """`course pretrain-more`, `course finetune-all` and `course peft`: one of Part IV's long studies."""
    from helpers import pretraining

    config, options = study_config(args.command, args)
    if args.out is not None and (problems := inputs.out_problems(args.out)):
        raise UsageError(problems[0])
    path = config.results if args.out is None else args.out / config.results.name
    from helpers.tf_quiet import import_tensorflow

    import_tensorflow(quiet_retracing=True)  # before Keras: without its start-up log
    try:
        pretraining.read_provenance()
        result = studies.STUDIES[args.command][1](config, studies.course_texts(), report=lambda s: print(s, flush=True))
    except pretraining.CheckpointError as err:
        raise UsageError(str(err)) from None
    studies.write(result, config.command + options, path)
    print(f"{path} ({result['total_seconds']:.0f} s)")
    return 0


def cmd_setup_browser(args: argparse.Namespace) -> int:
    from course import browser

    try:
        print(f"chromium: {browser.ensure()}")
    except browser.BrowserUnavailable as error:
        print(f"course setup-browser: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_results_full(args: argparse.Namespace) -> int:
    from course import full_results

    if problems := _scheduler_problems(args):
        raise UsageError("\n".join(problems))
    return full_results.make(args.notebooks, args.scheduler, args.scheduler_file)


def cmd_site(args: argparse.Namespace) -> int:
    from course import site

    return site.main(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from course import bench

    {"runner": bench.bench_runner, "classroom": bench.bench_classroom, "tests": bench.bench_tests}[args.which]()
    return 0


COMMANDS = {
    "run": cmd_run,
    "params": cmd_params,
    "sweep": cmd_sweep,
    "tidy": cmd_tidy,
    "refresh": cmd_refresh,
    "student": cmd_student,
    "slides": cmd_slides,
    "check-slides": cmd_check_slides,
    "pretrain": cmd_pretrain,
    "pretrain-more": cmd_study,
    "finetune-all": cmd_study,
    "peft": cmd_study,
    "setup-browser": cmd_setup_browser,
    "results-full": cmd_results_full,
    "bench": cmd_bench,
    "site": cmd_site,
}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run or a sweep exactly as Ctrl-C does


def _empty_out(argv: list[str]) -> bool:
    """`--out ''` (argparse would read it as the current folder)."""
    pairs = zip(argv, [*argv[1:], None])
    return any((a == "--out" and b is not None and not b.strip()) or a.strip() == "--out=" for a, b in pairs)


def _tolerant_streams() -> None:
    """An ASCII-only terminal (`PYTHONIOENCODING=ascii`) prints `\\u00e9` instead of a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    argv = sys.argv[1:] if argv is None else argv
    if _empty_out(argv):
        print("course: error: --out '': the folder name is empty", file=sys.stderr)
        return 2
    args = _parser().parse_args(inputs.protect_values(argv))
    command = COMMANDS[args.command]
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = command(args)
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except BrokenPipeError:  # `course params 02 | head -1`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's last flush too
        return 1
    except (UsageError, ParameterError, SpecError, inputs.LockedError, FileNotFoundError) as err:
        for line in str(err).splitlines():
            print(f"course {args.command}: error: {line}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk: one line, and nothing half-written counts as done
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"course {args.command}: error: {err.strerror} ({err.filename or 'writing'})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
