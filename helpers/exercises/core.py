"""The machinery behind the self-checking exercises: compare a learner's answer with the right
one, and when it is wrong, recognise the common mistakes and give a hint, never the solution.

Two kinds of answer exist in the course:

- a **value** (a number or an array) — `check_value` compares it with the expected value and
  then with the value each known mistake would give;
- a **function** — `check_function` runs it on several inputs (fresh copies each time, so an
  answer that modifies its input cannot pass by accident), compares with a reference, and then
  with each known wrong variant of the reference.

Every answer gets a verdict, never a traceback (issue 23):

- the checker's own numbers (the reference, each mistake's value) are computed first, on private
  copies of the inputs and under `np.errstate(all="ignore")`, before the learner's function or
  answer is touched — so a learner's `np.seterr(all="raise")` or an answer that changes its
  inputs cannot change them;
- answers are made plain first: TensorFlow/Keras/PyTorch/JAX tensors by their `.numpy()` (found
  by duck typing, so nothing imports TensorFlow for a NumPy answer), tuples and lists item by item;
- the learner's part of a check (calling the function, reading and comparing the answer) runs
  under a time and memory limit (`TIME_LIMIT`, `MEMORY_LIMIT`), and any exception or odd object
  (an `__eq__`, `__array__` or `__str__` that raises, an int too large for a float) is a ✗ with a
  plain reason.

The limit is a repeating `SIGALRM` timer in the main thread (where Jupyter runs a cell): each tick
checks the clock and the process's resident memory, and raises inside the learner's code when a
limit is passed. Measured, it stops `time.sleep`, a pure-Python endless loop and a list that
grows without end within one tick (0.25 s) of the limit, and the learner's code does not keep
running afterwards; one huge allocation fails at once, as the address space may grow by
`MEMORY_LIMIT` at most during the check. A daemon thread with a timeout, the alternative, returns
a verdict in time but cannot stop the thread, which keeps burning a core for the rest of the
session. What no in-kernel limit can stop: a single long call into C (it is stopped when it
returns) and a loop that catches `BaseException` and carries on (Jupyter's interrupt button
cannot stop it either). Outside the main thread (no signals there) a check runs without limit.

A `Verdict` is what a checker returns. Its `repr` is its message, so a checker called last in a
cell shows the message and nothing else. The checkers themselves are in
one module per notebook beside this one; the exercises are at the end of every notebook.
"""

from __future__ import annotations

import copy
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.display import shorten

CORRECT = "✓ Correct"
NOT_YET = "✗ Not yet"
HAND_RTOL = 5e-3  # answers computed by hand: three significant digits are enough
NOT_ANSWERED = "… Not answered yet: replace the `...` with your answer, then run this cell again."
NOT_ANSWERED_FUNCTION = "… Not answered yet: write the function's body where the `...` is, then run both cells again."
TIME_LIMIT = 10.0  # seconds for the learner's part of one check (every input together)
MEMORY_LIMIT = 2 * 2**30  # bytes the process may grow by during that part
_TICK = 0.25  # seconds between two looks at the clock and the memory
_TENSOR_MODULES = ("tensorflow", "keras", "torch", "jax", "jaxlib")


def input_rng(seed: int | None = None) -> np.random.Generator:
    """The generator a checker draws its random test inputs from: a fresh seed on every call
    (so a table of the inputs cannot pass), unless a seed is given."""
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


def variants(reference: Callable[..., Any], *wrong: tuple[dict[str, Any], str]) -> list[Mistake]:
    """Mistakes that are the reference computed another way: each (keywords, hint) gives the
    Mistake whose answer is `reference(*args, **keywords)`, for a reference whose keywords switch
    its known mistakes on."""
    return [Mistake(functools.partial(reference, **keywords), hint) for keywords, hint in wrong]


class AnyOf(tuple):
    """A reference value with more than one right form (e.g. Adam with ε before or after the bias
    correction): an answer equal to any one of them is right."""


