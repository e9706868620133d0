"""Part IV's tables: fine-tuning records read as rows, one per (label budget, start), with the
mean ± std over seeds (`helpers.display.std`, the sample standard deviation) — as notebook 10
prints them for its teaching-size run and notebook 11 for the committed full-data runs.

A record is a dict such as ``{"start": "one-way (GPT)", "budget": 100, "seed": 0, "frozen": 0.71,
"f1": 0.74, "seconds": 3.2}`` (`helpers.finetune` defines the starts). Section 6's records (ELMo's
recipe) carry ``f1_argmax`` and ``f1`` (with Viterbi) for segmentation, ``accuracy`` and
``accuracy_whole`` for sentiment. Tested in tests/unit/test_finetune_tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.display import mean_std
from helpers.finetune import STARTS, describe_difference, paired_differences, scores

HEADERS = ["labels", "start", "frozen features", "fine-tuned", "seconds"]
RECIPE_STARTS = ("no pretrained states", *STARTS[1:])  # section 6's tagger: the same BiLSTM, with or without states
RECIPE_HEADERS = ["states fed to the tagger", "word F1, tag by tag", "word F1, Viterbi", "tagger seconds"]
PROBE = "untrained encoder (random features)"  # section 6's control for sentiment: scratch's encoder, frozen
SENTIMENT_HEADERS = ["reader", "accuracy, first max_len characters", "accuracy, whole review"]


def spread(values: Sequence[float]) -> str:
    """One value as it is ('0.734'); several as mean ± std over seeds ('0.734 ± 0.012')."""
    return f"{values[0]:.3f}" if len(values) == 1 else mean_std(values, ".3f")


def summary_rows(records: list[dict], metric: str, budgets: Sequence[int]) -> list[list]:
    """[budget, start, frozen features, fine-tuned, mean seconds] per budget and start, over seeds
    (scratch has no frozen stage: '—')."""
    rows = []
    for budget in budgets:
        for start in STARTS:
            runs = [r for r in records if r["start"] == start and r["budget"] == budget]
            frozen = spread([r["frozen"] for r in runs]) if start != "scratch" else "—"
            fine_tuned = spread(list(scores(records, metric, start, budget).values()))
            rows.append([budget, start, frozen, fine_tuned, f"{np.mean([r['seconds'] for r in runs]):.1f}"])
    return rows


def with_tfidf(rows: list[list], tfidf_records: list[dict], budgets: Sequence[int]) -> list[list]:
    """`rows` with one more row per budget: TF-IDF + logistic regression on the same labels."""
    extra = []
    for budget in budgets:
        accuracies = list(scores(tfidf_records, "accuracy", "TF-IDF", budget).values())
        extra.append([budget, "TF-IDF + logistic regression", "—", spread(accuracies), "—"])
    return [*rows, *extra]


def against_tfidf(sentiment_records: list[dict], tfidf_records: list[dict], budgets: Sequence[int]) -> list[str]:
    """Every start − TF-IDF trained on the same labelled reviews, paired by seed, per budget."""
    lines = []
    for budget in budgets:
        lines.append(f"sentiment, {budget} labels, against TF-IDF on the same labels:")
        for start in STARTS:
            d = paired_differences(sentiment_records + tfidf_records, "accuracy", start, "TF-IDF", budget)
            lines.append(f"  {start} − TF-IDF: {describe_difference(d)}")
    return lines


def recipe_rows(records: list[dict], starts: Sequence[str] = RECIPE_STARTS) -> list[list]:
    """Section 6's tagger: [states, word F1 tag by tag, word F1 with Viterbi, mean seconds] per start."""
    rows = []
    for start in starts:
        runs = [r for r in records if r["start"] == start]
        f1_argmax, f1 = spread([r["f1_argmax"] for r in runs]), spread([r["f1"] for r in runs])
        rows.append([start, f1_argmax, f1, f"{np.mean([r['seconds'] for r in runs]):.0f}"])
    return rows


def sentiment_rows(records: list[dict]) -> list[list]:
    """Section 6's probe: [reader, accuracy on the first max_len characters, on the whole review]."""
    return [
        [r["start"], f"{r['accuracy']:.3f}", f"{r['accuracy_whole']:.3f}" if "accuracy_whole" in r else "—"]
        for r in records
    ]
