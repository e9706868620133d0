"""`helpers.progress`: the time left from the units done; plain lines outside a terminal, a bar in one."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from helpers import progress
from helpers.paths import REPO_ROOT


def test_the_time_left_is_the_mean_time_so_far_times_the_work_left(monkeypatch):
    clock = iter([100.0, 130.0, 130.0, 130.0, 130.0])  # made at t = 100 s; 3 of 10 done at t = 130 s
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    p = progress.Progress(10, "segmentation")
    assert p.status() == "[0/10] 00:30 elapsed, about ? left"  # nothing done: no estimate
    p.update(3)
    assert p.status() == "[3/10] 00:30 elapsed, about 01:10 left"  # 10 s each, 7 to go
    assert p.starting("the fourth") == "[4/10] the fourth (00:30 elapsed, about 01:10 left)"


def test_the_time_spent_on_the_unit_under_way_comes_off_the_estimate(monkeypatch):
    """Three long units: one done after 600 s; 200 s into the second, 1,000 s are left, not the
    1,600 s a mean rate over all the time elapsed would say, nor a number that grows as it runs."""
    clock = iter([0.0, 600.0, 800.0, 1200.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    p = progress.Progress(3, "pretraining seeds", unit="seed")
    p.update(1)
    assert p.status() == "[1/3] 13:20 elapsed, about 16:40 left"
    assert p.status() == "[1/3] 20:00 elapsed, about 10:00 left"


def test_outside_a_terminal_each_tick_is_one_plain_line(capsys):
    p = progress.Progress(2, "sentiment")
    assert p.bar is None  # pytest captures stdout: not a terminal
    p.tick("forward: accuracy 0.700")
    p.tick("backward: accuracy 0.650")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "\r" not in "".join(lines)
    assert lines[0].startswith("  sentiment [1/2] forward: accuracy 0.700  (") and lines[1].endswith(
        "about 00:00 left)"
    )


def test_in_a_terminal_a_bar_is_drawn_below_the_lines():
    """A real pseudo-terminal: the bar's redraws (carriage returns) appear, the lines stay whole."""
    code = (
        "from helpers.progress import Progress\np = Progress(3, 'runs')\nfor k in range(3):\n    p.tick(f'run {k}')\n"
    )
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=follower, stderr=subprocess.STDOUT, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert child.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "\r" in text and "runs:" in text  # tqdm's bar
    assert all(f"  runs [{k + 1}/3] run {k}  (" in text for k in range(3))
