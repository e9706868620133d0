"""Shared fixtures. TensorFlow is the oracle for the hand-written maths."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tf():
    from helpers.tf_quiet import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras
