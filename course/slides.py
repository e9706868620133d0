"""Lecture slides: reveal.js decks of every notebook, built with nbconvert, offline.

    course tidy [--check]        # (make tidy) writes, among the rest, the slide metadata of every cell
    course slides [--out DIR]    # (make slides) build/slides/NN_slug.slides.html

**Slide metadata** (`cell.metadata.slideshow.slide_type`) is kept on the cells, written by
`annotate` from these rules, so that every notebook, present and future, gets the same kind of
deck (a test fails when the metadata is stale):

- the title cell and every `##` section start a slide; `###` headings and the lesson's goals
  ("You will be able to") start a sub-slide (markdown cells are split so that each of these
  begins a cell);
- prose continues the slide it is on; a short code cell appears as a *fragment* (one more
  click), after the explanation it illustrates, unless the slide already shows
  `MAX_SLIDE_CODE_LINES` lines of code and output: then it starts a new sub-slide;
- a code cell longer than `MAX_CODE_LINES` is a wall of code: if it has output (a table, a
  figure) only the output is shown (tag `slides-output-only`), otherwise it goes into the
  speaker *notes*;
- details are *skipped*: a cell of imports only, the parameters and validation cells, the
  navigation, and the exercises' answer, solution and check cells (the exercise statements stay).

A teacher can take a cell out of the rules by tagging it `slides-manual`; `annotate` then
leaves its slide metadata alone.

**Building** needs reveal.js, RequireJS, jQuery and MathJax 2 next to the decks, because the
slides must work without a network. They come from the npm registry at the versions pinned in
`course/slide_assets/package-lock.json` (checked by npm's integrity hashes), installed once into
`build/slide-assets/` and copied into `OUT_DIR/_assets/`.
"""

from __future__ import annotations

import ast
import fcntl
import re
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from course import BUILD_DIR
from course.notebooks import dumps
from helpers.paths import notebook_paths

MAX_CODE_LINES = 12  # a longer code cell is a wall of code: output only, or speaker notes
MAX_SLIDE_CODE_LINES = 24  # code and output shown on one (sub-)slide; past it, the next code cell moves on
FIGURE_LINES = 12  # the lines of text a figure displaces on a slide, for that budget
OUTPUT_ONLY_TAG = "slides-output-only"
MANUAL_TAG = "slides-manual"
SKIP_TAGS = {"course-nav", "parameters", "exercise", "solution"}
DEFAULT_OUT = BUILD_DIR / "slides"
ASSET_SOURCE = Path(__file__).resolve().parent / "slide_assets"
NODE_DIR = BUILD_DIR / "slide-assets"
# what the decks load, relative to OUT_DIR (the nbconvert options that point at a CDN by default)
ASSETS = {
    "reveal_url_prefix": "_assets/reveal.js",
    "require_js_url": "_assets/require.js",
    "jquery_url": "_assets/jquery.min.js",
    "mathjax_url": "_assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "mermaid_js_url": "./_assets/mermaid-stub.mjs",
    "font_awesome_url": "",
}
MATHJAX_PARTS = (
    "MathJax.js",
    "config",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
)
PROJECTOR_CSS = """
<style>
/* Projector-friendly: figures fit the slide, code and tables stay legible. */
.reveal .jp-OutputArea-output img { max-height: 62vh; width: auto; max-width: 100%; }
.reveal .jp-InputArea pre, .reveal .jp-OutputArea pre { font-size: 0.62em; line-height: 1.25; }
/* A long output (the source's program, a helper's source) scrolls inside its box. */
.reveal .jp-OutputArea-output { max-height: 52vh; overflow-y: auto; }
.reveal .jp-RenderedMarkdown { font-size: 0.6em !important; }
.reveal .slides h1 { font-size: 1.7em !important; } .reveal .slides h2 { font-size: 1.35em !important; }
.reveal .slides h3 { font-size: 1.15em !important; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
/* MathJax 2 adds a hidden MathML copy of every formula; inside reveal.js it shows up twice. */
.reveal .MJX_Assistive_MathML { display: none !important; }
</style>
"""


# --------------------------------------------------------------------------- annotate


def only_imports(source: str) -> bool:
    """True for code that does nothing but import (a detail on a slide)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in body)


def slide_type(cell: nbformat.NotebookNode, index: int) -> str:
    """The slide type the rules give a cell (see the module docstring)."""
    tags = set(cell.metadata.get("tags", []))
    source = cell.source.lstrip()
    if tags & SKIP_TAGS or "check_parameters(" in cell.source or "helpers.exercises import check_" in cell.source:
        return "skip"
    if cell.cell_type == "markdown":
        if index == 0 or source.startswith("## ") or source.startswith("# "):
            return "slide"
        return "subslide" if source.startswith(("### ", GOALS)) else "-"
    if cell.cell_type != "code" or only_imports(cell.source):
        return "skip"
    if len(cell.source.splitlines()) > MAX_CODE_LINES and not cell.get("outputs"):
        return "notes"
    return "fragment"


HEADING = re.compile(r"^#{2,3} ", re.M)
GOALS = "**You will be able to**"  # the title cell's second half: the lesson's goals


def split_at_headings(nb: nbformat.NotebookNode) -> None:
    """Split markdown cells so that every `##` and `###` heading starts a cell (a slide can only
    start at a cell). Headings inside fenced code or display maths are left alone."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        parts, current, fenced = [], [], False
        for line in cell.source.split("\n"):
            if line.startswith("```") or line.strip() == "$$":
                fenced = not fenced
            starts_part = HEADING.match(line) or line.startswith(GOALS)
            if not fenced and starts_part and any(x.strip() for x in current):
                parts.append("\n".join(current).strip("\n"))
                current = []
            current.append(line)
        parts.append("\n".join(current).strip("\n"))
        for k, part in enumerate(parts):
            piece = nbformat.from_dict(dict(cell)) if k == 0 else nbformat.v4.new_markdown_cell(part)
            piece.source = part
            if k:
                piece["id"] = f"{cell.get('id', 'cell')}-{k}"
                piece.metadata = nbformat.from_dict({k2: v for k2, v in cell.metadata.items() if k2 == "tags"})
            cells.append(piece)
    nb.cells = cells


