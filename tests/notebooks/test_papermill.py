"""Headless runs: every notebook runs with non-default parameters under papermill, and a bad
parameter stops it in the validation cell with a clear message, before any work is done."""

from __future__ import annotations

import math
import subprocess
import sys

import nbformat
import papermill as pm
import pytest

from helpers.params import Param, notebook_spec, validate_values
from helpers.paths import REPO_ROOT, notebook_path, notebook_paths

NAMES = [p.stem for p in notebook_paths()]

EPSILON = 1e-3  # an open bound is approached from inside, this far past it


def edge(param: Param, side: str) -> object:
    """The value of `param` at one edge of its range (inside it when that bound is open; the
    default when that side is unbounded)."""
    bound, open_ = (param.low, param.low_open) if side == "low" else (param.high, param.high_open)
    if bound is None or math.isinf(bound):
        return param.default
    step = EPSILON if "float" in param.type else 1
    value = bound + (step if side == "low" else -step) if open_ else bound
    value = float(value) if "float" in param.type else int(value)
    return [value] if param.type.startswith("list[") else value


def edges(name: str, side: str, skip: frozenset[str] = frozenset()) -> dict[str, object]:
    """Every ranged parameter of notebook `name` at one edge (those with a set of choices keep
    their default), read from its `parameters` cell, so a range edited there is tested as written."""
    spec = notebook_spec(name)
    values = {p.name: edge(p, side) for p in spec.values() if p.choices is None and p.name not in skip}
    validate_values(spec, values)  # every edge is allowed by its own range
    return values


def low_edges(name: str) -> dict[str, object]:
    """The parameters of each notebook's run with other parameters (tests/notebooks/test_student.py):
    every range at its low edge at once — the smallest sizes, one epoch, one seed where a range
    allows one — so the run is cheap and shows that the edges a range allows really run."""
    return edges(name, "low")


BAD_PARAMETERS = {  # kind -> notebook -> (parameters, words the message must contain)
    "wrong type": {
        "01_loss_functions": ({"num_random": "abc"}, ["num_random = 'abc'", "int in [2, 1000000]"]),
        "02_gradient_descent_by_hand": ({"num_epochs": "abc"}, ["num_epochs = 'abc'", "int in [1, 100000]"]),
        "03_keras_lstm": ({"units": 12.5}, ["units = 12.5", "int in [1, 1024]"]),
        "04_forward_and_reverse_passes": ({"clip_norm": "big"}, ["clip_norm = 'big'", "float in (0, 1000]"]),
        "05_reading_directions": (
            {"test_lengths": "long"},
            ["test_lengths = 'long'", "list[int] in [3, 1000]"],
        ),
        "06_real_data": ({"ngram_max": 2.5}, ["ngram_max = 2.5", "int in [1, 5]"]),
        "07_forward_then_reverse_finetuning": (
            {"split_rules": "[1]"},
            ["split_rules = '[1]'", 'list[str] in {"random", "length"}'],
        ),
        "08_bidirectional": ({"learning_rate": "fast"}, ["learning_rate = 'fast'", "float in (0, 1]"]),
        "09_attention_one_way_and_two_ways": ({"mask_rate": "most"}, ["mask_rate = 'most'", "float in [0.01, 0.9]"]),
        "10_pretraining_then_finetuning": ({"label_budgets": 100}, ["label_budgets = 100", "list[int] in [10, 20000]"]),
        "11_part_iv_at_full_size": ({"segmentation_goal": "high"}, ["segmentation_goal = 'high'", "float in [0.5, 1]"]),
        "12_parameter_efficient_finetuning": (
            {"learning_rates": 0.01},
            ["learning_rates = 0.01", "list[float] in (0, 1]"],
        ),
    },
    "out of range": {
        "01_loss_functions": ({"num_points": 3}, ["num_points = 3", "int in [10, 100000]"]),
        "02_gradient_descent_by_hand": ({"lr": -0.1}, ["lr = -0.1", "float in (0, 1000]"]),
        "03_keras_lstm": ({"num_seeds": 0}, ["num_seeds = 0", "int in [1, 50]"]),
        "04_forward_and_reverse_passes": ({"num_clip_seeds": 0}, ["num_clip_seeds = 0", "int in [1, 20]"]),
        "05_reading_directions": (
            {"test_lengths": [11, 2]},
            ["test_lengths = [11, 2]", "list[int] in [3, 1000]"],
        ),
        "06_real_data": ({"num_examples": 0}, ["num_examples = 0", "int in [1, 50]"]),
        "07_forward_then_reverse_finetuning": (
            {"split_rules": ["random", "domain"]},
            ["split_rules = ['random', 'domain']"],
        ),
        "08_bidirectional": ({"num_seeds": 1}, ["num_seeds = 1", "int in [2, 20]"]),
        "09_attention_one_way_and_two_ways": ({"num_heads": 0}, ["num_heads = 0", "int in [1, 16]"]),
        "10_pretraining_then_finetuning": ({"max_len": 256}, ["max_len = 256", "int in [8, 128]"]),
        "11_part_iv_at_full_size": ({"collapse_below": 0.4}, ["collapse_below = 0.4", "float in [0.5, 1]"]),
        "12_parameter_efficient_finetuning": ({"num_seeds": 1}, ["num_seeds = 1", "int in [2, 10]"]),
    },
    "unknown name": {
        "01_loss_functions": ({"sed": 1}, ["unknown parameter sed = 1", "did you mean seed?"]),
        "02_gradient_descent_by_hand": ({"epochs": 5}, ["unknown parameter epochs = 5", "num_epochs"]),
        "03_keras_lstm": ({"unit": 64}, ["unknown parameter unit = 64", "did you mean units?"]),
        "04_forward_and_reverse_passes": ({"clip": 1.0}, ["unknown parameter clip = 1.0", "clip_norm"]),
        "05_reading_directions": ({"lengths": [5]}, ["unknown parameter lengths = [5]", "test_lengths"]),
        "06_real_data": ({"ngrams": 2}, ["unknown parameter ngrams = 2", "ngram_max"]),
        "07_forward_then_reverse_finetuning": ({"epochs": 2}, ["unknown parameter epochs = 2"]),
        "08_bidirectional": ({"num_epochs": 2}, ["unknown parameter num_epochs = 2"]),
        "09_attention_one_way_and_two_ways": ({"heads": 4}, ["unknown parameter heads = 4", "num_heads"]),
        "10_pretraining_then_finetuning": ({"budgets": [5]}, ["unknown parameter budgets = [5]", "label_budgets"]),
        "11_part_iv_at_full_size": ({"goal": 0.9}, ["unknown parameter goal = 0.9", "segmentation_goal"]),
        "12_parameter_efficient_finetuning": ({"rank": 8}, ["unknown parameter rank = 8", "lora_rank"]),
    },
}


