"""The exercise checkers' time and memory limit in a real Jupyter kernel (issue 23): a learner's
function that sleeps, loops or hoards memory gets a ✗ in time, the kernel lives on, and the
learner's own `np.seterr(all="raise")` changes no verdict. The limit is a SIGALRM timer in the
kernel's main thread (helpers/exercises/core.py says why); this runs it where learners do. Times
are taken with `time.monotonic()`: the wall clock can be stepped mid-test (once a cell measured
16.7 s inside a test that took 13.5 s)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]

CELLS = [
    "import time\nimport numpy as np\nfrom helpers.exercises import check_mae, core\nnp.seterr(all='raise')",
    "start = time.monotonic()\ndef slow(y, y_hat):\n    time.sleep(1000)\n"
    "print(check_mae(slow), time.monotonic() - start)",
    "core.TIME_LIMIT, core.MEMORY_LIMIT = 1.0, 300 * 2**20\n"
    "start = time.monotonic()\ndef loop(y, y_hat):\n    while True:\n        pass\n"
    "print(check_mae(loop), time.monotonic() - start)",
    "start = time.monotonic()\ndef hoard(y, y_hat):\n    kept = []\n"
    "    while True:\n        kept.append(bytearray(10**6))\n"
    "print(check_mae(hoard), time.monotonic() - start)",
    "print(check_mae(lambda y, y_hat: float(np.mean(np.abs(y - y_hat)))))",
    "print('alive', np.geterr()['over'])",
]


def _run() -> list[str]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    return ["".join(o.get("text", "") for o in cell.outputs).strip() for cell in notebook.cells]


def test_a_hanging_answer_gets_a_verdict_in_time_and_the_kernel_lives_on():
    out = _run()
    slow, seconds = out[1].rsplit(" ", 1)
    assert "took too long (over 10 s)" in slow and 10 <= float(seconds) < 11.5, out[1]
    loop, seconds = out[2].rsplit(" ", 1)
    assert "took too long (over 1 s)" in loop and float(seconds) < 2.5, out[2]
    hoard, seconds = out[3].rsplit(" ", 1)
    assert "too much memory" in hoard and float(seconds) < 2.5, out[3]
    assert out[4].startswith("✓ Correct: the mean absolute error")
    assert out[5] == "alive raise"
