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
(`tls://...` with certificates) or an SSH tunnel, never an open `tcp://` port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from course.runner import THREAD_VARIABLES, RunResult, read_records

POLL_SECONDS = 0.5


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
    """A Dask client: `local` / `local:N` start a LocalCluster of N single-threaded worker
    processes (default 2), an address connects to a running scheduler, a file to the scheduler
    an HPC launcher wrote it for."""
    from distributed import Client, LocalCluster

    if scheduler_file:
        return Client(scheduler_file=scheduler_file, timeout="30s")
    if scheduler and scheduler.split(":")[0] == "local":
        workers = int(scheduler.split(":")[1]) if ":" in scheduler else 2
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster)
    return Client(scheduler, timeout="30s")


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
                part = output.with_name(output.name + ".part")
                part.write_text(got["notebook"], encoding="utf-8")
                part.replace(output)
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
            cluster.close()


def iter_results_on_cluster(
    plan: Any, todo: list[dict[str, Any]], scheduler: str | None, scheduler_file: str | None
) -> Iterator[RunResult]:
    """A sweep's runs on the cluster, as `course.sweep.iter_results` yields them locally."""
    jobs = [(Path(plan.notebook), {**plan.fixed, **c}, lambda failed, c=c: plan.output(c, failed=failed)) for c in todo]
    for _, result in run_many_on_cluster(jobs, scheduler, scheduler_file):
        yield result