def output_lines(cell: nbformat.NotebookNode) -> int:
    """Roughly how many lines of a slide a code cell's outputs take (a figure counts as 12)."""
    total = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            total += FIGURE_LINES
        elif out.get("output_type") == "stream":
            total += len(out.get("text", "").splitlines())
        else:
            text = data.get("text/markdown") or data.get("text/html") or data.get("text/plain") or ""
            total += len(text.splitlines()) if ("text/markdown" in data or "text/plain" in data) else 0
    return total


def annotate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Write the rules' slide metadata (and the output-only tag) on every cell of `nb`."""
    split_at_headings(nb)
    code_on_slide = 0
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        if MANUAL_TAG in tags:
            continue
        kind = slide_type(cell, index)
        lines = len(cell.source.splitlines())
        long_with_output = cell.cell_type == "code" and kind == "fragment" and lines > MAX_CODE_LINES
        shown = (0 if long_with_output else lines) + output_lines(cell) if kind == "fragment" else 0
        if kind in ("slide", "subslide"):
            code_on_slide = 0
        elif shown and code_on_slide and code_on_slide + shown > MAX_SLIDE_CODE_LINES:
            kind, code_on_slide = "subslide", 0
        code_on_slide += shown
        cell.metadata["slideshow"] = {"slide_type": kind}
        tags = [t for t in tags if t != OUTPUT_ONLY_TAG] + ([OUTPUT_ONLY_TAG] if long_with_output else [])
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return nb


def annotate_all(check: bool) -> list[str]:
    changed = []
    for path in notebook_paths():
        text = path.read_text(encoding="utf-8")
        new = dumps(annotate(nbformat.reads(text, as_version=4)))
        if new != text:
            changed.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


# --------------------------------------------------------------------------- build


def install_assets(out_dir: Path) -> None:
    """Copy reveal.js, RequireJS, jQuery and MathJax into out_dir/_assets (npm ci once)."""
    modules = NODE_DIR / "node_modules"
    lock = ASSET_SOURCE / "package-lock.json"
    stamp = NODE_DIR / ".installed-from-lock"  # a copy of the lock npm ci last finished with
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with open(NODE_DIR / ".install-lock", "w") as guard:  # parallel test workers share NODE_DIR
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not modules.is_dir() or not stamp.exists() or stamp.read_text() != lock.read_text():
            if shutil.which("npm") is None:
                raise SystemExit(
                    "make slides needs npm (Node.js) to fetch reveal.js and MathJax once: "
                    "install Node.js (Debian: apt-get install nodejs npm) and run it again"
                )
            stamp.unlink(missing_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(ASSET_SOURCE / name, NODE_DIR / name)
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
            shutil.copy2(lock, stamp)  # last: a cut-short install is redone next time
    assets = out_dir / "_assets"
    if assets.exists():
        shutil.rmtree(assets)
    for part in ("dist", "plugin"):
        shutil.copytree(modules / "reveal.js" / part, assets / "reveal.js" / part)
    shutil.copy2(modules / "requirejs" / "require.js", assets / "require.js")
    shutil.copy2(modules / "jquery" / "dist" / "jquery.min.js", assets / "jquery.min.js")
    for part in MATHJAX_PARTS:
        source, target = modules / "mathjax" / part, assets / "mathjax" / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # nbconvert's template imports mermaid (diagrams, which the course does not use) as a module
    (assets / "mermaid-stub.mjs").write_text("export default { initialize() {} };\n", encoding="utf-8")


def _quiet_json_warnings() -> None:
    """Recorded results (application/json outputs) have no HTML form: they are there for
    `read_records`, not for readers, so nbconvert's warning about them is noise."""
    import warnings

    warnings.filterwarnings("ignore", message="Your element with mimetype")


def build_deck(path: Path, out_dir: Path) -> Path:
    """One notebook → one self-contained reveal.js deck (apart from the shared _assets)."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    _quiet_json_warnings()

    config = Config()
    config.SlidesExporter.update(
        {
            **ASSETS,
            "reveal_scroll": True,
            "reveal_number": "c/t",
            "reveal_transition": "none",
            "exclude_input_prompt": True,
            "exclude_output_prompt": True,
        }
    )
    config.TagRemovePreprocessor.update({"enabled": True, "remove_input_tags": {OUTPUT_ONLY_TAG}})
    body, _ = SlidesExporter(config=config).from_filename(str(path))
    body = body.replace("</head>", PROJECTOR_CSS + "</head>", 1)
    target = out_dir / f"{path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def build_page(path: Path, out_dir: Path) -> Path:
    """One executed notebook as a plain web page (JupyterLab's look), using the same _assets."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    _quiet_json_warnings()

    config = Config()
    config.HTMLExporter.update({k: v for k, v in ASSETS.items() if k != "reveal_url_prefix"})
    body, _ = HTMLExporter(config=config).from_filename(str(path))
    target = out_dir / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def build(out_dir: Path = DEFAULT_OUT, jobs: int = 2) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    install_assets(out_dir)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(build_deck, notebook_paths(), [out_dir] * len(notebook_paths())))
