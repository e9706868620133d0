"""`course.runner.kill_tree`: a stopped task's process tree, kernel included, ends before its
folder is removed (course/cluster.py). Real processes, as the course's own runs have them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from course.runner import alive, kill_tree, process_tree

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]

# a child in its own session that starts a "kernel" in a session of its own (as jupyter_client
# does), which writes a file in `folder` every 10 ms until it is killed
WRITER = """
import pathlib, subprocess, sys, time
folder = pathlib.Path(sys.argv[1])
code = "import pathlib, sys, time, itertools\\nfor k in itertools.count():\\n"
code += "    (pathlib.Path(sys.argv[1]) / str(k)).write_text('x')\\n    time.sleep(0.01)"
kernel = subprocess.Popen([sys.executable, "-c", code, str(folder)], start_new_session=True)
print(kernel.pid, flush=True)
time.sleep(120)
"""


def test_kill_tree_ends_the_kernel_in_its_own_session_and_nothing_writes_after(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    kernel = int(child.stdout.readline())
    deadline = time.monotonic() + 30
    while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kernel in process_tree(child.pid) and list(tmp_path.iterdir()), "the kernel should be writing by now"
    kill_tree(child)
    assert child.returncode is not None and not alive(kernel)
    written = len(list(tmp_path.iterdir()))
    time.sleep(0.3)
    assert len(list(tmp_path.iterdir())) == written  # nothing writes in the folder after kill_tree returns


def test_kill_tree_leaves_an_ended_child_alone():
    child = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    child.wait()
    kill_tree(child)  # its pid may be another process's by now: nothing is signalled
    assert child.returncode == 0
