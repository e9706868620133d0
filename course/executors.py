"""Where runs execute — local processes or a Dask cluster — behind one interface, so that
`course run` and `course sweep` never ask which:

    executor = executor_for(jobs, scheduler, scheduler_file)
    executor.where                  "with 2 job(s)" or "on Dask (local:2)"
    executor.run_many(plans)        (index, RunResult) as each notebook ends        (course run)
    executor.sweep(plan, todo)      RunResult as each combination ends              (course sweep)

Both stop their kernels when the caller is interrupted (Ctrl-C, SIGTERM) and write each executed
notebook whole. Local runs are separate processes (`course.runner.execute_many`,
`course.sweep.iter_results`); Dask runs are tasks (`course.cluster`), on a scheduler given by
address or file, or on a private local cluster (`local:N`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.runner import RunResult, execute_many
from course.sweep import SweepPlan, iter_results

Plans = list[tuple[Path, dict[str, Any], Path]]  # (notebook, parameters, output)


@dataclass(frozen=True)
class Local:
    """`jobs` notebooks at a time, each in its own process on this machine."""

    jobs: int

    @property
    def where(self) -> str:
        return f"with {self.jobs} job(s)"

    def run_many(self, plans: Plans) -> Iterator[tuple[int, RunResult]]:
        return execute_many(plans, self.jobs)

    def sweep(self, plan: SweepPlan, todo: list[dict[str, Any]]) -> Iterator[RunResult]:
        return iter_results(plan, todo, self.jobs)


@dataclass(frozen=True)
class Dask:
    """Tasks on a Dask scheduler (`scheduler` address or `local[:N]`, or a `scheduler_file`)."""

    scheduler: str | None
    scheduler_file: str | None

    @property
    def where(self) -> str:
        return f"on Dask ({self.scheduler or self.scheduler_file})"

    def run_many(self, plans: Plans) -> Iterator[tuple[int, RunResult]]:
        from course.cluster import run_many_on_cluster

        jobs = [(path, parameters, lambda failed, out=out: out) for path, parameters, out in plans]
        return run_many_on_cluster(jobs, self.scheduler, self.scheduler_file)

    def sweep(self, plan: SweepPlan, todo: list[dict[str, Any]]) -> Iterator[RunResult]:
        from course.cluster import iter_results_on_cluster

        return iter_results_on_cluster(plan, todo, self.scheduler, self.scheduler_file)


def executor_for(jobs: int, scheduler: str | None, scheduler_file: str | None) -> Local | Dask:
    """Dask when a scheduler is given, else local processes."""
    return Dask(scheduler, scheduler_file) if scheduler or scheduler_file else Local(jobs)
