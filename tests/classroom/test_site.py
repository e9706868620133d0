"""The course website (`make site`, course/site.py), read in a real browser: Playwright drives
Debian's Chromium (as the slide checks do), every page opened from disk, offline — a request for
anything but a local file is blocked and counted.

- every page loads with no console error, nothing fetched from the network, every image shown,
  no raw `$$`, `\\(` or `\\[` left untypeset, and no MathJax error;
- every internal link lands on a file that exists, and on an element that exists when it names one;
  each glossary link of a notebook lands on its term's row, and a click on one scrolls to it;
- search finds three English and three Chinese terms (a Chinese term inside a longer run too);
- at 375 px (a phone) no page scrolls sideways; Chinese is drawn with a CJK font;
- the notebooks come in course order with previous/next links, each with its solutions
  collapsed and a download of its .ipynb; the student-edition zip has no solution in it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup

from course import browser, glossary, layout, site
from helpers.paths import notebook_paths

NOTEBOOKS = notebook_paths()
ENGLISH = ("cross-entropy", "gradient descent", "backpropagation")
CHINESE = ("交叉熵", "均方误差", "反向传播")
PHONE = (375, 800)
SOURCE_FORMULAS = {  # $…$ and $$…$$ in each notebook's markdown: each is typeset on its page
    p.stem: layout.source_formulas(
        "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
    )
    for p in NOTEBOOKS
}
# loaded (no MathJax on the page, or its queue empty and nothing left processing)
RENDERED_JS = """() => document.readyState === 'complete' && (
  !document.querySelector('script[src*="MathJax.js"]') ||
  (window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running &&
   !document.querySelector('.MathJax_Processing, .MJXc-processing')))"""
PHONE_WIDTH_JS = """() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() =>
  resolve(Math.max(document.scrollingElement.scrollWidth, document.body.scrollWidth)))))"""
# what a reader sees that is wrong: raw TeX outside code, MathJax errors, images not shown
PROBLEMS_JS = r"""() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
    n.parentElement.closest('pre, code, script, style, textarea, .highlight') ? NodeFilter.FILTER_REJECT
                                                                              : NodeFilter.FILTER_ACCEPT});
  const raw = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent;
    if (/\$\$|\\\(|\\\[/.test(text)) raw.push(text.trim().slice(0, 80));
  }
  return {
    raw,
    mathErrors: document.querySelectorAll('.MathJax_Error, .mjx-merror').length,
    formulas: document.querySelectorAll('.MathJax_CHTML').length,
    brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src),
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
    hrefs: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
    prev: document.querySelector('a.left-prev')?.getAttribute('href') ?? null,
    next: document.querySelector('a.right-next')?.getAttribute('href') ?? null,
    collapsed: [...document.querySelectorAll('details.hide.above-input')].filter((d) => !d.open).length,
  };
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> site.Site:
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        pytest.fail(str(error))
    return site.build(tmp_path_factory.mktemp("website") / "site")


@pytest.fixture(scope="module")
def reader():
    """One Chromium page for the module; `reader.visit(path)` opens a page, offline, and returns
    what went wrong while it loaded (console errors, page errors, blocked or failed requests)."""
    with layout.session() as page:
        troubles: list[str] = []
        page.on("console", lambda m: troubles.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: troubles.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: troubles.append(f"failed: {r.url} ({r.failure})"))

        def block(route):
            troubles.append(f"network request: {route.request.url}")
            route.abort()

        page.route(re.compile(r"^(?!file:|data:|about:)"), block)

        def visit(path: Path, query: str = "") -> list[str]:
            troubles.clear()
            page.goto(path.as_uri() + query, wait_until="load")
            page.wait_for_function(RENDERED_JS, timeout=layout.READY_TIMEOUT_MS)
            return list(troubles)

        page.visit = visit
        yield page


