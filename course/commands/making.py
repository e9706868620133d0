"""`course tidy`, `refresh`, `student`, `slides`, `check-slides`, `setup-browser`, `site` and
`bench`: what the course builds from its notebooks, and the housekeeping."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course import BUILD_DIR, inputs
from course.commands import command, notebooks_argument, out_option
from course.runner import UsageError


def checked_out(folder: Path) -> None:
    """UsageError if `folder` may not be written (inside the course's own files, /proc, ...)."""
    if problems := inputs.out_problems(folder):
        raise UsageError(problems[0])


def tidy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")


@command("tidy", "regenerate slide metadata, navigation, glossary links; tidy metadata", tidy_arguments)
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


@command("refresh", "re-execute notebooks in place, then tidy them", notebooks_argument)
def cmd_refresh(args: argparse.Namespace) -> int:
    from course import notebooks

    notebooks.refresh_all(args.notebooks)
    return cmd_tidy(argparse.Namespace(check=False))


def student_arguments(parser: argparse.ArgumentParser) -> None:
    out_option(None, "student/, kept by make clean")(parser)
    parser.add_argument(
        "--reset", nargs="+", default=[], metavar="NOTEBOOK",
        help="a fresh copy of these notebooks; your copy is moved to backups/ first, never deleted",
    )  # fmt: skip


@command("student", "build the student edition", student_arguments)
def cmd_student(args: argparse.Namespace) -> int:
    from course import student

    out = args.out or student.DEFAULT_OUT
    checked_out(out)
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
    counts = f"{len(edition.written)} files written, {len(edition.kept)} of yours kept"
    print(f"student edition in {out}: {counts} ({time.perf_counter() - start:.1f} s)")
    return 0


@command("slides", "build reveal.js decks of every notebook", out_option(BUILD_DIR / "slides", "build/slides/"))
def cmd_slides(args: argparse.Namespace) -> int:
    from course import slides

    checked_out(args.out)
    start = time.perf_counter()
    decks = slides.build(args.out)
    print(
        f"slides: {len(decks)} decks in {args.out} ({time.perf_counter() - start:.1f} s); "
        f"open {decks[0]} in a browser (arrow keys; 's' opens the speaker notes)"
    )
    return 0


def check_slides_arguments(parser: argparse.ArgumentParser) -> None:
    out_option(BUILD_DIR / "slides", "build/slides/")(parser)
    shots = BUILD_DIR / "screenshots"
    parser.add_argument("--shots", type=Path, default=shots, help="each deck's tallest slide (build/screenshots/)")


@command("check-slides", "build the decks and check every slide fits 1280x800 in Chromium", check_slides_arguments)
def cmd_check_slides(args: argparse.Namespace) -> int:
    from course import browser, layout, slides

    for folder in (args.out, args.shots):
        checked_out(folder)
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


@command("setup-browser", "install Debian's chromium and CJK fonts if missing (root)")
def cmd_setup_browser(args: argparse.Namespace) -> int:
    from course import browser

    try:
        print(f"chromium: {browser.ensure()}")
    except browser.BrowserUnavailable as error:
        print(f"course setup-browser: {error}", file=sys.stderr)
        return 2
    return 0


@command("site", "the course as a static website, readable offline", out_option(BUILD_DIR / "site", "build/site/"))
def cmd_site(args: argparse.Namespace) -> int:
    from course import site

    return site.main(args)


BENCHES = ("runner", "classroom", "tests")


def bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("which", choices=BENCHES)


@command("bench", "benchmarks that print figures", bench_arguments)
def cmd_bench(args: argparse.Namespace) -> int:
    from course import bench

    {"runner": bench.bench_runner, "classroom": bench.bench_classroom, "tests": bench.bench_tests}[args.which]()
    return 0
