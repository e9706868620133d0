"""A learner's work in the student edition is never overwritten (`course/student.py`).

The build records the SHA-256 of every file it writes; a rebuild refreshes only files that still
match their record, keeps every other file, and `--reset` moves the learner's copy to `backups/`.
The routes a learner takes (`make student`, `make lab-student`) are tested end to end in
`tests/notebooks/test_student.py`; here, the rules, on real files, in seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course import student

FIRST = "01_loss_functions.ipynb"


def answer(path: Path, text: str) -> None:
    """Write `text` into the first answer cell, as a learner in JupyterLab would."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "exercise" in c["metadata"].get("tags", []))
    cell["source"] = "".join(cell["source"]).replace("...", text, 1)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def test_an_edited_notebook_survives_a_rebuild_and_the_rest_is_refreshed(tmp_path):
    first = student.build(tmp_path)
    assert not first.kept and len(first.written) >= 11
    answer(tmp_path / FIRST, "0.025  # my answer")
    (tmp_path / "02_gradient_descent_by_hand.ipynb").write_text("{}", encoding="utf-8")  # broken, still theirs
    second = student.build(tmp_path)
    assert {p.name for p in second.kept} == {FIRST, "02_gradient_descent_by_hand.ipynb"}
    assert "my answer" in (tmp_path / FIRST).read_text(encoding="utf-8")
    assert (tmp_path / "02_gradient_descent_by_hand.ipynb").read_text(encoding="utf-8") == "{}"
    assert len(second.written) == len(first.written) - 2


def test_a_new_course_version_reaches_untouched_notebooks_only(tmp_path):
    student.build(tmp_path)
    untouched = tmp_path / "03_keras_lstm.ipynb"
    old = untouched.read_text(encoding="utf-8").replace("Your copy", "An older copy")
    untouched.write_text(old, encoding="utf-8")  # as an earlier build would have written it...
    record = json.loads((tmp_path / student.RECORD).read_text())
    record["files"][untouched.name] = student.digest(old.encode())  # ...and recorded
    (tmp_path / student.RECORD).write_text(json.dumps(record))
    edition = student.build(tmp_path)
    assert untouched in edition.written and "An older copy" not in untouched.read_text(encoding="utf-8")


def test_files_the_build_never_wrote_are_kept(tmp_path):
    (tmp_path / FIRST).write_text("my own notes", encoding="utf-8")  # no record: not the build's
    edition = student.build(tmp_path)
    assert [p.name for p in edition.kept] == [FIRST]
    assert (tmp_path / FIRST).read_text(encoding="utf-8") == "my own notes"


def test_a_damaged_record_keeps_everything_that_differs(tmp_path):
    student.build(tmp_path)
    answer(tmp_path / FIRST, "0.025")
    (tmp_path / student.RECORD).write_text("not json", encoding="utf-8")
    edition = student.build(tmp_path)
    assert [p.name for p in edition.kept] == [FIRST] and "0.025" in (tmp_path / FIRST).read_text(encoding="utf-8")


def test_a_symlink_is_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious", encoding="utf-8")
    out = tmp_path / "edition"
    out.mkdir()
    (out / FIRST).symlink_to(outside)
    edition = student.build(out)
    assert (out / FIRST) in edition.kept and outside.read_text(encoding="utf-8") == "precious"


def test_reset_backs_up_the_learners_copy_and_writes_a_fresh_one(tmp_path):
    student.build(tmp_path)
    for k in range(2):  # a second reset within the same second never overwrites the first backup
        answer(tmp_path / FIRST, f"0.025  # my answer {k}")
        edition = student.build(tmp_path, reset=["01"])
        assert (tmp_path / FIRST) in edition.written and len(edition.backed_up) == 1
        assert "my answer" not in (tmp_path / FIRST).read_text(encoding="utf-8")
    backups = sorted((tmp_path / student.BACKUPS).iterdir())
    assert len(backups) == 2 and all("my answer" in p.read_text(encoding="utf-8") for p in backups)
    assert not student.build(tmp_path, reset=["01"]).backed_up, "an untouched copy needs no backup"
    with pytest.raises(FileNotFoundError, match="the notebooks are"):
        student.reset_names(["99"])


def test_an_old_edition_in_build_moves_out_of_make_cleans_way(tmp_path, monkeypatch):
    old, new = tmp_path / "build" / "student", tmp_path / "student"
    monkeypatch.setattr(student, "OLD_DEFAULT_OUT", old)
    monkeypatch.setattr(student, "DEFAULT_OUT", new)
    old.mkdir(parents=True)
    (old / FIRST).write_text("answers from before", encoding="utf-8")
    edition = student.build(new)
    assert edition.moved_from == old and not old.exists()
    assert (new / FIRST).read_text(encoding="utf-8") == "answers from before" and (new / FIRST) in edition.kept


def test_two_builds_at_once_keep_the_learners_work_and_a_whole_record(tmp_path):
    student.build(tmp_path)
    answer(tmp_path / FIRST, "0.025  # my answer")
    code = f"from course import student; from pathlib import Path; student.build(Path({str(tmp_path)!r}))"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert "my answer" in (tmp_path / FIRST).read_text(encoding="utf-8")
    record = json.loads((tmp_path / student.RECORD).read_text())
    assert FIRST in record["files"] and len(record["files"]) >= 11
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"
