"""A real browser opens what the course publishes: a built slide deck and an executed notebook
page, offline, with Debian's headless Chromium (installed once by the set-up, `course setup-browser`).
Screenshots are saved under build/screenshots/ for a person to look at."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from course import BUILD_DIR, browser, slides
from helpers.paths import notebook_path

SHOTS = BUILD_DIR / "screenshots"
NOTEBOOK = notebook_path("01")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        pytest.fail(str(error))
    out = tmp_path_factory.mktemp("site")
    slides.install_assets(out)
    return {"deck": slides.build_deck(NOTEBOOK, out), "page": slides.build_page(NOTEBOOK, out)}


def assert_looks_like_a_page(path, size):
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape == (size[1], size[0])
    dark = np.mean(image < 128)
    assert 0.005 < dark < 0.5, f"{path.name}: {dark:.1%} dark pixels, blank or broken?"


def test_slide_deck_runs_reveal_and_renders_maths_offline(site):
    url = site["deck"].as_uri()
    html = browser.dom(url + "#/3")
    assert re.search(r'class="reveal[^"]*\bready\b', html), "reveal.js did not start"
    assert len(re.findall(r"class=\"mjx-chtml", html)) > 10, "MathJax did not typeset the formulas"
    assert 'class="MathJax_Error"' not in html and "Math Processing Error" not in html
    for name, fragment in [("slides_01_title", "#/0"), ("slides_01_formula", "#/3")]:
        shot = browser.screenshot(url + fragment, SHOTS / f"{name}.png")
        assert_looks_like_a_page(shot, (1280, 800))


def test_executed_notebook_page_shows_outputs_figures_and_maths(site):
    url = site["page"].as_uri()
    html = browser.dom(url)
    assert len(re.findall(r"class=\"mjx-chtml", html)) > 10
    assert 'src="data:image/png;base64,' in html, "the stored figure is on the page"
    assert "✓ Correct" in html, "the executed exercise checks are on the page"
    shot = browser.screenshot(url, SHOTS / "notebook_01.png", size=(1280, 1600))
    assert_looks_like_a_page(shot, (1280, 1600))
