"""helpers.compare.cmp reports and asserts."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.compare import cmp, max_abs_diff


def test_cmp_passes_and_reports(capsys):
    cmp("same", [1.0, 2.0], np.array([1.0, 2.0]))
    out = capsys.readouterr().out
    assert "exact: True" in out and "allclose(atol=1e-06, rtol=1e-05): True" in out and "max diff: 0.0e+00" in out


def test_cmp_within_tolerance_is_not_exact(capsys):
    cmp("close", [1.0], [1.0 + 1e-9])
    assert "exact: False" in capsys.readouterr().out


def test_cmp_raises_outside_tolerance():
    with pytest.raises(AssertionError, match="far"):
        cmp("far", [1.0, 2.0], [1.0, 2.1])


def test_cmp_raises_on_shape_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        cmp("shapes", np.ones((2, 1)), np.ones(2))


def test_max_abs_diff():
    assert max_abs_diff([1, 2, 3], [1, 2.5, 2]) == 1.0
    assert max_abs_diff([], []) == 0.0


def test_mean_std_formats_repeated_runs():
    from helpers.display import mean_std

    assert mean_std([0.5, 0.7]) == "0.6000 ± 0.1414"
    assert mean_std([1, 2, 3], ".1f") == "2.0 ± 1.0"


def test_std_is_the_sample_standard_deviation():
    """The course's one std divides by n − 1, as Python's statistics.stdev does; one run: 0."""
    import statistics

    from helpers.display import std

    for values in ([0.5, 0.7], [1, 2, 3, 10], [0.8123, 0.8011, 0.7990]):
        assert abs(std(values) - statistics.stdev(values)) < 1e-15
    assert std([0.7]) == 0.0


def test_t_interval_matches_scipys_one_sample_t_test():
    """The course's interval over seeds against SciPy's own (an independent implementation)."""
    from scipy import stats

    from helpers.display import t_interval

    for values in ([0.61, 0.65, 0.60], [1.0, 2.0], [0.3, 0.1, 0.4, 0.2, 0.25]):
        mean, low, high = t_interval(values)
        reference = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
        np.testing.assert_allclose([low, high], [reference.low, reference.high], rtol=1e-12)
        assert np.isclose(mean, np.mean(values))
    with pytest.raises(ValueError, match="at least two values"):
        t_interval([0.5])


def test_interval_side_names_where_the_interval_lies():
    """A positive mean whose interval reaches below 0 must say "contains 0", not "above 0"."""
    from helpers.display import interval_side, t_interval

    straddling = [0.05, -0.01, 0.02]
    mean, low, high = t_interval(straddling)
    assert mean > 0 and low < 0 < high
    assert interval_side(straddling) == "contains 0"
    assert interval_side([0.10, 0.11, 0.12]) == "above 0"
    assert interval_side([-0.10, -0.11, -0.12]) == "below 0"
    assert interval_side(straddling, level=0.5) == "above 0"  # a narrower interval clears 0
