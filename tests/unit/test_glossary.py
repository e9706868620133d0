"""The English ↔ 中文 glossary is complete for the terms the issue names, generated, and linked
from each notebook at the first use of each term — and the linker leaves code, maths, headings
and existing links alone."""

from __future__ import annotations

import re

import nbformat
import pytest

from course import glossary
from helpers.paths import NOTEBOOKS_DIR, notebook_paths

TERMS = glossary.load_terms()
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_glossary_and_links_are_current():
    assert glossary.run(check=True) == [], "run `make tidy`"


def test_every_entry_is_bilingual_and_the_source_terms_are_there():
    for term in TERMS:
        assert CJK.search(term.zh), term.id
        assert term.meaning.endswith(".") and term.match, term.id
    chinese = " ".join(t.zh for t in TERMS)
    for word in ("均方误差", "交叉熵", "梯度下降", "反向传播", "正向微调", "反向微调", "双向", "微调", "学习率"):
        assert word in chinese, word


def test_every_term_is_used_and_every_notebook_links_terms():
    markdown = glossary.GLOSSARY_MD.read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', markdown))
    assert anchors == {t.id for t in TERMS}
    used = set()
    for path in notebook_paths():
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        links = re.findall(r"\]\(glossary\.md#([\w-]+)\)", text)
        assert len(links) >= 5, f"{path.name} links only {len(links)} glossary terms"
        assert len(links) == len(set(links)), f"{path.name}: a term is linked twice (only its first use is)"
        assert set(links) <= anchors
        used |= set(links)
    unused = {t.id for t in TERMS} - used
    assert not unused, f"terms no notebook uses (remove them or fix their `match`): {sorted(unused)}"
    assert "| — |" not in markdown


def test_first_use_is_linked_and_protected_text_is_not():
    term = next(t for t in TERMS if t.id == "mse")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# MSE in a title is not linked"),
            nbformat.v4.new_markdown_cell(
                "Code `mse(y)` and maths $\\text{MSE}$ and [MSE](x.md) stay; the MSE here is linked."
            ),
            nbformat.v4.new_markdown_cell("A second MSE is not linked."),
        ]
    )
    first = glossary.link_notebook(nb, [term])
    assert first == {"mse": 1}
    assert nb.cells[0].source == "# MSE in a title is not linked"
    assert nb.cells[1].source.endswith("the [MSE](glossary.md#mse) here is linked.")
    assert "`mse(y)`" in nb.cells[1].source and "$\\text{MSE}$" in nb.cells[1].source
    assert nb.cells[2].source == "A second MSE is not linked."
    again = nbformat.from_dict(nb)
    glossary.link_notebook(again, [term])
    assert again == nb, "linking twice changes nothing"


def test_case_and_plural_rules():
    lstm = next(t for t in TERMS if t.id == "lstm").pattern()
    assert lstm.search("two LSTMs") and not lstm.search("the lstm_step helper")
    gradient = next(t for t in TERMS if t.id == "gradient").pattern()
    assert gradient.search("Gradients flow") and not gradient.search("gradient-descent")


@pytest.mark.parametrize("name", ["glossary.md", "glossary.yaml"])
def test_glossary_files_live_next_to_the_notebooks(name):
    assert (NOTEBOOKS_DIR / name).exists()
