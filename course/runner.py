"""Execute course notebooks headless with papermill: parameters, profiles, one run, its records.

The engine behind `course run` (sweeps build on it in `course.sweep`). Executed copies always go under
`build/` (or another folder you name), never over the sources; runs work from any directory.
Parameters are validated against the notebook's own `parameters` cell before a kernel starts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.display import shorten
from helpers.params import notebook_spec, validate_values
from helpers.paths import NOTEBOOKS_DIR
from helpers.record import RECORD_KEY

PROFILES_FILE = NOTEBOOKS_DIR / "profiles.yaml"
TEACHING = "teaching"


def read_records(path: str | Path) -> dict[str, Any]:
    """Every value recorded (`helpers.record.record`) in the executed notebook at `path`, by
    name; a later record of the same name wins."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get(RECORD_KEY)
            if name is not None and "application/json" in out.get("data", {}):
                found[name] = out["data"]["application/json"][name]
    return found


class UsageError(ValueError):
    """Bad input to the runner (unknown notebook, profile or parameter): exit status 2."""


def is_complete(path: Path) -> bool:
    """Whether `path` is a regular file (not a link) holding a whole notebook: JSON with cells.
    A copy cut short by a full disk or a kill is not complete, so it never counts as done."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(nb, dict) and isinstance(nb.get("cells"), list)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def duplicate_problems(paths: list[Path]) -> list[str]:
    """Notebooks that would write one output file (`run 02 02`, or two files of one name)."""
    seen: dict[str, Path] = {}
    problems = []
    for p in paths:
        first = seen.setdefault(p.name, p)
        if first is not p:
            what = f"{p.name} is given twice" if p.resolve() == first.resolve() else f"{first} and {p} share a name"
            problems.append(f"{what}: give each notebook once, with distinct file names (their copies share --out)")
    return problems


def parse_cli_value(text: str) -> Any:
    """A `-p` value, read by papermill's rules: True/False/None, int, float, else the string."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def profiles(notebook: str) -> dict[str, dict[str, Any]]:
    """The named profiles of a notebook (`teaching` = its defaults), from notebooks/profiles.yaml."""
    table = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8")) or {}
    return {TEACHING: {}, **(table.get(notebook) or {})}


def profile_values(notebook: str, name: str) -> dict[str, Any]:
    known = profiles(notebook)
    if name not in known:
        raise UsageError(f"unknown profile {name!r} for {notebook}: its profiles are {', '.join(known)}")
    return dict(known[name])


