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

- **every (sub-)slide fits the lecturer's 1280×800 screen**: each cell's height on the slide is
  estimated (`cell_height`: prose wraps, formulas, code lines, figures at their capped size,
  long outputs in their scroll box) and a slide holds at most HEIGHT_BUDGET. Past it, a code cell
  starts a new sub-slide with its output; a markdown cell is cut between paragraphs, list items,
  tables or display formulas (never inside one) and continues on new sub-slides
  (`split_to_fit`); a cell whose code and output together are taller than a slide is tagged
  `slides-output-apart` and its outputs follow on sub-slides of their own. The cuts are made in
  the deck's copy (`annotate(nb, split=True)`); the notebook keeps its cells, with the metadata
  of each cell's first piece. `course check-slides` measures the result in Chromium.

A teacher can take a cell out of the rules by tagging it `slides-manual`; `annotate` then
leaves its slide metadata alone, and it is never cut.

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
import unicodedata
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
# MathJax typesets a slide's formulas again when it arrives (nbconvert's handler), which can make
# it taller than when reveal.js centred it: lay the slide out again once that has finished.
RELAYOUT_JS = f"""
<script>
require(["{ASSETS["reveal_url_prefix"]}/dist/reveal.js"], function (Reveal) {{
  MathJax.Hub.Register.MessageHook("End Rerender", function () {{ Reveal.layout(); }});
}});
</script>
"""
MATHJAX_BREAKS = "linebreaks: {\n                    automatic: true"
PROJECTOR_CSS = """
<style>
/* Projector-friendly: figures fit the slide, code and tables stay legible. */
.reveal .jp-OutputArea-output img { max-height: 50vh; width: auto; max-width: 100%; }
.reveal .jp-InputArea pre, .reveal .jp-OutputArea pre { font-size: 0.62em; line-height: 1.25; }
/* A long line of code wraps: the audience sees all of it. */
.reveal .jp-InputArea pre, .reveal .jp-RenderedMarkdown pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.reveal .jp-OutputArea-output pre { box-sizing: border-box; max-width: 100%; }
/* A long output (the source's program, a helper's source) scrolls inside its box. */
.reveal .jp-OutputArea-output { display: block; max-height: 45vh; overflow: auto; }
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


# --------------------------------------------------------------------------- how tall a cell is
# Heights in pixels of reveal.js's 960×700 slide, measured on these decks in Chromium (a prose
# line is 31 px, a code line 24 px) and rounded up. A (sub-)slide's estimated content stays
# within HEIGHT_BUDGET, below 700 for the slide's margins and the estimate's error; the
# browser check (`course check-slides`, tests/classroom/test_browser.py) measures the truth.
HEIGHT_BUDGET = 580
PROSE_LINE, PROSE_CHARS = 32, 80  # a line of prose, and how many characters of markdown it holds
LIST_CHARS = 76  # list items are indented
BLOCK_GAP = 20  # between paragraphs
HEADING_HEIGHT = {1: 110, 2: 85, 3: 60}
DISPLAY_MATH, MATH_ROW = 80, 40  # a display formula, and each further row of an aligned one
CODE_LINE, CODE_PAD, CODE_CHARS = 24, 24, 78
CELL_PAD = 12
FIGURE_MAX = 400  # slide px: the deck's CSS caps a figure at 50vh of the 800-pixel screen
OUTPUT_BOX_MAX = 360  # and an output's scroll box at 45vh
OUTPUT_APART_TAG = "slides-output-apart"  # the build shows this cell's output on a sub-slide of its own

ITEM = re.compile(r"^(\s{0,3})([-*+]|\d+[.)])\s")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
DECORATION = re.compile(r"\*\*|__|`|<[^>]+>")


def block_spans(source: str) -> list[tuple[int, int]]:
    """The (first, past-last) line numbers of the blocks a slide can be cut between: paragraphs,
    list items, tables, display formulas, fenced code. Never inside `$$ … $$` or a code fence."""
    spans, start, fenced = [], None, False
    lines = source.split("\n")
    for i, line in enumerate(lines):
        boundary = not fenced and (not line.strip() or ITEM.match(line))
        if boundary and start is not None:
            spans.append((start, i))
            start = None
        if line.strip() and start is None:
            start = i
        if line.lstrip().startswith("```") or line.count("$$") % 2:
            fenced = not fenced
    if start is not None:
        spans.append((start, len(lines)))
    return spans


def markdown_blocks(source: str) -> list[str]:
    lines = source.split("\n")
    return ["\n".join(lines[a:b]) for a, b in block_spans(source)]


def shown_width(text: str) -> int:
    """Width in Latin characters: a Chinese character is as wide as two."""
    return len(text) + sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def block_height(block: str) -> float:
    """Estimated height of one markdown block on a slide (see the constants above)."""
    text = block.strip()
    if text.startswith("#"):
        level = len(text) - len(text.lstrip("#"))
        rest = text.split("\n", 1)[1] if "\n" in text else ""
        return HEADING_HEIGHT.get(level, HEADING_HEIGHT[3]) + (block_height(rest) if rest.strip() else 0)
    if text.startswith("```"):
        return CODE_PAD + CODE_LINE * max(1, len(text.splitlines()) - 2)
    if text.startswith("|"):
        return 30 + 36 * len([x for x in text.splitlines() if not set(x) <= set("|-: ")])
    height = 0.0
    display = re.findall(r"\$\$(.*?)\$\$", text, re.S)
    for formula in display:
        rows = formula.count("\\\\") + 1
        height += DISPLAY_MATH + MATH_ROW * (rows - 1) + (40 if "\\frac" in formula or "\\sum" in formula else 0)
    prose = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    prose = DECORATION.sub("", LINK_TARGET.sub("]", prose))
    width = LIST_CHARS if ITEM.match(text) else PROSE_CHARS
    lines = [x for x in prose.split("\n") if x.strip()]
    if text.startswith(">"):
        width = 60
    wrapped = sum(-(-shown_width(x.strip()) // width) for x in lines) if lines else 0
    if lines and not ITEM.match(text):
        wrapped = max(wrapped, -(-shown_width(" ".join(x.strip() for x in lines)) // width))
    return height + PROSE_LINE * wrapped + BLOCK_GAP


def markdown_height(source: str) -> float:
    return CELL_PAD + sum(block_height(b) for b in markdown_blocks(source))


def figure_height(png_base64: str) -> float:
    """A figure's height on the slide: its own size, shrunk to the slide's width and FIGURE_MAX."""
    import base64
    import struct

    head = base64.b64decode(png_base64[:64])
    _, height = struct.unpack(">II", head[16:24])  # the PNG header's IHDR
    return min(float(height), FIGURE_MAX)  # shrunk only by FIGURE_MAX (the width rarely binds)


def text_lines(text: str) -> int:
    """Lines of code or output on a slide: both wrap at about CODE_CHARS characters."""
    return sum(max(1, -(-len(line) // CODE_CHARS)) for line in text.splitlines())


def output_height(out: nbformat.NotebookNode) -> float:
    """Estimated height of one output (a scroll box is capped at OUTPUT_BOX_MAX)."""
    data = out.get("data", {})
    if "image/png" in data:
        return figure_height(data["image/png"]) + CELL_PAD
    if out.get("output_type") == "stream":
        return min(OUTPUT_BOX_MAX, CODE_PAD + CODE_LINE * text_lines(out.get("text", "")))
    if "text/markdown" in data:
        return min(OUTPUT_BOX_MAX, markdown_height(data["text/markdown"]))
    if "text/html" in data:
        return OUTPUT_BOX_MAX  # a table: assume it fills its box
    if "text/plain" in data and out.get("output_type") != "error":
        return min(OUTPUT_BOX_MAX, CODE_PAD + CODE_LINE * text_lines(data["text/plain"]))
    return 0.0


def outputs_height(cell: nbformat.NotebookNode) -> float:
    return sum(output_height(out) for out in cell.get("outputs", []))


def output_groups(cell: nbformat.NotebookNode) -> list[list[int]]:
    """A cell's outputs cut into runs that each fit a sub-slide (for OUTPUT_APART_TAG)."""
    groups, used = [[]], 0.0
    for k, out in enumerate(cell.get("outputs", [])):
        h = output_height(out)
        if groups[-1] and used + h > HEIGHT_BUDGET:
            groups.append([])
            used = 0.0
        groups[-1].append(k)
        used += h
    return groups


