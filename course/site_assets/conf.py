"""Sphinx configuration of the course website (`make site`, course/site.py).

course/site.py copies this folder next to the staged pages (the README as the landing page, the
notebooks as they are committed, the glossary) and runs Sphinx on them: MyST-NB renders the
stored outputs without executing anything; sphinx-book-theme gives the navigation, the previous
and next links and the "download this notebook" button.
"""

import logging
from pathlib import Path

import jieba
from sphinx.search import languages
from sphinx.search.zh import SearchChinese

project = "Fine-tuning from scratch — 单向不行，那就双向?"
author = "The authors of the course"
copyright = "2026, the authors of the course (MIT licence)"
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "conf.py", "search-terms.txt"]
# a link to a glossary term lands on its anchor (`<a id>` in glossary.md), which MyST does not
# know as a heading: the link is made all the same, and tests/classroom/test_site.py checks that
# every link of the site lands on an element that exists. Recorded results (application/json
# outputs) are for tools, not readers: no warning that they have no HTML form.
suppress_warnings = ["mystnb.unknown_mime_type", "myst.xref_missing"]

# the committed outputs as they are: never executed here
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# MathJax 2 from the slides' locked npm copy (course/slide_assets), copied into _static/mathjax:
# nothing is loaded from a CDN, at build time or when a page is read.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
myst_update_mathjax = False  # it would write a MathJax 3 configuration
mathjax2_config = {
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"], ["$$", "$$"]],
        "processEscapes": True,
    },
    "CommonHTML": {"linebreaks": {"automatic": False}},  # a wide formula scrolls in its box (course.css)
}

# Chinese and English words in one search index: Sphinx's Chinese splitter cuts Chinese runs
# into words with jieba and keeps (and stems) the English words.
html_search_language = "zh"
# the course's own Chinese terms (written by course/site.py from glossary.yaml), so that jieba keeps
# 交叉熵 or 反向传播 whole instead of cutting them into shorter words
html_search_options = {"dict": str(Path(__file__).resolve().parent / "search-terms.txt")}
html_show_search_summary = False  # its summaries are fetched, which a page opened from disk may not do
jieba.setLogLevel(logging.WARNING)


class EnglishWords(set):
    """A set that takes `extend` as a list does: what SearchChinese calls on its `latin_terms`."""

    extend = set.update


class ChineseSearch(SearchChinese):
    """Sphinx's Chinese splitter with its English words kept in a set instead of a list. Its `stem`
    asks `word in self.latin_terms` for every word of every page while `split` appends each page's
    English words to that list (on the class, not the instance), so the index's cost grew with the
    square of the course's length (`course site` took 35 s here, 12 s with this). Every word is split
    and stemmed as before (tests/unit/test_site_out.py), and the search index came out the same,
    byte for byte."""

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        self.latin_terms = EnglishWords()


languages["zh"] = ChineseSearch

html_theme = "sphinx_book_theme"
html_title = "Fine-tuning from scratch · 单向不行，那就双向?"
html_static_path = ["_static"]
html_css_files = ["course.css"]
templates_path = ["_templates"]
html_copy_source = True  # the download button offers each page's .ipynb
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # without it the theme logs an error on a first visit
html_sidebars = {"**": ["navbar-logo.html", "search-button-field.html", "sbt-sidebar-nav.html", "course-local.html"]}
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {},
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "navigation_with_keys": False,
    "show_prev_next": True,
}
