"""Sweeps on a Dask cluster: `course sweep ... --scheduler ADDRESS | local[:N]` or `--scheduler-file F`.

Each run is one Dask task. The task receives the notebook's text and its parameters (workers
need the course installed, not a shared folder), executes it in a private temporary folder on
the worker, in a child process of its own, and returns the executed notebook's text, its
recorded results, its status and its time. A failing notebook is a result with status "failed",
never an exception for Dask to retry; a worker lost mid-run is different: Dask runs its task
again on another worker. The client writes each file atomically as its result arrives, so a
sweep on a cluster resumes exactly as a local one does.

Stopping: Ctrl-C (or SIGTERM) on the client sets a Dask `Event` named after the sweep; every
running task watches it and kills its child process group, whose kernel goes with it, and the
queued tasks are cancelled. Each task runs its notebook with one thread per BLAS/TF pool unless
told otherwise, so that a worker's kernel is as fast as a local one and never oversubscribes.

A Dask scheduler runs any code its clients send. A shared one must be reached over TLS
(`tls://...` with certificates) or an SSH tunnel, never an open `tcp://` port: `course` says so
once when it connects over plain `tcp://` to an address that is not this machine's loopback.

**`local` / `local:N` opens no port at all.** Its scheduler and workers live inside the `course`
process and talk over Dask's `inproc://` transport (`LocalCluster(processes=False)`), so no other
process — no other user of the machine — can connect to it and run code as the sweep's user
(a TCP LocalCluster on 127.0.0.1 has no authentication). Measured to serve: each task only starts
and watches a `course run` child process, so a worker thread is all a task needs; the child dies
with the thread that started it (Linux's parent-death signal), so SIGKILL on `course` leaves no
notebook or kernel behind, and a task folder left by a killed sweep is removed by the next one.
N is at most the number of cores: each worker runs one notebook kernel.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from course.runner import (
    THREAD_VARIABLES,
    RunResult,
    UsageError,
    kill_tree,
    read_records,
    remove_stale_folders,
    worker_init,
)
from helpers.provenance import write_whole

POLL_SECONDS = 0.5
CONNECT_SECONDS = 5  # a scheduler that does not answer by then is reported, not waited for
TASK_PREFIX = "course-task-"
ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})")


def local_limit() -> int:
    """The most workers `local:N` may start here: one notebook kernel per core."""
    return max(1, os.cpu_count() or 1)


def scheduler_problems(scheduler: str | None, scheduler_file: str | None) -> list[str]:
    """What is wrong with `--scheduler` / `--scheduler-file`, one line each (nothing is contacted)."""
    problems = []
    if scheduler is not None and scheduler_file is not None:
        problems.append("give --scheduler or --scheduler-file, not both")
    if scheduler is not None:
        local = re.fullmatch(r"local(?::(\d{1,9}))?", scheduler)
        address = ADDRESS.fullmatch(scheduler)
        if local and not 1 <= int(local.group(1) or min(2, local_limit())) <= local_limit():
            problems.append(
                f"--scheduler {scheduler}: allowed is local:1 to local:{local_limit()} "
                f"(one notebook kernel per worker, and this machine has {local_limit()} cores)"
            )
        elif not local and not (address and 0 < int(address.group(3)) < 65536):
            shown = repr(scheduler[:60]) if scheduler.strip() else "''"
            problems.append(f"--scheduler {shown}: expected local, local:N, tcp://host:port or tls://host:port")
    if scheduler_file is not None:
        path = Path(scheduler_file)
        if not scheduler_file or not path.is_file() or path.stat().st_size > 1_000_000:
            problems.append(
                f"--scheduler-file {scheduler_file[:60]!r}: expected the scheduler's JSON file (no such file)"
            )
    return problems


def warn_if_plain_remote(address: str) -> None:
    """One line on stderr when a scheduler is reached over plain tcp:// beyond this machine."""
    match = ADDRESS.fullmatch(address)
    if not match or match.group(1) == "tls":
        return
    host = match.group(2).strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        print(
            f"course: warning: {address} is plain tcp:// to another machine: anyone who can reach that port can "
            "run code there; use tls:// or an SSH tunnel",
            file=sys.stderr,
        )


def remove_stale_task_folders(own: bool = False) -> None:
    """Task folders left in the temporary folder by a sweep that was killed outright (their
    process is gone), and with `own`, this process's (a local cluster's tasks, once it is closed)."""
    remove_stale_folders(TASK_PREFIX, own)


RUNNING: set[subprocess.Popen] = set()  # the `course run` children of this process's tasks (a local cluster's)
CLOSING = threading.Event()  # set while a local cluster closes: its tasks start no child any more
STARTING = threading.Lock()  # a child is started and registered, or not started at all


def kill_children() -> None:
    """Kill every `course run` child this process's tasks have running, and wait for each: a local
    cluster's tasks are threads of this process, and may not have seen the stop event yet; none
    starts a child or makes a task folder after this (`CLOSING`, cleared by the next local cluster)."""
    with STARTING:
        CLOSING.set()
    for child in list(RUNNING):
        kill_tree(child)  # its kernel too: nothing writes in the task folders after this


