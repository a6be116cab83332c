"""The decision rule of a block (``study.analyse.decide``) against hand computations: one Bonferroni interval
decides every accuracy verdict, the failure-rate family is Bonferroni too, and paired differences are moderated
by their own prior."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from study.analyse.decide import (
    PAIRED_MODERATED,
    PAIRED_UNMODERATED,
    Arm,
    compare_paired,
    decide_block,
    decide_dataset,
)
from study.analyse.noise import NO_PRIOR, Prior, fit_prior
from study.analyse.stats import ALPHA, Verdict, collapse_rates

BASE = {
    s: v for s, v in enumerate([0.960, 0.962, 0.958, 0.961, 0.959, 0.963, 0.957, 0.960, 0.962])
}


def _welch_interval(a, b, confidence):
    """scipy's Welch t on two samples: p and the interval at ``confidence``."""
    result = stats.ttest_ind(a, b, equal_var=False)
    low, high = result.confidence_interval(confidence)
    return result.pvalue, low, high


def test_a_difference_whose_95_interval_excludes_zero_is_inconclusive_when_its_bonferroni_interval_does_not():
    """The referee's he_normal: raw p below 0.05, three tests in the block. The verdict and the printed interval
    are both at 1 - 0.05/3, so an "inconclusive" never shows an interval that excludes zero."""
    base = list(BASE.values())
    value = [0.9635, 0.9660, 0.9650, 0.9612]  # about +0.4 pp
    null = [[0.960, 0.961, 0.959, 0.962], [0.9605, 0.9595, 0.9612, 0.9588]]
    arms = [Arm(dict(enumerate(v)), 0, 4) for v in [value, *null]]
    decision = decide_block(arms, Arm(BASE, 0, 9), NO_PRIOR, 0.005)[0]
    p, low95, _ = _welch_interval(value, base, 0.95)
    _, low3, high3 = _welch_interval(value, base, 1 - ALPHA / 3)
    # the case: 95% excludes zero, Bonferroni's does not, and it reaches past the margin
    assert p < ALPHA < 3 * p and low95 > 0 and low3 < 0 and high3 > 0.005
    c = decision.comparison
    assert decision.tests == 3 and decision.level == pytest.approx(1 - ALPHA / 3)
    assert c.confidence == pytest.approx(1 - ALPHA / 3)
    assert (c.low, c.high) == (pytest.approx(low3, abs=1e-12), pytest.approx(high3, abs=1e-12))
    assert decision.p_adjusted == pytest.approx(3 * p, rel=1e-9)
    assert decision.verdict == Verdict.INCONCLUSIVE and not c.excludes_zero


def test_equivalence_is_judged_on_the_bonferroni_interval():
    """Inside +-margin at 95% but not at 1 - 0.05/4: no longer equivalent (one interval for every verdict)."""
    base = list(BASE.values())
    value = [0.9600, 0.9620, 0.9590, 0.9630]
    others = [[0.9600, 0.9610, 0.9590, 0.9620]] * 3
    _, low95, high95 = _welch_interval(value, base, 0.95)
    _, low4, high4 = _welch_interval(value, base, 1 - ALPHA / 4)
    margin = max(abs(low95), abs(high95)) + 1e-4
    assert max(abs(low4), abs(high4)) > margin  # the case
    arms = [Arm(dict(enumerate(v)), 0, 4) for v in [value, *others]]
    decision = decide_block(arms, Arm(BASE, 0, 9), NO_PRIOR, margin)[0]
    assert decision.verdict == Verdict.INCONCLUSIVE
    wide = decide_block(arms, Arm(BASE, 0, 9), NO_PRIOR, max(abs(low4), abs(high4)) + 1e-4)[0]
    assert wide.verdict == Verdict.EQUIVALENT


def test_better_with_the_interval_inside_the_margin_is_small_but_real():
    base = {s: 0.96 + 0.0005 * ((-1) ** s) for s in range(9)}
    value = {s: 0.965 + 0.0005 * ((-1) ** s) for s in range(4)}
    decision = decide_block([Arm(value, 0, 4)], Arm(base, 0, 9), NO_PRIOR, 0.01)[0]
    assert decision.verdict == Verdict.BETTER and decision.small_but_real and decision.decisive
    loose = decide_block([Arm(value, 0, 4)], Arm(base, 0, 9), NO_PRIOR, 0.002)[0]
    assert loose.verdict == Verdict.BETTER and not loose.small_but_real


