"""Notebook files: read, tidy and write them the one way the course stores them, and refresh
their stored outputs (`course refresh`, `make refresh NB=02`).

Tidy means: nbformat 4.5 with cell ids; notebook metadata reduced to kernelspec, language name
and the course's own `course` entry (`course.prose`); cell metadata reduced to `tags` (and
slide/nbval keys); no papermill or timing metadata; one JSON layout (indent 1, a final newline).
Refresh executes with nbclient in the notebook's own folder - the same way nbval executes - so
the stored outputs are what nbval will compare.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from helpers.paths import notebook_path, notebook_paths

KEEP_CELL_METADATA = ("tags", "slideshow", "nbval-ignore-output", "jupyter")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return `nb` with normalised metadata, and its stream outputs joined (`joined_streams`)."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    course = nb.metadata.get("course")  # the course's own notebook metadata (declared numbers)
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    if course:
        nb.metadata["course"] = course
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        if "id" not in cell:
            cell["id"] = f"cell-{i:02d}"
        if cell.cell_type == "code":
            cell.outputs = joined_streams(cell.outputs)
            for out in cell.outputs:  # keep only the metadata that names a recorded result
                if "metadata" in out and out.output_type in ("display_data", "execute_result"):
                    out.metadata = nbformat.from_dict({k: v for k, v in out.metadata.items() if k == "record"})
    return nb


def joined_streams(outputs: list) -> list:
    """Consecutive stream outputs of one name (stdout, stderr) as one: how a cell's printing
    arrives in chunks depends on timing, not on what it printed (nbval joins them too)."""
    joined: list = []
    for out in outputs:
        last = joined[-1] if joined else None
        if last and out.output_type == last.output_type == "stream" and out.name == last.name:
            last.text += out.text
        else:
            joined.append(out)
    return joined


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def is_tidy(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return text == dumps(tidy(nbformat.reads(text, as_version=4)))


def refresh(path: Path, timeout: int = 600) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    from course.runner import ipc_kernel_manager

    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        kernel_manager_class=ipc_kernel_manager(),
    ).execute()
    path.write_text(dumps(tidy(nb)), encoding="utf-8")


def tidy_all(check: bool) -> list[str]:
    """Normalise every course notebook's metadata; return the names that changed (or would)."""
    changed = []
    for path in notebook_paths():
        if not is_tidy(path):
            changed.append(path.name)
            if not check:
                path.write_text(dumps(tidy(nbformat.read(path, as_version=4))), encoding="utf-8")
    return changed


def refresh_all(names: list[str]) -> None:
    """Re-execute the named notebooks (all, if none) in place, printing progress."""
    paths = [notebook_path(n) for n in names] or notebook_paths()
    for k, path in enumerate(paths, 1):
        print(f"[{k}/{len(paths)}] refreshing {path.name} ...", flush=True)
        refresh(path)