@pytest.fixture(scope="module")
def visited(built, reader) -> dict[str, dict]:
    """Every page (and the search page) opened once: what went wrong while it loaded, what it
    shows (PROBLEMS_JS), and how wide its body is at 375 px (the same page, resized)."""
    found = {}
    for path in [*built.pages, built.out / "search.html"]:
        troubles = reader.visit(path)
        facts = reader.evaluate(PROBLEMS_JS)
        reader.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        facts["phone_width"] = reader.evaluate(PHONE_WIDTH_JS)
        reader.set_viewport_size({"width": layout.VIEWPORT[0], "height": layout.VIEWPORT[1]})
        found[path.relative_to(built.out).as_posix()] = {"troubles": troubles, **facts}
    return found


@cache
def ids_of(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))


def broken_links(links: list[str]) -> list[str]:
    """The links to local files that do not exist, or that name an element their page lacks."""
    broken = []
    for link in links:
        url = urlparse(link)
        if url.scheme != "file":
            continue
        target = Path(unquote(url.path))
        if not target.is_file():
            broken.append(f"{link}: no such file")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in ids_of(target):
            broken.append(f"{link}: no element #{url.fragment}")
    return broken


def notebook_page(built: site.Site, path: Path) -> Path:
    return built.out / "notebooks" / f"{path.stem}.html"


def test_every_page_loads_offline_renders_its_maths_and_has_no_broken_link(built, visited):
    assert len(built.pages) >= len(NOTEBOOKS) + 2, "a landing page, every notebook and the glossary"
    problems = []
    for name, found in visited.items():
        problems += [f"{name}: {t}" for t in found["troubles"]]
        problems += [f"{name}: raw TeX left: {t!r}" for t in found["raw"]]
        problems += [f"{name}: {found['mathErrors']} MathJax error(s)"] if found["mathErrors"] else []
        problems += [f"{name}: image not shown: {src[:80]}" for src in found["brokenImages"]]
        problems += [f"{name}: {b}" for b in broken_links(found["links"])]
        stem = Path(name).stem
        if stem in SOURCE_FORMULAS:
            assert found["formulas"] >= SOURCE_FORMULAS[stem] > 0, f"{name}: formulas not typeset"
    assert not problems, "\n".join(problems[:40])


def test_no_page_scrolls_sideways_on_a_phone(visited):
    wide = [f"{name}: {f['phone_width']} px wide" for name, f in visited.items() if f["phone_width"] > PHONE[0]]
    assert not wide, "\n".join(wide)


def test_each_glossary_link_lands_on_its_term(built, reader, visited):
    terms = {t.id: t for t in glossary.load_terms()}
    page = BeautifulSoup((built.out / "notebooks" / "glossary.html").read_text(encoding="utf-8"), "html.parser")
    rows = {}
    for term_id, term in terms.items():
        anchor = page.find(id=term_id)
        assert anchor is not None, f"the glossary page has no anchor #{term_id}"
        rows[term_id] = anchor.find_parent("tr").get_text(" ", strip=True).replace("’", "'")  # Sphinx's quotes
        assert term.en in rows[term_id] and term.zh in rows[term_id], f"#{term_id} is not on its term's row"
    for path in NOTEBOOKS:
        links = [h for h in visited[f"notebooks/{path.stem}.html"]["links"] if "glossary.html#" in h]
        assert len(links) >= 5, f"{path.stem}: its glossary links"
        assert not [h for h in links if h.split("#")[1] not in terms], f"{path.stem}: a link names no term"
    reader.visit(notebook_page(built, NOTEBOOKS[0]))
    link = reader.locator('a[href*="glossary.html#"]').first
    term_id = link.get_attribute("href").split("#")[1]
    link.click()
    reader.wait_for_load_state("load")
    assert reader.url.endswith(f"glossary.html#{term_id}")
    box = reader.locator(f"[id='{term_id}']").bounding_box()
    assert box is not None and 0 <= box["y"] < layout.VIEWPORT[1], "the page did not scroll to the term"


