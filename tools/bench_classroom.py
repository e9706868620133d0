"""Timings of the classroom tools against their budgets (prints figures; never fails on time).

    python tools/bench_classroom.py      (make bench-classroom)

- `make student` and `make slides` for the whole course (budget: 60 s each); slides both cold
  (reveal.js and MathJax fetched by npm) and warm;
- the browser and JupyterLab smoke tests together (budget: 2 minutes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGETS = {"make student": 60, "make slides (cold)": 60, "make slides (warm)": 60,
           "browser + JupyterLab tests": 120}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def main() -> int:
    python = sys.executable
    shutil.rmtree(REPO / "build" / "slide-assets", ignore_errors=True)
    figures = {
        "make student": wall([python, "tools/student.py"]),
        "make slides (cold)": wall([python, "tools/slides.py", "build"]),
        "make slides (warm)": wall([python, "tools/slides.py", "build"]),
        "browser + JupyterLab tests": wall([python, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
                                            "tests/test_browser.py", "tests/test_jupyterlab.py"]),
    }
    for name, seconds in figures.items():
        print(f"{name:<28} {seconds:6.1f} s   (budget {BUDGETS[name]} s: {'ok' if seconds < BUDGETS[name] else 'OVER'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