class _OverLimit(BaseException):
    """Raised inside the learner's code when a check passes its time or memory limit (a
    BaseException, so that the learner's `except Exception` does not swallow it)."""


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@contextmanager
def _limits(seconds: float, memory: int) -> Iterator[dict]:
    """Raise `_OverLimit` in the code run inside, once it has taken `seconds` or grown the
    process by `memory` bytes; yields a dict whose "over" names the limit passed, if any."""
    state = {"active": True, "over": None}
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield state
        return
    start, base = time.monotonic(), _resident_bytes()

    def tick(signum, frame):
        if not state["active"]:
            return
        if time.monotonic() - start > seconds:
            state["over"] = "time"
        elif _resident_bytes() - base > memory:
            state["over"] = "memory"
        if state["over"]:
            raise _OverLimit(state["over"])

    previous_hook = sys.unraisablehook

    def unraisable(event) -> None:
        """A tick that strikes inside a finaliser (`__del__`, a weakref callback) cannot stop the
        answer there: Python reports the exception as "ignored" and goes on, and the next tick
        strikes again. Say nothing of those; let the usual hook report anything else, with the
        ticks paused so that none strikes inside it."""
        if isinstance(event.exc_value, _OverLimit):
            return
        state["active"] = False
        try:
            previous_hook(event)
        finally:
            state["active"] = True

    previous = signal.signal(signal.SIGALRM, tick)
    address_space = _cap_address_space(memory)
    sys.unraisablehook = unraisable
    signal.setitimer(signal.ITIMER_REAL, _TICK, _TICK)
    try:
        yield state
    finally:
        while True:  # a tick may raise while disarming: retry until the timer is off
            try:
                state["active"] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                sys.unraisablehook = previous_hook
                _restore_address_space(address_space)
                break
            except _OverLimit:
                continue


def _cap_address_space(memory: int) -> tuple[int, int] | None:
    """Let the process's address space grow by at most `memory` bytes (so that even one huge
    allocation in C fails with MemoryError); returns the limits to restore, or None when it
    cannot be set here."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = size + memory
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft != resource.RLIM_INFINITY and soft <= cap:
            return None
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        return soft, hard
    except (ImportError, OSError, ValueError, IndexError):
        return None


def _restore_address_space(limits: tuple[int, int] | None) -> None:
    if limits is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, limits)


def _learner_errstate() -> dict:
    """The learner's own floating-point error settings, for running the learner's function (with
    underflow always ignored: a stable formula underflows to 0 on purpose)."""
    settings = dict(_LEARNER_ERR[-1]) if _LEARNER_ERR else np.geterr()
    settings["under"] = "ignore"
    return settings


_LEARNER_ERR: list[dict] = []  # set by `checker` while a checker runs


def checker(fn: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """Make a checker total: its own computations run under `np.errstate(all="ignore")` (the
    learner's settings are kept for the learner's function), and anything that escapes becomes a
    ✗ with a plain reason. `helpers.exercises` applies it to every exported `check_*`."""
    if getattr(fn, "_guarded", False):
        return fn

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Verdict:
        _LEARNER_ERR.append(np.geterr())
        try:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a checker always gives a verdict
            return Verdict(False, f"{NOT_YET}: this answer could not be checked ({_name_of(error)}).")
        finally:
            _LEARNER_ERR.pop()

    guarded._guarded = True  # type: ignore[attr-defined]
    return guarded


def _name_of(error: BaseException) -> str:
    try:
        return type(error).__name__
    except Exception:
        return "an error"


def _text(value: Any, width: int = 60) -> str:
    """`shorten(value)`, or a plain description when the value cannot be shown."""
    try:
        return shorten(value, width)
    except Exception:
        return f"an object that cannot be shown ({_name_of_type(value)})"


def _name_of_type(value: Any) -> str:
    try:
        return str(type(value).__name__)
    except Exception:
        return "object"


def plain(value: Any, depth: int = 0) -> Any:
    """`value` with tensors made NumPy arrays, tuples and lists item by item (at most 5 levels
    deep and 100,000 items), subclasses of str, int, float, list, tuple and ndarray made the
    plain type (so an overridden `==` cannot vouch for itself); anything else as it is. Tensors
    are recognised by the module of their type and a `.numpy()` method, so TensorFlow is never
    imported here."""
    kind = type(value)
    if kind in (str, int, float, bool, np.ndarray, type(None)):
        return value
    for base, exact in ((str, str.__str__), (int, int.__int__), (float, float.__float__)):
        if isinstance(value, base) and not isinstance(value, (bool, np.generic)):
            return exact(value)
    if isinstance(value, np.ndarray):
        return np.array(value, subok=False)
    if isinstance(value, (list, tuple)):
        size = list.__len__(value) if isinstance(value, list) else tuple.__len__(value)
        if depth >= 5 or size > 100_000:
            return value
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        items = [plain(v, depth + 1) for v in items]
        return tuple(items) if isinstance(value, tuple) else items
    module = getattr(type(value), "__module__", None)
    if isinstance(module, str) and module.split(".")[0] in _TENSOR_MODULES:
        to_numpy = getattr(value, "numpy", None)
        if callable(to_numpy):
            return np.asarray(to_numpy())
        if hasattr(type(value), "__array__"):
            return np.asarray(value)
    return value


def _as_array(value: Any) -> np.ndarray | None:
    """`value` as a float array, or None if it is not numeric (a dict, a string, a ragged list,
    an int too large for a float, an object whose conversion fails)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except Exception:
        return None