@pytest.mark.parametrize("term", ENGLISH + CHINESE)
def test_search_finds_english_and_chinese_terms(built, reader, term):
    assert not reader.visit(built.out / "search.html", f"?q={term}")
    reader.wait_for_function("() => document.querySelector('#search-results .search-summary') !== null")
    hits = reader.locator("#search-results ul.search li a").evaluate_all("(links) => links.map((a) => a.href)")
    assert hits, f"no result for {term}"
    first = Path(unquote(urlparse(hits[0]).path))
    words = term.lower().split()
    assert all(w in first.read_text(encoding="utf-8").lower() for w in words), f"{first.name} lacks {term}"
    if term in CHINESE:  # a word inside a longer run of Chinese (均方误差与交叉熵) is found too
        runs = re.findall(r"[\u4e00-\u9fff]+", notebook_page(built, NOTEBOOKS[0]).read_text(encoding="utf-8"))
        if any(term in run and run != term for run in runs):
            assert any(h.split("#")[0].endswith(NOTEBOOKS[0].stem + ".html") for h in hits)


def test_chinese_is_drawn_with_a_font_that_has_its_glyphs(built, reader):
    reader.visit(built.out / "notebooks" / "glossary.html")
    reader.evaluate("() => document.getElementById('cross-entropy').closest('tr').children[1].id = 'probe-zh'")
    cdp = reader.context.new_cdp_session(reader)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#probe-zh"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert fonts and all("CJK" in f["familyName"] for f in fonts), fonts  # 交叉熵: every glyph from a CJK font


def test_notebooks_in_course_order_with_collapsed_solutions_and_downloads(built, reader, visited):
    index = visited["index.html"]["hrefs"]
    pages = [notebook_page(built, p) for p in NOTEBOOKS]
    for k, path in enumerate(NOTEBOOKS):
        assert f"notebooks/{path.stem}.html" in index, "the landing page links every notebook"
        found = visited[f"notebooks/{path.stem}.html"]
        assert found["prev"] and found["next"], f"{path.stem}: previous/next links"
        if k:
            assert found["prev"] == f"{NOTEBOOKS[k - 1].stem}.html"
        if k + 1 < len(NOTEBOOKS):
            assert found["next"] == f"{NOTEBOOKS[k + 1].stem}.html"
        assert f"../_sources/notebooks/{path.name}" in found["hrefs"], "download this notebook"
        download = built.out / "_sources" / "notebooks" / path.name
        assert download.read_bytes() == path.read_bytes(), "the download is the committed notebook"
        assert f"../{site.STUDENT_ZIP}" in found["hrefs"], "the student edition's link"
        committed = nbformat.read(path, as_version=4)
        hidden = sum(c.metadata.get("jupyter", {}).get("source_hidden", False) for c in committed.cells)
        assert hidden and found["collapsed"] == hidden, f"{path.stem}: collapsed as in JupyterLab"
    reader.visit(pages[0])
    solution = reader.locator("details.hide.above-input").first
    assert solution.evaluate("(d) => !d.open") and not solution.locator("pre").first.is_visible()
    solution.locator("summary").click()
    assert solution.locator("pre").first.is_visible(), "a click shows the solution"


def test_the_student_edition_zip_has_no_solution(built):
    with zipfile.ZipFile(io.BytesIO((built.out / site.STUDENT_ZIP).read_bytes())) as archive:
        names = archive.namelist()
        assert all(n.startswith(f"{site.STUDENT_FOLDER}/") for n in names)
        for path in NOTEBOOKS:
            text = archive.read(f"{site.STUDENT_FOLDER}/{path.name}").decode("utf-8")
            copy = nbformat.reads(text, as_version=4)
            assert not [c for c in copy.cells if "solution" in c.metadata.get("tags", [])], path.name
            assert not [c for c in copy.cells if c.cell_type == "code" and c.outputs], path.name
            teacher = nbformat.read(path, as_version=4)
            elsewhere = "\n".join(c.source for c in teacher.cells if "solution" not in c.metadata.get("tags", []))
            for cell in teacher.cells:
                if "solution" in cell.metadata.get("tags", []):
                    for line in map(str.strip, cell.source.splitlines()):
                        if len(line) > 20 and not line.startswith("#") and line not in elsewhere:
                            assert json.dumps(line)[1:-1] not in text, f"{path.name}: a solution line"
