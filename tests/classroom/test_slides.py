"""Slides: the metadata on the cells follows the rules, and the built reveal.js decks have the
structure a lecture needs (a title slide, one slide per section, no wall of code, figures large
enough for a projector, nothing loaded from the network, no solutions)."""

from __future__ import annotations

import base64
import copy
import io
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from course import slides
from helpers.paths import notebook_paths

NOTEBOOKS = notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]
MIN_FIGURE_WIDTH = 600  # pixels: about two thirds of a 960-pixel-wide slide


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("slides")
    slides.build(out)
    return out


def test_slide_metadata_is_current():
    assert slides.annotate_all(check=True) == [], "run `make tidy`"


def test_annotate_rules_on_made_up_cells():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title"),
            nbformat.v4.new_code_cell("import numpy as np\n\nfrom helpers.params import check_parameters"),
            nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell('check_parameters("01", globals())'),
            nbformat.v4.new_markdown_cell("## 1 · A section"),
            nbformat.v4.new_markdown_cell("Some prose."),
            nbformat.v4.new_code_cell("print(1)"),
            nbformat.v4.new_code_cell("\n".join(f"a{i} = {i}" for i in range(20))),
            nbformat.v4.new_code_cell(
                "\n".join(f"a{i} = {i}" for i in range(20)), outputs=[nbformat.v4.new_output("stream", text="table")]
            ),
            nbformat.v4.new_markdown_cell("### Exercise 1"),
            nbformat.v4.new_code_cell("answer = ...", metadata={"tags": ["exercise"]}),
            nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]}),
            nbformat.v4.new_code_cell("from helpers.exercises import check_x\ncheck_x(answer)"),
            nbformat.v4.new_code_cell(
                "kept = 1", metadata={"tags": ["slides-manual"], "slideshow": {"slide_type": "slide"}}
            ),
        ]
    )
    kinds = [c.metadata["slideshow"]["slide_type"] for c in slides.annotate(nb).cells]
    assert kinds == [
        "slide",
        "skip",
        "skip",
        "skip",
        "slide",
        "-",
        "fragment",
        "notes",
        "fragment",
        "subslide",
        "skip",
        "skip",
        "skip",
        "slide",
    ]
    assert slides.OUTPUT_ONLY_TAG in nb.cells[8].metadata["tags"]
    assert slides.OUTPUT_ONLY_TAG not in nb.cells[6].metadata.get("tags", [])


def png_widths(soup: BeautifulSoup) -> list[int]:
    widths = []
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:image/png;base64,"):
            widths.append(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).size[0])
    return widths


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_deck_structure(path, decks):
    nb = nbformat.read(path, as_version=4)
    html = (decks / f"{path.stem}.slides.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    top = soup.select("div.slides > section")
    shown = [c for c in nb.cells if c.metadata["slideshow"]["slide_type"] != "skip"]
    assert len(top) == sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in shown)
    assert top[0].find("h1") is not None, "the first slide is the title slide"
    section_titles = [c.source.splitlines()[0][3:] for c in shown if c.source.startswith("## ")]
    slide_h2 = [s.find("h2").get_text(" ", strip=True).rstrip("¶").strip() for s in top[1:] if s.find("h2")]
    assert len(slide_h2) == len(section_titles) and len(section_titles) >= 4
    assert "max-height" in html and "overflow-y: auto" in html, "long outputs scroll inside a box"
    for inner in soup.select("div.slides section section"):

        def lines(selector, inner=inner):  # speaker notes are not on the slide
            return sum(
                len(pre.get_text().strip().splitlines())
                for pre in inner.select(selector)
                if not pre.find_parent("aside")
            )

        code_cells = [c for c in inner.select(".jp-CodeCell") if not c.find_parent("aside")]
        shown = lines(".jp-InputArea pre") + (lines(".jp-OutputArea pre") if len(code_cells) > 1 else 0)
        assert shown <= slides.MAX_SLIDE_CODE_LINES, f"wall of code ({shown} lines) in {path.name}"
    widths = png_widths(soup)
    assert all(w >= MIN_FIGURE_WIDTH for w in widths), widths
    assert soup.select("aside.notes") or not [c for c in nb.cells if c.metadata["slideshow"]["slide_type"] == "notes"]
    loaded = [t.get("src") or t.get("href") for t in soup.find_all(["script", "link"]) if t.get("src") or t.get("href")]
    assert loaded and not [u for u in loaded if re.match(r"(https?:)?//", u)], "a deck must work offline"
    for url in loaded:
        assert (decks / url.split("?")[0]).exists(), f"missing asset {url}"
    elsewhere = "\n".join(
        c.source + "".join(str(o) for o in c.get("outputs", []))
        for c in nb.cells
        if "solution" not in c.metadata.get("tags", [])
    )
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            for line in cell.source.splitlines():
                line = line.strip()
                if len(line) > 20 and not line.startswith("#") and line not in elsewhere:
                    assert line not in soup.get_text(), "no solution on the slides"


def test_long_cells_are_cut_into_sub_slides_that_fit():
    """A derivation taller than a slide is cut between its blocks, never inside a formula; a
    code cell whose output alone fills a slide gets it on a sub-slide of its own; a teacher's
    `slides-manual` cell is never cut."""
    formula = "$$\n\\frac{\\partial L}{\\partial w} = \\sum_i x_i\\,(\\hat y_i - y_i)\n\\\\\n= X^\\top(\\hat y - y)\n$$"
    paragraph = "A paragraph of the derivation, long enough to wrap over two lines of a slide. " * 2
    long_md = "\n\n".join([paragraph, formula] * 6)
    tall_output = nbformat.v4.new_output("stream", text="row\n" * 200)
    figure = nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(png(800, 380)).decode(), "text/plain": "<Figure>"}
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title"),
            nbformat.v4.new_markdown_cell("## 1 · A section\n\n" + long_md),
            nbformat.v4.new_code_cell("print('rows')", outputs=[tall_output, figure]),
            nbformat.v4.new_markdown_cell(long_md, metadata={"tags": ["slides-manual"]}),
        ]
    )
    kept = slides.annotate(copy.deepcopy(nb))
    assert len(kept.cells) == 4, "the notebook keeps its cells"
    deck = slides.output_apart(slides.annotate(copy.deepcopy(nb), split=True))
    pieces = [c for c in deck.cells if c.cell_type == "markdown" and "slides-manual" not in c.metadata.get("tags", [])]
    assert len(pieces) > 2, "the long section is cut"
    assert "\n\n".join(p.source for p in pieces[1:]).replace("## 1 · A section\n\n", "") == long_md
    for piece in pieces[1:]:
        assert piece.source.count("$$") % 2 == 0, "a cut inside a formula"
        assert slides.markdown_height(piece.source) <= slides.HEIGHT_BUDGET
    assert [p.metadata["slideshow"]["slide_type"] for p in pieces[2:]] == ["subslide"] * (len(pieces) - 2)
    code = [c for c in deck.cells if c.cell_type == "code"]
    assert [len(c.outputs) for c in code] == [0, 1, 1], "code, then each output on its own sub-slide"
    assert all(c.metadata["slideshow"]["slide_type"] == "subslide" for c in code[1:])
    assert slides.OUTPUT_APART_TAG in kept.cells[2].metadata["tags"]
    assert deck.cells[-1].source == long_md, "a teacher's cell is never cut"
    assert slides.annotate(copy.deepcopy(kept)).cells == kept.cells, "the rules are idempotent"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()