finite = st.floats(0.90, 0.99, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(finite, min_size=3, max_size=4), min_size=1, max_size=4),
    st.lists(finite, min_size=3, max_size=9),
    st.booleans(),
    st.sampled_from([None, Prior(6.0, 2e-5, 20), Prior(math.inf, 3e-5, 20)]),
)
def test_the_interval_excludes_zero_exactly_when_m_times_p_is_below_alpha(
    values, base, paired, prior
):
    """Welch (with and without a prior), unmoderated and moderated paired: verdict, interval and adjusted p agree."""
    arms = [Arm(dict(enumerate(v)), 0, len(v)) for v in values]
    decisions = decide_block(
        arms,
        Arm(dict(enumerate(base)), 0, len(base)),
        prior or NO_PRIOR,
        0.01,
        paired,
        ALPHA,
        prior or NO_PRIOR,
    )
    tests = len(values)  # m is the block's values, by design: also a tied (untestable) one
    for d in decisions:
        c = d.comparison
        if not math.isfinite(c.p):
            assert d.verdict == Verdict.UNTESTABLE and math.isnan(d.p_adjusted)
            continue
        assert d.tests == tests and c.confidence == pytest.approx(1 - ALPHA / tests)
        assert d.p_adjusted == pytest.approx(min(1.0, tests * c.p))
        if abs(tests * c.p - ALPHA) > 1e-9:  # off the boundary, where rounding could split them
            assert c.excludes_zero == (d.p_adjusted < ALPHA)
            assert (d.verdict in (Verdict.BETTER, Verdict.WORSE)) == (tests * c.p < ALPHA)


def test_the_failure_rate_family_is_bonferroni_over_the_blocks_rate_comparisons():
    base = Arm(BASE, 0, 9)
    arms = [
        Arm({1: 0.96, 2: 0.961, 3: 0.959, 4: 0.962}, 2, 6),  # 2 of 6 against 0 of 9
        Arm(
            {1: 0.96, 2: 0.961, 3: 0.959}, 0, 3
        ),  # no failure on either side: untested, still counted
        Arm({}, 3, 3),  # 3 of 3
    ]
    decisions = decide_block(arms, base, NO_PRIOR, 0.01)
    boschloo = [
        stats.boschloo_exact([[2, 0], [4, 9]]).pvalue,
        math.nan,
        stats.boschloo_exact([[3, 0], [0, 9]]).pvalue,
    ]
    assert decisions[0].p_rate_adjusted == pytest.approx(min(1, 3 * boschloo[0]), rel=1e-6)
    assert math.isnan(decisions[1].p_rate_adjusted)
    assert decisions[2].p_rate_adjusted == pytest.approx(min(1, 3 * boschloo[2]), rel=1e-6)
    assert decisions[2].rate_differs == (3 * boschloo[2] < ALPHA)


def _paired_block(rng, own_sds, seeds=4, shared=0.004):
    """A baseline of 9 seeds and one value per own SD (fractions); seed s of every arm shares one offset."""
    offsets = rng.normal(0, shared, 9)
    base = Arm({s: 0.96 + offsets[s] + rng.normal(0, 0.001) for s in range(9)}, 0, 9)
    values = [
        Arm({s: 0.96 + offsets[s] + rng.normal(0, own) for s in range(seeds)}, 0, seeds)
        for own in own_sds
    ]
    return values, base