def run_on_worker(notebook_text: str, name: str, parameters: dict[str, Any], stop_event: str, threads: int = 1) -> dict:
    """A Dask task: execute one notebook run, in a child process, unless `stop_event` is set.

    Never raises for a failing notebook or a stop: both are results ("failed", "stopped").
    """
    from distributed import Event

    stop = Event(stop_event)
    start = time.perf_counter()
    with STARTING:  # the folder too is made only while the cluster is open: a closing one removes them all after
        if CLOSING.is_set():
            return {"status": "stopped", "seconds": 0.0, "error": "", "records": {}, "notebook": ""}
        folder = Path(tempfile.mkdtemp(prefix=f"{TASK_PREFIX}{os.getpid()}-"))
        notebook, params_file, out = folder / f"{name}.ipynb", folder / "parameters.yaml", folder / "out"
        notebook.write_text(notebook_text, encoding="utf-8")
        params_file.write_text(yaml.safe_dump(parameters), encoding="utf-8")
        env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}, "TF_NUM_INTEROP_THREADS": "1"}
        env["TMPDIR"] = str(folder)  # the kernel's socket folder inside the task's: removed with it, even if killed
        command = [sys.executable, "-m", "course", "run", str(notebook), "-f", str(params_file), "--out", str(out)]
        child = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: worker_init({}),  # dies with this thread's process if it is killed outright
        )
        RUNNING.add(child)
    status = None
    while child.poll() is None:
        if stop.is_set():
            kill_tree(child)  # its kernel too, before the task folder is removed
            status = "stopped"
            break
        time.sleep(POLL_SECONDS)
    stdout, stderr = child.communicate()
    RUNNING.discard(child)
    seconds = time.perf_counter() - start
    executed = out / notebook.name
    text = executed.read_text(encoding="utf-8") if executed.exists() else ""
    records = read_records(executed) if executed.exists() else {}
    if status is None:
        status = "ok" if child.returncode == 0 else "failed"
    error = ""
    if status == "failed":
        lines = [line for line in stdout.splitlines() if line.startswith("[1/1]")]
        error = (
            lines[-1].split(" s  ", 1)[-1]
            if lines and " s  " in lines[-1]
            else (stderr.strip().splitlines() or [""])[-1]
        )
    shutil.rmtree(folder, ignore_errors=True)
    return {"status": status, "seconds": seconds, "error": error, "records": records, "notebook": text}


def local_cluster(workers: int):
    """An in-process Dask cluster with no listener: scheduler and workers talk over `inproc://`,
    and the HTTP servers Dask starts beside them (dashboard, metrics) serve no route and are
    closed once the cluster is up (tests/notebooks/test_cluster.py checks that no port is open)."""
    import time as clock

    import dask
    from distributed import LocalCluster

    routes = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    with dask.config.set(routes):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None)
    for server in [cluster.scheduler.http_server, *(w.http_server for w in cluster.workers.values())]:
        cluster.loop.add_callback(server.stop)
    clock.sleep(0.2)  # the loop closes them at once
    return cluster


def connect(scheduler: str | None, scheduler_file: str | None):
    """A Dask client: `local` / `local:N` start an in-process cluster of N single-threaded workers
    (default 2) with no network listener; an address connects to a running scheduler, a file to
    the scheduler an HPC launcher wrote it for. A scheduler that cannot be reached within
    CONNECT_SECONDS is a UsageError of one line."""
    from distributed import Client

    if scheduler and scheduler.split(":")[0] == "local":
        remove_stale_task_folders()
        CLOSING.clear()
        return Client(local_cluster(int(scheduler.split(":")[1]) if ":" in scheduler else min(2, local_limit())))
    where = scheduler or f"the scheduler in {scheduler_file}"
    if scheduler:
        warn_if_plain_remote(scheduler)
    try:
        if scheduler_file:
            client = Client(scheduler_file=scheduler_file, timeout=f"{CONNECT_SECONDS}s")
            warn_if_plain_remote(client.scheduler.address)  # the address the file named
            return client
        return Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError, ValueError, socket.gaierror, KeyError, MemoryError) as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise UsageError(f"cannot reach a Dask scheduler at {where} within {CONNECT_SECONDS} s: {reason}") from None


def run_many_on_cluster(
    jobs: list[tuple[Path, dict[str, Any], Callable[[bool], Path]]], scheduler: str | None, scheduler_file: str | None
) -> Iterator[tuple[int, RunResult]]:
    """Run every (notebook, parameters, output-for(failed)) job as a Dask task; yield
    (index, RunResult) as they finish, after writing each executed notebook atomically."""
    from distributed import Event, as_completed

    client = connect(scheduler, scheduler_file)
    stop_name = f"course-stop-{uuid.uuid4().hex}"
    stop = Event(stop_name, client=client)
    futures = {}
    try:
        for k, (notebook, parameters, _) in enumerate(jobs):
            text = Path(notebook).read_text(encoding="utf-8")
            future = client.submit(run_on_worker, text, Path(notebook).stem, parameters, stop_name, pure=False)
            futures[future] = k
        for future in as_completed(futures):
            k = futures[future]
            notebook, parameters, output_for = jobs[k]
            got = future.result()
            output = output_for(got["status"] != "ok")
            if got["notebook"]:
                output.parent.mkdir(parents=True, exist_ok=True)
                write_whole(output, got["notebook"])  # fsynced, renamed whole
            result = RunResult(
                Path(notebook).stem, parameters, got["status"], got["seconds"], output, got["error"], got["records"]
            )
            yield k, result
    except BaseException:
        stop.set()  # running tasks kill their kernels
        client.cancel(list(futures))
        raise
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            kill_children()  # before their folders go: nothing writes there after
            cluster.close()
            remove_stale_task_folders(own=True)


def iter_results_on_cluster(
    plan: Any, todo: list[dict[str, Any]], scheduler: str | None, scheduler_file: str | None
) -> Iterator[RunResult]:
    """A sweep's runs on the cluster, as `course.sweep.iter_results` yields them locally."""
    jobs = [(Path(plan.notebook), {**plan.fixed, **c}, lambda failed, c=c: plan.output(c, failed=failed)) for c in todo]
    for _, result in run_many_on_cluster(jobs, scheduler, scheduler_file):
        yield result
