"""Whatever a user types, `course run` and `course sweep` end in exit 2 with one clean line per
problem, or run only what is valid — never a traceback, never a write into the course's own files.

`course.cli.main` is called in-process with the notebook execution replaced by a recorder, so
hundreds of hostile command lines take a second. The real runs are tested in
tests/notebooks/test_cli.py.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from course import cli, executors, inputs
from course.commands import running
from course.runner import RunResult
from helpers.params import notebook_spec, validate_values
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

HOSTILE_VALUES = [
    "-inf", "inf", "nan", "-1", "0", "00", "1e309", "2147483647", "4294967295", "9" * 400, "True", "None",
    "[1, 2]", "[]", "[[1]]", "'x'", "é", "\x00", "a" * 5000, "1,2", "-p", "--out", "0x10", "1_000",
    "9" * 5000, "[" + "-" * 100_000 + "1]", "[" * 100_000, "1e-3",
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

    monkeypatch.setattr(executors, "execute_many", fake_many)
    monkeypatch.setattr(running, "run_sweep", lambda args, path, grid, jobs, out, fixed, combos: calls.append(
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
            argv += ["-f", rng.choice(PARAMETER_FILES(tmp))]
    if argv[0] == "sweep" and "--grid" not in argv:
        argv += ["--grid", "seed=1,2"]
    return argv


def PARAMETER_FILES(tmp: Path) -> list:
    names = ["good.yaml", "bad.bin", "alias.yaml", "missing", "fifo", "octal.yaml", "listkey.yaml"]
    return [tmp / n for n in names] + ["/dev/zero", ""]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.yaml").write_text("seed: 3\n")
    (tmp_path / "bad.bin").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "alias.yaml").write_text("a: &a [1, 1]\nb: [*a, *a]\n")
    (tmp_path / "f.txt").write_text("a file")
    (tmp_path / "octal.yaml").write_text("seed: 017\n")
    (tmp_path / "listkey.yaml").write_text("[seed, lr]: 1\n")
    os.mkfifo(tmp_path / "fifo")
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


def test_the_folder_lock_is_never_opened_through_a_planted_link(tmp_path):
    """Planted after `folder_problems` looked (a race): the lock refuses it, the target is untouched."""
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / ".sweep.lock").symlink_to(victim)
    with pytest.raises(inputs.LockedError, match="cannot open the sweep's lock"):
        with inputs.FolderLock(folder):
            pass
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize(
    "argv, says",
    [
        (["pretrain-more", "--steps", "0"], "--steps 0: allowed is an int in [1, 1000000]"),
        (["pretrain-more", "--out", "results"], "inside the course's own files (results/)"),
        (["pretrain-more", "--out", "helpers/x"], "inside the course's own files (helpers/)"),
        (["finetune-all", "--epochs", "0"], "--epochs 0: allowed is an int in [1, 50]"),
        (["finetune-all", "--max-len", "129"], "--max-len 129: allowed is an int in [8, 128] (the checkpoints'"),
        (["finetune-all", "--out", "notebooks"], "inside the course's own files (notebooks/)"),
        (["peft", "--seeds", "1"], "--seeds 1: allowed is an int in [2, 10]"),
        (["peft", "--max-len", "200"], "--max-len 200: allowed is an int in [8, 128] (the checkpoints'"),
        (["peft", "--out", "results"], "inside the course's own files (results/)"),
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
        (studies, "peft"),
        (studies, "course_texts"),
        (tf_quiet, "import_tensorflow"),
    ):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(pretraining, "make", lambda *a, **k: pytest.fail("work started"))
    code, out, err = run_main(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and says in err, err


LONG = "a" * 300


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "02", "-f", "{tmp}/fifo"], "not a regular file"),
        (["run", "02", "-f", "/dev/zero"], "not a regular file"),
        (["run", "02", "-f", "/dev/urandom"], "not a regular file"),
        (["run", "02", "-f", "{tmp}/octal.yaml"], "'017' starts with 0, which YAML 1.1 reads as octal"),
        (["run", "02", "-f", "{tmp}/sexagesimal.yaml"], "num_epochs = '1:40' is not allowed: expected int"),
        (["run", "02", "-f", "{tmp}/on.yaml"], "lr = 'on' is not allowed: expected float"),
        (["run", "02", "-f", "{tmp}/listkey.yaml"], "a key is a list or a mapping"),
        (["run", "02", "-f", "{tmp}/big.yaml"], "over 1,000,000 bytes"),
        (["run", "02", "-f", ""], "-f '': the parameters file name is empty"),
        (["run", "02", "-f", "{tmp}/lr.yaml", "-f", "{tmp}/lr.yaml"], "-f is given 2 times"),
        (["run", "02", "--out", ""], "--out '': the folder name is empty"),
        (["sweep", "02", "--grid", "seed=1", "--out", ""], "--out '': the folder name is empty"),
        (["run", "02", "--out", "/proc/self"], "is a kernel folder"),
        (["sweep", "02", "--grid", "seed=1", "--out", "/sys/x"], "is a kernel folder"),
        (["run", "02", "--out", "{tmp}/loop/x"], "cannot use this path (Symlink loop"),
        (["run", "02", "--out", "{tmp}/" + LONG], "cannot use this path (File name too long)"),
        (["run", "02", "--out", "/" + "a/" * 3000], "cannot use this path (File name too long)"),
        (["run", "02", "-p", "lr", "9" * 400], "(too large for a float)"),
        (["run", "02", "-p", "seed", "9" * 400], "expected int in [0, 2147483647]"),
        (["run", "01", "-p", "learning_rates", "[" + "-" * 100_000 + "1]"], "unknown parameter learning_rates"),
        (["run", "04", "-p", "learning_rates", "[" + "-" * 100_000 + "1]"], "learning_rates = '[---"),
        (["run", "04", "-p", "learning_rates", "[" * 100_000], "learning_rates = '[[["),
        (["sweep", "02", "-p", "seed", "1", "--grid", "seed=1,2"], "seed is given both by -p and by --grid"),
        (["run", "{tmp}/deep.ipynb"], "nested too deeply"),
        (["run", "{tmp}/choices.ipynb"], "the choices '{a, b}' must be Python literals"),
    ],
)
def test_more_bad_inputs_end_in_one_line(recorder, yaml_files, capsys, argv, words):
    import time

    start = time.monotonic()
    code, out, err = run_main([a.replace("{tmp}", str(yaml_files)) for a in argv], capsys)
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert time.monotonic() - start < 20 and not recorder
    assert not (yaml_files / "x").exists() and sorted(p.name for p in yaml_files.iterdir()) == YAML_FILES


YAML_FILES = sorted(["fifo", "octal.yaml", "sexagesimal.yaml", "on.yaml", "listkey.yaml", "big.yaml", "lr.yaml",
                     "loop", "deep.ipynb", "choices.ipynb"])  # fmt: skip


@pytest.fixture
def yaml_files(tmp_path):
    import json

    os.mkfifo(tmp_path / "fifo")
    for name, text in [("octal.yaml", "seed: 017\n"), ("sexagesimal.yaml", "num_epochs: 1:40\n"),
                       ("on.yaml", "lr: on\n"), ("listkey.yaml", "[a, b]: 1\n"), ("lr.yaml", "lr: 1e-3\n"),
                       ("big.yaml", "#" * 1_000_001), ("deep.ipynb", "[" * 100_000 + "]" * 100_000)]:  # fmt: skip
        (tmp_path / name).write_text(text)
    (tmp_path / "loop").symlink_to("loop")
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": 'mode = "a"  # str in {a, b}: x'}
    (tmp_path / "choices.ipynb").write_text(json.dumps({"cells": [cell]}))
    return tmp_path


@pytest.mark.parametrize(
    "text, expected",
    [
        ("lr: 1e-3\n", {"lr": 0.001}),  # YAML 1.1 would read the string '1e-3'
        ("lr: 1.5E+2\nseed: 17\n", {"lr": 150.0, "seed": 17}),
        ("seed: 0x10\nnum_epochs: 0o17\n", {"seed": 16, "num_epochs": 15}),  # explicit bases stay numbers
        ("seed: 0\nlr: -.5\n", {"seed": 0, "lr": -0.5}),
        ("show: true\nother: False\n", {"show": True, "other": False}),
        ("name: on\nx: yes\ny: 1:40\nz: 1_000\n", {"name": "on", "x": "yes", "y": "1:40", "z": "1_000"}),
        ("lr: .inf\n", {"lr": float("inf")}),
    ],
)
def test_parameter_files_read_numbers_by_yaml_1_2(tmp_path, text, expected):
    (tmp_path / "p.yaml").write_text(text)
    values, problems = inputs.file_values(str(tmp_path / "p.yaml"))
    assert not problems and values == expected and all(type(values[k]) is type(v) for k, v in expected.items())


def test_an_ascii_terminal_or_a_closed_or_broken_stdout_gives_no_traceback(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "course"]
    done = subprocess.run([*cmd, "run", "02", "-p", "lr", "é"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "'\\xe9' is not allowed" in done.stderr and "Traceback" not in done.stderr
    closed = {"stdout": subprocess.DEVNULL, "preexec_fn": lambda: os.close(1)}  # `course params 02 >&-`
    done = subprocess.run([*cmd, "params", "02"], env=env, stderr=subprocess.PIPE, text=True, timeout=60, **closed)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    reader = subprocess.Popen([*cmd, "params", "02"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # the reader leaves at once, as `| head -0` would
    assert reader.wait(timeout=60) in (0, 1) and b"Traceback" not in reader.stderr.read()


def _yaml(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text)
    return tmp / name


@pytest.mark.parametrize(
    "text, words",
    [
        ("seed: 017\n", "starts with 0"),  # YAML 1.1 would read octal 15
        ("num_epochs: 1:40\n", "num_epochs"),  # YAML 1.1 would read sexagesimal 100; 1.2 a string
        ("[seed]: 1\n", "a key is a list"),
        ("seed: " + "9" * 400 + "\n", "seed"),
        ("lr: " + "9" * 400 + "\n", "lr"),
        ("a: " + "[" * 5000 + "\n", "nested too deeply"),
    ],
)
def test_yaml_files_are_read_by_yaml_1_2_rules_or_refused(recorder, tmp_path, text, words, capsys):
    code, _, err = run_main(["run", "02", "-f", _yaml(tmp_path, "p.yaml", text)], capsys)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and not recorder


@pytest.mark.parametrize(
    "argv_tail, expected",
    [
        (["-f", "FILE"], {"lr": 0.001}),  # YAML 1.1 reads 1e-3 as a string
        (["-p", "lr", "1e-3"], {"lr": 0.001}),
        (["-p", "lr", "0.5"], {"lr": 0.5}),
    ],
)
def test_what_the_notebook_receives_is_what_the_user_meant(recorder, tmp_path, argv_tail, expected, capsys):
    path = _yaml(tmp_path, "p.yaml", "lr: 1e-3\n")
    argv = ["run", "02", *[str(path) if a == "FILE" else a for a in argv_tail]]
    code, _, err = run_main(argv, capsys)
    assert code == 0, err
    received = recorder[0][1]
    for name, value in expected.items():
        assert received[name] == value and type(received[name]) is type(value), received


def test_a_damaged_notebook_or_choice_in_a_parameters_cell_is_one_line(tmp_path):
    from helpers.params import SpecError, parameters_cell_source, parse_line

    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SpecError, match="nested too deeply|not a Jupyter notebook"):
        parameters_cell_source(deep)
    with pytest.raises(SpecError, match="must be Python literals"):
        parse_line("mode = 'a'  # str in {a, b}: which")


@pytest.mark.parametrize("jobs", [1, 2, 3, 8, 1000])
def test_parallel_kernels_share_the_cores(jobs, monkeypatch):
    """`course run --jobs N` gives each kernel its share of the cores, at least one thread, and one
    thread between operations."""
    from course.runner import THREAD_VARIABLES, thread_limits

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    limits = thread_limits(jobs)
    assert set(limits) == {*THREAD_VARIABLES, "TF_NUM_INTEROP_THREADS"}
    per_job = {1: 2, 2: 1}.get(jobs, 1)
    assert {limits[name] for name in THREAD_VARIABLES} == {str(per_job)} and limits["TF_NUM_INTEROP_THREADS"] == "1"


def test_a_line_printed_into_a_pipe_arrives_at_once_not_when_the_command_ends():
    """`make studies | tee log`: a study's progress line reaches the reader while the study runs
    (Python buffers 8 KB of a pipe's output unless `course` asks for line buffering)."""
    import selectors
    import subprocess
    import sys

    code = "from course import cli; cli._tolerant_streams(); print('1/96 done'); import time; time.sleep(60)"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTHONUNBUFFERED", None)
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
    try:
        with selectors.DefaultSelector() as waiting:
            waiting.register(child.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=30), "no line within 30 s: the line waits in a buffer"
        assert child.stdout.readline() == b"1/96 done\n"
    finally:
        child.kill()
        child.wait()
