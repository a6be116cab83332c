"""Statistics against scipy computed independently on the same numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from study.analyse.stats import (ALPHA, accuracy_verdict, clopper_pearson, collapse_rates, equivalence_margin, holm, mean_ci,
                         minimum_detectable_effect, outcome, paired_difference, power, verdict)

finite = st.floats(0, 1, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=2, max_size=12))
def test_mean_ci_matches_scipy_t_interval(values):
    interval = mean_ci(values)
    data = np.array(values)
    if data.std(ddof=1) == 0:  # no spread: no interval at all, never a zero-width one
        assert math.isnan(interval.low) and math.isnan(interval.high) and not interval.defined
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
    assert accuracy_verdict(tight_zero, 1.0, 0.01) == "equivalent"
    assert accuracy_verdict(tight_zero, 1.0, 0.001) == "inconclusive"  # the same data under a tighter margin
    big = paired_difference({1: .5, 2: .52, 3: .51}, {1: .9, 2: .91, 3: .905})
    assert accuracy_verdict(big, 0.001, 0.01) == "worse"
    assert accuracy_verdict(big, 0.2, 0.01) == "inconclusive"
    assert accuracy_verdict(paired_difference({1: .5}, {1: .9}), math.nan, 0.01) == "too few seeds"
    kwargs = dict(value_learned=3, base_learned=3, all_diverged=False)
    assert verdict(big, 0.001, 0.01, **{**kwargs, "all_diverged": True}) == "diverged"
    assert verdict(big, 0.001, 0.01, **{**kwargs, "value_learned": 0, "base_learned": 0}) == "neither learns"
    assert verdict(big, 0.001, 0.01, **{**kwargs, "base_learned": 0}) == "learns where the baseline does not"


def test_tied_seeds_are_untestable_never_p_0_or_1():
    chance = {1: 0.1, 2: 0.1, 3: 0.1}
    tied = paired_difference(chance, dict(chance))
    assert tied.tied and math.isnan(tied.p) and not tied.diff.defined
    assert accuracy_verdict(tied, math.nan, 0.01) == "untestable"
    shifted = paired_difference({s: v + 0.05 for s, v in chance.items()}, chance)  # constant difference
    assert math.isnan(shifted.p) and accuracy_verdict(shifted, math.nan, 0.01) == "untestable"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=6))
def test_intervals_stay_on_the_scale(pairs):
    a = {seed: x for seed, (x, _) in enumerate(pairs)}
    b = {seed: y for seed, (_, y) in enumerate(pairs)}
    d = paired_difference(a, b).diff
    if d.defined:
        assert -1 <= d.low <= d.mean <= d.high <= 1 and d.high > d.low
    m = mean_ci(list(a.values()), bounds=(0, 1))
    if m.defined:
        assert 0 <= m.low <= m.mean <= m.high <= 1


def test_clopper_pearson_matches_the_beta_quantiles():
    for k, n in [(0, 4), (2, 4), (4, 4), (1, 3), (7, 20)]:
        low, high = clopper_pearson(k, n)
        expected_low = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
        expected_high = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
        assert low == pytest.approx(expected_low, abs=1e-9) and high == pytest.approx(expected_high, abs=1e-9)


def test_collapse_rates_use_boschloo_and_skip_untestable_tables():
    rates = collapse_rates(4, 4, 0, 4)
    assert rates.p == pytest.approx(stats.boschloo_exact([[4, 0], [0, 4]]).pvalue)
    assert rates.p < stats.fisher_exact([[4, 0], [0, 4]])[1]  # Boschloo is the more powerful exact test
    assert math.isnan(collapse_rates(0, 4, 0, 4).p) and math.isnan(collapse_rates(3, 3, 4, 4).p)
    assert collapse_rates(2, 4, 0, 4).p > ALPHA  # half the seeds collapsing is not distinguishable with n = 4


def test_power_matches_scipy_noncentral_t_and_mde_inverts_it():
    for n, delta, sd in [(3, 0.02, 0.01), (4, 0.05, 0.03), (8, 0.01, 0.02)]:
        crit = stats.t.ppf(1 - ALPHA / 2, n - 1)
        nc = delta * math.sqrt(n) / sd
        expected = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
        assert power(delta, sd, n) == pytest.approx(expected, abs=1e-6)
        assert power(minimum_detectable_effect(sd, n), sd, n) == pytest.approx(0.8, abs=1e-6)
    assert minimum_detectable_effect(0.01, 2) > minimum_detectable_effect(0.01, 4)  # fewer seeds, coarser
    assert math.isfinite(minimum_detectable_effect(0.2, 2))  # n = 2 stays computable


def test_outcome_of_a_seed():
    assert outcome("diverged", None, None, 10) == "diverged"
    assert outcome("ok", 0.12, 1.0, 10) == "collapsed"  # within 5 points of chance
    assert outcome("ok", 0.30, 2.29, 10) == "collapsed"  # loss still at ln(10): never moved
    assert outcome("ok", 0.30, 1.9, 10) == "learned"
    assert outcome("failed", None, None, 10) is None
    assert equivalence_margin(0.99) == pytest.approx(0.005) and equivalence_margin(0.45) == pytest.approx(0.055)


def _family(rng, effects, sd, n, level=0.9):
    """One synthetic block: per-trial noise SD ``sd``, a baseline and one value per true effect."""
    base = {s: level + rng.normal(0, sd) for s in range(n)}
    verdicts = []
    pairs = [paired_difference({s: level + e + rng.normal(0, sd) for s in range(n)}, base) for e in effects]
    for pair, p in zip(pairs, holm([x.p for x in pairs])):
        verdicts.append(accuracy_verdict(pair, p, equivalence_margin(level)))
    return verdicts


def test_under_the_null_the_family_wise_false_positive_rate_stays_nominal():
    rng = np.random.default_rng(2026)
    families = 600
    hits = sum(any(v in ("better", "worse") for v in _family(rng, [0, 0, 0, 0], sd=rng.uniform(0.01, 0.03), n=4))
               for _ in range(families))
    rate = hits / families
    assert rate <= ALPHA + 2.5 * math.sqrt(ALPHA * (1 - ALPHA) / families), rate


def test_detection_rate_under_a_real_effect_matches_the_stated_power():
    rng = np.random.default_rng(7)
    sd, n, effect, sims = 0.03, 4, 0.05, 800
    detected = sum(_family(rng, [-effect], sd=sd, n=n)[0] == "worse" for _ in range(sims)) / sims
    expected = power(effect, sd * math.sqrt(2), n)  # the paired difference of two noisy trials
    assert abs(detected - expected) <= 3.5 * math.sqrt(expected * (1 - expected) / sims), (detected, expected)