def code_heights(cell: nbformat.NotebookNode) -> tuple[float, float]:
    """(input, outputs) heights of a code cell as its slide shows it (no input when output-only)."""
    tags = set(cell.metadata.get("tags", []))
    shown_input = OUTPUT_ONLY_TAG not in tags
    source = CELL_PAD + CODE_PAD + CODE_LINE * text_lines(cell.source) if shown_input else 0.0
    return source, outputs_height(cell)


def cell_height(cell: nbformat.NotebookNode) -> float:
    if cell.cell_type == "markdown":
        return markdown_height(cell.source)
    return sum(code_heights(cell))


def split_to_fit(cell: nbformat.NotebookNode, room: float) -> list[nbformat.NotebookNode]:
    """Cut a markdown cell at block boundaries: the first piece fills `room`, each further piece
    fills a sub-slide of its own (HEIGHT_BUDGET). One piece when no cut helps."""
    lines = cell.source.split("\n")
    pieces, current, used, limit = [], [], CELL_PAD, room
    for span in block_spans(cell.source):
        h = block_height("\n".join(lines[span[0] : span[1]]))
        if current and used + h > limit:
            pieces.append(current)
            current, used, limit = [], CELL_PAD, HEIGHT_BUDGET
        elif not current and not pieces and used + h > limit and limit < HEIGHT_BUDGET:
            pieces.append([])  # nothing fits in the room left: the whole cell moves on
            limit = HEIGHT_BUDGET
        current.append(span)
        used += h
    pieces.append(current)
    cells = []
    for k, blocks in enumerate(pieces):
        if k == 0 and not blocks:
            continue
        piece = nbformat.from_dict(dict(cell)) if not cells else nbformat.v4.new_markdown_cell()
        piece.source = "\n".join(lines[blocks[0][0] : blocks[-1][1]]).strip("\n")
        if cells:
            piece["id"] = f"{cell.get('id', 'cell')}-fit{k}"
            piece.metadata = nbformat.from_dict({k2: v for k2, v in cell.metadata.items() if k2 == "tags"})
            piece.metadata["slideshow"] = {"slide_type": "subslide"}
        elif k:  # the first piece itself moves to a new sub-slide
            piece.metadata["slideshow"] = {"slide_type": "subslide"}
        cells.append(piece)
    return cells


