"""The machinery behind the self-checking exercises: compare a learner's answer with the right
one, and when it is wrong, recognise the common mistakes and give a hint, never the solution.

Two kinds of answer exist in the course:

- a **value** (a number or an array) — `check_value` compares it with the expected value and
  then with the value each known mistake would give;
- a **function** — `check_function` runs it on several inputs (fresh copies each time, so an
  answer that modifies its input cannot pass by accident), compares with a reference, and then
  with each known wrong variant of the reference.

A `Verdict` is what a checker returns. Its `repr` is its message, so a checker called last in a
cell shows the message and nothing else. The checkers themselves are in
one module per notebook beside this one; the exercises are at the end of every notebook.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.display import shorten

CORRECT = "✓ Correct"
NOT_YET = "✗ Not yet"
HAND_RTOL = 5e-3  # answers computed by hand: three significant digits are enough
NOT_ANSWERED = "… Not answered yet: replace the `...` with your answer, then run this cell again."
NOT_ANSWERED_FUNCTION = "… Not answered yet: write the function's body where the `...` is, then run both cells again."


def input_rng(seed: int = 2026) -> np.random.Generator:
    """The generator every checker draws its test inputs from (fixed, so a verdict never varies)."""
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: `correct`, and the message shown to the learner."""

    correct: bool
    message: str

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: its value (for `check_value`) or a function computing it (for
    `check_function`), and the hint to give when the learner's answer matches it."""

    answer: Any
    hint: str


def _as_array(value: Any) -> np.ndarray | None:
    """`value` as a float array, or None if it is not numeric (a dict, a string, a ragged list)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _low_precision(value: Any) -> bool:
    """True for float16/float32 values, which get a float32-sized tolerance."""
    dtype = getattr(value, "dtype", None)
    return dtype is not None and np.issubdtype(dtype, np.floating) and np.finfo(dtype).bits < 64


def same(a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when `a` and `b` are equal: numbers and arrays within rtol/atol (same shape, NaN
    equal to NaN; float32 values within float32's precision), strings and other objects by ==,
    tuples and lists element by element (a list and a tuple of the same items are equal). Never
    raises: answers of any type get a yes or a no."""
    try:
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and not _numeric_sequence(a, b):
            return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
        if isinstance(a, str) or isinstance(b, str):
            return isinstance(a, str) and isinstance(b, str) and a == b
        x, y = _as_array(a), _as_array(b)
        if x is None or y is None:
            result = a == b
            return isinstance(result, (bool, np.bool_)) and bool(result)
        if _low_precision(a) or _low_precision(b):
            rtol, atol = max(rtol, 1e-5), max(atol, 1e-7)
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    except Exception:  # an exotic answer (a generator, an object with a strange ==) is simply not equal
        return False


def describe_mismatch(got: Any, expected: Any) -> str | None:
    """What kind of answer `got` is, when it is not the kind `expected` is: its type, its shape or
    its length (None when they are of the same kind, so that only the values differ)."""
    if isinstance(expected, (tuple, list)) and not _numeric_sequence(expected, expected):
        if not isinstance(got, (tuple, list)):
            return f"a {type(got).__name__}, where {len(expected)} values (a tuple or a list) are expected"
        if len(got) != len(expected):
            return f"{len(got)} values, where {len(expected)} are expected"
        return None
    if isinstance(expected, str):
        return None if isinstance(got, str) else f"a {type(got).__name__}, where a string is expected"
    want, have = _as_array(expected), _as_array(got)
    if want is None:
        return None
    if have is None:
        what = "a number" if want.ndim == 0 else f"an array of shape {want.shape}"
        return f"a {type(got).__name__}, where {what} is expected"
    if have.shape != want.shape:
        return f"shape {have.shape}, where shape {want.shape} is expected"
    return None


def _numeric_sequence(a: Sequence, b: Sequence) -> bool:
    return all(isinstance(v, (int, float, np.number)) for v in (*a, *b))


def _not_answered(answer: Any) -> bool:
    return answer is Ellipsis


