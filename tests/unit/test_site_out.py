"""`course site --out`: the website replaces only a folder it built. A learner's `student/`, the
course's own folders and any other folder with files in it are refused (exit 2, one line), before
anything is built."""

from __future__ import annotations

import pytest

from course import cli, site, student
from helpers.paths import REPO_ROOT


@pytest.mark.parametrize(
    ("out", "says"),
    [
        (student.DEFAULT_OUT, "the learner's student/ folder"),
        (student.DEFAULT_OUT / "inside", "the learner's student/ folder"),
        (REPO_ROOT / "notebooks", "inside the course's own files"),
        (REPO_ROOT, "the course's own folder"),
    ],
)
def test_the_course_and_the_learner_are_never_an_output_folder(out, says, capsys):
    with pytest.raises(site.SiteError, match=says):
        site.check_out(out)
    assert cli.main(["site", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and err[0].startswith("course site: error:")


def test_only_an_empty_folder_or_an_earlier_site_is_replaced(tmp_path):
    site.check_out(tmp_path / "new")  # missing: fine
    (tmp_path / "empty").mkdir()
    site.check_out(tmp_path / "empty")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(site.SiteError, match="not a site"):
        site.check_out(other)
    (other / site.MARKER).write_text("")
    site.check_out(other)  # a site built here: it may be replaced
    (tmp_path / "file").write_text("x")
    with pytest.raises(site.SiteError):
        site.check_out(tmp_path / "file")


def test_the_glossary_terms_make_the_search_dictionary():
    words = site.search_terms().split()
    assert {"交叉熵", "均方误差", "反向传播"} <= set(words)
    assert all(len(w) > 1 for w in words) and len(words) == len(set(words))


def test_a_bar_inside_maths_on_a_table_row_is_kept_in_the_formula():
    row = "| A then B | $E(|A|+|B|)/\\text{batch}$ |"
    assert site.math_in_tables(row) == "| A then B | $E(\\vert A\\vert +\\vert B\\vert )/\\text{batch}$ |"
    prose = "the norm $|x|$ of x"
    assert site.math_in_tables(prose) == prose


def test_the_faster_chinese_search_indexes_every_word_as_sphinx_does():
    """course/site_assets/conf.py's ChineseSearch keeps Sphinx's English words in a set, not a list
    (a quadratic cost): page after page, it splits and stems every word as SearchChinese does."""
    import importlib.util

    import nbformat
    from sphinx.search.zh import SearchChinese

    from helpers.paths import notebook_paths

    spec = importlib.util.spec_from_file_location("site_conf", REPO_ROOT / "course" / "site_assets" / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first = nbformat.read(notebook_paths()[0], as_version=4)  # Sphinx's own cost grows with the square
    pages = [readme[:20_000], "\n".join(c.source for c in first.cells)]
    fast, sphinx = conf.ChineseSearch({}), SearchChinese({})
    sphinx.latin_terms = []  # its own list: the class's is shared by every instance
    for page in pages:
        words = sphinx.split(page)
        assert fast.split(page) == words and len(words) > 1000
        assert [fast.stem(w) for w in words] == [sphinx.stem(w) for w in words]
    assert fast.latin_terms == set(sphinx.latin_terms) and isinstance(fast.latin_terms, set)