def test_paired_differences_are_moderated_by_their_own_prior_as_by_hand():
    rng = np.random.default_rng(16)
    values, base = _paired_block(rng, [0.0005, 0.001, 0.002, 0.004, 0.006, 0.001])
    welch_values, _ = _paired_block(rng, [0.002] * 3)
    blocks = [(values, base, True), (welch_values, base, False)]
    _, decided = decide_dataset(blocks, 0.01)
    # by hand: each paired comparison's difference variance (3 df), the prior fitted on them (limma's moments)
    diffs = [np.array([v.learned[s] - base.learned[s] for s in range(4)]) for v in values]
    prior = fit_prior([(float(d.var(ddof=1)), 3) for d in diffs])
    assert prior.usable and math.isfinite(prior.dof)  # the variances differ: a finite d0
    for d, decision in zip(diffs, decided[0]):
        own = float(d.var(ddof=1))
        posterior = (prior.dof * prior.variance + 3 * own) / (prior.dof + 3)
        variance, dof = (posterior, prior.dof + 3) if own <= posterior else (own, 3.0)
        se = math.sqrt(variance / 4)
        t = d.mean() / se
        c = decision.comparison
        assert c.se == pytest.approx(se, rel=1e-12) and c.dof == pytest.approx(dof, rel=1e-12)
        assert c.p == pytest.approx(2 * stats.t.sf(abs(t), dof), rel=1e-9)
        half = stats.t.ppf(1 - ALPHA / (2 * 6), dof) * se
        assert (c.low, c.high) == (
            pytest.approx(d.mean() - half, abs=1e-12),
            pytest.approx(d.mean() + half, abs=1e-12),
        )
        assert c.test.startswith("paired t") and c.variance_dof == (pytest.approx(dof),)
    assert any(d.comparison.test == PAIRED_MODERATED for d in decided[0])
    # the Welch block is untouched by the paired prior
    assert all(d.comparison.test.startswith("Welch") for d in decided[1])


def test_with_fewer_than_three_paired_comparisons_the_paired_t_is_scipys_and_says_so():
    rng = np.random.default_rng(3)
    values, base = _paired_block(rng, [0.002, 0.002])
    _, decided = decide_dataset([(values, base, True)], 0.01)
    for value, decision in zip(values, decided[0]):
        c = decision.comparison
        seeds = sorted(value.learned)
        reference = stats.ttest_rel(
            [value.learned[s] for s in seeds], [base.learned[s] for s in seeds]
        )
        assert c.test == PAIRED_UNMODERATED and c.dof == 3
        assert c.p == pytest.approx(reference.pvalue, rel=1e-9)
        low, high = reference.confidence_interval(1 - ALPHA / 2)
        assert (c.low, c.high) == (pytest.approx(low), pytest.approx(high))


def test_tied_paired_differences_are_tested_on_their_moderated_variance():
    """Three seeds each 1 pp apart (no spread of their own): under a prior the difference variance is the
    prior's share d0 s0^2 / (d0 + d), as limma treats a zero variance, so the row is tested (it once read
    'untestable' for batch 64 on MNIST, -1.9 pp in every seed); without a prior it stays untestable."""
    level = {1: 0.9, 2: 0.91, 3: 0.92}
    shifted = {s: v + 0.01 for s, v in level.items()}
    prior = Prior(5.0, 1e-5, 10)
    found = compare_paired(shifted, level, prior)
    variance = 5.0 * 1e-5 / (5.0 + 2)
    se = math.sqrt(variance / 3)
    assert found.dof == 7.0 and found.se == pytest.approx(se)
    assert found.p == pytest.approx(2 * stats.t.sf(0.01 / se, 7))
    assert found.defined and found.low == pytest.approx(0.01 - stats.t.ppf(0.975, 7) * se)
    assert math.isnan(compare_paired(shifted, level, NO_PRIOR).p)


def test_collapse_rates_in_a_block_are_scipys_for_the_reported_table():
    """2 failed of 6 against 0 of 9: Boschloo's p is 0.172 (scipy, samples as columns), not 0.127."""
    assert collapse_rates(2, 6, 0, 9).p == pytest.approx(0.17166, abs=1e-4)


def test_the_family_is_every_value_of_the_block_fixed_by_the_design():
    """A value that did not learn still counts in m: the level may not rise because the data left fewer
    comparisons to test (the referee found batch size tested at 99% with four values, m = 3)."""
    base = Arm(BASE, 0, 9)
    learned = {1: 0.96, 2: 0.961, 3: 0.959}
    arms = [Arm(learned, 0, 3), Arm({}, 3, 3), Arm(dict(learned), 0, 3)]
    decisions = decide_block(arms, base, NO_PRIOR, 0.01)
    assert [d.tests for d in decisions] == [3, 3, 3]
    assert decisions[0].comparison.confidence == pytest.approx(1 - ALPHA / 3)
    assert decisions[0].p_adjusted == pytest.approx(min(1.0, 3 * decisions[0].comparison.p))
