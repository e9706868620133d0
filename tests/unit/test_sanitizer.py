"""The nbval sanitiser file: every pair is well-formed (nbval drops malformed pairs without a
word) and each rule masks what it should and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

CFG = Path(__file__).resolve().parent.parent / "nbval_sanitize.cfg"


def sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(CFG.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_every_pair_is_parsed_by_nbval():
    text = CFG.read_text()
    assert len(get_sanitize_patterns(text)) == text.count("regex:") == text.count("replace:")
    for regex, _ in get_sanitize_patterns(text):
        re.compile(regex)


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "loss  exact: True  | allclose: True | max diff: 0.0e+00",
            "loss  exact: False | allclose: True | max diff: 3.1e-17",
        ),
        ("bce: within 1e-6 (relative error: 3.7e-10)", "bce: within 1e-6 (relative error: 4.1e-11)"),
        ("<Thing at 0x7f3a5c2e1d90>", "<Thing at 0x7fbb01234560>"),
        ("1/1 - 0s - 12ms/step - loss: 0.69", "1/1 - 1s - 650ms/step - loss: 0.69"),
    ],
)
def test_machine_dependent_parts_are_masked(a, b):
    assert a != b and sanitize(a) == sanitize(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("allclose(atol=1e-06, rtol=1e-05): True ", "allclose(atol=1e-06, rtol=1e-05): False"),
        ("MSE = sum / 4  = 0.0250", "MSE = sum / 4  = 0.2500"),
        ("1/1 - 0s - 12ms/step - loss: 0.69", "1/1 - 0s - 12ms/step - loss: 0.70"),
        ("accuracy 0.855", "accuracy 0.500"),
    ],
)
def test_results_are_still_compared(a, b):
    assert sanitize(a) != sanitize(b)