def annotate(nb: nbformat.NotebookNode, split: bool = False) -> nbformat.NotebookNode:
    """Write the rules' slide metadata (and the output-only tag) on every cell of `nb`. With
    `split` (the deck's copy), markdown cells that would overflow a slide are cut into
    sub-slides; without it (the notebook itself) each cell gets the metadata of its first piece."""
    split_at_headings(nb)
    cells: list[nbformat.NotebookNode] = []
    code_on_slide, height = 0, 0.0
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        if MANUAL_TAG in tags:  # the teacher's choice; it still takes room on its slide
            manual = cell.metadata.get("slideshow", {}).get("slide_type", "-")
            if manual in ("slide", "subslide"):
                height, code_on_slide = 0.0, 0
            if manual not in ("skip", "notes"):
                height += cell_height(cell)
            cells.append(cell)
            continue
        kind = slide_type(cell, index)
        shown = retag_code(cell, kind)
        if kind in ("slide", "subslide"):
            code_on_slide, height = 0, 0.0
        elif shown and code_on_slide and code_on_slide + shown > MAX_SLIDE_CODE_LINES:
            kind, code_on_slide, height = "subslide", 0, 0.0
        code_on_slide += shown
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind in ("skip", "notes"):
            cells.append(cell)
            continue
        if cell.cell_type == "markdown":
            pieces = split_to_fit(cell, HEIGHT_BUDGET - height)
            for k, piece in enumerate(pieces):
                if piece.metadata["slideshow"]["slide_type"] == "subslide" and (k or kind == "-"):
                    height, code_on_slide = 0.0, 0
                height += markdown_height(piece.source)
            if split:
                cells.extend(pieces)
            else:
                cell.metadata["slideshow"] = dict(pieces[0].metadata["slideshow"])
                cells.append(cell)
            continue
        height, moved = place_code(cell, height)
        if moved:
            code_on_slide = shown
        cells.append(cell)
    nb.cells = cells
    return nb


def retag_code(cell: nbformat.NotebookNode, kind: str) -> int:
    """Tag a code fragment longer than MAX_CODE_LINES as output-only on its slide (its code stays
    in the notebook); return the lines of code and output it shows there."""
    tags = [t for t in cell.metadata.get("tags", []) if t not in (OUTPUT_ONLY_TAG, OUTPUT_APART_TAG)]
    lines = len(cell.source.splitlines())
    long_with_output = cell.cell_type == "code" and kind == "fragment" and lines > MAX_CODE_LINES
    tags += [OUTPUT_ONLY_TAG] if long_with_output else []
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)
    return (0 if long_with_output else lines) + output_lines(cell) if kind == "fragment" else 0


