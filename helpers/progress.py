"""Progress of long work, with an estimate of the time left (a silent minute looks like a hang).

Used by notebook 10's fine-tuning loops, `make pretrain` and Part IV's studies. The estimate is
the mean time of the units done so far times the units left, less the time already spent on the
one under way (a long unit does not make the estimate grow while it runs); the times are
formatted by tqdm (`tqdm.format_interval`). In a
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
        self.last = self.start  # when the last unit finished
        self.bar = tqdm(total=total, desc=what, unit=unit, file=sys.stdout, leave=False) if in_terminal() else None

    def update(self, n: int = 1) -> None:
        self.count += n
        self.last = time.perf_counter()
        if self.bar is not None:
            self.bar.update(n)
            if self.count >= self.total:
                self.bar.close()

    def drop(self, n: int) -> None:
        """n units that will not run after all (a run stopped early): the total, and the time left, shrink."""
        self.total -= n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def status(self) -> str:
        """ "[k/n] 02:05 elapsed, about 03:07 left": left = (t_k / k)(n - k) - (now - t_k), where
        t_k is the time the k-th unit finished ("?" before the first)."""
        now = time.perf_counter()
        left = "?"
        if self.count:
            mean = (self.last - self.start) / self.count
            left = tqdm.format_interval(max(0.0, mean * (self.total - self.count) - (now - self.last)))
        return f"[{self.count}/{self.total}] {tqdm.format_interval(now - self.start)} elapsed, about {left} left"

    def starting(self, label: str) -> str:
        """The line for the k-th unit, about to start: "[k/n] label (00:42 elapsed, about 01:24 left)"."""
        _, times = self.status().split("] ", 1)
        return f"[{self.count + 1}/{self.total}] {label} ({times})"

    def tick(self, label: str) -> None:
        """One unit done: a line with `label` and the time left."""
        self.update(1)
        elapsed, left = self.status().split("] ", 1)
        say(f"  {self.what} {elapsed}] {label}  ({left})")
