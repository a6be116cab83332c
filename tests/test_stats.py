"""Statistics against scipy computed independently on the same numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from study.stats import holm, mean_ci, paired_difference, verdict

finite = st.floats(0, 1, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=2, max_size=12))
def test_mean_ci_matches_scipy_t_interval(values):
    interval = mean_ci(values)
    data = np.array(values)
    if data.std(ddof=1) == 0:
        assert interval.low == pytest.approx(interval.mean) and interval.high == pytest.approx(interval.mean)
        return
    low, high = stats.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=stats.sem(data))
    assert interval.mean == pytest.approx(data.mean())
    assert interval.low == pytest.approx(low, abs=1e-9) and interval.high == pytest.approx(high, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=3, max_size=10))
def test_paired_difference_matches_scipy_ttest_rel(pairs):
    a = {seed: x for seed, (x, _) in enumerate(pairs)}
    b = {seed: y for seed, (_, y) in enumerate(pairs)}
    result = paired_difference(a, b)
    diffs = np.array([x - y for x, y in pairs])
    assert result.n == len(pairs) and result.diff.mean == pytest.approx(diffs.mean())
    if not np.allclose(diffs, diffs[0]):
        expected = stats.ttest_rel([x for x, _ in pairs], [y for _, y in pairs]).pvalue
        assert result.p == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_paired_difference_uses_only_shared_finite_seeds():
    result = paired_difference({1: 0.9, 2: 0.8, 3: math.nan, 4: 0.7}, {1: 0.5, 2: 0.6, 3: 0.5})
    assert result.n == 2 and result.diff.mean == pytest.approx(0.3)


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, math.nan, 0.5]
    adjusted = holm(p)
    # sorted: 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> monotone 0.09, 0.5*1 -> 0.5
    assert adjusted[0] == pytest.approx(0.04) and adjusted[2] == pytest.approx(0.09)
    assert adjusted[1] == pytest.approx(0.09) and adjusted[4] == pytest.approx(0.5) and math.isnan(adjusted[3])


def test_holm_agrees_with_scipy_false_discovery_control_where_available():
    p = np.array([0.001, 0.02, 0.03, 0.2])
    expected = np.minimum(1, np.maximum.accumulate((len(p) - np.arange(len(p))) * np.sort(p)))
    assert holm(list(p)) == pytest.approx(list(expected))


def test_verdict_rules():
    tight_zero = paired_difference({1: .9, 2: .91, 3: .905}, {1: .9, 2: .909, 3: .906})
    assert verdict(tight_zero, 1.0, False) == "equivalent"
    big = paired_difference({1: .5, 2: .52, 3: .51}, {1: .9, 2: .91, 3: .905})
    assert verdict(big, 0.001, False) == "worse"
    assert verdict(big, 0.2, False) == "inconclusive"
    assert verdict(paired_difference({1: .5}, {1: .9}), math.nan, False) == "too few seeds"
    assert verdict(big, 0.001, True) == "diverged"