def _low_precision(value: Any) -> bool:
    """True for float16/float32 values, which get a float32-sized tolerance."""
    dtype = getattr(value, "dtype", None)
    try:
        return dtype is not None and np.issubdtype(dtype, np.floating) and np.finfo(dtype).bits < 64
    except Exception:  # a dtype NumPy does not know
        return False


def same(a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when `a` and `b` are equal: numbers and arrays within rtol/atol (same shape, NaN
    equal to NaN; float32 values within float32's precision), strings and other objects by ==,
    tuples and lists element by element (a list and a tuple of the same items are equal). Never
    raises: answers of any type get a yes or a no."""
    try:
        a, b = plain(a), plain(b)
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and not _numeric_sequence(a, b):
            return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
        if isinstance(a, str) or isinstance(b, str):
            return isinstance(a, str) and isinstance(b, str) and a == b
        x, y = _as_array(a), _as_array(b)
        if x is None or y is None:  # other objects: of the same (plain) type, and equal
            return x is None and y is None and type(a) is type(b) and (a == b) is True
        if _low_precision(a) or _low_precision(b):
            rtol, atol = max(rtol, 1e-5), max(atol, 1e-7)
        with np.errstate(all="ignore"):
            return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    except _OverLimit:
        raise
    except Exception:  # an exotic answer (a generator, an object with a strange ==) is simply not equal
        return False


def describe_mismatch(got: Any, expected: Any) -> str | None:
    """What kind of answer `got` is, when it is not the kind `expected` is: its type, its shape or
    its length (None when they are of the same kind, so that only the values differ)."""
    got, expected = plain(got), plain(expected)
    kind = _name_of_type(got)
    if isinstance(expected, (tuple, list)) and not _numeric_sequence(expected, expected):
        if not isinstance(got, (tuple, list)):
            return f"a {kind}, where {len(expected)} values (a tuple or a list) are expected"
        if len(got) != len(expected):
            return f"{len(got)} values, where {len(expected)} are expected"
        return None
    if isinstance(expected, str):
        return None if isinstance(got, str) else f"a {kind}, where a string is expected"
    want, have = _as_array(expected), _as_array(got)
    if want is None:
        return None
    if have is None:
        what = "a number" if want.ndim == 0 else f"an array of shape {want.shape}"
        return f"a {kind}, where {what} is expected"
    if have.shape != want.shape:
        return f"shape {have.shape}, where shape {want.shape} is expected"
    return None


def _numeric_sequence(a: Sequence, b: Sequence) -> bool:
    return all(isinstance(v, (int, float, np.number)) for v in (*a, *b))


def _not_answered(answer: Any) -> bool:
    return answer is Ellipsis


def _over_limit(what: str, over: str | None, subject: str) -> Verdict:
    if over == "memory":
        return Verdict(False, f"{NOT_YET}: {what}: {subject} used too much memory (over {MEMORY_LIMIT // 2**30} GB).")
    return Verdict(
        False, f"{NOT_YET}: {what}: {subject} took too long (over {TIME_LIMIT:g} s); a loop that never ends?"
    )


def _limited(what: str, subject: str, body: Callable[[], Verdict]) -> Verdict:
    """`body()` under the time and memory limit; an escaping exception or a passed limit is a ✗."""
    state: dict = {}
    try:
        with _limits(TIME_LIMIT, MEMORY_LIMIT) as state:
            try:
                verdict = body()
            finally:
                # From here no tick may raise: on a loaded machine one can strike in the `with`
                # statement's exit, before `_limits` disarms the timer, and escape the check. (Written
                # out, not called: a call is where Python runs a pending signal handler.)
                while True:
                    try:
                        state["active"] = False
                        break
                    except _OverLimit:
                        continue
    except _OverLimit:
        return _over_limit(what, state.get("over"), subject)
    except MemoryError:
        return _over_limit(what, "memory", subject)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # an odd answer object: a verdict, not a traceback
        return Verdict(False, f"{NOT_YET}: {what}: {subject} could not be read ({_name_of(error)}).")
    if state.get("over"):  # the learner's code swallowed the interruption and went on
        return _over_limit(what, state["over"], subject)
    return verdict


def check_value(
    answer: Any, expected: Any, *, what: str, mistakes: Sequence[Mistake] = (), rtol: float = 1e-6, atol: float = 1e-9
) -> Verdict:
    """Compare a value with `expected` (within rtol/atol), then with each mistake's value."""
    if _not_answered(answer):
        return Verdict(False, NOT_ANSWERED)
    expected, mistakes = copy.deepcopy(expected), [Mistake(copy.deepcopy(m.answer), m.hint) for m in mistakes]

    def body() -> Verdict:
        got = plain(answer)
        mismatch = describe_mismatch(got, expected)
        if mismatch:
            return Verdict(False, f"{NOT_YET}: {what}: your answer is {mismatch}.")
        if same(got, expected, rtol, atol):
            return Verdict(True, f"{CORRECT}: {what}.")
        for mistake in mistakes:
            if same(got, mistake.answer, rtol, atol):
                return Verdict(False, f"{NOT_YET}: {what}. Hint: {mistake.hint}")
        return Verdict(
            False,
            f"{NOT_YET}: {what} is not right, and it matches none of the common "
            "mistakes this checker knows. Redo the computation one step at a time.",
        )

    return _limited(what, "your answer", body)


def _empty_body(fn: Callable) -> bool:
    """True for a function whose body is only `...` (or a docstring): an untouched exercise.
    False for anything that is not a plain function with readable byte code."""
    import dis

    try:
        code = getattr(fn, "__code__", None)
        if code is None or getattr(fn, "__name__", "") == "<lambda>":
            return False
        ops = [i for i in dis.get_instructions(code) if i.opname not in ("RESUME", "NOP", "CACHE")]
        loads_none = all(
            i.argval is None or i.argval is Ellipsis for i in ops if i.opname in ("LOAD_CONST", "RETURN_CONST")
        )
        return loads_none and all(i.opname in ("LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP") for i in ops)
    except Exception:
        return False


def _ours(fn: Callable, args: tuple) -> tuple[bool, Any]:
    """(True, fn(*args)) for one of the checker's own functions run on a private copy of the
    inputs, or (False, None) when it fails on them (a mistake's formula may)."""
    try:
        with np.errstate(all="ignore"):
            return True, fn(*copy.deepcopy(args))
    except Exception:
        return False, None


def _inputs(args: tuple, width: int) -> str:
    return ", ".join(_text(a, width) for a in args)


def _raised(error: BaseException, args: tuple) -> Verdict:
    try:
        detail = " ".join(str(error).split())[:120]
    except Exception:
        detail = "(a message that cannot be shown)"
    return Verdict(
        False, f"{NOT_YET}: your function raised {_name_of(error)}: {detail} (on inputs {_inputs(args, 30)})."
    )


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
    differs, name the first mistake whose function agrees with `fn` on every case. The reference
    and every mistake are computed first, on private copies of the cases."""
    if _not_answered(fn):
        return Verdict(False, NOT_ANSWERED)
    if not callable(fn):
        return Verdict(False, f"{NOT_YET}: {what} should be a function, but your answer is a {_name_of_type(fn)}.")
    if _empty_body(fn):
        return Verdict(False, NOT_ANSWERED_FUNCTION)
    cases = copy.deepcopy([tuple(args) for args in cases])
    with np.errstate(all="ignore"):
        expected = [reference(*copy.deepcopy(args)) for args in cases]
    known = [([_ours(m.answer, args) for args in cases], m.hint) for m in mistakes]
    given = compare or (lambda a, b: same(a, b, rtol, atol))

    def equal(got: Any, want: Any) -> bool:
        if isinstance(want, AnyOf):
            return any(equal(got, w) for w in want)
        try:
            with np.errstate(all="ignore"):
                return bool(given(got, want))
        except _OverLimit:
            raise
        except Exception:  # a comparison that cannot handle this answer: it is not the right one
            return False

    def body() -> Verdict:
        answers = []
        for args in cases:
            try:
                with np.errstate(**_learner_errstate()):
                    answers.append(plain(fn(*copy.deepcopy(args))))
            except (_OverLimit, KeyboardInterrupt):
                raise
            except MemoryError:
                return _over_limit(what, "memory", "your function")
            except BaseException as error:  # the learner's code: report, do not crash
                return _raised(error, args)
        if any(a is None for a in answers):
            return Verdict(False, f"{NOT_YET}: your function returned None. Not written yet, or a missing `return`?")
        wrong = [k for k, got in enumerate(answers) if not equal(got, expected[k])]
        if not wrong:
            return Verdict(True, f"{CORRECT}: {what} (checked on {len(cases)} inputs).")
        for values, hint in known:
            if all(ok and equal(got, value) for got, (ok, value) in zip(answers, values)):
                return Verdict(False, f"{NOT_YET}: {what}. Hint: {hint}")
        return _wrong_values(what, cases, answers, expected, wrong)

    return _limited(what, "your function", body)


def _wrong_values(what: str, cases: list, answers: list, expected: list, wrong: list[int]) -> Verdict:
    """The ✗ for a function that matches no known mistake: what kind of value it returned, or
    which value, on the first input where it is wrong."""
    k = wrong[0]
    got = answers[k]
    want = expected[k][0] if isinstance(expected[k], AnyOf) else expected[k]
    mismatch = describe_mismatch(got, want)
    if mismatch:
        return Verdict(
            False, f"{NOT_YET}: {what}. Your function returned {mismatch} (on inputs {_inputs(cases[k], 40)})."
        )
    values = _as_array(got)
    if values is not None and not np.all(np.isfinite(values)):
        detail = "returned inf or nan"
    else:
        detail = f"returned {_text(got)}"
    return Verdict(
        False,
        f"{NOT_YET}: {what}. Wrong on {len(wrong)} of {len(cases)} inputs; for "
        f"example on inputs {_inputs(cases[k], 40)} your function {detail}.",
    )
