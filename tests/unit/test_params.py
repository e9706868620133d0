"""helpers.params: the parameters-cell grammar and the validation every notebook runs."""

from __future__ import annotations

import json
import math
import re

import pytest

from helpers.params import (
    Param,
    ParameterError,
    SpecError,
    check_parameters,
    injected_names,
    notebook_spec,
    parse_line,
    parse_parameters_cell,
    validate_values,
)
from helpers.paths import notebook_paths

CELL = """
# Parameters: a comment line is skipped
lr = 0.5  # float in (0, 10]: learning rate
num_epochs = 20  # int in [1, 1000]: gradient steps
seed = 0  # int in [0, 2**32 - 1]: seed
loss = "bce"  # str in {"bce", "mse"}: the loss
verbose = False  # bool: print more
rates = [0.1, 1.0]  # list[float] in (0, inf): learning rates to compare
"""


@pytest.fixture
def spec():
    return parse_parameters_cell(CELL)


def test_grammar(spec):
    assert list(spec) == ["lr", "num_epochs", "seed", "loss", "verbose", "rates"]
    assert spec["lr"] == Param("lr", "float", 0.5, "learning rate", low=0, high=10, low_open=True)
    assert spec["seed"].high == 2**32 - 1
    assert spec["loss"].choices == ("bce", "mse")
    assert spec["rates"].low == 0 and spec["rates"].high is None and spec["rates"].low_open
    assert spec["lr"].allowed() == "float in (0, 10]"
    assert spec["loss"].allowed() == 'str in {"bce", "mse"}'
    assert spec["rates"].allowed() == "list[float] in (0, inf)"


@pytest.mark.parametrize(
    "line, message",
    [
        ("lr = 0.5", "not of the form"),
        ("lr = 0.5  # learning rate", "must start with a type"),
        ("lr = 0.5  # double in [0, 1]: learning rate", "must start with a type"),
        ("lr = 0.5  # float in [0, 1]", "must start with a type"),
        ("lr = np.float64(1)  # float: x", "not a Python literal"),
        ("lr = 5.0  # float in [0, 1]: too big a default", "breaks its own specification"),
        ("lr = 0.5  # float in [0, x]: bad bound", "not a number"),
    ],
)
def test_malformed_lines_are_rejected(line, message):
    with pytest.raises(SpecError, match=message):
        parse_line(line)


def test_cell_needs_a_parameter_and_no_duplicates():
    with pytest.raises(SpecError, match="defines no parameter"):
        parse_parameters_cell("# nothing\n")
    with pytest.raises(SpecError, match="twice"):
        parse_parameters_cell("a = 1  # int: x\na = 2  # int: y\n")


def test_defaults_pass_and_missing_values_keep_defaults(spec):
    assert validate_values(spec, {}) == {n: p.default for n, p in spec.items()}


@pytest.mark.parametrize(
    "name, value, converted",
    [
        ("lr", 1, 1.0),  # an int for a float parameter is fine (papermill -p lr 1)
        ("lr", 10.0, 10.0),  # closed upper bound
        ("num_epochs", 1, 1),
        ("loss", "mse", "mse"),
        ("verbose", True, True),
        ("rates", (0.5, 2), [0.5, 2.0]),
        ("rates", "[0.5, 2]", [0.5, 2.0]),  # papermill -p rates "[0.5, 2]" passes a string
    ],
)
def test_good_values_are_converted(spec, name, value, converted):
    result = validate_values(spec, {name: value})[name]
    assert result == converted and type(result) is type(converted)


@pytest.mark.parametrize(
    "name, value",
    [
        ("lr", 0.0),  # open lower bound
        ("lr", 10.5),
        ("lr", "abc"),
        ("lr", math.nan),
        ("lr", True),  # a bool is not a number here
        ("num_epochs", 3.0),
        ("num_epochs", "abc"),
        ("num_epochs", 0),
        ("num_epochs", False),
        ("loss", "hinge"),
        ("verbose", 1),
        ("rates", []),
        ("rates", [0.5, -1.0]),
        ("rates", "not a list"),
        ("rates", 0.5),
    ],
)
def test_bad_values_name_parameter_value_and_allowed(spec, name, value):
    with pytest.raises(ParameterError) as err:
        validate_values(spec, {name: value})
    message = str(err.value)
    assert message.startswith(f"{name} = {value!r} is not allowed: expected {spec[name].allowed()}")


