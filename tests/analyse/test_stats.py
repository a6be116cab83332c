"""Statistics against scipy computed independently on the same numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from study.analyse.decide import Arm, accuracy_verdict, compare_paired, decide_block
from study.analyse.noise import NO_PRIOR, compare_means
from study.analyse.stats import (
    ALPHA,
    bonferroni,
    clopper_pearson,
    collapse_rates,
    holm,
    mean_ci,
    minimum_detectable_effect,
    paired_difference,
    power,
)
from study.results.outcomes import ConstantAnswer, outcome

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
    assert interval.low == pytest.approx(low, abs=1e-9) and interval.high == pytest.approx(
        high, abs=1e-9
    )


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
    assert (
        adjusted[1] == pytest.approx(0.09)
        and adjusted[4] == pytest.approx(0.5)
        and math.isnan(adjusted[3])
    )


def test_holm_agrees_with_scipy_false_discovery_control_where_available():
    p = np.array([0.001, 0.02, 0.03, 0.2])
    expected = np.minimum(1, np.maximum.accumulate((len(p) - np.arange(len(p))) * np.sort(p)))
    assert holm(list(p)) == pytest.approx(list(expected))


def test_verdict_rules():
    tight_zero = compare_paired({1: 0.9, 2: 0.91, 3: 0.905}, {1: 0.9, 2: 0.909, 3: 0.906})
    assert accuracy_verdict(tight_zero, 0.01) == "equivalent"
    assert (
        accuracy_verdict(tight_zero, 0.001) == "inconclusive"
    )  # the same data under a tighter margin
    big = compare_paired({1: 0.88, 2: 0.90, 3: 0.89}, {1: 0.9, 2: 0.91, 3: 0.905})
    assert accuracy_verdict(big, 0.01) == "worse"  # p = 0.035: its 95% interval excludes zero
    # at the Bonferroni level of 30 tests (interval at 1 - 0.05/30) it no longer does
    assert big.p * 30 > ALPHA and accuracy_verdict(big.at_confidence(1 - ALPHA / 30), 0.01) == (
        "inconclusive"
    )
    learned = {1: 0.9, 2: 0.91, 3: 0.905}
    base = Arm(learned, 0, 3)
    decided = decide_block(
        [Arm({}, 3, 3, all_diverged=True), Arm({1: 0.5}, 2, 3), Arm({}, 3, 3)],
        base,
        NO_PRIOR,
        0.01,
    )
    assert [d.verdict for d in decided] == ["diverged", "too few seeds", "does not learn"]
    nobody = Arm({}, 3, 3)
    assert [d.verdict for d in decide_block([Arm({}, 3, 3), base], nobody, NO_PRIOR, 0.01)] == [
        "neither learns",
        "learns where the baseline does not",
    ]


def test_tied_seeds_are_untestable_never_p_0_or_1():
    level = {1: 0.9, 2: 0.9, 3: 0.9}
    tied = compare_paired(level, dict(level))
    assert math.isnan(tied.p) and not tied.defined
    assert accuracy_verdict(tied, 0.01) == "untestable"
    shifted = compare_paired({s: v + 0.05 for s, v in level.items()}, level)  # constant difference
    assert math.isnan(shifted.p) and accuracy_verdict(shifted, 0.01) == "untestable"
    both_constant = compare_means([0.9, 0.9], [0.8, 0.8, 0.8], NO_PRIOR)
    assert math.isnan(both_constant.p) and accuracy_verdict(both_constant, 0.01) == "untestable"


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
        assert low == pytest.approx(expected_low, abs=1e-9) and high == pytest.approx(
            expected_high, abs=1e-9
        )


@pytest.mark.parametrize(
    "k, n, base_k, base_n",
    [
        (2, 6, 0, 9),
        (0, 9, 2, 6),
        (1, 3, 0, 12),
        (3, 4, 1, 12),
        (2, 4, 0, 4),
        (5, 6, 2, 9),
        (1, 2, 0, 9),
    ],
)
def test_collapse_rates_are_scipys_boschloo_with_each_sample_a_column(k, n, base_k, base_n):
    """scipy's boschloo_exact reads each binomial sample from a column. The report printed 0.127 for 2 failed
    of 6 against 0 of 9, the p of the transposed table; the right p is 0.172."""
    expected = stats.boschloo_exact([[k, base_k], [n - k, base_n - base_k]]).pvalue
    assert collapse_rates(k, n, base_k, base_n).p == pytest.approx(expected, rel=1e-9)
    if (k, n, base_k, base_n) == (2, 6, 0, 9):
        assert expected == pytest.approx(0.1717, abs=1e-4)
        assert stats.boschloo_exact([[k, n - k], [base_k, base_n - base_k]]).pvalue == (
            pytest.approx(0.1274, abs=1e-4)
        )


def test_bonferroni_multiplies_by_the_family():
    assert bonferroni([0.01, math.nan, 0.03, 0.4]) == [
        pytest.approx(0.03),
        pytest.approx(math.nan, nan_ok=True),
        pytest.approx(0.09),
        1.0,
    ]
    assert bonferroni([0.01, math.nan], family=4)[0] == pytest.approx(0.04)


def test_collapse_rates_use_boschloo_and_skip_untestable_tables():
    rates = collapse_rates(4, 4, 0, 4)
    assert rates.p == pytest.approx(stats.boschloo_exact([[4, 0], [0, 4]]).pvalue)
    assert (
        rates.p < stats.fisher_exact([[4, 0], [0, 4]])[1]
    )  # Boschloo is the more powerful exact test
    assert math.isnan(collapse_rates(0, 4, 0, 4).p) and math.isnan(collapse_rates(3, 3, 4, 4).p)
    assert (
        collapse_rates(2, 4, 0, 4).p > ALPHA
    )  # half the seeds collapsing is not distinguishable with n = 4


def test_power_matches_scipy_noncentral_t_and_mde_inverts_it():
    for n, delta, sd in [(3, 0.02, 0.01), (4, 0.05, 0.03), (8, 0.01, 0.02)]:
        crit = stats.t.ppf(1 - ALPHA / 2, n - 1)
        nc = delta * math.sqrt(n) / sd
        expected = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
        assert power(delta, sd, n) == pytest.approx(expected, abs=1e-6)
        assert power(minimum_detectable_effect(sd, n), sd, n) == pytest.approx(0.8, abs=1e-6)
    assert minimum_detectable_effect(0.01, 2) > minimum_detectable_effect(
        0.01, 4
    )  # fewer seeds, coarser
    assert math.isfinite(minimum_detectable_effect(0.2, 2))  # n = 2 stays computable


def test_outcome_of_a_seed():
    uniform = ConstantAnswer.uniform(10)
    assert outcome("diverged", None, uniform) == "diverged"
    assert outcome("ok", 0.12, uniform) == "collapsed"  # within 5 points of chance
    assert outcome("ok", 0.30, uniform) == "learned"
    assert (
        outcome("ok", 0.336, uniform) == "learned"
    )  # near ln(10) after a short epoch, yet well above chance
    assert outcome("failed", None, uniform) is None


def test_unstable_runs_are_not_called_stuck():
    """41% and 48% with a loss far above ln(10) (overconfident, unstable) learned something: not collapsed."""
    uniform = ConstantAnswer.uniform(10)
    assert outcome("ok", 0.414, uniform) == "learned"
    assert outcome("ok", 0.476, uniform) == "learned"


def test_the_chance_boundary_has_no_float_effects():
    uniform = ConstantAnswer.uniform(10)
    assert outcome("ok", float(np.float32(0.15)), uniform) == "collapsed"  # 0.150000006 as stored
    assert outcome("ok", 0.15 + 1e-3, uniform) == "learned"


def test_chance_is_the_best_constant_answer_on_an_unbalanced_test_set():
    counts = [82, 16, 60, 40, 45, 50, 55, 48, 52, 52]  # 500 images, the majority class 82 of them
    answer = ConstantAnswer.from_counts(counts)
    assert answer.accuracy == pytest.approx(82 / 500)
    shares = np.array(counts) / 500
    assert answer.loss == pytest.approx(float(-(shares * np.log(shares)).sum()))
    assert (
        outcome("ok", 0.20, answer) == "collapsed"
    )  # 20% is within 5 points of always answering "0"
    assert outcome("ok", 0.20, ConstantAnswer.uniform(10)) == "learned"


def _family(rng, effects, sd, n, level=0.9, margin=0.01):
    """One synthetic block: per-trial noise SD ``sd``, a baseline and one value per true effect (no prior)."""
    base = Arm({s: level + rng.normal(0, sd) for s in range(3 * n)}, 0, 3 * n)
    values = [Arm({s: level + e + rng.normal(0, sd) for s in range(n)}, 0, n) for e in effects]
    return [d.verdict for d in decide_block(values, base, NO_PRIOR, margin)]


def test_under_the_null_the_family_wise_false_positive_rate_stays_nominal():
    rng = np.random.default_rng(2026)
    families = 600
    hits = sum(
        any(
            v in ("better", "worse")
            for v in _family(rng, [0, 0, 0, 0], sd=rng.uniform(0.01, 0.03), n=4)
        )
        for _ in range(families)
    )
    rate = hits / families
    assert rate <= ALPHA + 2.5 * math.sqrt(ALPHA * (1 - ALPHA) / families), rate


def test_detection_rate_under_a_real_effect_matches_the_stated_power():
    """The engine's own stated detectable difference: a true effect of that size is found about 80% of the time."""
    rng = np.random.default_rng(7)
    sd, n, sims = 0.01, 4, 600
    base = Arm({s: 0.9 + rng.normal(0, sd) for s in range(3 * n)}, 0, 3 * n)
    probe = decide_block(
        [Arm({s: 0.9 + rng.normal(0, sd) for s in range(n)}, 0, n)], base, NO_PRIOR, 0.01
    )[0]
    assert 0 < probe.detectable < 0.1
    effect = 3 * sd
    found = 0
    for _ in range(sims):
        verdicts = _family(rng, [-effect], sd=sd, n=n)
        found += verdicts[0] == "worse"
    rate = found / sims
    # Welch t with 3 and 11 df: the power of this design at 3 SD, from the noncentral t with Satterthwaite's df
    se = sd * math.sqrt(1 / n + 1 / (3 * n))
    dof = (sd**2 / n + sd**2 / (3 * n)) ** 2 / (
        (sd**2 / n) ** 2 / (n - 1) + (sd**2 / (3 * n)) ** 2 / (3 * n - 1)
    )
    crit = stats.t.ppf(0.975, dof)
    expected = float(stats.nct.sf(crit, dof, effect / se) + stats.nct.cdf(-crit, dof, effect / se))
    assert abs(rate - expected) <= 0.08, (
        rate,
        expected,
    )  # the estimated variance varies around the true one


def test_a_paired_interval_is_labelled_at_its_own_level():
    """A claim's paired interval at the analysis' level (97.1% under two looks) says so, not the default 95%."""
    from study.analyse.stats import paired_difference
    from study.report.formats import diff_with_ci

    a, b = {1: 0.90, 2: 0.92, 3: 0.95}, {1: 0.88, 2: 0.91, 3: 0.92}
    assert "95% CI" in diff_with_ci(paired_difference(a, b))
    wide = paired_difference(a, b, 1 - 0.0294)
    assert (
        "97.1% CI" in diff_with_ci(wide)
        and wide.diff.high - wide.diff.low
        > paired_difference(a, b).diff.high - paired_difference(a, b).diff.low
    )
