"""What a viewer sees, measured in a real browser: Playwright drives Debian's Chromium (installed
once by the set-up, `course setup-browser`), offline, at the lecturer's 1280×800 screen.

- every slide of every deck, with all its fragments shown, fits the screen, and each formula of
  the notebook's source is typeset and shown exactly once;
- a deliberately broken deck (a slide made too tall, formulas shown twice) fails that check;
- every executed notebook's page is no wider than the screen and shows each formula once.

Screenshots, taken after rendering has finished, are kept under build/screenshots/ for a person
to look at: each deck's tallest slide and the page of notebook 01.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from PIL import Image

from course import BUILD_DIR, browser, layout, slides
from helpers.paths import notebook_paths

SHOTS = BUILD_DIR / "screenshots"
NOTEBOOKS = notebook_paths()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        pytest.fail(str(error))
    out = tmp_path_factory.mktemp("site")
    decks = slides.build(out)
    pages = [slides.build_page(path, out) for path in NOTEBOOKS]
    return {"decks": decks, "pages": pages, "out": out}


def assert_looks_like_a_page(path, size):
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape == (size[1], size[0])
    dark = np.mean(image < 128)
    assert 0.005 < dark < 0.5, f"{path.name}: {dark:.1%} dark pixels, blank or broken?"


def shown_formulas(path) -> int:
    """The TeX formulas of the notebook's markdown cells that are on its slides."""
    nb = nbformat.read(path, as_version=4)
    return sum(
        layout.source_formulas(c.source)
        for c in nb.cells
        if c.cell_type == "markdown" and c.metadata["slideshow"]["slide_type"] != "skip"
    )


def test_every_slide_fits_the_screen_and_shows_each_formula_once(site):
    reports = layout.check_all(site["decks"], "deck", SHOTS)
    problems = [f"{r.name}: {p}" for r in reports for p in r.problems]
    assert not problems, "\n".join(problems)
    for path, report in zip(NOTEBOOKS, reports, strict=True):
        assert report.formulas == shown_formulas(path), f"{report.name}: a formula was not typeset"
        assert report.slides >= 10 and report.tallest <= layout.VIEWPORT[1]
        assert_looks_like_a_page(report.screenshot, layout.VIEWPORT)


def test_a_broken_deck_fails_the_check(site):
    """The check can fail: one slide made too tall, and formulas shown twice (MathJax's hidden
    MathML copy made visible, as a capture taken mid-render shows them)."""
    deck = site["decks"][0]
    html = deck.read_text(encoding="utf-8")
    tall = html.replace("<h2", '<div style="height: 1500px">padding</div><h2', 1)
    twice = html.replace(
        "</head>",
        "<style>.reveal .MJX_Assistive_MathML { display: inline !important; position: static !important;"
        " clip: auto !important; width: auto !important; height: auto !important; }</style></head>",
        1,
    )
    broken = {}
    for name, text in [("tall", tall), ("twice", twice)]:
        path = deck.with_name(f"broken_{name}.slides.html")
        path.write_text(text, encoding="utf-8")
        broken[name] = path
    reports = layout.check_all([broken["tall"], broken["twice"]], "deck")
    assert any("the screen is 800 px high" in p for p in reports[0].problems), reports[0].problems
    assert any("not shown exactly once" in p for p in reports[1].problems), reports[1].problems
    assert not any("not shown exactly once" in p for p in reports[0].problems)


def test_executed_notebook_pages_fit_the_screen_width(site):
    reports = layout.check_all(site["pages"], "page")
    problems = [f"{r.name}: {p}" for r in reports for p in r.problems]
    assert not problems, "\n".join(problems)
    for path, report in zip(NOTEBOOKS, reports, strict=True):
        markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert report.formulas == layout.source_formulas(markdown), report.name


def test_executed_notebook_page_shows_outputs_figures_and_maths(site):
    page_01 = site["pages"][0]
    html = page_01.read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in html, "the stored figure is on the page"
    assert "✓ Correct" in html, "the executed exercise checks are on the page"
    with layout.session() as page:
        measured = layout.measure_page(page, page_01.as_uri())
        assert len(measured.formulas) > 10 and set(measured.formulas) == {1}
        shot = layout.screenshot(page, SHOTS / "notebook_01.png")
    assert_looks_like_a_page(shot, layout.VIEWPORT)
