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
