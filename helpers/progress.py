"""Progress of long work, with an estimate of the time left (a silent minute looks like a hang).

Used by notebook 10's fine-tuning loops, `make pretrain` and Part IV's studies. The estimate and
its format are tqdm's (`tqdm.format_meter`: the mean rate so far times the work left). In a
terminal a tqdm bar stays below the lines, which go through `tqdm.write` so the bar is never torn;
anywhere else (a notebook's stored output, a log file, CI) there is no bar, only plain lines:

    progress = Progress(12, "segmentation")
    progress.tick("forward, 100 labels, seed 0: F1 0.662")
    #   segmentation [1/12] forward, 100 labels, seed 0: F1 0.662  (00:21 elapsed, about 03:51 left)
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

FORMAT = "{desc} [{n_fmt}/{total_fmt}] {elapsed} elapsed, about {remaining} left"


def in_terminal() -> bool:
    """True when standard output is a terminal (a bar helps); False in a notebook or a log."""
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def say(line: str) -> None:
    """Print one line now, above any progress bar."""
    if in_terminal():
        tqdm.write(line)
    else:
        print(line, flush=True)


class Progress:
    """`total` units of work called `what`; `update(n)` as they finish, `status()` for the time left."""

    def __init__(self, total: int, what: str = "", unit: str = "run") -> None:
        self.total, self.what, self.unit = total, what, unit
        self.count, self.start = 0, time.perf_counter()
        self.bar = tqdm(total=total, desc=what, unit=unit, file=sys.stdout, leave=False) if in_terminal() else None

    def update(self, n: int = 1) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
            if self.count >= self.total:
                self.bar.close()

    def status(self) -> str:
        """ "[k/n] 02:05 elapsed, about 03:07 left", from the mean time of the work done so far."""
        elapsed = time.perf_counter() - self.start
        text = tqdm.format_meter(self.count, self.total, elapsed, prefix="", unit=self.unit, bar_format=FORMAT)
        return text.strip()

    def starting(self, label: str) -> str:
        """The line for the k-th unit, about to start: "[k/n] label (00:42 elapsed, about 01:24 left)"."""
        _, times = self.status().split("] ", 1)
        return f"[{self.count + 1}/{self.total}] {label} ({times})"

    def tick(self, label: str) -> None:
        """One unit done: a line with `label` and the time left."""
        self.update(1)
        elapsed, left = self.status().split("] ", 1)
        say(f"  {self.what} {elapsed}] {label}  ({left})")
