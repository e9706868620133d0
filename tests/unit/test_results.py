"""helpers.results: the full-size results file is described with its provenance."""

from __future__ import annotations

import json

from helpers.provenance import describe_hardware, hardware, versions, write_json
from helpers.results import describe_full_run, load_full_results


def test_missing_file_says_how_to_make_it(tmp_path, capsys, monkeypatch):
    import helpers.results as results

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    assert load_full_results(tmp_path / "none.json") is None
    assert describe_full_run("06_x", tmp_path / "none.json") is None
    assert "`course results-full 06` adds them" in capsys.readouterr().out  # the command for that notebook


def _full_file(folder, machine: str, libraries: dict, notebooks: dict):
    """A full-size results file as `make results-full` writes it, with file-wide provenance."""
    path = folder / "full.json"
    body = {"command": "make results-full", "hardware": machine, "versions": libraries, "notebooks": notebooks}
    path.write_text(json.dumps(body))
    return path


def test_describe_prints_provenance(tmp_path, capsys, monkeypatch):
    import helpers.results as results

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    notebooks = {"06_x": {"parameters": {"num_seeds": 5}, "status": "ok", "seconds": 61.2, "records": {"a": 1}}}
    path = _full_file(tmp_path, "a CPU, 2 cores", {"tensorflow": "2.21.0", "keras": "3.15.1"}, notebooks)
    assert describe_full_run("06_x", path) == {"a": 1}
    out = capsys.readouterr().out
    assert "num_seeds=5" in out and "ok in 61 s on a CPU, 2 cores" in out and "TensorFlow 2.21.0" in out


def test_each_notebook_prints_the_machine_its_own_run_was_made_on(tmp_path, capsys, monkeypatch):
    """`make results-full` for one notebook rewrites the file-wide provenance; another notebook's older
    run must still print its own command, machine and versions (the file-wide ones only where it has none)."""
    import helpers.results as results

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    entry = {"parameters": {}, "status": "ok", "seconds": 1.0, "records": {}}
    notebooks = {
        "06_x": {**entry, "hardware": "the older machine, 2 cores", "versions": {"tensorflow": "2.21.0"},
                 "command": "course results-full 06"},
        "07_x": entry,
    }  # fmt: skip
    path = _full_file(tmp_path, "the newer machine, 2 cores", {"tensorflow": "9.0", "keras": "9.0"}, notebooks)
    describe_full_run("06_x", path)
    out = capsys.readouterr().out
    assert "on the older machine" in out and "TensorFlow 2.21.0" in out and "newer" not in out
    assert "made by `course results-full 06`" in out  # the command that made this entry, not the file's last
    describe_full_run("07_x", path)
    out = capsys.readouterr().out
    assert "on the newer machine" in out and "made by `make results-full`" in out


def test_hardware_names_the_cores_and_reads_the_older_one_line_form():
    line = describe_hardware(hardware())
    assert f"{hardware()['cpus']} cores" in line and hardware()["cpu"] in line
    assert describe_hardware("a CPU, 2 cores") == "a CPU, 2 cores"


def test_versions_come_from_the_installed_packages():
    import numpy

    found = versions(("numpy", "no-such-package-here"))
    assert found["numpy"] == numpy.__version__ and found["no-such-package-here"] == "not installed"
    assert found["python"].startswith("3.")


def test_json_is_written_whole_and_never_through_a_symlink(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text("precious", encoding="utf-8")
    target = tmp_path / "out" / "result.json"
    target.parent.mkdir()
    target.symlink_to(outside)
    write_json({"中文": 1}, target)
    assert outside.read_text(encoding="utf-8") == "precious" and not target.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8")) == {"中文": 1} and "中文" in target.read_text(
        encoding="utf-8"
    )
    assert [p.name for p in target.parent.iterdir()] == ["result.json"], "no temporary file left"
