"""helpers.data: the source's toy data loads, and broken files fail with a message naming them."""

from __future__ import annotations

import ast
import json
import shutil

import pytest

from helpers.data import SOURCE_PROGRAM_FILE, SOURCE_TOY_FILE, DataFileError, load_source_toy, source_program
from helpers.paths import DATA_DIR


def test_loads_the_source_data():
    toy = load_source_toy()
    assert toy.forward.texts == ["这是一段文本", "这是另一段文本"] and toy.forward.labels == [1, 0]
    assert toy.reverse.labels == [0, 1] and toy.test.texts == ["这是一段测试文本"]
    assert toy.max_seq_length == 10 and toy.claimed_prediction == 0.9282302


def test_json_agrees_with_the_printed_program():
    """data/source_toy.json and data/source_5_2.py must hold the same data."""
    assigned = {}
    for node in ast.parse(source_program()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                assigned[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    toy = load_source_toy()
    assert assigned["texts"] == toy.forward.texts and assigned["labels"] == toy.forward.labels
    assert assigned["texts_reverse"] == toy.reverse.texts and assigned["labels_reverse"] == toy.reverse.labels
    assert assigned["test_texts"] == toy.test.texts and assigned["test_labels"] == toy.test.labels
    assert assigned["max_seq_length"] == toy.max_seq_length
    assert f"# 输出：[{toy.claimed_prediction}]" in source_program()


@pytest.fixture
def data_copy(tmp_path):
    for name in (SOURCE_TOY_FILE, SOURCE_PROGRAM_FILE):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_missing_file_names_the_file(data_copy):
    (data_copy / SOURCE_TOY_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"source_toy\.json is missing; expected a JSON object"):
        load_source_toy(data_copy)
    (data_copy / SOURCE_PROGRAM_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"source_5_2\.py is missing"):
        source_program(data_copy)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("reverse"), r"'reverse' must be an object with 'texts' and 'labels'"),
        (lambda d: d["forward"].update(labels=[1, 2]), r"'forward.labels' must be a list of 0/1 integers"),
        (lambda d: d["test"].update(texts=["a", "b"]), r"'test' has 2 texts but 1 labels"),
        (lambda d: d.update(max_seq_length="10"), r"'max_seq_length' must be a positive integer"),
    ],
)
def test_malformed_file_says_what_is_wrong(data_copy, edit, message):
    path = data_copy / SOURCE_TOY_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_source_toy(data_copy)


def test_invalid_json_names_the_file(data_copy):
    (data_copy / SOURCE_TOY_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"source_toy\.json is not valid JSON"):
        load_source_toy(data_copy)