def test_unknown_names_are_reported_with_a_suggestion(spec):
    with pytest.raises(ParameterError) as err:
        validate_values(spec, {"num_epoch": 3, "lr": -1.0})
    lines = str(err.value).splitlines()
    assert len(lines) == 2  # every problem, one line each
    assert lines[0].startswith("unknown parameter num_epoch = 3") and "did you mean num_epochs?" in lines[0]
    assert lines[1].startswith("lr = -1.0 is not allowed")


def test_check_parameters_reads_the_notebook_and_ignores_kernel_names(capsys):
    spec = notebook_spec("02_gradient_descent_by_hand")
    namespace = {n: p.default for n, p in spec.items()}
    namespace.update({"In": ["", "x = [1, 2]"], "Out": {}, "x": [1, 2], "check_parameters": check_parameters})
    namespace["lr"] = 3  # an int: converted in place
    check_parameters("02_gradient_descent_by_hand", namespace)
    assert namespace["lr"] == 3.0 and type(namespace["lr"]) is float
    assert "changed lr=3.0" in capsys.readouterr().out


def test_check_parameters_rejects_a_name_papermill_injected():
    spec = notebook_spec("01_loss_functions")
    injected = "# Parameters\nepochs = 5\nseed = 2\n"  # the cell papermill adds for -p epochs 5 -p seed 2
    namespace = {n: p.default for n, p in spec.items()} | {"epochs": 5, "seed": 2, "In": ["", injected]}
    assert injected_names(namespace) == {"epochs", "seed"}
    with pytest.raises(ParameterError, match="unknown parameter epochs = 5"):
        check_parameters("01_loss_functions", namespace)


def test_other_notebook_variables_are_not_parameters(capsys):
    """Re-running the validation cell after the whole notebook ran (in JupyterLab) still passes."""
    spec = notebook_spec("01_loss_functions")
    namespace = {n: p.default for n, p in spec.items()} | {"rows": [1, 2], "In": ["", "rows = [1, 2]"]}
    check_parameters("01_loss_functions", namespace)
    assert "all defaults" in capsys.readouterr().out


def test_check_parameters_needs_the_parameters_cell_run():
    with pytest.raises(ParameterError, match="not run"):
        check_parameters("01_loss_functions", {})


def test_unknown_notebook_lists_the_real_ones():
    with pytest.raises(FileNotFoundError, match="01_loss_functions"):
        notebook_spec("99_nothing")


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_every_allowed_seed_is_one_the_notebook_can_use(path):
    """Notebooks seed with `seed + k` (k up to num_seeds, or a constant offset); NumPy's legacy
    seeding and keras.utils.set_random_seed take at most 2**32 - 1. The allowed range must keep
    every seed a notebook derives within that, so no accepted value crashes mid-run."""
    spec = notebook_spec(path)
    if "seed" not in spec:
        return
    code = "\n".join(
        "".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"
    )
    offsets = [int(k) for k in re.findall(r"seed \+ (\d+)", code)]
    counted = spec["num_seeds"].high if "num_seeds" in spec else 0
    clip_seeds = spec["num_clip_seeds"].high if "num_clip_seeds" in spec else 0
    largest = spec["seed"].high + max([0, *offsets]) + max(counted, clip_seeds)
    assert largest <= 2**32 - 1, f"seed up to {spec['seed'].high:g} can reach {largest:g}"


def test_a_huge_or_hostile_value_gives_a_short_message():
    """A deeply nested value (what a YAML alias bomb builds) is never printed whole."""
    spec = parse_parameters_cell("lr = 0.5  # float in (0, 1]: rate")
    bomb = ["x"]
    for _ in range(30):
        bomb = [bomb] * 9  # 9**30 leaves if expanded; shared, so cheap to build
    with pytest.raises(ParameterError) as err:
        validate_values(spec, {"lr": bomb, "bomb": bomb})
    assert len(str(err.value)) < 400


@pytest.mark.parametrize("bound", ["9**9**9", "2**1000", "1/0", "(" * 200 + "1" + ")" * 200])
def test_range_bounds_that_would_hang_or_crash_are_refused(bound):
    with pytest.raises(SpecError):
        parse_line(f"x = 1  # int in [0, {bound}]: x")


def test_values_that_once_crashed_the_check_are_parameter_errors():
    from helpers.params import ParameterError, parse_line

    lr = parse_line("lr = 0.5  # float in (0, 1000]: step")
    rates = parse_line("rates = [0.5]  # list[float] in (0, 1000]: steps")
    for param, value in ((lr, 10**400), (rates, "[" + "-" * 100_000 + "1]"), (rates, "[" * 100_000)):
        with pytest.raises(ParameterError, match="is not allowed"):
            param.check(value)
    assert lr.check(1) == 1.0 and rates.check("[1e-3]") == [0.001]
