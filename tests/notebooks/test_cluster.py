"""Sweeps on a real Dask cluster on 127.0.0.1: a `dask scheduler` process and two `dask worker`
processes, started here and stopped by their own PIDs afterwards. A grid with a failing
combination, a worker killed mid-run, and Ctrl-C on the client."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.notebooks.conftest import descendants, kernel_folders, read_csv

BIN = Path(sys.executable).parent


def kernels_below(pid: int) -> set[int]:
    out = set()
    for child in descendants(pid):
        try:
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in cmdline:
            out.add(child)
    return out


@pytest.fixture
def cluster(tmp_path):
    """Scheduler + 2 workers (1 thread each) on 127.0.0.1; yields (scheduler file, worker procs)."""
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path}
    scheduler = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", scheduler_file],
        **quiet,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [
        subprocess.Popen(
            [
                BIN / "dask",
                "worker",
                "--scheduler-file",
                scheduler_file,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                f"w{k}",
            ],
            **quiet,
        )  # fmt: skip
        for k in (1, 2)
    ]
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
        client.wait_for_workers(2, timeout=90)
    yield scheduler_file, workers
    # the workers first: stopped together with their scheduler they spend seconds trying to reach it
    # (about 8 s here, against half a second in this order)
    for group in (workers, [scheduler]):
        for proc in group:
            if proc.poll() is None:
                proc.terminate()
        for proc in group:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def sweep(tiny, out, scheduler_file, *extra):
    return [sys.executable, "-m", "course", "sweep", str(tiny), "--scheduler-file", str(scheduler_file),
            "--out", str(out), *map(str, extra)]  # fmt: skip


def test_grid_with_a_failure_on_the_cluster_and_resume(cluster, tiny, tmp_path):
    scheduler_file, _ = cluster
    out = tmp_path / "sweep"
    result = subprocess.run(sweep(tiny, out, scheduler_file, "--grid", "x=1,2,3"), capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {r["x"]: r for r in read_csv(out / "results.csv")}
    assert rows["3"]["square"] == "9" and rows["2"]["status"] == "failed" and "two is not allowed" in rows["2"]["error"]
    names = sorted(re.sub(r"-[0-9a-f]{10}\.", ".", p.name) for p in (out / "runs").iterdir())
    assert names == ["x=1.ipynb", "x=2.failed.ipynb", "x=3.ipynb"]
    again = subprocess.run(sweep(tiny, out, scheduler_file, "--grid", "x=1,2,3,4"), capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)  # fmt: skip
    assert "2 already done (kept), 2 to run on Dask" in again.stdout, again.stdout + again.stderr
    assert len(read_csv(out / "results.csv")) == 4


def test_a_worker_killed_mid_run_is_replaced(cluster, tiny, tmp_path):
    scheduler_file, workers = cluster
    out = tmp_path / "sweep"
    client = subprocess.Popen(sweep(tiny, out, scheduler_file, "--grid", "x=3,4,5,6", "-p", "nap", "4"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 90
    while not kernels_below(workers[0].pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels_below(workers[0].pid), "the first worker should be running a notebook by now"
    os.kill(workers[0].pid, signal.SIGKILL)  # lost mid-run: its nanny and the task go with it
    for child in descendants(workers[0].pid):
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stdout, stderr = client.communicate(timeout=300)
    assert client.returncode == 0, stdout + stderr
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16, 25, 36]


def test_ctrl_c_stops_the_kernels_running_on_workers(cluster, tiny, tmp_path):
    scheduler_file, workers = cluster
    out = tmp_path / "sweep"
    client = subprocess.Popen(sweep(tiny, out, scheduler_file, "--grid", "x=3,4,5,6", "-p", "nap", "60"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 90
    while not any(kernels_below(w.pid) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    running = set().union(*(kernels_below(w.pid) for w in workers))
    assert running, "kernels should be running on the workers by now"
    os.killpg(client.pid, signal.SIGINT)  # Ctrl-C in the client's terminal
    stdout, stderr = client.communicate(timeout=120)
    assert client.returncode == 130, stdout + stderr
    assert "interrupted" in stdout
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() for pid in running) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in running if Path(f"/proc/{pid}").exists()], "kernels left running on the workers"
    assert not list((out / "runs").glob("*.part")) if (out / "runs").exists() else True


def test_course_run_on_the_cluster(cluster, tmp_path):
    scheduler_file, _ = cluster
    result = subprocess.run(
        [sys.executable, "-m", "course", "run", "01", "02", "--scheduler-file", str(scheduler_file),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running 2 notebooks on Dask" in result.stdout and "mse_example=0.025" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "01_loss_functions.ipynb",
        "02_gradient_descent_by_hand.ipynb",
    ]


# ----------------------------------------------------------------- --scheduler local:N


def listening_ports(pid: int) -> set[int]:
    """TCP ports process `pid` (or any child of it) listens on."""
    import psutil

    ports = set()
    for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            ports |= {c.laddr.port for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        except psutil.Error:
            pass
    return ports


def local_sweep(tiny, out, *extra):
    return [sys.executable, "-m", "course", "sweep", str(tiny), "--scheduler", "local:2", "--out", str(out),
            *map(str, extra)]  # fmt: skip


def test_a_local_cluster_opens_no_port_that_another_process_could_drive(tiny, tmp_path):
    """A `local:N` sweep runs its notebooks with no listening socket at all (Dask's inproc
    transport): while its kernels run, the sweep process listens on no TCP port except its
    kernels' own, and a second process that tries every port the sweep's process holds fails."""
    out = tmp_path / "sweep"
    client = subprocess.Popen(local_sweep(tiny, out, "--grid", "x=3,4", "-p", "nap", "6"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 90
    while not kernels_below(client.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels_below(client.pid), "the local cluster should be running a notebook by now"
    import psutil

    own = {
        c.laddr.port for c in psutil.Process(client.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    }
    assert not own, f"the sweep process listens on {own}"
    probe = (
        "import sys\nfrom distributed import Client\nfor p in sys.argv[1:]:\n    try:\n"
        "        Client(f'tcp://127.0.0.1:{p}', timeout='3s').run(print); print('DROVE', p)\n"
        "    except Exception:\n        pass\n"
    )
    tried = subprocess.run(
        [sys.executable, "-c", probe, *map(str, listening_ports(client.pid))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "DROVE" not in tried.stdout
    stdout, stderr = client.communicate(timeout=300)
    assert client.returncode == 0, stdout + stderr
    assert sorted(int(r["square"]) for r in read_csv(out / "results.csv")) == [9, 16]


def test_a_local_cluster_killed_outright_leaves_no_kernel_and_no_task_folder(tiny, tmp_path):
    out = tmp_path / "sweep"
    client = subprocess.Popen(local_sweep(tiny, out, "--grid", "x=3,4", "-p", "nap", "60"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 90
    while not kernels_below(client.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    running = descendants(client.pid)
    assert kernels_below(client.pid), "kernels should be running by now"
    client.kill()  # SIGKILL: nothing in `course` can run
    client.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in running) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in running if Path(f"/proc/{pid}").exists()], "processes left running"
    from course.cluster import TASK_PREFIX, remove_stale_task_folders

    remove_stale_task_folders()  # what the next local sweep does first
    assert not list(Path(tempfile.gettempdir()).glob(f"{TASK_PREFIX}{client.pid}-*"))


def test_local_ctrl_c_and_sigterm_stop_every_kernel(tiny, tmp_path, private_tmp):
    env, temporary = private_tmp
    for k, sig in enumerate((signal.SIGINT, signal.SIGTERM)):
        out = tmp_path / f"sweep{k}"
        client = subprocess.Popen(local_sweep(tiny, out, "--grid", "x=3,4", "-p", "nap", "60"), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)  # fmt: skip
        deadline = time.monotonic() + 90
        while not kernels_below(client.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        running = descendants(client.pid)
        assert kernels_below(client.pid)
        client.send_signal(sig)
        stdout, stderr = client.communicate(timeout=120)
        assert client.returncode == 130 and "interrupted" in stdout, stdout + stderr
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in running) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in running if Path(f"/proc/{pid}").exists()], f"{sig!r}: processes left running"
        assert not list(temporary.glob(f"course-task-{client.pid}-*")) and not kernel_folders(temporary)


@pytest.mark.parametrize(
    "scheduler, says",
    [
        ("local:0", "allowed is local:1 to local:"),
        ("local:1000", "allowed is local:1 to local:"),
        ("", "expected local, local:N"),
        ("tcp://127.0.0.1:1", "cannot reach a Dask scheduler at tcp://127.0.0.1:1"),
        ("NOT-DASK", "cannot reach a Dask scheduler"),
    ],
)
def test_bad_schedulers_end_in_one_line_and_exit_2(scheduler, says, tiny, tmp_path):
    import socket
    import threading

    if scheduler == "NOT-DASK":  # a port that is open on loopback but speaks no Dask
        server = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=lambda: server.accept()[0].sendall(b"\xff" * 64), daemon=True).start()
        scheduler = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    start = time.monotonic()
    args = [sys.executable, "-m", "course", "sweep", str(tiny), "--scheduler", scheduler, "--grid", "x=3,4"]
    done = subprocess.run(
        [*args, "--out", str(tmp_path / "s")], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout and time.monotonic() - start < 20
    full = subprocess.run(
        [sys.executable, "-m", "course", "results-full", "--scheduler", "local:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert full.returncode == 2 and "allowed is local:1" in full.stderr


@pytest.mark.parametrize(
    "address, warned",
    [
        ("tcp://192.0.2.7:8786", True),
        ("tcp://scheduler.example.org:8786", True),
        ("tcp://127.0.0.1:8786", False),
        ("tcp://localhost:8786", False),
        ("tcp://[::1]:8786", False),
        ("tls://192.0.2.7:8786", False),
    ],
)
def test_plain_tcp_beyond_loopback_is_warned_about_in_one_line(address, warned, capsys):
    from course.cluster import warn_if_plain_remote

    warn_if_plain_remote(address)
    err = capsys.readouterr().err
    assert (err.count("\n"), "tls://" in err) == ((1, True) if warned else (0, False)), err


def test_an_address_that_names_no_host_is_one_line_and_exit_2_after_the_warning(tiny, tmp_path):
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "course", "sweep", str(tiny), "--scheduler", "tcp://no-such-host.invalid:8786",
         "--grid", "x=3", "--out", str(tmp_path / "s")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 2 and "warning" in lines[0], done.stderr
    assert "cannot reach a Dask scheduler at tcp://no-such-host.invalid:8786" in lines[1]
    assert "Traceback" not in done.stderr + done.stdout and time.monotonic() - start < 20
    assert not (tmp_path / "s" / "runs").exists()
