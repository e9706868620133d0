"""The course's small data files in `data/`, loaded with errors that say what is wrong.

Taught in notebook 03 (the source's toy data). Paths come from `helpers.paths.DATA_DIR`, so a
notebook finds its data whatever directory papermill was started from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import DATA_DIR

SOURCE_TOY_FILE = "source_toy.json"
SOURCE_PROGRAM_FILE = "source_5_2.py"


class DataFileError(ValueError):
    """A data file exists but does not have the expected format (the message says which part)."""


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with 0/1 labels."""

    texts: list[str]
    labels: list[int]


@dataclass(frozen=True)
class SourceToyData:
    """The data of the source's §5.2 program: two "fine-tuning" sets and one test sentence."""

    forward: LabelledTexts
    reverse: LabelledTexts
    test: LabelledTexts
    max_seq_length: int
    claimed_prediction: float


def _read_json(path: Path, expected: str) -> dict:
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {path} is missing; expected {expected} "
            f"(see data/README.md; restore it with `git checkout -- data/`)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path} is not valid JSON ({err}); expected {expected}") from None


def _labelled(path: Path, doc: dict, key: str) -> LabelledTexts:
    part = doc.get(key)
    if not isinstance(part, dict) or not {"texts", "labels"} <= set(part):
        raise DataFileError(f"{path}: '{key}' must be an object with 'texts' and 'labels'")
    texts, labels = part["texts"], part["labels"]
    if not (isinstance(texts, list) and all(isinstance(t, str) and t for t in texts)):
        raise DataFileError(f"{path}: '{key}.texts' must be a list of non-empty strings")
    if not (isinstance(labels, list) and all(lab in (0, 1) and not isinstance(lab, bool) for lab in labels)):
        raise DataFileError(f"{path}: '{key}.labels' must be a list of 0/1 integers, got {labels!r}")
    if len(texts) != len(labels) or not texts:
        raise DataFileError(f"{path}: '{key}' has {len(texts)} texts but {len(labels)} labels")
    return LabelledTexts(list(texts), list(labels))


def load_source_toy(data_dir: Path = DATA_DIR) -> SourceToyData:
    """Load `data/source_toy.json`, the source's forward, reverse and test sets (§5.2)."""
    path = Path(data_dir) / SOURCE_TOY_FILE
    expected = (
        "a JSON object with 'forward', 'reverse' and 'test' ({texts, labels}), "
        "'max_seq_length' and 'claimed_prediction'"
    )
    doc = _read_json(path, expected)
    if not isinstance(doc, dict):
        raise DataFileError(f"{path}: expected {expected}")
    length, claimed = doc.get("max_seq_length"), doc.get("claimed_prediction")
    if not isinstance(length, int) or length < 1:
        raise DataFileError(f"{path}: 'max_seq_length' must be a positive integer, got {length!r}")
    if not isinstance(claimed, float) or not 0 < claimed < 1:
        raise DataFileError(f"{path}: 'claimed_prediction' must be a probability, got {claimed!r}")
    return SourceToyData(
        *(_labelled(path, doc, k) for k in ("forward", "reverse", "test")),
        max_seq_length=length,
        claimed_prediction=claimed,
    )


def source_program(data_dir: Path = DATA_DIR) -> str:
    """The source's §5.2 program, exactly as printed (`data/source_5_2.py`)."""
    path = Path(data_dir) / SOURCE_PROGRAM_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {path} is missing; expected the source's §5.2 program "
            f"(see data/README.md; restore it with `git checkout -- data/`)"
        )
    return path.read_text(encoding="utf-8")
