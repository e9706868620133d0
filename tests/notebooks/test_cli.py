"""The `course` command: run, params, sweep; validation before any kernel starts; resumable sweeps."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from course.runner import PROFILES_FILE, parse_cli_value, profiles
from course.sweep import grid_combinations, run_id
from helpers.params import notebook_spec, validate_values
from helpers.paths import REPO_ROOT, notebook_paths
from tests.notebooks.conftest import descendants, kernel_folders, read_csv


def course(*args, cwd, timeout=600, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "course", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        **kwargs,
    )


def test_cli_values_follow_papermill():
    from papermill.cli import _resolve_type

    for text in ["3", "-2", "0.5", "1e-3", "abc", "True", "False", "None", "[1, 2]", "3.0"]:
        assert parse_cli_value(text) == _resolve_type(text) and type(parse_cli_value(text)) is type(_resolve_type(text))


def test_every_profile_is_valid_for_its_notebook():
    table = yaml.safe_load(PROFILES_FILE.read_text())
    stems = {p.stem for p in notebook_paths()}
    assert set(table) <= stems, f"profiles for unknown notebooks: {set(table) - stems}"
    for path in notebook_paths():
        assert "teaching" in profiles(path.stem) and "full" in profiles(path.stem)
        for values in profiles(path.stem).values():
            validate_values(notebook_spec(path), values)


def test_params_lists_the_notebook_specification(tmp_path):
    result = course("params", "04", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for param in notebook_spec("04_forward_and_reverse_passes").values():
        assert param.name in result.stdout and param.doc in result.stdout
    assert "full" in result.stdout and "num_clip_seeds=10" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "99"], "no course notebook called '99'"),
        (["run", "02", "-p", "num_epochs", "abc"], "num_epochs = 'abc' is not allowed: expected int in [1, 100000]"),
        (["run", "02", "-p", "lr", "0"], "lr = 0 is not allowed: expected float in (0, 1000]"),
        (["run", "02", "-p", "epochs", "3"], "unknown parameter epochs = 3"),
        (
            ["run", "01", "--profile", "huge"],
            "unknown profile 'huge' for 01_loss_functions: its profiles are teaching, full",
        ),
        (["sweep", "02", "--grid", "lr"], "--grid 'lr': expected NAME=V1,V2,..."),
        (["sweep", "02", "--grid", "lr=0.5,-1"], "lr = -1 is not allowed: expected float in (0, 1000]"),
        (["sweep", "02", "--grid", "rate=1,2"], "unknown parameter rate = 1"),
        (["sweep", "02", "--grid", "lr=1", "--jobs", "0"], "--jobs 0: expected at least 1"),
    ],
)
def test_bad_input_exits_2_before_any_kernel(tmp_path, args, message):
    result = course(*args, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert all(line.startswith("course ") for line in result.stderr.strip().splitlines())
    assert not (tmp_path / "out").exists()  # nothing ran


def test_run_from_another_directory(tmp_path):
    source = (REPO_ROOT / "notebooks" / "01_loss_functions.ipynb").read_text()
    params_file = tmp_path / "p.yaml"
    params_file.write_text("num_points: 30\n")
    result = course("run", "01", "-p", "num_random", "20", "-f", params_file, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/1] 01_loss_functions ... ok" in result.stdout  # the progress line
    assert "num_random=20, num_points=30" in result.stdout and "mse_example=0.025" in result.stdout
    assert (tmp_path / "out" / "01_loss_functions.ipynb").exists()
    assert (REPO_ROOT / "notebooks" / "01_loss_functions.ipynb").read_text() == source
    again = course("run", "01", "--out", tmp_path / "out", cwd=tmp_path)  # teaching size, alone
    assert "≤ 15 ✓" in again.stdout or "OVER 15" in again.stdout  # the title's promise, checked (a figure)
    assert "TCP" not in result.stdout + result.stderr  # kernels talk over IPC: no eavesdropping warning


def test_sweep_in_parallel_keeps_going_after_a_failure(tiny, tmp_path):
    out = tmp_path / "sweep"
    result = course("sweep", tiny, "--grid", "x=1,2,3,4", "--jobs", "2", "--out", out, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {r["x"]: r for r in read_csv(out / "results.csv")}
    assert set(rows) == {"1", "2", "3", "4"}
    assert rows["3"]["status"] == "ok" and rows["3"]["square"] == "9"
    assert rows["2"]["status"] == "failed" and "two is not allowed" in rows["2"]["error"]
    assert "failed x=2: AssertionError: two is not allowed" in result.stdout
    assert (out / "results.png").exists()
    names = sorted(re.sub(r"-[0-9a-f]{10}\.", ".", p.name) for p in (out / "runs").iterdir())
    assert names == ["x=1.ipynb", "x=2.failed.ipynb", "x=3.ipynb", "x=4.ipynb"]


def test_sweep_resumes_after_ctrl_c_and_never_overwrites(tiny, tmp_path):
    out = tmp_path / "sweep"
    args = [
        sys.executable,
        "-m",
        "course",
        "sweep",
        str(tiny),
        "--grid",
        "x=3,4,5,6",
        "-p",
        "nap",
        "1.5",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("*.ipynb"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "interrupted" in stdout
    done = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.ipynb")}
    assert 2 <= len(done) < 4 and not list((out / "runs").glob("*.part"))

    again = course("sweep", tiny, "--grid", "x=3,4,5,6", "-p", "nap", "1.5", "--jobs", "1", "--out", out, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(done)} already done (kept), {4 - len(done)} to run" in again.stdout
    for name, mtime in done.items():
        assert (out / "runs" / name).stat().st_mtime_ns == mtime  # finished runs untouched
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16, 25, 36]


def test_grid_helpers():
    assert grid_combinations({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert run_id({"lr": 0.5, "name": "a b/c"}) == "lr=0.5_name=a-b-c"


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # a zombie has exited; only its parent's bookkeeping remains
            out.add(pid)
    return out


def test_run_notebooks_in_parallel(tmp_path):
    result = course("run", "01", "02", "--jobs", "2", "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running 2 notebooks with 2 job(s)" in result.stdout
    assert "[1/2]" in result.stdout and "[2/2]" in result.stdout
    table = result.stdout[result.stdout.index("notebook ") :]
    assert table.index("01_loss_functions") < table.index("02_gradient_descent_by_hand")  # the table keeps the order
    assert "wall time" in result.stdout
    assert "≤ 15" not in table and "OVER" not in table  # budgets assume one notebook at a time
    assert "TCP" not in result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "01_loss_functions.ipynb",
        "02_gradient_descent_by_hand.ipynb",
    ]


def test_sigterm_stops_a_parallel_sweep_and_leaves_nothing_behind(tiny, tmp_path, private_tmp):
    """SIGTERM to the sweep alone (not its process group): exit 130, finished runs kept and listed,
    no unfinished file, and no worker or kernel outlives it, nor a kernel's socket folder."""
    out, (env, temporary) = tmp_path / "sweep", private_tmp
    args = [sys.executable, "-m", "course", "sweep", str(tiny), "--grid", "x=3,4,5,6,7,8", "-p", "nap", "4"]
    proc = subprocess.Popen(
        [*args, "--jobs", "2", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until kernels are running
    time.sleep(1.0)
    below = descendants(proc.pid)
    assert below, "the sweep should have workers and kernels by now"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stdout and "Traceback" not in stderr, stderr
    assert not list((out / "runs").glob("*.part"))
    finished = sorted(p.name for p in (out / "runs").glob("*.ipynb"))
    assert len(finished) < 6
    assert len(read_csv(out / "results.csv")) == len(finished)
    deadline = time.monotonic() + 20
    while alive(below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(below), f"processes left behind: {alive(below)}"
    assert not kernel_folders(temporary)


def test_interrupted_is_said_only_when_something_was(tiny, tmp_path):
    result = course("sweep", tiny, "--grid", "x=3", "--out", tmp_path / "s", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not any(line.startswith("interrupted") for line in result.stdout.splitlines()), result.stdout


def test_a_locked_sweep_folder_and_a_killed_sweep(tiny, tmp_path, private_tmp):
    """A second sweep into a folder in use stops and names the first; after the first is killed
    outright (SIGKILL: no clean-up of its own), no worker or kernel survives it, and the next
    sweep reports the stale lock, cleans up (the killed kernels' socket folders too) and finishes
    the work."""
    out, (env, temporary) = tmp_path / "sweep", private_tmp
    args = ["sweep", tiny, "--grid", "x=3,4,5", "-p", "nap", "30", "--jobs", "2", "--out", out]
    first = subprocess.Popen(
        [sys.executable, "-m", "course", *map(str, args)], cwd=tmp_path, stdout=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.2)
    second = course(*args, cwd=tmp_path)
    assert second.returncode == 2 and f"process {first.pid}" in second.stderr, second.stderr
    below = descendants(first.pid)
    first.kill()
    first.wait()
    deadline = time.monotonic() + 30
    while alive(below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(below), f"left behind after SIGKILL: {alive(below)}"
    assert kernel_folders(temporary), "the killed sweep's kernels had socket folders"
    third = course("sweep", tiny, "--grid", "x=3,4,5", "--jobs", "2", "--out", out, cwd=tmp_path, env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "was killed before it finished" in third.stdout and "removed" in third.stdout
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16, 25]
    assert not kernel_folders(temporary)
