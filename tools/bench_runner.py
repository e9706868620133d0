"""Benchmark of the `course` runner (prints figures; it is not a test and never fails on time).

    python tools/bench_runner.py      (make bench)

1. Overhead of `course run` over plain `papermill` on one notebook: median wall time of three
   runs of each command, as separate processes, as a user would type them.
2. A sweep of N short runs with --jobs 1 and --jobs 2: the wall-time ratio.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOTEBOOK = REPO / "notebooks" / "01_loss_functions.ipynb"


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        plain = [wall([str(BIN / "papermill"), str(NOTEBOOK), str(tmp / "plain.ipynb"), "--kernel", "python3"])
                 for _ in range(3)]
        ours = [wall([str(BIN / "course"), "run", "01", "--out", str(tmp / "course")]) for _ in range(3)]
        p, c = statistics.median(plain), statistics.median(ours)
        print(f"one notebook (01), median of 3 runs: papermill CLI {p:.2f} s, course run {c:.2f} s, "
              f"overhead {c - p:+.2f} s")
        n = 6
        grid = "seed=" + ",".join(str(i) for i in range(n))
        serial = wall([str(BIN / "course"), "sweep", "01", "--grid", grid, "--jobs", "1", "--out", str(tmp / "s1")])
        parallel = wall([str(BIN / "course"), "sweep", "01", "--grid", grid, "--jobs", "2", "--out", str(tmp / "s2")])
        print(f"sweep of {n} runs of 01: --jobs 1 {serial:.1f} s, --jobs 2 {parallel:.1f} s, "
              f"ratio {parallel / serial:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
