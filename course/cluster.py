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
(`tls://...` with certificates) or an SSH tunnel, never an open `tcp://` port; `course` warns
once when it connects over plain `tcp://` to an address that is not this machine's loopback.

`--scheduler local:N` starts no Dask cluster at all: it runs N notebooks at a time in local
worker processes, exactly as `--jobs N` does (same files, same results). A `LocalCluster` listens
on TCP, and any local user who reaches its port runs code as the sweep's user. Measured with
distributed 2026.8.0: even an in-process cluster (`processes=False`, `inproc://` transport) opens
three HTTP listeners on 0.0.0.0 (a dashboard and one per worker), whatever `dashboard_address`
and `http.routes` say. A process pool opens no listener, its kernels talk over Unix sockets in
private (0700) folders, and its stop on Ctrl-C, SIGTERM or SIGKILL is already tested. N is capped
at the cores of this machine.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from course.runner import THREAD_VARIABLES, RunResult, UsageError, execute_many, read_records, write_atomic

POLL_SECONDS = 0.5
CONNECT_SECONDS = 5
_LOCAL = re.compile(r"local(?::(\d{1,7}))?")
_ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")
_warned: set[str] = set()


def local_workers(scheduler: str | None) -> int | None:
    """N for `local` (2, at most the cores) or `local:N`; None for anything else."""
    m = _LOCAL.fullmatch(scheduler or "")
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else min(2, os.cpu_count() or 1)


def scheduler_problems(scheduler: str | None, scheduler_file: str | None) -> list[str]:
    """What is wrong with `--scheduler` / `--scheduler-file`, one line each (checked before any work)."""
    problems = []
    cores = os.cpu_count() or 1
    if scheduler is not None and scheduler_file is not None:
        problems.append("give --scheduler or --scheduler-file, not both")
    if scheduler is not None:
        workers = local_workers(scheduler)
        if workers is not None and not 1 <= workers <= cores:
            problems.append(
                f"--scheduler {scheduler[:20]}: local:N runs N notebooks at once; "
                f"N must be 1 to {cores} (the cores of this machine)"
            )
        elif workers is None and not _ADDRESS.fullmatch(scheduler):
            problems.append(
                f"--scheduler {scheduler[:40]!r}: expected local, local:N (N from 1 to {cores}), "
                "tcp://host:port or tls://host:port"
            )
        elif workers is None and not 0 < int(_ADDRESS.fullmatch(scheduler).group(3)) < 65536:
            problems.append(f"--scheduler {scheduler[:40]}: the port must be 1 to 65535")
    if scheduler_file is not None and not Path(scheduler_file).is_file():
        problems.append(f"--scheduler-file {scheduler_file[:60]!r}: no such file")
    return problems


def plain_tcp_warning(address: str) -> str | None:
    """A warning when `address` is plain tcp:// to a host that is not a loopback address."""
    m = _ADDRESS.fullmatch(address)
    if not m or m.group(1) == "tls":
        return None
    host = m.group(2).strip("[]")
    try:
        loopback = all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        loopback = False
    if loopback:
        return None
    return (
        f"warning: {address} is plain tcp:// to another machine: anyone who reaches that port can run code "
        "on the workers; use tls:// (see README) or an SSH tunnel"
    )


def run_on_worker(notebook_text: str, name: str, parameters: dict[str, Any], stop_event: str, threads: int = 1) -> dict:
    """A Dask task: execute one notebook run, in a child process, unless `stop_event` is set.

    Never raises for a failing notebook or a stop: both are results ("failed", "stopped").
    """
    from distributed import Event

    stop = Event(stop_event)
    folder = Path(tempfile.mkdtemp(prefix="course-task-"))
    notebook = folder / f"{name}.ipynb"
    notebook.write_text(notebook_text, encoding="utf-8")
    params_file = folder / "parameters.yaml"
    params_file.write_text(yaml.safe_dump(parameters), encoding="utf-8")
    out = folder / "out"
    env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}, "TF_NUM_INTEROP_THREADS": "1"}
    command = [sys.executable, "-m", "course", "run", str(notebook), "-f", str(params_file), "--out", str(out)]
    start = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    status = None
    while child.poll() is None:
        if stop.is_set():
            os.killpg(child.pid, signal.SIGKILL)  # the kernel exits when its parent dies
            child.wait()
            status = "stopped"
            break
        time.sleep(POLL_SECONDS)
    stdout, stderr = child.communicate()
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
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    return {"status": status, "seconds": seconds, "error": error, "records": records, "notebook": text}


def connect(scheduler: str | None, scheduler_file: str | None):
    """A Dask client for a running scheduler (an address, or the file an HPC launcher wrote),
    within CONNECT_SECONDS; any failure is a UsageError of one line (exit 2), never a traceback."""
    import logging

    from distributed import Client

    target = scheduler_file or scheduler or ""
    if scheduler and scheduler not in _warned and (warning := plain_tcp_warning(scheduler)):
        _warned.add(scheduler)
        print(warning, file=sys.stderr, flush=True)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # the one line below says it all
    try:
        if scheduler_file:
            return Client(scheduler_file=scheduler_file, timeout=f"{CONNECT_SECONDS}s")
        address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
        return Client(address, timeout=f"{CONNECT_SECONDS}s")
    except Exception as err:  # refused, timed out, not Dask, bad address, bad file ...
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise UsageError(
            f"cannot reach a Dask scheduler at {target[:80]} within {CONNECT_SECONDS} s ({reason}); "
            "is it running, and is that its address?"
        ) from None


def run_many_locally(
    jobs: list[tuple[Path, dict[str, Any], Callable[[bool], Path]]], workers: int
) -> Iterator[tuple[int, RunResult]]:
    """`--scheduler local:N`: the runs `workers` at a time in local processes (no listener);
    a failed run is moved to the name its caller gives failures."""
    plans = [(Path(notebook), parameters, output_for(False)) for notebook, parameters, output_for in jobs]
    for k, result in execute_many(plans, workers):
        failed_name = jobs[k][2](True)
        if result.status != "ok" and result.output.exists() and failed_name != result.output:
            result.output.replace(failed_name)
            result.output = failed_name
        yield k, result


def run_many_on_cluster(
    jobs: list[tuple[Path, dict[str, Any], Callable[[bool], Path]]], scheduler: str | None, scheduler_file: str | None
) -> Iterator[tuple[int, RunResult]]:
    """Run every (notebook, parameters, output-for(failed)) job as a Dask task; yield
    (index, RunResult) as they finish, after writing each executed notebook atomically."""
    workers = local_workers(scheduler)
    if workers is not None:
        yield from run_many_locally(jobs, workers)
        return
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
                write_atomic(output, got["notebook"])
            result = RunResult(
                Path(notebook).stem, parameters, got["status"], got["seconds"], output, got["error"], got["records"]
            )
            yield k, result
    except BaseException:
        stop.set()  # running tasks kill their kernels
        client.cancel(list(futures))
        raise
    finally:
        client.close()


def iter_results_on_cluster(
    plan: Any, todo: list[dict[str, Any]], scheduler: str | None, scheduler_file: str | None
) -> Iterator[RunResult]:
    """A sweep's runs on the cluster, as `course.sweep.iter_results` yields them locally."""
    jobs = [(Path(plan.notebook), {**plan.fixed, **c}, lambda failed, c=c: plan.output(c, failed=failed)) for c in todo]
    for _, result in run_many_on_cluster(jobs, scheduler, scheduler_file):
        yield result
