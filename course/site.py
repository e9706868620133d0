"""The course as a static website, readable offline from disk: `make site` → build/site/.

    course site [--out DIR]     # (make site) then open build/site/index.html

Sphinx with MyST-NB and sphinx-book-theme (pinned in requirements.txt) renders what is
committed: the README is the landing page, each notebook a page with its stored outputs (nothing
is executed), in course order with previous/next links, then the glossary. Measured before
choosing: Jupyter Book 1 is the same Sphinx stack behind its own configuration files, and
mystmd fetches its site template on its first build, so Sphinx is configured directly
(`course/site_assets/conf.py`). What the tool does not do, this module does:

- **stage** the pages in a temporary folder: the README as `index.md`, with a table of contents
  in course order; links the README makes to other files copied beside it (a page for Markdown,
  a download for the rest; a link to a folder becomes its text); the notebooks as committed,
  except that a cell JupyterLab shows collapsed (`jupyter.source_hidden`: the solutions) gets
  MyST-NB's `hide-input` tag, so it is collapsed on the page too;
- **MathJax** comes from the slides' locked npm copy (`slides.node_modules`): no CDN at build or
  reading time. Search uses Sphinx's Chinese splitter (jieba), so 交叉熵 is found inside a longer
  run of Chinese as cross-entropy is among English words;
- **the student edition** as `student-edition.zip`, made in memory from `student.planned_files`
  (the same solution stripping as `make student`; the learner's `student/` is never touched).

The site is built in a temporary folder beside DIR and then put in its place (two builds at once
take turns for that step); DIR is replaced only when it is empty or a site this command built
(it holds MARKER), and never when it is the learner's `student/` or one of the course's folders.
`tests/classroom/test_site.py` checks the result in Chromium.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course import BUILD_DIR, glossary, slides, student
from course.inputs import out_problems
from course.notebooks import dumps
from course.runner import UsageError
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, notebook_paths

DEFAULT_OUT = BUILD_DIR / "site"  # `course site --out` (course/commands/making.py)
SITE_ASSETS = Path(__file__).resolve().parent / "site_assets"
MARKER = ".course-site"  # in every site this command builds: only such a folder is ever replaced
STUDENT_ZIP = "student-edition.zip"
STUDENT_FOLDER = "student-edition"  # the folder the zip unpacks into (never `student/`)
LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?(?<![\\$])\$(?!\$)")
CHINESE = re.compile(r"[\u4e00-\u9fff]+")
EXTERNAL = ("http://", "https://", "mailto:", "/", "#")


class SiteError(UsageError):
    """The output folder cannot be used (the message says why and what to do): exit 2."""


@dataclass
class Site:
    """What one build made: the folder, its pages, its size and the seconds it took."""

    out: Path
    pages: list[Path]
    size_bytes: int
    seconds: float


# --------------------------------------------------------------------------- staging


def readme_links(text: str, stage: Path) -> tuple[str, list[str]]:
    """The README's relative links, resolved for the site: a file is copied into `stage` at the
    same path (Markdown files become pages, listed in the returned list); a link to a folder or
    to nothing keeps only its text."""
    pages = []

    def fix(match: re.Match) -> str:
        target = match.group(2)
        if target.startswith(EXTERNAL) or "://" in target:
            return match.group(0)
        source = REPO_ROOT / target
        if target.startswith("notebooks/") or target == "README.md":
            return match.group(0).replace("README.md", "index.md")
        if not source.is_file():
            return match.group(1)[1:-2] if not match.group(1).startswith("!") else ""
        (stage / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, stage / target)
        if target.endswith(".md"):
            pages.append(target.removesuffix(".md"))
        return match.group(0)

    return LINK.sub(fix, text), pages


def toctree(caption: str, entries: list[str]) -> str:
    body = "\n".join(entries)
    return f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{body}\n```\n"


def landing_page(stage: Path) -> None:
    """index.md: the README, and the site's order (the notebooks, the glossary, then the other
    pages the README links to)."""
    text, others = readme_links((REPO_ROOT / "README.md").read_text(encoding="utf-8"), stage)
    pages = [*notebook_paths(), glossary.GLOSSARY_MD]  # the notebooks in course order, then the glossary
    lessons = [p.with_suffix("").relative_to(REPO_ROOT).as_posix() for p in pages]
    text += toctree("The course", lessons) + (toctree("About", list(dict.fromkeys(others))) if others else "")
    (stage / "index.md").write_text(text, encoding="utf-8")


def math_in_tables(markdown: str) -> str:
    """`|` inside `$…$` on a table row written as `\\vert`: JupyterLab reads the maths first,
    MyST's table would cut the cell at it (notebook 07's $E(|A|+|B|)/\\text{batch}$)."""

    def protect(line: str) -> str:
        if not line.lstrip().startswith("|"):
            return line
        return INLINE_MATH.sub(lambda m: m.group(0).replace("|", r"\vert "), line)

    return "\n".join(protect(line) for line in markdown.split("\n"))


def site_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The page's copy of a notebook: a cell JupyterLab collapses is collapsed on the page too
    (input: `hide-input`; output: `hide-output`), and a link to the README goes to the landing
    page. Outputs stay exactly as committed."""
    copy = nbformat.from_dict(nb)
    for cell in copy.cells:
        hidden = cell.metadata.get("jupyter", {})
        tags = cell.metadata.setdefault("tags", [])
        for key, tag in (("source_hidden", "hide-input"), ("outputs_hidden", "hide-output")):
            if hidden.get(key) and tag not in tags:
                tags.append(tag)
        if cell.cell_type == "markdown":
            cell.source = math_in_tables(cell.source.replace("](../README.md", "](../index.md"))
    return copy


