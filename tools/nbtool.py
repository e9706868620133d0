"""Notebook housekeeping: tidy metadata and refresh stored outputs.

    python tools/nbtool.py tidy            # normalise every notebook (make tidy)
    python tools/nbtool.py tidy --check    # exit 1 and list the untidy ones (used by the tests)
    python tools/nbtool.py refresh [NB..]  # execute in place, then tidy (make refresh NB=02)

Tidy means: nbformat 4.5 with cell ids; notebook metadata reduced to kernelspec and language
name; cell metadata reduced to `tags` (and slide/nbval keys); no papermill or timing metadata;
one JSON layout (indent 1, a final newline). Refresh executes with nbclient in the notebook's own
folder - the same way nbval executes - so the stored outputs are what nbval will compare.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.paths import notebook_path, notebook_paths  # noqa: E402

KEEP_CELL_METADATA = ("tags", "slideshow", "nbval-ignore-output", "jupyter")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return `nb` with normalised metadata (outputs untouched)."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        if "id" not in cell:
            cell["id"] = f"cell-{i:02d}"
        if cell.cell_type == "code":
            for out in cell.outputs:  # keep only the metadata that names a recorded result
                if "metadata" in out and out.output_type in ("display_data", "execute_result"):
                    out.metadata = nbformat.from_dict({k: v for k, v in out.metadata.items() if k == "record"})
    return nb


def report(changed: list[str], check: bool, command: str = "make tidy") -> int:
    """Print what a generator changed (or would change, with check); the exit status for check."""
    for name in changed:
        print(f"{'out of date' if check else 'updated'}: {name}")
    if check and changed:
        print(f"run `{command}` to update them")
    return 1 if check and changed else 0


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def is_tidy(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return text == dumps(tidy(nbformat.reads(text, as_version=4)))


def refresh(path: Path, timeout: int = 600) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    path.write_text(dumps(tidy(nb)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tidy")
    t.add_argument("--check", action="store_true")
    r = sub.add_parser("refresh")
    r.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "tidy":
        untidy = [p for p in notebook_paths() if not is_tidy(p)]
        if args.check:
            for p in untidy:
                print(f"untidy: {p.name} (run `make tidy`)")
            return 1 if untidy else 0
        for p in untidy:
            p.write_text(dumps(tidy(nbformat.read(p, as_version=4))), encoding="utf-8")
            print(f"tidied {p.name}")
        return 0
    paths = [notebook_path(n) for n in args.notebooks] or notebook_paths()
    for p in paths:
        print(f"refreshing {p.name} ...", flush=True)
        refresh(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