def execute(name, parameters, tmp_path, cwd=None):
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(
        str(notebook_path(name)),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(cwd) if cwd else None,
    )
    return nbformat.read(out, as_version=4)


def assert_parameters_applied(nb: nbformat.NotebookNode, parameters: dict, defaults: dict) -> None:
    """papermill injected `parameters` after the `parameters` cell, and the validation cell
    accepted them and names each one that differs from its default as changed.

    Each notebook runs once with these parameters, from another directory, in its student edition
    (`tests/notebooks/test_student.py`): that single run checks the parameters and the student
    edition together. The edition is the teacher's notebook without its solutions, whose own
    checks nbval runs at the defaults."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[1].metadata.get("tags", [])
    assert "injected-parameters" in code[2].metadata.get("tags", [])
    validation_output = "".join(o.get("text", "") for o in code[3].outputs)
    assert "Parameters OK" in validation_output and "changed" in validation_output
    changed = [name for name, value in parameters.items() if value != defaults[name]]
    assert changed, "the run changes at least one parameter"
    for name in changed:
        assert f"{name}=" in validation_output


def bad_runs() -> list[tuple[str, str, dict, list[str]]]:
    """The bad parameters of each notebook, as few runs as possible: the validation cell reports
    every problem at once, so kinds whose parameter names differ share one run (a kernel start and
    the imports each), and a kind that sets an already-used name gets a run of its own."""
    runs = []
    for name in NAMES:
        mine: list[tuple[list[str], dict, list[str]]] = []
        for kind in sorted(BAD_PARAMETERS):
            parameters, words = BAD_PARAMETERS[kind][name]
            run = next((r for r in mine if not r[1].keys() & parameters.keys()), None)
            if run is None:
                mine.append(([kind], dict(parameters), list(words)))
            else:
                run[0].append(kind), run[1].update(parameters), run[2].extend(words)
        runs += [(name, " + ".join(kinds), parameters, words) for kinds, parameters, words in mine]
    return runs


@pytest.mark.parametrize(
    ("name", "kinds", "parameters", "words"), [pytest.param(*run, id=f"{run[0][:2]}-{run[1]}") for run in bad_runs()]
)
def test_bad_parameters_fail_fast_with_a_clear_message(name, kinds, parameters, words, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as err:
        execute(name, parameters, tmp_path)
    assert err.value.ename == "ParameterError"
    for w in words:
        assert w in err.value.evalue, f"{kinds}: {w!r} not in the message"
    nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = next(i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs))
    assert "check_parameters" in code[failed].source  # it stopped in the validation cell ...
    assert all(c.execution_count is None for c in code[failed + 1 :])  # ... and ran nothing after it


def test_every_kind_of_bad_parameter_is_tried_on_every_notebook():
    tried = {(name, kind) for name, kinds, _, _ in bad_runs() for kind in kinds.split(" + ")}
    assert tried == {(name, kind) for name in NAMES for kind in BAD_PARAMETERS}
    assert len(bad_runs()) < len(NAMES) * len(BAD_PARAMETERS)


def test_a_notebooks_cells_stay_together_on_two_workers():
    """`make test`'s `--dist loadscope --no-loadscope-reorder`, with the order tests/conftest.py
    gives, keeps every nbval cell of a notebook on one worker, in order, in one kernel: nbval over
    a notebook, beside a test module (so that conftest's order applies), passes on two workers."""
    args = ["-n", "2", "--dist", "loadscope", "--no-loadscope-reorder", "tests/unit/test_compare.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args, "notebooks/01_loss_functions.ipynb"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and " passed" in done.stdout, done.stdout[-3000:]
