"""`course studies`: which Part IV results were made from the committed checkpoints, and `--run`
making the others again as they were made (course/commands/part4.py)."""

from __future__ import annotations

import json

from course import cli
from course.commands import part4
from helpers import pretraining

SHA = {"forward.weights.h5": "aa", "vocab.json": "bb"}


def test_each_results_file_is_current_other_missing_or_unreadable(tmp_path):
    files = {name: tmp_path / f"{name}.json" for name in ("a", "b", "c", "d", "e", "f")}
    files["a"].write_text(json.dumps({"checkpoints": {"files_sha256": SHA}}))
    files["b"].write_text(json.dumps({"checkpoints": {"files_sha256": {**SHA, "vocab.json": "cc"}}}))
    files["d"].write_text("{not json")
    files["e"].write_bytes(b"\xff\xfe")
    files["f"].write_text("[1, 2]")  # JSON, but not a study's
    states = {name: state for name, state, _ in part4.study_states(SHA, files)}
    assert states == {"a": "current", "b": "other checkpoints", "c": "missing", "d": "unreadable",
                      "e": "unreadable", "f": "other checkpoints"}  # fmt: skip
    assert [s for _, s, _ in part4.study_states(None, files)][:2] == ["other checkpoints"] * 2  # no checkpoints


def test_a_study_is_made_again_with_the_options_it_was_made_with():
    assert part4.recorded_command("peft", {"command": "course peft --updates 100"}) == ["peft", "--updates", "100"]
    assert part4.recorded_command("peft", None) == ["peft"]
    assert part4.recorded_command("peft", {"command": "course peft --out /tmp/x"}) == ["peft"]  # wrote elsewhere
    assert part4.recorded_command("peft", {"command": "course finetune-all"}) == ["peft"]  # not this study's
    assert part4.recorded_command("peft", {"command": "course peft 'unclosed"}) == ["peft"]  # not a command line


def test_every_committed_study_was_made_from_the_committed_checkpoints():
    """Re-pretraining (`make pretrain`) changes data/pretrained/: every study, and notebook 10's
    full-size run, must then be made again (`make studies-run`) before the pages that read them are
    refreshed and committed."""
    current = pretraining.read_provenance()["files_sha256"]
    states = part4.study_states(current)
    assert len(states) == len(part4.STUDIES)
    assert [(name, state) for name, state, _ in states if state != "current"] == []
    assert part4.full_size_state(current)[0] == "current", "course results-full 10"


def test_the_full_size_run_is_current_only_with_the_checksums_it_recorded(tmp_path):
    current = {"forward.weights.h5": "a", "vocab.json": "b"}
    path = tmp_path / "full_size.json"

    def state(entry):
        path.write_text(json.dumps({"notebooks": {part4.FULL_SIZE: entry}}), encoding="utf-8")
        return part4.full_size_state(current, path)[0]

    assert state({"records": {"checkpoints_sha256": current}, "seconds": 60}) == "current"
    assert state({"records": {"checkpoints_sha256": {**current, "vocab.json": "c"}}}) == "other checkpoints"
    assert state({"records": {}}) == "other checkpoints"  # made before notebook 10 recorded them
    assert state(None) == "missing"
    path.write_text("{not json", encoding="utf-8")
    assert part4.full_size_state(current, path)[0] == "unreadable"
    missing = ("missing", {"command": "course results-full 10"})
    assert part4.full_size_state(current, tmp_path / "absent.json") == missing
    assert part4.recorded_command("results-full", {"command": "course results-full 10"}) == ["results-full", "10"]


def test_course_studies_lists_them_and_runs_the_others_in_turn_stopping_at_a_failure(monkeypatch, capsys):
    label_curve = {"command": "course label-curve", "total_seconds": 600}
    states = [
        ("peft", "current", {}),
        ("label-curve", "other checkpoints", label_curve),
        ("tagger-sizes", "missing", None),
        ("pretrain-more", "unreadable", None),
        ("finetune-all", "other checkpoints", {"made": 5, "total_seconds": "long"}),
    ]  # the last with odd fields: no crash
    monkeypatch.setattr(part4, "study_states", lambda current: states)
    monkeypatch.setattr(part4, "full_size_state", lambda current: ("current", {"command": "course results-full 10"}))
    calls, codes = [], {"label-curve": 0, "tagger-sizes": 3}
    monkeypatch.setattr(cli, "main", lambda words: calls.append(words) or codes[words[0]])
    assert part4.cmd_studies(cli_args(run=False)) == 0 and calls == []
    out = capsys.readouterr().out
    assert "4 of 6 to make again: label-curve, tagger-sizes, pretrain-more, finetune-all" in out
    assert "about 0.2 h" in out and "more for those never" in out
    assert part4.cmd_studies(cli_args(run=True)) == 3
    assert calls == [["label-curve"], ["tagger-sizes"]]  # stopped at the failure: pretrain-more not run
    out = capsys.readouterr().out
    assert "[1/4] course label-curve: about 10 min left" in out and "exit 3" in out


def test_a_recorded_option_the_study_no_longer_has_stops_the_run_in_one_line(monkeypatch, capsys):
    """The real parser: argparse's exit on an unknown flag ends the run with its code, no traceback."""
    code = part4.run_in_turn([("peft", {"command": "course peft --no-such-flag 3"}), ("label-curve", None)])
    out, err = capsys.readouterr()
    assert code == 2 and "unrecognized arguments: --no-such-flag" in err
    assert "course peft --no-such-flag 3 failed (exit 2)" in out and "[2/2]" not in out


def cli_args(run: bool):
    import argparse

    return argparse.Namespace(run=run)


def test_a_study_that_reads_only_the_vocabulary_stays_current_when_the_weights_change(tmp_path):
    """A study that pretrains its own models (course.masked_ablation's: `reads = ("vocab.json",)`)
    is current while the vocabulary is the same, whatever the weights; the others are not."""
    from course import masked_ablation

    assert masked_ablation.MaskedAblation.reads == ("vocab.json",)
    assert all(part4.STUDIES[n][0].reads == ("vocab.json",) for n in ("masked-corruption", "forward-pre-norm"))
    assert not hasattr(part4.STUDIES["peft"][0], "reads")  # fine-tunes the checkpoints: reads every file
    files = {"own": tmp_path / "own.json", "every": tmp_path / "every.json"}
    for path in files.values():
        path.write_text(json.dumps({"checkpoints": {"files_sha256": SHA}}))
    reads = {"own": ("vocab.json",), "every": None}
    weights_changed = {**SHA, "forward.weights.h5": "dd"}
    states = {name: state for name, state, _ in part4.study_states(weights_changed, files, reads)}
    assert states == {"own": "current", "every": "other checkpoints"}
    vocab_changed = {**SHA, "vocab.json": "ee"}
    assert {s for _, s, _ in part4.study_states(vocab_changed, files, reads)} == {"other checkpoints"}
    assert {s for _, s, _ in part4.study_states({"forward.weights.h5": "aa"}, files, reads)} == {"other checkpoints"}