def place_code(cell: nbformat.NotebookNode, height: float) -> tuple[float, bool]:
    """Put a code cell on the slide filled to `height`: code and output move on together to a new
    sub-slide when they do not fit; output too tall even alone is shown apart. The slide's new
    height, and whether the cell moved on."""
    source, outputs = code_heights(cell)
    moved = bool(height and height + source + outputs > HEIGHT_BUDGET)
    if moved:
        cell.metadata["slideshow"] = {"slide_type": "subslide"}
        height = 0.0
    if source + outputs > HEIGHT_BUDGET and outputs:  # even alone they do not fit
        groups = output_groups(cell)
        if source or len(groups) > 1:
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), OUTPUT_APART_TAG]
        outs = cell.get("outputs", [])
        return sum(output_height(outs[k]) for k in groups[-1]), moved
    return height + source + outputs, moved


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


def node_modules() -> Path:
    """The folder of reveal.js, RequireJS, jQuery and MathJax as the lock pins them (`npm ci` once,
    into NODE_DIR; the slides and the website copy what they need from it)."""
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
    return modules


def copy_mathjax(modules: Path, target: Path) -> None:
    """The parts of MathJax 2 the pages load (MATHJAX_PARTS), from `modules` into `target`."""
    for part in MATHJAX_PARTS:
        source, into = modules / "mathjax" / part, target / part
        if source.is_dir():
            shutil.copytree(source, into)
        else:
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into)


def install_assets(out_dir: Path) -> None:
    """Copy reveal.js, RequireJS, jQuery and MathJax into out_dir/_assets (npm ci once)."""
    modules = node_modules()
    assets = out_dir / "_assets"
    if assets.exists():
        shutil.rmtree(assets)
    for part in ("dist", "plugin"):
        shutil.copytree(modules / "reveal.js" / part, assets / "reveal.js" / part)
    shutil.copy2(modules / "requirejs" / "require.js", assets / "require.js")
    shutil.copy2(modules / "jquery" / "dist" / "jquery.min.js", assets / "jquery.min.js")
    copy_mathjax(modules, assets / "mathjax")
    # nbconvert's template imports mermaid (diagrams, which the course does not use) as a module
    (assets / "mermaid-stub.mjs").write_text("export default { initialize() {} };\n", encoding="utf-8")


def _quiet_json_warnings() -> None:
    """Recorded results (application/json outputs) have no HTML form: they are there for
    `read_records`, not for readers, so nbconvert's warning about them is noise."""
    import warnings

    warnings.filterwarnings("ignore", message="Your element with mimetype")


def output_apart(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """In the deck's copy, a cell tagged OUTPUT_APART_TAG (code and outputs taller than a slide)
    becomes several: its code, then its outputs on sub-slides of their own (`output_groups`)."""
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if OUTPUT_APART_TAG not in tags:
            cells.append(cell)
            continue
        if OUTPUT_ONLY_TAG not in tags:
            code = nbformat.from_dict(dict(cell))
            code.outputs = []
            cells.append(code)
        for k, group in enumerate(output_groups(cell)):
            part = nbformat.from_dict(dict(cell))
            part["id"] = f"{cell.get('id', 'cell')}-output{k}"
            part.outputs = [cell.outputs[j] for j in group]
            first = k == 0 and OUTPUT_ONLY_TAG in tags
            kind = cell.metadata["slideshow"]["slide_type"] if first else "subslide"
            part.metadata = nbformat.from_dict({"tags": [OUTPUT_ONLY_TAG], "slideshow": {"slide_type": kind}})
            cells.append(part)
    nb.cells = cells
    return nb


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
    nb = output_apart(annotate(nbformat.read(path, as_version=4), split=True))
    body, _ = SlidesExporter(config=config).from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    # MathJax's automatic line breaking measures widths before reveal.js scales the slide and
    # breaks short formulas in two; a formula too wide for its slide fails the layout check.
    assert MATHJAX_BREAKS in body, "nbconvert's MathJax configuration changed"
    body = body.replace(MATHJAX_BREAKS, MATHJAX_BREAKS.replace("true", "false"), 1)
    body = body.replace("</head>", PROJECTOR_CSS + "</head>", 1)
    body = body.replace("</html>", RELAYOUT_JS + "</html>", 1) if "</html>" in body else body + RELAYOUT_JS
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
