"""Make results/full_size.json: Part III's notebooks run with their `full` profile.

    python tools/full_results.py [NOTEBOOK ...]      (make results-full; default 05 06 07)

Each notebook is executed with papermill (executed copies in build/full/), and its recorded
results are saved with the command, the parameters, library versions, hardware and wall times.
The notebooks display this file next to their own teaching-size numbers.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.paths import BUILD_DIR, notebook_path  # noqa: E402
from helpers.results import FULL_RESULTS, hardware, load_full_results  # noqa: E402
from helpers.runner import execute, resolve_parameters  # noqa: E402

DEFAULT = ["05", "06", "07"]


def main(argv: list[str]) -> int:
    names = argv or DEFAULT
    paths = [notebook_path(n) for n in names]
    plans = [(p, resolve_parameters(p, "full")) for p in paths]  # validated before anything runs
    results = load_full_results() or {"notebooks": {}}
    start = time.perf_counter()
    ok = True
    for path, parameters in plans:
        print(f"{path.stem} with {parameters or 'defaults'} ...", flush=True)
        run = execute(path, parameters, BUILD_DIR / "full" / path.name)
        print(f"  {run.status} in {run.seconds:.0f} s {run.error}", flush=True)
        ok &= run.status == "ok"
        results["notebooks"][path.stem] = {"parameters": parameters, "status": run.status,
                                           "seconds": round(run.seconds, 1), "records": run.records}
    results.update({
        "command": "make results-full",
        "made": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "hardware": hardware(),
        "versions": {pkg: metadata.version(pkg) for pkg in ("tensorflow", "keras", "numpy", "scikit-learn")},
        "python": sys.version.split()[0],
        "last_wall_seconds": round(time.perf_counter() - start, 1),
    })
    FULL_RESULTS.parent.mkdir(exist_ok=True)
    FULL_RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {FULL_RESULTS} ({results['last_wall_seconds']:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
