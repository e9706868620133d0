"""Benchmarks that print figures against their budgets; they are not tests and never fail on time.

    course bench runner      (make bench)            the runner's overhead and a sweep in parallel
    course bench classroom   (make bench-classroom)  student edition, slides, site, browser + JupyterLab tests
    course bench tests       (make bench-tests)      `make test` here, and `.ci/run` in a fresh clone

runner: `course run` against plain `papermill` on one notebook (median of three runs of each
command, as a user would type them), and a sweep of six short runs with --jobs 1 and --jobs 2.
classroom: `course student` and `course slides` for the whole course (budget 60 s each; slides
both cold, with reveal.js and MathJax fetched by npm, and warm), and the browser and JupyterLab
tests together (budget 2 minutes); `course site` and the website's browser check
(tests/classroom/test_site.py, which builds its own copy; budget 60 s each), with the site's
page count and size.
tests: the whole suite as CI runs it, twice: `make test` in this (set-up) checkout (budget 7 min),
then `bash .ci/run` in a fresh clone of HEAD, set-up included (budget 10 min, the package cache warm).
Each prints its slowest tests (pytest's --durations) so a figure over budget says where to look;
`tests` also sums the seconds by kind of test (nbval, student edition, studies, runner, classroom, unit).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course import BUILD_DIR
from helpers.paths import REPO_ROOT, notebook_path

BIN = Path(sys.executable).parent
SITE_TESTS = "tests/classroom/test_site.py"
TEST_BUDGETS = {"make test (set-up checkout)": 7 * 60, ".ci/run (fresh clone, with set-up)": 10 * 60}
CLASSROOM_BUDGETS = {
    "course student": 60,
    "course slides (cold)": 60,
    "course slides (warm)": 60,
    "course check-slides": 90,
    "browser + JupyterLab tests": 120,
    "course site": 60,
    "site browser check": 60,
}


def wall(cmd: list[str]) -> float:
    """Seconds the command takes, run from the repository root (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO_ROOT)
    return time.perf_counter() - start


def bench_runner() -> None:
    course = [sys.executable, "-m", "course"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        plain = [
            wall([str(BIN / "papermill"), str(notebook_path("01")), str(tmp / "plain.ipynb"), "--kernel", "python3"])
            for _ in range(3)
        ]
        ours = [wall([*course, "run", "01", "--out", str(tmp / "course")]) for _ in range(3)]
        p, c = statistics.median(plain), statistics.median(ours)
        print(
            f"one notebook (01), median of 3 runs: papermill CLI {p:.2f} s, course run {c:.2f} s, "
            f"overhead {c - p:+.2f} s"
        )
        n = 6
        grid = "seed=" + ",".join(str(i) for i in range(n))
        serial = wall([*course, "sweep", "01", "--grid", grid, "--jobs", "1", "--out", str(tmp / "s1")])
        parallel = wall([*course, "sweep", "01", "--grid", grid, "--jobs", "2", "--out", str(tmp / "s2")])
        print(
            f"sweep of {n} runs of 01: --jobs 1 {serial:.1f} s, --jobs 2 {parallel:.1f} s, "
            f"ratio {parallel / serial:.2f}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_classroom() -> None:
    course = [sys.executable, "-m", "course"]
    shutil.rmtree(BUILD_DIR / "slide-assets", ignore_errors=True)
    figures = {
        "course student": wall([*course, "student", "--out", str(BUILD_DIR / "bench-student")]),
        "course slides (cold)": wall([*course, "slides"]),
        "course slides (warm)": wall([*course, "slides"]),
        "course check-slides": wall([*course, "check-slides"]),
        "browser + JupyterLab tests": wall(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/classroom/test_browser.py",
                "tests/classroom/test_jupyterlab.py",
            ]
        ),
        "course site": wall([*course, "site"]),
        "site browser check": wall([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SITE_TESTS]),
    }
    for name, seconds in figures.items():
        budget = CLASSROOM_BUDGETS[name]
        print(f"{name:<28} {seconds:6.1f} s   (budget {budget} s: {'ok' if seconds < budget else 'OVER'})")
    print(site_figures(BUILD_DIR / "site"))


def site_figures(out: Path) -> str:
    """The built site's page count and size, for the line under the timings."""
    from course import site

    pages, size = site.site_pages(out), site.folder_size(out)
    return f"site {out}: {len(pages)} pages, {size / 1e6:.1f} MB (the site browser check builds its own copy)"


# where a test's time goes, by kind (the first rule that matches a test's id)
TEST_KINDS = (
    ("nbval: the notebooks at teaching size", "notebooks/"),
    ("the student edition at low edges (papermill)", "tests/notebooks/test_student.py::test_student_edition_runs"),
    ("Part IV studies on tiny checkpoints", "tests/notebooks/test_studies.py"),
    ("runner, sweeps, cluster, CLI, papermill cases", "tests/notebooks/"),
    ("classroom: browser, slides, site, JupyterLab", "tests/classroom/"),
    ("unit", "tests/unit/"),
)


def seconds_by_kind(lines: list[str]) -> dict[str, float]:
    """pytest's `--durations=0` lines ("12.34s call     tests/unit/test_losses.py::test_…"), summed per
    kind of test (`TEST_KINDS`; "other" for the rest), largest first. With several workers the
    sum is more than the wall-clock time: it counts every worker's seconds."""
    totals: dict[str, float] = {}
    for line in lines:
        found = re.match(r"^(\d+\.\d+)s (?:call|setup|teardown)\s+(\S+)", line)
        if found:
            test = found.group(2)
            kind = next((name for name, prefix in TEST_KINDS if test.startswith(prefix)), "other")
            totals[kind] = totals.get(kind, 0.0) + float(found.group(1))
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def timed_suite(cmd: list[str], cwd: Path) -> float:
    """Seconds `cmd` takes in `cwd` (a test suite that must pass); prints its ten slowest tests and
    where the time went by kind of test (`seconds_by_kind`)."""
    start = time.perf_counter()
    env = {**os.environ, "PYTEST_ADDOPTS": "--durations=0"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = done.stdout.splitlines()
    slowest = [line for line in lines if re.match(r"^\d+\.\d+s (call|setup|teardown) ", line)][:10]
    print(f"{' '.join(cmd)} in {cwd}: exit {done.returncode}; slowest tests:", *slowest, sep="\n  ")
    kinds = seconds_by_kind(lines)
    total = sum(kinds.values()) or 1.0
    print("test seconds by kind (summed over workers):")
    for kind, spent in kinds.items():
        print(f"  {kind:<48} {spent:7.0f} s  {100 * spent / total:3.0f} %")
    if done.returncode != 0:
        print("\n".join(lines[-15:]))
    return seconds


def bench_tests() -> None:
    figures = {"make test (set-up checkout)": timed_suite(["make", "test"], REPO_ROOT)}
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        clone = Path(tmp) / "course"
        subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
        figures[".ci/run (fresh clone, with set-up)"] = timed_suite(["bash", ".ci/run"], clone)
    for name, seconds in figures.items():
        budget = TEST_BUDGETS[name]
        verdict = "ok" if seconds < budget else "OVER"
        print(f"{name:<36} {seconds / 60:5.1f} min   (budget {budget / 60:.0f} min: {verdict})")
