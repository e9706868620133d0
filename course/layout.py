"""What a viewer sees: slide decks and notebook pages measured in a real browser.

    course check-slides [--out DIR]    # (make check-slides) every deck, every slide, every fragment

Playwright drives Debian's Chromium (installed once by `course setup-browser`; Playwright's own
browser download is never used). A page is measured only after reveal.js is ready and MathJax
has emptied its queue, because a picture or a measurement taken mid-render shows formulas twice
(MathJax's preview beside the typeset copy).

For every slide of a deck, with all its fragments shown, `check_deck` reports

- its content box, in screen pixels: it must lie inside the VIEWPORT (the lecturer's 1280×800
  laptop screen; reveal.js scales its 960×700 slide into it). A long output keeps its own scroll
  box: the box counts, the lines scrolled inside it do not;
- every TeX formula MathJax found on it, and how many visible copies of each are on the screen:
  exactly one (its typeset form; no preview, no visible MathML copy, no error).

`check_page` applies the same rules to an executed notebook's page (width, formulas; a page may
be long, it scrolls). The deck's formula count is also compared with the formulas of the
notebook's source (`source_formulas`): a formula MathJax missed shows as raw TeX.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from course import browser
from course.slides import ASSETS

VIEWPORT = (1280, 800)
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
READY_TIMEOUT_MS = 60_000


@dataclass
class Slide:
    """One slide (all fragments shown) as the browser lays it out."""

    h: int
    v: int
    title: str
    box: tuple[float, float, float, float]  # left, top, right, bottom of its content, screen px
    formulas: list[int] = field(default_factory=list)  # visible copies of each formula
    errors: int = 0  # MathJax errors shown
    hidden_fragments: int = 0

    @property
    def name(self) -> str:
        return f"slide {self.h}.{self.v} ({self.title[:40]})"

    def problems(self, viewport: tuple[int, int] = VIEWPORT) -> list[str]:
        left, top, right, bottom = self.box
        found = []
        if bottom > viewport[1] + 0.5 or top < -0.5:
            found.append(
                f"{self.name}: content spans y = {top:.0f}..{bottom:.0f} px, the screen is {viewport[1]} px high"
            )
        if right > viewport[0] + 0.5 or left < -0.5:
            found.append(
                f"{self.name}: content spans x = {left:.0f}..{right:.0f} px, the screen is {viewport[0]} px wide"
            )
        twice = [k for k, n in enumerate(self.formulas) if n != 1]
        if twice:
            copies = ", ".join(f"#{k + 1}: {self.formulas[k]}" for k in twice[:5])
            found.append(f"{self.name}: formulas not shown exactly once (visible copies {copies})")
        if self.errors:
            found.append(f"{self.name}: {self.errors} MathJax error(s)")
        if self.hidden_fragments:
            found.append(f"{self.name}: {self.hidden_fragments} fragment(s) could not be shown")
        return found


# The measurement, run inside the page. `visible(el)`: laid out, not hidden, not clipped to a dot
# (MathJax's assistive MathML is clipped to 1 px when it is meant to be invisible).
MEASURE_JS = r"""
(root) => {
  const visible = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false;
    }
    const r = el.getBoundingClientRect();
    if (r.width <= 2 || r.height <= 2) return false;
    const clip = getComputedStyle(el).clip;
    return !(clip && clip.startsWith('rect(1px'));
  };
  const clips = (v) => ['auto', 'scroll', 'hidden'].includes(v);
  const scrolls = (el) => el !== root && (
    (clips(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight + 1) ||
    (clips(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1));
  let box = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (el) => {
    for (const child of el.children) {
      if (child.matches('aside.notes, script, style')) continue;
      if (!visible(child) && getComputedStyle(child).display === 'none') continue;
      const r = child.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && visible(child)) {
        box = [Math.min(box[0], r.left), Math.min(box[1], r.top),
               Math.max(box[2], r.right), Math.max(box[3], r.bottom)];
      }
      if (!scrolls(child) && !child.classList.contains('MathJax_CHTML')) walk(child);
    }
  };
  walk(root);
  const formulas = [];
  for (const script of root.querySelectorAll('script[type^="math/tex"]')) {
    if (script.closest('aside.notes')) continue;
    let copies = 0;
    const frame = document.getElementById(script.id + '-Frame');
    if (frame && visible(frame)) copies += 1;
    const preview = script.previousElementSibling;
    const shownPreview = preview && preview.classList.contains('MathJax_Preview') && preview.textContent.trim();
    if (shownPreview && visible(preview)) copies += 1;
    if (frame) for (const mml of frame.querySelectorAll('.MJX_Assistive_MathML')) if (visible(mml)) copies += 1;
    formulas.push(copies);
  }
  const errors = [...root.querySelectorAll('.MathJax_Error, .mjx-merror')].filter(visible).length;
  return {box, formulas, errors};
}
"""

DECK_JS = r"""
async ([measure, settle]) => {
  const measureFn = eval(measure);
  const settled = eval(settle);
  const Reveal = window.__reveal;
  const out = [];
  for (const s of Reveal.getSlides()) {
    const idx = Reveal.getIndices(s);
    const frags = [...s.querySelectorAll('.fragment')];
    const last = Math.max(-1, ...frags.map(f => parseInt(f.getAttribute('data-fragment-index') || '0')));
    const moved = Reveal.getCurrentSlide() !== s, rerendered = window.__rerendered.length;
    Reveal.slide(idx.h, idx.v || 0, last);
    Reveal.layout();
    await settled(s, moved ? rerendered : null);  // the deck re-renders a slide's maths on arrival
    const m = measureFn(s);
    const heading = s.querySelector('h1, h2, h3');
    out.push({h: idx.h, v: idx.v || 0, title: heading ? heading.textContent.replace('¶', '').trim() : '',
              box: m.box, formulas: m.formulas, errors: m.errors,
              hidden: frags.filter(f => !f.classList.contains('visible')).length});
  }
  return out;
}
"""

# The deck re-typesets a slide's formulas when it arrives (nbconvert's `slidechanged` handler),
# a moment after the move: wait until every formula of the slide has its typeset frame again and
# MathJax's queue is idle, then for two frames to be painted.
SETTLED_JS = r"""
async (slide, rerenderedBefore) => {
  const deadline = Date.now() + 20000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 10));
    const maths = slide.querySelector('script[type^="math/tex"]') !== null;  // else there is nothing to redo
    const redone = window.__rerendered.slice(rerenderedBefore || 0).some((e) => e === slide || e.contains(slide));
    if (maths && rerenderedBefore !== null && !redone && Date.now() < deadline) continue;
    await new Promise((r) => MathJax.Hub.Queue(r));
    const scripts = [...slide.querySelectorAll('script[type^="math/tex"]')];
    const done = scripts.every((s) => {
      const frame = document.getElementById(s.id + '-Frame');
      return frame && !frame.classList.contains('MJXc-processing') && frame.childElementCount > 0;
    }) && !slide.querySelector('.MathJax_Processing, .MJXc-processing');
    if ((done && !MathJax.Hub.queue.pending && !MathJax.Hub.queue.running) || Date.now() > deadline) break;
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}
"""

# nbconvert's decks load reveal.js through RequireJS (no global `Reveal`): fetch the module.
WAIT_JS = """
(revealModule) => new Promise((resolve) => {
  const hook = () => window.MathJax && MathJax.Hub
    ? MathJax.Hub.Register.MessageHook("End Rerender", (m) => { window.__rerendered.push(m[1]); })
    : setTimeout(hook, 20);
  window.__rerendered = [];  // the slides whose maths the deck typeset again (SETTLED_JS waits for its own)
  hook();
  const mathjax = () => window.MathJax && MathJax.Hub && MathJax.isReady
    ? MathJax.Hub.Queue(() => resolve(true)) : setTimeout(mathjax, 50);
  const reveal = () => {
    if (!document.querySelector('.reveal') || !window.require) return mathjax();
    require([revealModule], (R) => {
      window.__reveal = R;
      const ready = () => R.isReady() ? mathjax() : setTimeout(ready, 50);
      ready();
    });
  };
  reveal();
})
"""


@contextlib.contextmanager
def session(viewport: tuple[int, int] = VIEWPORT) -> Iterator:
    """A Playwright page in the system Chromium, `viewport` pixels, device scale 1."""
    from playwright.sync_api import sync_playwright

    executable = browser.chromium()  # BrowserUnavailable names the set-up command
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=executable, args=list(FLAGS))
        try:
            page = chrome.new_page(viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1)
            yield page
        finally:
            chrome.close()


def open_rendered(page, url: str) -> None:
    """Load `url` and return once reveal.js (if any) is ready and MathJax's queue is empty."""
    page.goto(url, wait_until="load", timeout=READY_TIMEOUT_MS)
    page.evaluate(WAIT_JS, f"{ASSETS['reveal_url_prefix']}/dist/reveal.js")
    page.evaluate("() => document.fonts.ready.then(() => true)")


