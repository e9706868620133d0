"""helpers.results: the full-size results file is described with its provenance."""

from __future__ import annotations

import json

from course.full_results import hardware
from helpers.results import describe_full_run, load_full_results


def test_missing_file_says_how_to_make_it(tmp_path, capsys, monkeypatch):
    import helpers.results as results

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    assert load_full_results(tmp_path / "none.json") is None
    assert describe_full_run("06_x", tmp_path / "none.json") is None
    assert "make results-full" in capsys.readouterr().out


def test_describe_prints_provenance(tmp_path, capsys, monkeypatch):
    import helpers.results as results

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    path = tmp_path / "full.json"
    path.write_text(
        json.dumps(
            {
                "command": "make results-full",
                "hardware": "a CPU, 2 cores",
                "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
                "notebooks": {
                    "06_x": {"parameters": {"num_seeds": 5}, "status": "ok", "seconds": 61.2, "records": {"a": 1}}
                },
            }
        )
    )
    assert describe_full_run("06_x", path) == {"a": 1}
    out = capsys.readouterr().out
    assert "num_seeds=5" in out and "ok in 61 s on a CPU, 2 cores" in out and "TensorFlow 2.21.0" in out


def test_hardware_names_the_cores():
    assert "cores" in hardware()
