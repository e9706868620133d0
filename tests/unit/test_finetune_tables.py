"""helpers.finetune_tables: Part IV's records read as rows (notebooks 10 and 11)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.display import std
from helpers.finetune import STARTS
from helpers.finetune_tables import against_tfidf, recipe_rows, sentiment_rows, spread, summary_rows, with_tfidf


def records(budget=100, seeds=(0, 1, 2)):
    rng = np.random.default_rng(0)
    return [
        {"start": s, "budget": budget, "seed": k, "frozen": rng.uniform(), "f1": rng.uniform(), "seconds": 2.0 + k}
        for s in STARTS
        for k in seeds
    ]


def test_spread_is_the_value_alone_or_the_mean_and_the_course_s_std():
    assert spread([0.5]) == "0.500"
    values = [0.5, 0.7, 0.9]
    mean, sd = spread(values).split(" ± ")
    assert float(mean) == pytest.approx(np.mean(values), abs=5e-4)
    assert float(sd) == pytest.approx(std(values), abs=5e-4)  # the sample std, not the population's


def test_summary_rows_one_per_budget_and_start_in_order():
    rows = summary_rows(records(100) + records(1000), "f1", [100, 1000])
    assert [(r[0], r[1]) for r in rows] == [(b, s) for b in (100, 1000) for s in STARTS]
    assert rows[0][2] == "—"  # scratch has no frozen stage
    gpt = [r for r in records(100) if r["start"] == STARTS[1]]
    assert rows[1][3] == spread([r["f1"] for r in gpt])
    assert rows[1][4] == "3.0"  # mean seconds of seeds 0, 1, 2


def test_tfidf_rows_are_added_and_each_start_is_paired_with_it_by_seed():
    sentiment = [dict(r, accuracy=r["f1"]) for r in records()]
    tfidf = [{"start": "TF-IDF", "budget": 100, "seed": k, "accuracy": 0.5} for k in (0, 1, 2)]
    rows = with_tfidf([], tfidf, [100])
    assert rows == [[100, "TF-IDF + logistic regression", "—", "0.500 ± 0.000", "—"]]
    lines = against_tfidf(sentiment, tfidf, [100])
    assert lines[0].startswith("sentiment, 100 labels") and len(lines) == 1 + len(STARTS)
    gain = np.mean([r["accuracy"] - 0.5 for r in sentiment if r["start"] == STARTS[0]])
    assert f"{100 * gain:+.1f} points" in lines[1]


def test_section_6_rows():
    recipe = [{"start": "no pretrained states", "seed": k, "f1_argmax": 0.9, "f1": 0.95, "seconds": 10} for k in (0, 1)]
    assert recipe_rows(recipe, ["no pretrained states"]) == [
        ["no pretrained states", "0.900 ± 0.000", "0.950 ± 0.000", "10"]
    ]
    assert sentiment_rows([{"start": "TF-IDF", "accuracy": 0.8}]) == [["TF-IDF", "0.800", "—"]]