def resolve_parameters(
    path: Path,
    profile: str = TEACHING,
    file_values: dict[str, Any] | None = None,
    cli_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge profile < YAML file < -p values and validate them; return only the non-default ones.

    Raises ParameterError (every problem, one a line) or UsageError, before any kernel starts.
    """
    given = {**profile_values(path.stem, profile), **(file_values or {}), **(cli_values or {})}
    spec = notebook_spec(path)
    checked = validate_values(spec, given)
    return {name: checked[name] for name in spec if name in given}


@dataclass
class RunResult:
    notebook: str
    parameters: dict[str, Any]
    status: str  # "ok" or "failed"
    seconds: float
    output: Path
    error: str = ""
    records: dict[str, Any] = field(default_factory=dict)


KERNEL_PREFIX = "course-kernel-"  # + the pid of the process that started the kernel + "-"


def remove_stale_folders(prefix: str, own: bool = False) -> None:
    """Folders `prefix` + PID + "-..." in the temporary folder whose process is gone (it was killed
    before it could remove them), and with `own`, this process's. Another user's are never
    touched: the temporary folder lets each user remove only their own."""
    import shutil
    import tempfile

    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = folder.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and (not Path(f"/proc/{pid}").exists() or (own and int(pid) == os.getpid())):
            shutil.rmtree(folder, ignore_errors=True)


def ipc_kernel_manager() -> type:
    """A kernel manager whose kernels talk to us over IPC (Unix sockets) instead of TCP on
    localhost. On one machine nothing then goes over the network, so ipykernel has no reason for
    its "running over TCP without encryption" warning. (On a Dask cluster each kernel starts next
    to the worker that runs it, so the same holds there.) Every kernel gets its own private
    folder for its sockets, so kernels started at the same time cannot collide, and nothing is
    written to the current directory; the folder is removed when the kernel's resources are. A
    process stopped before that (a pool worker terminated by Ctrl-C, a run killed outright) leaves
    it behind; its name carries the process's id, so the next run removes it (`remove_stale_folders`)."""
    import shutil
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            self._socket_dir = tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{os.getpid()}-")
            return os.path.join(self._socket_dir, "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart and getattr(self, "_socket_dir", None):
                shutil.rmtree(self._socket_dir, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

    return IPCKernelManager


def execute(path: Path, parameters: dict[str, Any], output: Path, progress: bool = False) -> RunResult:
    """Run one notebook with papermill into `output`; never raises for a failing notebook.

    The copy is written as `output` + `.part` while it runs and renamed when it is done, so an
    interrupted run never leaves a file that looks finished. With `progress`, papermill shows a
    bar of cells done, with the time elapsed and an estimate of the time left (for long runs).
    """
    import papermill as pm

    remove_stale_folders(KERNEL_PREFIX)  # the socket folders of kernels whose runs were killed
    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_name(output.name + ".part")
    part.unlink(missing_ok=True)  # papermill opens it by name: never through a link planted there
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.execute_notebook(
                str(path),
                str(part),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=progress,
                log_output=False,
                kernel_manager_class=ipc_kernel_manager(),
            )
        status, error = "ok", ""
    except Exception as err:  # papermill.PapermillExecutionError, a dead kernel, ...
        status = "failed"
        error = f"{getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', err)}".strip()
        error = error.splitlines()[0] if error else type(err).__name__
    seconds = time.perf_counter() - start
    if is_complete(part):
        _fsync(part)
        part.replace(output)
    elif part.exists() or part.is_symlink():  # cut short (a full disk): never under the final name
        part.unlink()
        status = "failed"
        error = f"{error}; " if error else ""
        error += "the executed copy could not be written in full (is the disk full?)"
    records = read_records(output) if is_complete(output) else {}
    return RunResult(path.stem, parameters, status, seconds, output, error, records)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def thread_limits(jobs: int) -> dict[str, str]:
    """Environment for a kernel that shares the machine with `jobs - 1` others: the cores split
    between them (at least one thread each), so that parallel runs do not fight over the cores."""
    per_job = max(1, (os.cpu_count() or 1) // max(1, jobs))
    return {**{name: str(per_job) for name in THREAD_VARIABLES}, "TF_NUM_INTEROP_THREADS": "1"}


def process_tree(pid: int) -> set[int]:
    """Every live process below `pid` (children, grandchildren: a `course run` and its kernel),
    read from /proc (empty where there is no /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie waiting to be reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_tree(child: Any, wait_seconds: float = 10.0) -> None:
    """Kill `child` (a Popen started in its own session), its process group and every process
    below it, and wait until all have ended. A kernel runs in a session of its own and would only
    notice its parent's death a moment later, still writing in the task's folder meanwhile; so it
    is killed here too, and the folder can be removed once this returns. Every process found is
    stopped first (SIGSTOP), and /proc is read again until no new one appears, so none can start
    another between the look and the kill. Linux (/proc); elsewhere only the group is killed.
    A process still alive after `wait_seconds` is named on stderr."""
    if child.poll() is not None:  # ended and reaped: its pid may belong to another process by now
        return
    signal_group(child.pid, signal.SIGSTOP)
    below: set[int] = set()
    while new := process_tree(child.pid) - below:  # until a look finds no process it has not stopped
        below |= new
        signal_each(new, signal.SIGSTOP)
    signal_group(child.pid, signal.SIGKILL)
    signal_each(below, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + wait_seconds
    while (left := [pid for pid in below if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        print(f"course: processes {', '.join(map(str, left))} did not end after SIGKILL", file=sys.stderr)


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to the process group `pgid`, unless it has ended."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def signal_each(pids: set[int], signum: int) -> None:
    """Send `signum` to each of `pids`, skipping those that have ended."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def worker_init(environment: dict[str, str]) -> None:
    """Set up a pool worker: its thread limits (the kernels it starts inherit its environment),
    and, on Linux, death with its parent: if the runner is killed outright (SIGKILL, which it
    cannot catch), the kernel lets the worker go, and the kernel follows its worker."""
    os.environ.update(environment)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's own clean-up still applies
        pass


def execute_many(plans: list[tuple[Path, dict[str, Any], Path]], jobs: int, run=None):
    """Yield (index, RunResult) as the runs of `plans` (notebook, parameters, output) finish,
    `jobs` at a time in separate processes (in order, in this process, when jobs == 1).
    Interrupted (Ctrl-C), queued runs are cancelled and unfinished `.part` files removed. `run`
    (a module-level function, for the worker processes) replaces `execute`, as a sweep's does."""
    run = run or execute
    if jobs <= 1:
        for k, (path, parameters, output) in enumerate(plans):
            yield k, run(path, parameters, output)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_init,
        initargs=(thread_limits(jobs),),
    )
    try:
        futures = {pool.submit(run, *plan): k for k, plan in enumerate(plans)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        stop_pool(pool)
        for _, _, output in plans:
            output.with_name(output.name + ".part").unlink(missing_ok=True)
        raise
    pool.shutdown()


def stop_pool(pool) -> None:
    """Stop a process pool at once: queued runs never start, and running workers and their kernels
    are killed, leaving no socket folder behind. Each worker is frozen first, so that none starts a
    kernel while its kernels are being listed; then workers and kernels are killed and waited for,
    and only then are the socket folders removed. (Before, the kernels were left to notice that
    their worker had died, within a second; a kernel still starting when its folder was removed
    printed a traceback as it failed to open its sockets there, seen once in CI under load.)"""
    import psutil

    workers = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    frozen = []
    for worker in workers:
        try:
            process = psutil.Process(worker.pid)
            process.suspend()  # SIGSTOP: it starts nothing more
            frozen.append(process)
        except psutil.Error:  # it had just ended
            pass
    kernels = []
    for process in frozen:
        try:
            kernels += process.children(recursive=True)
        except psutil.Error:
            pass
    for process in [*frozen, *kernels]:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs([*frozen, *kernels], timeout=10)
    for worker in workers:
        worker.join(timeout=10)
    remove_stale_folders(KERNEL_PREFIX)  # the socket folders of the kernels they had started


_BUDGET = re.compile(r"\*\*Expected run time:\*\*\s*under (\d+) s\b")


def stated_budget(path: Path) -> float | None:
    """The run time a notebook's title cell promises ("**Expected run time:** under N s"), so
    that `course run` can check the promise against what it measures."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", [])[:3]:
        if cell.get("cell_type") == "markdown":
            m = _BUDGET.search("".join(cell.get("source", "")))
            if m:
                return float(m.group(1))
    return None


def key_results(records: dict[str, Any], limit: int = 4) -> str:
    scalars = [(k, v) for k, v in records.items() if not isinstance(v, (list, dict))]
    return ", ".join(f"{k}={shorten(v, 14)}" for k, v in scalars[:limit])
