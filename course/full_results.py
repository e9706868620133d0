"""Make results/full_size.json: notebooks run with their `full` profile.

    course results-full [NOTEBOOK ...]      (make results-full; default 06 07 08, Part III)
    course results-full 10                  (Part IV's full-size run)

Each notebook is executed with papermill (executed copies in build/full/), and its recorded
results are saved with the command, the parameters, library versions, hardware and wall times.
The notebooks display this file next to their own teaching-size numbers.
"""

from __future__ import annotations

import datetime
import time

from course import BUILD_DIR
from course.runner import execute, resolve_parameters
from helpers.paths import notebook_path
from helpers.provenance import hardware, versions, write_json
from helpers.results import FULL_RESULTS, load_full_results

DEFAULT = ["06", "07", "08"]


def make(names: list[str], scheduler: str | None = None, scheduler_file: str | None = None) -> int:
    """Run the notebooks (default: DEFAULT) with their `full` profile and save their results;
    with a Dask scheduler (`course.cluster`), all of them at once on the cluster."""
    command = f"course results-full {' '.join(names)}" if names else "make results-full"  # as a user would type it
    names = names or DEFAULT
    paths = [notebook_path(n) for n in names]
    plans = [(p, resolve_parameters(p, "full")) for p in paths]  # validated before anything runs
    results = load_full_results() or {"notebooks": {}}
    start = time.perf_counter()
    ok = True
    if scheduler or scheduler_file:
        from course.cluster import run_many_on_cluster

        print(f"running {len(plans)} notebooks on Dask ({scheduler or scheduler_file}) ...", flush=True)
        jobs = [(p, params, lambda failed, p=p: BUILD_DIR / "full" / p.name) for p, params in plans]
        runs = [run for _, run in sorted(run_many_on_cluster(jobs, scheduler, scheduler_file), key=lambda kr: kr[0])]
    else:
        runs = None
    for k, (path, parameters) in enumerate(plans, 1):
        if runs is None:
            elapsed = time.perf_counter() - start
            print(
                f"[{k}/{len(plans)}, {elapsed / 60:.0f} min so far] {path.stem} with {parameters or 'defaults'} ...",
                flush=True,
            )
            run = execute(path, parameters, BUILD_DIR / "full" / path.name, progress=True)
        else:
            run = runs[k - 1]
        print(f"  {path.stem}: {run.status} in {run.seconds:.0f} s {run.error}", flush=True)
        ok &= run.status == "ok"
        results["notebooks"][path.stem] = {
            "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command,  # per notebook, like the machine: the file's own line is the last run's
            "parameters": parameters,
            "status": run.status,
            "seconds": round(run.seconds, 1),
            "records": run.records,
            "hardware": hardware(),  # per notebook: a later run of another notebook may be on another machine
            "versions": versions(),
        }
    results.update(
        {
            "command": command,
            "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "hardware": hardware(),
            "versions": versions(),
            "last_wall_seconds": round(time.perf_counter() - start, 1),
        }
    )
    write_json(results, FULL_RESULTS)
    print(f"wrote {FULL_RESULTS} ({results['last_wall_seconds']:.0f} s)")
    return 0 if ok else 1
