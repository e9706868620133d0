"""Where the repository's folders are.

Paths are resolved from this package's location, never from the current working directory:
papermill runs a kernel in whatever directory it was started from, nbval in the notebook's
folder, JupyterLab in `notebooks/`. The package is installed in editable mode (`make` does it),
so `helpers/` sits at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
DATA_DIR: Path = REPO_ROOT / "data"


def notebook_paths() -> list[Path]:
    """The course notebooks `notebooks/NN_slug.ipynb`, in course order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def notebook_path(name: str) -> Path:
    """Resolve a course notebook by stem (`01_loss_functions`), file name or number prefix (`01`),
    or any notebook by its path (`path/to/other.ipynb`).

    Raises FileNotFoundError naming the notebooks that exist.
    """
    if name.endswith(".ipynb") and Path(name).is_file():
        return Path(name).resolve()
    stem = Path(name).name.removesuffix(".ipynb")
    matches = [p for p in notebook_paths() if p.stem == stem or p.stem.split("_", 1)[0] == stem]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in notebook_paths())
        raise FileNotFoundError(f"no course notebook called {name!r}; the notebooks are: {known}")
    return matches[0]