def stage_pages(stage: Path) -> None:
    """Everything Sphinx reads, in `stage`: configuration, landing page, notebooks, glossary,
    and MathJax in _static/mathjax."""
    shutil.copytree(SITE_ASSETS, stage, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    slides.copy_mathjax(slides.node_modules(), stage / "_static" / "mathjax")
    (stage / "search-terms.txt").write_text(search_terms(), encoding="utf-8")
    landing_page(stage)
    (stage / "notebooks").mkdir(exist_ok=True)
    for path in notebook_paths():
        nb = site_notebook(nbformat.read(path, as_version=4))
        (stage / "notebooks" / path.name).write_text(dumps(nb), encoding="utf-8")
    shutil.copy2(NOTEBOOKS_DIR / "glossary.md", stage / "notebooks" / "glossary.md")


def search_terms() -> str:
    """jieba's user dictionary (one word a line) of the glossary's Chinese terms: every run of
    two or more Chinese characters in a term (双向（模型） gives 双向 and 模型)."""
    words = [w for term in glossary.load_terms() for w in CHINESE.findall(term.zh) if len(w) > 1]
    return "".join(f"{w}\n" for w in dict.fromkeys(words))


# --------------------------------------------------------------------------- student edition


def student_zip() -> bytes:
    """The student edition (`student.planned_files`: no solution cell, no output) as a zip
    whose notebooks unpack into STUDENT_FOLDER/, made in memory."""
    files = student.planned_files(REPO_ROOT / STUDENT_FOLDER)  # links resolve from a clone's root
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(f"{STUDENT_FOLDER}/{name}", data)
    return buffer.getvalue()


# --------------------------------------------------------------------------- build


def check_out(out: Path) -> None:
    """SiteError unless `out` may be replaced: a folder `course` may write into (`out_problems`),
    not the learner's `student/`, and missing, empty, or a site built here (MARKER)."""
    if problems := out_problems(out):
        raise SiteError(problems[0])
    learner = student.DEFAULT_OUT.resolve()
    target = out.resolve()
    if target == learner or learner in target.parents or target in learner.parents:
        raise SiteError(f"--out {out}: that would replace the learner's student/ folder; choose a folder under build/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise SiteError(f"--out {out}: it exists and is not a site `course site` built; choose an empty or new folder")


def run_sphinx(stage: Path, html: Path, doctrees: Path) -> None:
    """Sphinx's HTML build of `stage` into `html` (quiet; warnings are printed)."""
    from sphinx.cmd.build import build_main

    code = build_main(["-b", "html", "-q", "-d", str(doctrees), str(stage), str(html)])
    if code != 0:
        raise RuntimeError(f"sphinx-build failed (exit {code}); its messages are above")


def site_pages(out: Path) -> list[Path]:
    """The site's pages: one per document (not Sphinx's search and index pages)."""
    pages = [p for p in out.rglob("*.html") if not p.relative_to(out).parts[0].startswith("_")]
    return sorted(p for p in pages if p.stem not in ("search", "genindex"))


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build(out: Path = DEFAULT_OUT) -> Site:
    """Stage, build with Sphinx, add the student zip, then put the site at `out`."""
    check_out(out)
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
        stage, html = Path(tmp) / "source", Path(tmp) / "html"
        stage.mkdir()
        stage_pages(stage)
        run_sphinx(stage, html, Path(tmp) / "doctrees")
        for path in notebook_paths():  # "download this notebook" gives the committed file
            shutil.copy2(path, html / "_sources" / "notebooks" / path.name)
        (html / STUDENT_ZIP).write_bytes(student_zip())
        (html / MARKER).write_text("built by `course site`; replaced by the next build\n", encoding="utf-8")
        (html / ".buildinfo").unlink(missing_ok=True)
        with open(out.parent / f".{out.name}.lock", "w") as guard:  # two builds at once take turns here
            fcntl.flock(guard, fcntl.LOCK_EX)
            if out.exists():
                shutil.rmtree(out)
            os.replace(html, out)
    return Site(out, site_pages(out), folder_size(out), time.perf_counter() - start)


# --------------------------------------------------------------------------- the command


def main(args) -> int:
    built = build(args.out)
    size = built.size_bytes / 1e6
    print(
        f"site: {len(built.pages)} pages, {size:.1f} MB in {built.out} ({built.seconds:.1f} s); "
        f"open {built.out / 'index.html'} in a browser"
    )
    return 0
