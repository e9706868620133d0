"""Whatever a user types, `course run` and `course sweep` end in exit 2 with one clean line per
problem, or run only what is valid — never a traceback, never a write into the course's own files.

`course.cli.main` is called in-process with the notebook execution replaced by a recorder, so
hundreds of hostile command lines take a second. The real runs are tested in
tests/notebooks/test_cli.py.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from course import cli, inputs
from course.runner import RunResult
from helpers.params import notebook_spec, validate_values
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

HOSTILE_VALUES = [
    "-inf", "inf", "nan", "-1", "0", "00", "1e309", "2147483647", "4294967295", "9" * 400, "True", "None",
    "[1, 2]", "[]", "[[1]]", "'x'", "é", "\x00", "a" * 5000, "1,2", "-p", "--out", "0x10", "1_000",
]  # fmt: skip
NAMES = ["seed", "lr", "num_epochs", "num_random", "sed", "learning_rates", "", "-x", "é", "a" * 300]


@pytest.fixture
def recorder(monkeypatch):
    """Replace execution: remember what would run, run nothing."""
    calls = []

    def fake_many(plans, jobs):
        for k, (path, parameters, output) in enumerate(plans):
            calls.append((path, parameters, output))
            yield k, RunResult(path.stem, parameters, "ok", 0.0, output)

    monkeypatch.setattr(cli, "execute_many", fake_many)
    monkeypatch.setattr(cli, "_run_sweep", lambda args, path, grid, jobs, out, fixed, combos: calls.append(
        (path, fixed, out, combos)) or 0)  # fmt: skip
    return calls


def run_main(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def random_command(rng: random.Random, tmp: Path) -> list[str]:
    argv = [rng.choice(["run", "sweep"]), rng.choice(["01", "02"])]
    for _ in range(rng.randint(0, 4)):
        kind = rng.random()
        if kind < 0.5:
            argv += ["-p", rng.choice(NAMES), rng.choice(HOSTILE_VALUES)]
        elif kind < 0.7 and argv[0] == "sweep":
            values = ",".join(rng.choice(HOSTILE_VALUES[:12]) for _ in range(rng.randint(1, 3)))
            argv += ["--grid", f"{rng.choice(NAMES[:4])}={values}"]
        elif kind < 0.85:
            argv += ["--out", rng.choice([tmp / "out", NOTEBOOKS_DIR, REPO_ROOT / "helpers" / "x", tmp / "f.txt"])]
        else:
            argv += ["-f", rng.choice([tmp / "good.yaml", tmp / "bad.bin", tmp / "alias.yaml", tmp / "missing"])]
    if argv[0] == "sweep" and "--grid" not in argv:
        argv += ["--grid", "seed=1,2"]
    return argv


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.yaml").write_text("seed: 3\n")
    (tmp_path / "bad.bin").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "alias.yaml").write_text("a: &a [1, 1]\nb: [*a, *a]\n")
    (tmp_path / "f.txt").write_text("a file")
    return tmp_path


def test_fuzzed_command_lines_never_crash_and_never_run_anything_invalid(recorder, files, capsys):
    rng = random.Random(2026)
    outcomes = {0: 0, 2: 0}
    for _ in range(300):
        argv = random_command(rng, files)
        try:
            code, out, err = run_main(argv, capsys)
        except SystemExit as exit_:  # argparse's own usage errors exit 2 as well
            code, err = exit_.code, capsys.readouterr().err
        assert code in (0, 2), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        outcomes[code] += 1
        if code == 2:
            assert err.strip(), argv
            assert all(len(line) < 400 for line in err.splitlines()), (argv, err[:500])
    for call in recorder:  # whatever ran was valid and wrote outside the course's own files
        path, parameters, out = call[0], call[1], call[2]
        validate_values(notebook_spec(path), parameters)
        folder = Path(out).parent if Path(out).suffix == ".ipynb" else Path(out)
        assert not inputs.out_problems(folder), out
    assert outcomes[0] and outcomes[2], outcomes  # the fuzzing reached both sides


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "01", "-p", "num_random", "5", "-p", "num_random", "6"], "given twice"),
        (["run", "02", "-p", "lr", "-inf"], "lr = -inf is not allowed"),
        (["sweep", "02", "--grid", "seed=0,0,00"], "repeats 0"),
        (["sweep", "02", "--grid", "lr=1,1.0"], "repeats"),
        (["sweep", "02", "--grid", "seed=0,1", "--y", "nothing"], "records no such result"),
        (["run", "01", "--out", str(NOTEBOOKS_DIR)], "inside the course's own files"),
        (["run", "01", "-p", "seed", "4294967295"], "seed = 4294967295 is not allowed"),
        (["student", "--out", str(NOTEBOOKS_DIR)], "inside the course's own files"),
        (["run", "01", "--scheduler", "http://x"], "expected local, local:N"),
        (["sweep", "02", "--grid", "seed=1", "--scheduler-file", "/nonexistent.json"], "no such file"),
        (["slides", "--out", str(REPO_ROOT / "helpers")], "inside the course's own files"),
    ],
)
def test_known_bad_inputs(recorder, argv, words, capsys):
    code, _, err = run_main(argv, capsys)
    assert code == 2 and words in err, err
    assert not recorder


def test_problems_of_every_layer_are_reported_together(recorder, files, capsys):
    argv = ["sweep", "02", "-f", files / "alias.yaml", "-p", "sed", "1", "--grid", "lr=1,1", "--out", NOTEBOOKS_DIR]
    code, _, err = run_main(argv, capsys)
    assert code == 2
    for words in ("aliases", "unknown parameter sed", "repeats", "course's own files"):
        assert words in err, err


def test_a_huge_grid_needs_large(recorder, capsys):
    seeds = ",".join(map(str, range(101)))
    epochs = ",".join(map(str, range(1, 12)))
    code, _, err = run_main(["sweep", "02", "--grid", f"seed={seeds}", "--grid", f"num_epochs={epochs}"], capsys)
    assert code == 2 and "1,111 combinations" in err and "--large" in err
    code, _, _ = run_main(
        ["sweep", "02", "--grid", f"seed={seeds}", "--grid", f"num_epochs={epochs}", "--large"], capsys
    )
    assert code == 0 and len(recorder[0][3]) == 1111


def test_the_folder_lock_names_its_owner_and_survives_its_death(tmp_path):
    import subprocess
    import sys

    code = (
        "import pathlib, time\nfrom course.inputs import FolderLock\n"
        f"with FolderLock(pathlib.Path({str(tmp_path)!r})):\n    print('locked', flush=True)\n    time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(inputs.LockedError, match=f"process {holder.pid}"):
        with inputs.FolderLock(tmp_path):
            pass
    holder.kill()  # a killed sweep: the operating system releases its lock
    holder.wait()
    with inputs.FolderLock(tmp_path) as lock:
        assert lock.stale_pid == holder.pid


@pytest.mark.parametrize(
    "argv, says",
    [
        (["pretrain-more", "--steps", "0"], "--steps 0: allowed is an int in [1, 1000000]"),
        (["pretrain-more", "--out", "results"], "inside the course's own files (results/)"),
        (["pretrain-more", "--out", "helpers/x"], "inside the course's own files (helpers/)"),
        (["finetune-all", "--epochs", "0"], "--epochs 0: allowed is an int in [1, 50]"),
        (["finetune-all", "--max-len", "129"], "--max-len 129: allowed is an int in [8, 128] (the checkpoints'"),
        (["finetune-all", "--out", "notebooks"], "inside the course's own files (notebooks/)"),
        (["pretrain", "--steps", "-5"], "--steps -5: allowed is an int in [1, 1000000]"),
        (["pretrain", "--out", "data/pretrained"], "inside the course's own files (data/)"),
    ],
)
def test_pretraining_commands_refuse_bad_input_in_one_line_before_any_work(argv, says, capsys, monkeypatch):
    from course import studies
    from helpers import pretraining

    monkeypatch.chdir(REPO_ROOT)
    from helpers import tf_quiet

    for module, name in (
        (studies, "pretrain_more"),
        (studies, "finetune_all"),
        (studies, "course_texts"),
        (tf_quiet, "import_tensorflow"),
    ):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(pretraining, "make", lambda *a, **k: pytest.fail("work started"))
    code, out, err = run_main(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and says in err, err
