"""Classical baselines the neural models of Part III must beat. Taught in notebook 06 (used in 07 and 08)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def majority_accuracy(y_train: Sequence[int], y_test: Sequence[int]) -> float:
    """Accuracy of always predicting the most frequent training label."""
    majority = int(np.bincount(np.asarray(y_train)).argmax())
    return float(np.mean(np.asarray(y_test) == majority))


def tfidf_logreg(
    train_texts: Sequence[str],
    y_train: Sequence[int],
    *,
    ngram_range: tuple[int, int] = (1, 3),
    max_features: int | None = 200_000,
    C: float = 4.0,
):
    """Character n-gram TF-IDF + logistic regression, fitted: each text becomes the TF-IDF weights
    of its character 1- to 3-grams, and a linear model separates the classes.
    Returns a scikit-learn Pipeline (use `.predict`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=ngram_range, max_features=max_features, sublinear_tf=True),
        LogisticRegression(C=C, max_iter=2000),
    )
    return model.fit(list(train_texts), list(y_train))


def accuracy_and_macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(y_true, y_pred)), float(f1_score(y_true, y_pred, average="macro"))
