"""Notebook parameters: one grammar, one validation, for papermill and for the runner.

Every notebook's first code cell is tagged `parameters` and holds one knob a line::

    lr = 0.5  # float in (0, 100]: learning rate α of gradient descent
    num_epochs = 100  # int in [1, 100000]: full-batch gradient steps
    loss = "bce"  # str in {"bce", "mse"}: the loss being minimised
    learning_rates = [0.05, 1.0]  # list[float] in (0, 1000]: one curve each

That comment *is* the specification: type (`int`, `float`, `str`, `bool`, `list[int]`,
`list[float]`, `list[str]`), an optional range (an interval with `[`/`(` brackets, `inf` allowed,
or a set of choices in braces) and the meaning. The next cell is
`check_parameters("NN_slug", globals())`, which reads the specification from that notebook's
`parameters` cell and checks the values the kernel really has (papermill injects its
overrides after that cell). Papermill warns about unknown names and accepts wrong types silently
(`-p num_epochs abc` runs); this module turns both into one clear error before any work is done.
Taught in: the cell after every notebook's `parameters` cell; README "Running notebooks headless".
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import operator
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.paths import notebook_path

TYPES = ("int", "float", "str", "bool", "list[int]", "list[float]", "list[str]")
_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>.+?)\s*#\s*(?P<spec>.*)$")
_SPEC = re.compile(r"^(?P<type>list\[\w+\]|\w+)(?:\s+in\s+(?P<range>[\[\({].*?[\]\)}]))?\s*:\s*(?P<doc>.+)$")


_REPR = reprlib.Repr()  # Python 3.11's Repr takes no arguments: set the limits one by one
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 6, 6, 4, 40, 40


def show(value: Any) -> str:
    """A value for an error message: its repr, cut short (at most a few dozen characters, however
    large or deeply nested the value is: a message is never built from the whole of it)."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:56] + " ..."


def short(name: Any) -> str:
    """A name for an error message, at most 40 characters."""
    text = str(name)
    return text if len(text) <= 40 else text[:36] + " ..."


class ParameterError(ValueError):
    """A notebook parameter has a wrong name, type or value (the message says which)."""


class SpecError(ValueError):
    """A `parameters` cell does not follow the grammar in this module's docstring."""


@dataclass(frozen=True)
class Param:
    """One notebook parameter: its name, type, default, allowed range and meaning."""

    name: str
    type: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] | None = field(default=None)

    def allowed(self) -> str:
        """What is allowed, as it is written in the parameters cell, e.g. `int in [1, 100]`."""
        if self.choices is not None:
            return f"{self.type} in {{{', '.join(json.dumps(c) for c in self.choices)}}}"
        if self.low is None and self.high is None:
            return self.type
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{self.type} in {lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"

    def check(self, value: Any) -> Any:
        """Return `value` converted to this parameter's type, or raise ParameterError."""
        problem = f"{self.name} = {show(value)} is not allowed: expected {self.allowed()}"
        if self.type.startswith("list["):
            if isinstance(value, str):  # `papermill -p name "[1, 2]"` passes a string
                try:
                    value = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    raise ParameterError(problem) from None
            if not isinstance(value, (list, tuple)) or len(value) == 0:
                raise ParameterError(problem + " (a non-empty list)")
            item_type = self.type[5:-1]
            return [self._check_scalar(v, item_type, problem) for v in value]
        return self._check_scalar(value, self.type, problem)

    def _check_scalar(self, value: Any, type_: str, problem: str) -> Any:
        if type_ == "bool":
            if not isinstance(value, bool):
                raise ParameterError(problem)
        elif type_ == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(problem)
        elif type_ == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(problem)
            try:  # an int of 400 digits is no float: float() overflows
                value = float(value)
            except OverflowError:
                raise ParameterError(problem + " (too large for a float)") from None
            if math.isnan(value):
                raise ParameterError(problem)
        elif type_ == "str":
            if not isinstance(value, str):
                raise ParameterError(problem)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(problem)
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise ParameterError(problem)
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise ParameterError(problem)
        return value


def _fmt(x: float | None) -> str:
    if x is None or x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return repr(x)


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.Div: operator.truediv,
}