def measure_deck(page, url: str) -> list[Slide]:
    """Every slide of the deck at `url`, all fragments shown, as laid out in `page`."""
    open_rendered(page, url)
    rows = page.evaluate(DECK_JS, [MEASURE_JS, SETTLED_JS])
    return [Slide(r["h"], r["v"], r["title"], tuple(r["box"]), r["formulas"], r["errors"], r["hidden"]) for r in rows]


def show_slide(page, slide: Slide) -> None:
    """Put `slide` on the screen with all its fragments shown, rendering finished (for a picture)."""
    page.evaluate(
        """async ([h, v, settle]) => {
          const R = window.__reveal;
          const before = R.getCurrentSlide(), rerendered = window.__rerendered.length;
          R.slide(h, v, 1e6);
          R.layout();
          await eval(settle)(R.getCurrentSlide(), before !== R.getCurrentSlide() ? rerendered : null);
        }""",
        [slide.h, slide.v, SETTLED_JS],
    )


def measure_page(page, url: str) -> Slide:
    """An executed notebook's page as one long 'slide': its width and its formulas."""
    open_rendered(page, url)
    m = page.evaluate(f"() => ({MEASURE_JS})(document.body)")
    return Slide(0, 0, "page", tuple(m["box"]), m["formulas"], m["errors"])


INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def source_formulas(markdown: str) -> int:
    """How many TeX formulas ($…$ and $$…$$, outside code) a markdown text holds."""
    text = CODE.sub("", markdown)
    display = len(DISPLAY.findall(text))
    return display + len(INLINE.findall(DISPLAY.sub("", text)))


def tallest(slides: list[Slide]) -> Slide:
    return max(slides, key=lambda s: s.box[3] - s.box[1])


def check_deck(page, url: str, viewport: tuple[int, int] = VIEWPORT) -> tuple[list[Slide], list[str]]:
    slides = measure_deck(page, url)
    return slides, [p for s in slides for p in s.problems(viewport)]


def screenshot(page, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


@dataclass
class Report:
    """One deck or page, checked: what was measured and what is wrong."""

    name: str
    slides: int
    tallest: float  # content height of the tallest slide (or the page), screen px
    problems: list[str]
    formulas: int = 0  # formulas MathJax typeset (each checked to be shown once)
    screenshot: Path | None = None
    seconds: float = 0.0


def _check_chunk(args: tuple[list[Path], Path | None, str]) -> list[Report]:
    """Check some decks ("deck") or pages ("page") in one browser (one worker's share)."""
    import time

    paths, shots, kind = args
    reports = []
    with session() as page:
        for path in paths:
            start = time.perf_counter()
            if kind == "deck":
                found, problems = check_deck(page, path.as_uri())
                top = tallest(found)
                shot = None
                if shots is not None:
                    show_slide(page, top)
                    shot = screenshot(page, shots / f"slides_{path.name.split('.')[0]}_tallest.png")
                height, formulas = top.box[3] - top.box[1], sum(len(s.formulas) for s in found)
                seconds = time.perf_counter() - start
                reports.append(Report(path.name, len(found), height, problems, formulas, shot, seconds))
            else:
                whole = measure_page(page, path.as_uri())
                # a page scrolls: only its width and its formulas are checked
                problems = [p for p in whole.problems((VIEWPORT[0], 10**9)) if "high" not in p]
                height, formulas = whole.box[3] - whole.box[1], len(whole.formulas)
                reports.append(Report(path.name, 1, height, problems, formulas, None, time.perf_counter() - start))
    return reports


def check_all(paths: list[Path], kind: str = "deck", shots: Path | None = None, jobs: int = 2) -> list[Report]:
    """Check decks (or pages) in `jobs` browsers at once; reports in the order of `paths`."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = max(1, min(jobs, len(paths)))
    if jobs == 1:
        return _check_chunk((paths, shots, kind))
    chunks = [paths[k::jobs] for k in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = [r for chunk in pool.map(_check_chunk, [(c, shots, kind) for c in chunks]) for r in chunk]
    order = {p.name: k for k, p in enumerate(paths)}
    return sorted(results, key=lambda r: order[r.name])
