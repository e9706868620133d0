"""Course navigation, generated: a previous/next bar and a course map in every notebook.

    python tools/course_nav.py          # write the navigation cells (make nav)
    python tools/course_nav.py --check  # exit 1 if any notebook's navigation is missing or stale

Each notebook gets two markdown cells tagged `course-nav`: one right after its title cell (the
course map, with this notebook in bold, and previous/next links) and one at the very end
(previous/next). They are made from the notebooks' own titles, so links never drift when a
notebook is added or renamed. Markdown only: stored outputs and execution counts are untouched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.paths import notebook_paths  # noqa: E402
from tools.nbtool import dumps, tidy  # noqa: E402

TAG = "course-nav"


def title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source.splitlines()[0]
    return first.lstrip("# ").strip()


def nav_cells(paths: list[Path], k: int) -> tuple[str, str]:
    titles = [title(p) for p in paths]
    prev_link = f"[← {titles[k - 1]}]({paths[k - 1].name})" if k > 0 else "← (start of the course)"
    next_link = f"[{titles[k + 1]} →]({paths[k + 1].name})" if k + 1 < len(paths) else "(end of the course) →"
    bar = f"{prev_link} · [README](../README.md) · {next_link}"
    course_map = "\n".join(f"{i + 1}. " + (f"**{t}** (you are here)" if i == k else f"[{t}]({p.name})")
                           for i, (t, p) in enumerate(zip(titles, paths)))
    top = f"{bar}\n\n<details><summary>Course map</summary>\n\n{course_map}\n\n</details>"
    return top, bar


def with_nav(nb: nbformat.NotebookNode, top: str, bottom: str) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
    top_cell = nbformat.v4.new_markdown_cell(top, metadata={"slideshow": {"slide_type": "skip"}, "tags": [TAG]})
    top_cell["id"] = "course-nav-top"
    bottom_cell = nbformat.v4.new_markdown_cell(bottom, metadata={"slideshow": {"slide_type": "skip"}, "tags": [TAG]})
    bottom_cell["id"] = "course-nav-bottom"
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), 1)
    nb.cells = [*cells[:first_code], top_cell, *cells[first_code:], bottom_cell]  # after the opening
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    paths = notebook_paths()
    stale = []
    for k, path in enumerate(paths):
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        new = dumps(tidy(with_nav(nb, *nav_cells(paths, k))))
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for p in stale:
        print(f"{'stale navigation' if args.check else 'updated'}: {p.name}" + (" (run `make nav`)" if args.check else ""))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