def _number(text: str) -> float:
    """Evaluate a range bound: a number, `inf`, or simple arithmetic such as `2**32 - 1`."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id == "inf":
            return math.inf
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 2**64):
                raise SpecError(f"range bound {text[:40]!r} is too large (powers up to 2**64 only)")
            try:
                return _OPS[type(node.op)](left, right)
            except (ArithmeticError, ValueError):
                raise SpecError(f"range bound {text[:40]!r} is not a number") from None
        raise SpecError(f"range bound {text[:40]!r} is not a number")

    if len(text) > 100:
        raise SpecError(f"range bound {text[:40]!r}... is too long")
    try:
        return ev(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, RecursionError, MemoryError):
        raise SpecError(f"range bound {text[:40]!r} is not a number") from None


def parse_line(line: str) -> Param:
    """Parse one `name = value  # type in range: meaning` line of a parameters cell."""
    m = _LINE.match(line.strip())
    if not m:
        raise SpecError(f"not of the form `name = value  # type in range: meaning`: {line!r}")
    s = _SPEC.match(m["spec"].strip())
    if not s or s["type"] not in TYPES:
        raise SpecError(
            f"{m['name']}: the comment must start with a type ({', '.join(TYPES)}), "
            f"then an optional `in [low, high]` or `in {{...}}`, then `: meaning`; "
            f"got {m['spec']!r}"
        )
    try:
        default = ast.literal_eval(m["value"])
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise SpecError(f"{m['name']}: the default {m['value']!r} is not a Python literal") from None
    kwargs: dict[str, Any] = {}
    rng = s["range"]
    if rng and rng.startswith("{"):
        try:
            kwargs["choices"] = tuple(ast.literal_eval("[" + rng[1:-1] + "]"))
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            hint = 'e.g. {"a", "b"}'
            raise SpecError(f"{m['name']}: the choices {rng[:60]!r} must be Python literals ({hint})") from None
    elif rng:
        parts = rng[1:-1].split(",")
        if len(parts) != 2:
            raise SpecError(f"{m['name']}: the range {rng!r} needs two bounds")
        lo, hi = (_number(p) for p in parts)
        kwargs.update(
            low=None if lo == -math.inf else lo,
            high=None if hi == math.inf else hi,
            low_open=rng[0] == "(",
            high_open=rng[-1] == ")",
        )
    param = Param(name=m["name"], type=s["type"], default=default, doc=s["doc"].strip(), **kwargs)
    try:
        param.check(default)
    except ParameterError as err:
        raise SpecError(f"the default breaks its own specification: {err}") from None
    return param


def parse_parameters_cell(source: str) -> dict[str, Param]:
    """Parse a whole `parameters` cell: blank lines and `#` comment lines are skipped."""
    spec: dict[str, Param] = {}
    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        param = parse_line(line)
        if param.name in spec:
            raise SpecError(f"{param.name} is defined twice")
        spec[param.name] = param
    if not spec:
        raise SpecError("the parameters cell defines no parameter")
    return spec


def parameters_cell_source(path: Path) -> str:
    """The source of the first code cell tagged `parameters` in the notebook at `path`."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise SpecError(f"{path} is not a Jupyter notebook (not JSON with a list of cells)") from None
    except RecursionError:
        raise SpecError(f"{path} is not a Jupyter notebook (its JSON is nested too deeply)") from None
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata") or {}).get("tags", []):
            src = cell.get("source", "")
            return src if isinstance(src, str) else "".join(map(str, src))
    raise SpecError(f"{path} has no code cell tagged 'parameters'")


def notebook_spec(notebook: str | Path) -> dict[str, Param]:
    """The parameter specification of a course notebook (by name, e.g. `02_gradient_descent_by_hand`)."""
    path = Path(notebook) if str(notebook).endswith(".ipynb") else notebook_path(str(notebook))
    return parse_parameters_cell(parameters_cell_source(path))


def validate_values(spec: Mapping[str, Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """Check `values` (name -> value) against `spec`; return them converted, or raise one
    ParameterError listing every problem, one a line. Names missing from `values` keep
    their defaults."""
    problems = []
    checked = {name: p.default for name, p in spec.items()}
    for name, value in values.items():
        if name not in spec:
            close = difflib.get_close_matches(name, spec, n=1)
            hint = f" - did you mean {close[0]}?" if close else ""
            problems.append(
                f"unknown parameter {short(name)} = {show(value)}: "
                f"this notebook's parameters are {', '.join(spec)}{hint}"
            )
            continue
        try:
            checked[name] = spec[name].check(value)
        except ParameterError as err:
            problems.append(str(err))
    if problems:
        raise ParameterError("\n".join(problems))
    return checked


def injected_names(namespace: Mapping[str, Any]) -> set[str]:
    """Names assigned by papermill in this kernel: papermill injects a cell whose source starts
    with the line `# Parameters`, and IPython keeps every executed cell's source in `In`."""
    names: set[str] = set()
    for cell_source in namespace.get("In", []) or []:
        if isinstance(cell_source, str) and cell_source.split("\n", 1)[0].strip() == "# Parameters":
            try:
                tree = ast.parse(cell_source)
            except SyntaxError:
                continue
            names.update(
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            )
    return names


def check_parameters(notebook: str, namespace: dict[str, Any]) -> None:
    """Validate a running notebook's parameters; the cell after `parameters` is the one line::

        check_parameters("02_gradient_descent_by_hand", globals())

    (written by `course tidy`, so it always names its own notebook). The specification is the
    comment of every line of that notebook's `parameters` cell. Checks the type and range of every
    parameter's current value, and that papermill injected no name the notebook does not have
    (a misspelt `-p` name). Values are converted in place (an int given for a float parameter
    becomes a float). Prints which values differ from the defaults; raises ParameterError,
    listing every problem, otherwise.
    """
    spec = notebook_spec(notebook)
    missing = [name for name in spec if name not in namespace]
    if missing:
        raise ParameterError(f"the parameters cell was not run: {', '.join(missing)} undefined")
    given = {name: namespace[name] for name in spec}
    given.update({name: namespace.get(name) for name in injected_names(namespace) if name not in spec})
    checked = validate_values(spec, given)
    namespace.update(checked)
    changed = [f"{n}={checked[n]!r}" for n in spec if checked[n] != spec[n].default]
    print(f"Parameters OK ({len(spec)}): " + ("all defaults" if not changed else "changed " + ", ".join(changed)))
