"""Sweeps that never mix or lose runs, and never write through a link (issue 27): real processes,
real files, a real tmpfs where root can mount one. (The local cluster and scheduler input are
tested in test_cluster.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from course.runner import is_complete
from course.sweep import SweepPlan, folder_problems
from tests.notebooks.conftest import read_csv


def course(*args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "course", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def one_line_exit_2(result) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("planted", [".sweep.lock", "results.csv", "results.png", "runs", "runs/x"])
def test_a_symbolic_link_in_the_sweep_folder_is_never_followed(tiny, tmp_path, planted):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    out = tmp_path / "sweep"
    (out / "runs").mkdir(parents=True) if planted.startswith("runs/") else out.mkdir()
    target = victim if planted == "runs" else victim / "precious.txt"
    (out / planted).symlink_to(target)
    result = course("sweep", tiny, "--grid", "x=3", "--out", out, cwd=tmp_path)
    one_line_exit_2(result)
    assert "symbolic link" in result.stderr
    assert (victim / "precious.txt").read_text() == "keep me" and sorted(os.listdir(victim)) == ["precious.txt"]


def test_course_run_never_writes_through_a_planted_link(tiny, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "tiny.ipynb.part").symlink_to(victim)
    (out / "tiny.ipynb").symlink_to(victim)
    result = course("run", tiny, "-p", "x", "3", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert victim.read_text() == "keep me"
    assert is_complete(out / "tiny.ipynb")  # the link itself was replaced by the copy


# --- runs of different plans never mix ------------------------------------------------------------


def test_a_sweep_resumed_with_other_fixed_values_reuses_nothing_and_never_mixes(tiny, tmp_path):
    out = tmp_path / "sweep"
    first = course("sweep", tiny, "--grid", "x=3,4", "-p", "nap", "0", "--out", out, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    second = course("sweep", tiny, "--grid", "x=3,4", "-p", "nap", "0.1", "--out", out, cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 already done (kept), 2 to run" in second.stdout
    assert "plot of square" in second.stdout  # the fixed column is not mistaken for a result
    rows = read_csv(out / "results.csv")
    assert [(r["x"], r["nap"]) for r in rows] == [("3", "0.1"), ("4", "0.1")]  # only this plan, and it says so
    third = course("sweep", tiny, "--grid", "x=3,4", "-p", "nap", "0", "--out", out, cwd=tmp_path)
    assert "2 already done (kept), 0 to run" in third.stdout  # the first plan's runs, found again
    assert {r["nap"] for r in read_csv(out / "results.csv")} == {"0.0"}


def test_an_edited_notebook_is_a_different_plan(tiny, tmp_path):
    plan = SweepPlan(tiny, tmp_path, {}, [{"x": 3}])
    edited = SweepPlan(tiny, tmp_path, {}, [{"x": 3}], content=tiny.read_bytes() + b" ")
    assert plan.output({"x": 3}) != edited.output({"x": 3})


# --- names never collide --------------------------------------------------------------------------


def test_grid_values_that_read_alike_get_their_own_files(tiny, tmp_path):
    values = ["x y", "x-y", "x/y", "x_y", 1, 1.0, "1", True]
    plan = SweepPlan(tiny, tmp_path, {"nap": 0.0}, [{"name": v} for v in values])
    names = {plan.output(c) for c in plan.combinations}
    assert len(names) == len(values)
    assert all(p.parent == tmp_path / "runs" for p in names)  # `/` never makes a folder
    assert SweepPlan(tiny, tmp_path, {"nap": 1.0}, [{"name": "x"}]).output({"name": "x"}) != SweepPlan(
        tiny, tmp_path, {"nap": 0.0}, [{"name": "x"}]
    ).output({"name": "x"})


@pytest.mark.parametrize("twice", ["same", "same name"])
def test_two_runs_never_write_one_file(tiny, tmp_path, twice):
    other = tmp_path / "elsewhere" / "tiny.ipynb"
    other.parent.mkdir()
    shutil.copy(tiny, other)
    second = tiny if twice == "same" else other
    result = course("run", tiny, second, "--jobs", "2", "--out", tmp_path / "out", cwd=tmp_path)
    one_line_exit_2(result)
    assert "tiny.ipynb" in result.stderr and not (tmp_path / "out").exists()


# --- a full disk ----------------------------------------------------------------------------------


def test_a_cut_short_file_is_not_done_and_is_run_again(tiny, tmp_path):
    out = tmp_path / "sweep"
    plan = SweepPlan(tiny, out, {}, [{"x": 3}, {"x": 4}])
    (out / "runs").mkdir(parents=True)
    plan.output({"x": 3}).write_text('{"cells": [')  # truncated
    plan.output({"x": 4}).write_text("")  # 0 bytes
    assert not plan.done({"x": 3}) and not plan.done({"x": 4})
    result = course("sweep", tiny, "--grid", "x=3,4", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 already done (kept), 2 to run" in result.stdout
    assert all(is_complete(plan.output(c)) for c in plan.combinations)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs; skipped where this process may not mount one (not root, or no privilege)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()[:80]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_leaves_no_file_that_looks_done(tiny, tmp_path, small_disk):
    out = small_disk / "sweep"
    (out / "runs").mkdir(parents=True)
    (out / ".sweep.lock").write_text("1")  # the lock's page is taken: the runs are what finds the disk full
    try:  # fill the disk to the last byte
        with open(small_disk / "filler", "wb", buffering=0) as f:
            while True:
                f.write(b"\0" * 4096)
    except OSError:
        pass
    result = course("sweep", tiny, "--grid", "x=3,4", "--out", out, cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    runs = list((out / "runs").glob("*")) if (out / "runs").is_dir() else []
    assert all(is_complete(p) for p in runs), [p.name for p in runs]  # nothing cut short under a final name
    (small_disk / "filler").unlink()
    again = course("sweep", tiny, "--grid", "x=3,4", "--out", out, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16]


# --- unexpected files in a sweep folder -------------------------------------------------------------


def test_unexpected_files_in_a_sweep_folder(tiny, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "runs").write_text("not a folder")
    result = course("sweep", tiny, "--grid", "x=3", "--out", out, cwd=tmp_path)
    one_line_exit_2(result)
    assert "runs is not a folder" in result.stderr
    (out / "runs").unlink()
    (out / "runs").mkdir()
    (out / "runs" / "notes.txt").write_text("mine")
    (out / "runs" / "x=3-0123456789.ipynb").write_text(json.dumps({"cells": "odd"}))
    (out / "runs" / "folder.ipynb").mkdir()
    assert folder_problems(out) == []
    result = course("sweep", tiny, "--grid", "x=3", "--out", out, cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert (out / "runs" / "notes.txt").read_text() == "mine" and len(read_csv(out / "results.csv")) == 1
