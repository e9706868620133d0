"""Benchmarks that print figures against their budgets; they are not tests and never fail on time.

    course bench runner      (make bench)            the runner's overhead and a sweep in parallel
    course bench classroom   (make bench-classroom)  student edition, slides, browser + JupyterLab tests

runner: `course run` against plain `papermill` on one notebook (median of three runs of each
command, as a user would type them), and a sweep of six short runs with --jobs 1 and --jobs 2.
classroom: `course student` and `course slides` for the whole course (budget 60 s each; slides
both cold, with reveal.js and MathJax fetched by npm, and warm), and the browser and JupyterLab
tests together (budget 2 minutes).
"""

from __future__ import annotations

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
CLASSROOM_BUDGETS = {
    "course student": 60,
    "course slides (cold)": 60,
    "course slides (warm)": 60,
    "course check-slides": 90,
    "browser + JupyterLab tests": 120,
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
    }
    for name, seconds in figures.items():
        budget = CLASSROOM_BUDGETS[name]
        print(f"{name:<28} {seconds:6.1f} s   (budget {budget} s: {'ok' if seconds < budget else 'OVER'})")