def check_value(
    answer: Any, expected: Any, *, what: str, mistakes: Sequence[Mistake] = (), rtol: float = 1e-6, atol: float = 1e-9
) -> Verdict:
    """Compare a value with `expected` (within rtol/atol), then with each mistake's value."""
    if _not_answered(answer):
        return Verdict(False, NOT_ANSWERED)
    mismatch = describe_mismatch(answer, expected)
    if mismatch:
        return Verdict(False, f"{NOT_YET}: {what}: your answer is {mismatch}.")
    if same(answer, expected, rtol, atol):
        return Verdict(True, f"{CORRECT}: {what}.")
    for mistake in mistakes:
        if same(answer, mistake.answer, rtol, atol):
            return Verdict(False, f"{NOT_YET}: {what}. Hint: {mistake.hint}")
    return Verdict(
        False,
        f"{NOT_YET}: {what} is not right, and it matches none of the common "
        "mistakes this checker knows. Redo the computation one step at a time.",
    )


def _call(fn: Callable, args: tuple) -> Any:
    return fn(*copy.deepcopy(args))


def _empty_body(fn: Callable) -> bool:
    """True for a function whose body is only `...` (or a docstring): an untouched exercise."""
    import dis

    code = getattr(fn, "__code__", None)
    if code is None or getattr(fn, "__name__", "") == "<lambda>":
        return False
    ops = [i for i in dis.get_instructions(code) if i.opname not in ("RESUME", "NOP", "CACHE")]
    loads_none = all(
        i.argval is None or i.argval is Ellipsis for i in ops if i.opname in ("LOAD_CONST", "RETURN_CONST")
    )
    return loads_none and all(i.opname in ("LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP") for i in ops)


def check_function(
    fn: Any,
    cases: Sequence[tuple],
    reference: Callable,
    *,
    what: str,
    mistakes: Sequence[Mistake] = (),
    rtol: float = 1e-6,
    atol: float = 1e-9,
    compare: Callable[[Any, Any], bool] | None = None,
) -> Verdict:
    """Run `fn` on every case (a tuple of arguments) and compare with `reference`; if some case
    differs, name the first mistake whose function agrees with `fn` on every case."""
    if _not_answered(fn):
        return Verdict(False, NOT_ANSWERED)
    if not callable(fn):
        return Verdict(False, f"{NOT_YET}: {what} should be a function, but your answer is a {type(fn).__name__}.")
    given = compare or (lambda a, b: same(a, b, rtol, atol))

    def equal(got: Any, expected: Any) -> bool:
        try:
            return bool(given(got, expected))
        except Exception:  # a comparison that cannot handle this answer: it is not the right one
            return False

    if _empty_body(fn):
        return Verdict(False, NOT_ANSWERED_FUNCTION)
    answers = []
    for args in cases:
        try:
            answers.append(_call(fn, args))
        except Exception as error:  # the learner's code: report, do not crash the notebook
            return Verdict(
                False,
                f"{NOT_YET}: your function raised {type(error).__name__}: {error} "
                f"(on inputs {', '.join(shorten(a, 30) for a in args)}).",
            )
    if any(a is None for a in answers):
        return Verdict(False, f"{NOT_YET}: your function returned None. Not written yet, or a missing `return`?")
    wrong = [k for k, (args, got) in enumerate(zip(cases, answers)) if not equal(got, reference(*args))]
    if not wrong:
        return Verdict(True, f"{CORRECT}: {what} (checked on {len(cases)} inputs).")
    for mistake in mistakes:
        try:
            if all(equal(got, _call(mistake.answer, args)) for args, got in zip(cases, answers)):
                return Verdict(False, f"{NOT_YET}: {what}. Hint: {mistake.hint}")
        except Exception:  # a mistake's function may fail on an input where fn does not
            continue
    k = wrong[0]
    got = answers[k]
    mismatch = describe_mismatch(got, reference(*cases[k]))
    if mismatch:
        return Verdict(
            False,
            f"{NOT_YET}: {what}. Your function returned {mismatch} "
            f"(on inputs {', '.join(shorten(a, 40) for a in cases[k])}).",
        )
    values = _as_array(got)
    if values is not None and not np.all(np.isfinite(values)):
        detail = "returned inf or nan"
    else:
        detail = f"returned {shorten(got)}"
    return Verdict(
        False,
        f"{NOT_YET}: {what}. Wrong on {len(wrong)} of {len(cases)} inputs; for "
        f"example on inputs {', '.join(shorten(a, 40) for a in cases[k])} your "
        f"function {detail}.",
    )
