"""Sweeps that never mix or lose runs, a `local:N` run no one else can drive, and scheduler input
that ends in exit 2 (issue 27): real processes, real files, a real tmpfs where root can mount one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from course.cluster import plain_tcp_warning, scheduler_problems
from course.runner import is_complete
from course.sweep import SweepPlan, folder_problems
from tests.notebooks.conftest import descendants, read_csv

CORES = os.cpu_count() or 1


def course(*args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "course", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def one_line_exit_2(result) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def listening_tcp_inodes() -> set[str]:
    """Socket inodes of every TCP/TCP6 socket in LISTEN state (state 0A) on this machine."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                found.add(fields[9])
    return found


def socket_inodes(pid: int) -> set[str]:
    out = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                out.add(target[8:-1])
    except OSError:
        pass
    return out


# --- security ---------------------------------------------------------------------------------


def test_a_local_sweep_serves_nothing_another_process_could_drive(tiny, tmp_path):
    """While `--scheduler local:2` runs notebooks, no process of its tree listens on TCP, and a
    second process that tries every Dask port there could be (8786 and the tree's sockets) fails."""
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "course", "sweep", str(tiny), "--grid", "x=3,4", "-p", "nap", "3",
         "--scheduler", "local:2", "--out", str(out)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 90
        while not list((out / "runs").glob("*.part")) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        tree = {proc.pid, *descendants(proc.pid)}
        assert len(tree) >= 3, "workers and kernels should be running by now"
        listening = listening_tcp_inodes() & set().union(*(socket_inodes(pid) for pid in tree))
        assert not listening, f"the local run listens on TCP: {listening}"
        probe = subprocess.run(
            [sys.executable, "-c",
             "from distributed import Client\n"
             "try:\n    Client('tcp://127.0.0.1:8786', timeout='2s')\nexcept OSError:\n    print('refused')"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "refused" in probe.stdout, probe.stdout + probe.stderr
    finally:
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16]


def test_plain_tcp_to_another_machine_is_warned_about_once():
    assert plain_tcp_warning("tcp://192.0.2.7:8786") and "tls://" in plain_tcp_warning("tcp://192.0.2.7:8786")
    assert plain_tcp_warning("192.0.2.7:8786")
    assert plain_tcp_warning("tcp://127.0.0.1:8786") is None and plain_tcp_warning("tcp://localhost:8786") is None
    assert plain_tcp_warning("tls://192.0.2.7:8786") is None


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
    (small_disk / "filler").write_bytes(b"\0" * (1024 * 1024 - 8 * 1024))  # leave about two pages
    with open(small_disk / "filler", "ab") as f:
        try:
            while True:
                f.write(b"\0" * 1024)
                f.flush()
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


# --- local:N stopped by a signal --------------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_local_cluster_sweep_stopped_leaves_nothing_running(tiny, tmp_path, how):
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "course", "sweep", str(tiny), "--grid", "x=3,4,5", "-p", "nap", "60",
         "--scheduler", f"local:{min(2, CORES)}", "--out", str(out)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 90
    while not list((out / "runs").glob("*.part")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    below = descendants(proc.pid)
    assert below, "workers and kernels should be running by now"
    before = set(Path("/tmp").glob("course-*"))
    proc.send_signal(how)
    stdout, stderr = proc.communicate(timeout=60)
    if how == signal.SIGTERM:
        assert proc.returncode == 130 and "Traceback" not in stderr, stdout + stderr
        assert not list((out / "runs").glob("*.part"))
    deadline = time.time() + 30
    while alive(below) and time.time() < deadline:
        time.sleep(0.5)
    assert not alive(below), f"left running: {alive(below)}"
    left = {p for p in before if p.exists() and any(str(pid) in p.name for pid in below)}
    assert not left, f"temporary folders left: {left}"


# --- bad scheduler input ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["local:0", "local:1000", "local:999", f"local:{CORES + 1}", "", "local:-1",
                                   "tcp://", "tcp://host:99999", "local:2;rm"])  # fmt: skip
def test_bad_scheduler_values_are_refused_before_any_work(value):
    problems = scheduler_problems(value, None)
    assert len(problems) == 1, problems
    if value.startswith("local:") and value[6:].isdigit():
        assert f"1 to {CORES}" in problems[0] and "cores" in problems[0]


@pytest.mark.parametrize("command", ["sweep", "results-full", "run"])
def test_local_1000_exits_2_at_once_in_every_command(tiny, tmp_path, command):
    args = {"sweep": [tiny, "--grid", "x=3"], "results-full": ["01"], "run": [tiny]}[command]
    start = time.time()
    result = course(command, *args, "--scheduler", "local:1000", "--out", tmp_path / "o", cwd=tmp_path)
    if command == "results-full" and "unrecognized arguments: --out" in result.stderr:
        result = course(command, *args, "--scheduler", "local:1000", cwd=tmp_path)
    one_line_exit_2(result)
    assert time.time() - start < 20 and "cores" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.fixture
def not_dask():
    """Two loopback ports that are open but not Dask: one says nothing, one answers nonsense
    (a huge frame length); both closed afterwards."""
    servers, stop = [], threading.Event()

    def serve(server: socket.socket, reply: bytes) -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            try:
                conn.sendall(reply)
            except OSError:
                pass
            servers.append(conn)

    threads = []
    for reply in (b"", b"\xff" * 64):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        servers.append(server)
        threads.append(threading.Thread(target=serve, args=(server, reply), daemon=True))
        threads[-1].start()
    yield [s.getsockname()[1] for s in servers[:2]]
    stop.set()
    for t in threads:
        t.join(timeout=5)
    for s in servers:
        s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_connection_problems_end_in_one_line_quickly(tiny, tmp_path, not_dask):
    silent, nonsense = not_dask
    for address in (f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{silent}", f"127.0.0.1:{nonsense}",
                    "tcp://no-such-host.invalid:8786"):  # fmt: skip
        start = time.time()
        result = course("sweep", tiny, "--grid", "x=3", "--scheduler", address, "--out", tmp_path / "s", cwd=tmp_path)
        one_line_exit_2(result)
        assert "cannot reach a Dask scheduler" in result.stderr and time.time() - start < 20, (address, result.stderr)


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
