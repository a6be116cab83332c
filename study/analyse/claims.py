"""Judge a study's declared claims on its stored results: supported, contradicted, inconclusive or not testable.

The report knows no claim by name: a study carries its claims (``study.declare.claims``, one class per kind of
test), and each kind's check is registered here against its class (``@check(NoEffect)``). A check returns typed
records only, never a sentence: a verdict, why (a ``Reason`` with what it names), and the evidence, one
``Evidence`` record per test it used (``study.report.claim_words`` words them).

A claim about values against their baseline quotes each comparison as its experiment decided it (one
Bonferroni family per experiment and dataset: ``study.analyse.decide``); a claim with tests of its own (trend,
catch-up, ...) Holm-corrects them across its datasets. A claim whose data cannot test it (a baseline that did
not learn, too few learned seeds, a value not in the run) is "not testable at this budget", with the reason.
Where the networks a claim compares differ in more than its knob (an adaptation's padding, a network of
another size), the finding records the confound.

    findings = check_claims(analysis)   # one Finding per claim of analysis.stored.study.claims
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy import stats as scipy_stats

from study.analyse.budget_check import BudgetCheck, budget_checks
from study.analyse.comparisons import Analysis, Block, ValueSummary
from study.analyse.stats import DIRECTIONAL, Paired, Verdict, bonferroni, holm, paired_difference
from study.declare.claims import (
    AnyDiffers,
    CatchUp,
    Claim,
    Differs,
    DoesNotLearn,
    FasterEarly,
    Interaction,
    JudgedAt,
    LargestStable,
    NoEffect,
    Trend,
)
from study.results.outcomes import LEARNED


class ClaimVerdict(enum.StrEnum):
    """What the data say of a claim, in its scope and at this budget."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable at this budget"


SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = ClaimVerdict
MIN_LEARNED = (
    2  # a reference needs at least this many learned seeds before anything is compared with it
)
SIZE_KNOBS = (
    "conv_filters",
    "dense_units",
)  # knobs whose point is the network's size: no size confound
# Settings a knob sets by itself: the number of conv layers sets the filters and poolings per layer, so a
# difference in those is the knob, not a confound.
IMPLIED = {"conv_layers": ("conv_filters", "pooling")}
SIZE_RATIO = 2.0  # networks whose parameter counts differ by this factor or more differ in size


class Reason(enum.StrEnum):
    """Why a check gave its verdict (``study.report.claim_words`` says each in words)."""

    # each comparison as its block decided it (no_effect, differs, any_differs)
    VALUE_DIFFERS = "a value differs from the baseline"
    ALL_EQUIVALENT = "every value equivalent"
    NONE_DIFFERS = "no value differs, not every one equivalent"
    TARGET_NOT_IN_DIRECTION = "the value is not in the claimed direction"
    EQUAL_VALUE_DIFFERS = "a value said to be equal differs"
    TARGET_DIFFERS_EQUALS_HOLD = "the value differs, the equal ones are equivalent"
    TARGET_DIFFERS_EQUALS_UNSHOWN = "the value differs, an equal one is not shown equivalent"
    TARGET_NOT_SIGNIFICANT = "the value is not significantly different"
    # an order of values (trend, faster_early over three or more values)
    ORDER_REVERSED = "the reverse order is significant"
    STEP_REVERSED = "an adjacent step goes significantly the wrong way"
    ORDER_HOLDS = "the claimed order is significant"
    ORDER_NOT_SIGNIFICANT = "the order is not significant"
    # failing to learn
    MOSTLY_LEARNED = "a listed value learned in most seeds"
    NEVER_LEARNED = "no seed learned, more failures than the baseline"
    FAILURES_NOT_SIGNIFICANT = "failures not significantly more frequent"
    # a paired difference (faster_early over two values, catch_up)
    AHEAD = "significantly ahead"
    OPPOSITE = "significantly the opposite"
    NOT_SIGNIFICANT = "not significant"
    GAP_CLOSES = "the gap shrinks and ends inside the margin"
    GAP_STILL_OUTSIDE = "the gap shrinks but is still outside the margin"
    GAP_NOT_INSIDE = "the gap shrinks but is not shown inside the margin"
    # interaction
    SPREAD_LARGER_SECOND = "the spread is larger on the second dataset"
    SPREAD_LARGER_FIRST = "the spread is larger on the first dataset"
    SPREADS_ALIKE = "the spreads do not differ significantly"
    # largest_stable
    RULE_AGREES = "the rule picks the declared value"
    RULE_PICKS_OTHER = "the rule picks another value"
    # not testable
    NOT_RUN = "the experiment was not run on the dataset"
    NO_FINISHED_SEED = "a value has no finished seed"
    BASELINE_DID_NOT_LEARN = "the baseline did not learn"
    NO_COMPARISON = "no comparison could be made"
    FEW_SHARED_SEEDS = "fewer than 2 shared seeds"
    SEEDS_TIE = "every seed ties"
    NEITHER_LEARNED = "neither value learned in enough seeds"
    FEW_LEARNED_IN_BOTH_RUNS = "the first value learned in both runs in too few seeds"
    SPREADS_IDENTICAL = "the per-seed ranges are identical"
    NOT_NUMBERS = "the values are not numbers"
    NOT_FINISHED = "a value is not finished in every seed"
    NONE_STABLE = "no value learned in every seed"


@dataclass(frozen=True)
class Why:
    """One reason, with what it names: the dataset, the values, counts (e.g. learned, finished) and an amount
    (a fraction: the margin, or the largest effect the intervals leave open)."""

    reason: Reason
    dataset: str = ""
    values: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    amount: float = math.nan


class Procedure(enum.StrEnum):
    """A test a check used (``Evidence.test``)."""

    VERSUS_BASELINE = (
        "versus the baseline"  # the block's own comparison and Holm family (``method``)
    )
    FAILURE_RATE = "failure rate"  # Boschloo's exact test, two-sided, the block's Holm family
    PAGE = "Page's L"  # claimed order; ``p_adjusted``: Holm across the claim's datasets
    PAGE_REVERSE = "Page's L, reverse order"
    STEP = "adjacent step"  # one-sided paired t against the claimed sign; Bonferroni over the claim's steps
    PAIRED = "paired t"  # faster_early over two values; Holm across the datasets
    SHRINKAGE = (
        "gap shrinkage"  # catch_up: paired difference of the gaps; Holm across the datasets
    )
    LONG_GAP = (
        "gap after the longer run"  # catch_up: its interval against the margin (no p of its own)
    )
    SPREAD = "spread, Welch t"  # interaction: per-seed range over the values, second minus first dataset
    STABILITY = "learned in every seed"  # largest_stable: counts, no test


@dataclass(frozen=True)
class Evidence:
    """One test a check used and its numbers (fractions for accuracies and differences; NaN where a number does
    not exist). ``values`` in the claim's order; ``difference`` is the last minus the first of them unless the
    test says otherwise (versus the baseline: value minus baseline; failure rate: the value's rate minus the
    baseline's, with ``low``..``high`` the value's own rate's Clopper-Pearson interval); ``expected_sign`` the
    sign the claim expects of it (0: none)."""

    test: Procedure
    datasets: tuple[str, ...]
    values: tuple[str, ...]
    difference: float = math.nan
    low: float = math.nan
    high: float = math.nan
    level: float = math.nan  # confidence of low..high
    statistic: float = math.nan
    df: float = math.nan
    p: float = math.nan
    p_adjusted: float = math.nan
    seeds: int = 0
    method: str = ""  # the block comparison's own test ("Welch t, moderated variances")
    verdict: Verdict | None = None  # versus the baseline: the block's verdict
    margin: float = math.nan
    detectable: float = math.nan  # smallest difference detected with 80% power
    means: tuple[float, ...] = ()  # per value (Page), per run (catch_up), per dataset (spread)
    counts: tuple[
        tuple[int, ...], ...
    ] = ()  # failure rate: (k, n), (base k, base n); stability: per dataset
    expected_sign: int = 0


@dataclass(frozen=True)
class Confound:
    """The networks a claim compares differ in more than its knob on ``dataset``: ``value`` against
    ``reference`` also changes ``settings`` (name, value's, reference's), or has ``params`` against the
    reference's ``reference_params`` (a size ``SIZE_RATIO`` times apart or more)."""

    dataset: str
    value: str
    reference: str
    settings: tuple[tuple[str, str, str], ...]
    params: int | None
    reference_params: int | None

    @property
    def size_ratio(self) -> float:
        if not self.params or not self.reference_params:
            return math.nan
        return self.params / self.reference_params


@dataclass(frozen=True)
class Measured:
    """A claim's experiment trained ``trained`` epochs (per dataset) of the ``declared`` ones."""

    experiment: str
    trained: tuple[int, ...]
    declared: int


@dataclass(frozen=True)
class BudgetGap:
    """Why a short budget cannot test a claim about final accuracy: the study has no budget check
    (``checks`` empty and ``no_check``), or these datasets' checks did not pass (None: no check ran there)."""

    no_check: bool
    checks: tuple[tuple[str, BudgetCheck | None], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a check returns: the verdict, why, and the evidence."""

    verdict: ClaimVerdict
    why: tuple[Why, ...]
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One claim judged: its verdict, why, the evidence, the confounds, and where it was judged.

    ``measured``: at a budget shorter than the study's, the epochs the claim's experiments trained (empty at the
    study's epochs and for a claim about learning speed). ``gap``: for a claim about final accuracy that this
    budget cannot test, why; then ``at_budget`` keeps the verdict its test reads at this budget."""

    claim: Claim
    verdict: ClaimVerdict
    why: tuple[Why, ...]
    evidence: tuple[Evidence, ...]
    confounds: tuple[Confound, ...] = ()
    measured: tuple[Measured, ...] = ()
    gap: BudgetGap | None = None
    at_budget: ClaimVerdict | None = None
    at_budget_why: tuple[Why, ...] = ()

    @property
    def judged_at(self) -> JudgedAt:
        return self.claim.judged_at

    @property
    def testable(self) -> bool:
        return self.verdict != NOT_TESTABLE


class NotTestable(Exception):
    """Raised inside a check: the data cannot test the claim (``why`` says why)."""

    def __init__(self, why: Why) -> None:
        super().__init__(why.reason)
        self.why = why


C = TypeVar("C", bound=Claim)
CHECKS: dict[type[Claim], Callable[[Analysis, Any], Outcome]] = {}


def check(
    kind: type[C],
) -> Callable[[Callable[[Analysis, C], Outcome]], Callable[[Analysis, C], Outcome]]:
    """Register the decorated function as the check of the claim class ``kind``."""

    def register(function: Callable[[Analysis, C], Outcome]) -> Callable[[Analysis, C], Outcome]:
        CHECKS[kind] = function
        return function

    return register


# --- reading the blocks -------------------------------------------------------------------------------------


def _block(analysis: Analysis, experiment: str, dataset: str) -> Block:
    block = analysis.blocks.get((experiment, dataset))
    if block is None:
        raise NotTestable(Why(Reason.NOT_RUN, dataset, (experiment,)))
    return block


def _value(block: Block, label: str) -> ValueSummary:
    value = block.value(label)
    if value is None or value.finished == 0:
        raise NotTestable(Why(Reason.NO_FINISHED_SEED, block.dataset, (label,)))
    return value


def _reference_learns(block: Block) -> None:
    base = block.baseline
    if base.learned < MIN_LEARNED:
        raise NotTestable(
            Why(
                Reason.BASELINE_DID_NOT_LEARN,
                block.dataset,
                (base.label,),
                (base.learned, base.finished),
            )
        )


def _comparisons(
    analysis: Analysis, claim: Claim, labels_of: Callable[[Block], Any]
) -> list[tuple[Block, ValueSummary]]:
    pairs: list[tuple[Block, ValueSummary]] = []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        pairs.extend((block, _value(block, label)) for label in labels_of(block))
    return pairs


def _judged(pairs: list[tuple[Block, ValueSummary]]) -> list[tuple[Block, ValueSummary]]:
    """Each comparison as its block decided it: one Holm family per block and question, computed once in
    ``study.analyse.decide`` and shown the same in the tables, the CSV and here. NotTestable when no
    comparison could be made at all (every one lacks learned seeds or spread)."""
    untestable = (Verdict.TOO_FEW_SEEDS, Verdict.UNTESTABLE)
    if pairs and all(v.verdict in untestable for _, v in pairs):
        raise NotTestable(Why(Reason.NO_COMPARISON, values=tuple(v.label for _, v in pairs)))
    return pairs


def _differs_from_baseline(value: ValueSummary) -> bool:
    return value.verdict in DIRECTIONAL or (
        value.verdict in (Verdict.DIVERGED, Verdict.DOES_NOT_LEARN) and value.rate_differs
    )


def _versus_baseline(block: Block, value: ValueSummary) -> list[Evidence]:
    """The block's comparison of ``value`` with its baseline, and its failure-rate test where that one is
    significant (its sign says which side fails more often)."""
    r = block.records[value.label]  # the one record the tables and verdicts.csv show
    found = [
        Evidence(
            Procedure.VERSUS_BASELINE,
            (block.dataset,),
            (value.label, block.baseline.label),
            difference=r.diff,
            low=r.low,
            high=r.high,
            level=r.level,
            statistic=r.diff / r.se if r.test is not None and r.se > 0 else math.nan,
            df=r.dof,
            p=r.p,
            p_adjusted=r.p_adjusted,
            seeds=min(len(r.seeds_value), len(r.seeds_baseline)),
            method=r.test or "",
            verdict=r.verdict,
            margin=r.margin,
            detectable=r.detectable,
        )
    ]
    rates = value.rates
    if r.rate_differs and rates is not None:
        low, high = rates.ci
        found.append(
            Evidence(
                Procedure.FAILURE_RATE,
                (block.dataset,),
                (value.label, block.baseline.label),
                difference=rates.rate - rates.base_rate,
                low=low,
                high=high,
                level=0.95,
                p=rates.p,
                p_adjusted=r.p_rate_adjusted,
                seeds=rates.n,
                counts=((rates.k, rates.n), (rates.base_k, rates.base_n)),
            )
        )
    return found


def _evidence(judged: list[tuple[Block, ValueSummary]]) -> tuple[Evidence, ...]:
    return tuple(e for block, value in judged for e in _versus_baseline(block, value))


# --- claims about values against their baseline -------------------------------------------------------------


def _differing(judged, reason: Reason, only=lambda value: True) -> tuple[Why, ...]:
    """One reason per dataset naming the values that differ significantly from its baseline there (a value
    label alone would not say on which dataset)."""
    found: dict[str, list[str]] = {}
    for block, value in judged:
        if only(value) and _differs_from_baseline(value):
            found.setdefault(block.dataset, []).append(value.label)
    return tuple(Why(reason, dataset, tuple(labels)) for dataset, labels in found.items())


@check(NoEffect)
def _no_effect(analysis: Analysis, claim: NoEffect) -> Outcome:
    judged = _judged(
        _comparisons(analysis, claim, lambda b: claim.values or [v.label for v in b.comparisons])
    )
    evidence = _evidence(judged)
    differing = _differing(judged, Reason.VALUE_DIFFERS)
    if differing:
        return Outcome(CONTRADICTED, differing, evidence)
    if all(v.verdict == Verdict.EQUIVALENT for _, v in judged):
        widest = max(v.comparison.rules_out for _, v in judged if v.comparison)
        return Outcome(SUPPORTED, (Why(Reason.ALL_EQUIVALENT, amount=widest),), evidence)
    return Outcome(INCONCLUSIVE, (Why(Reason.NONE_DIFFERS),), evidence)


@check(Differs)
def _differs(analysis: Analysis, claim: Differs) -> Outcome:
    target, direction = claim.target, Verdict(claim.direction)
    judged = _judged(_comparisons(analysis, claim, lambda b: [target, *claim.equal]))
    evidence = _evidence(judged)
    main = [v for _, v in judged if v.label == target]
    rest = [v for _, v in judged if v.label != target]
    opposite = Verdict.BETTER if direction == Verdict.WORSE else Verdict.WORSE
    if any(v.verdict in (opposite, Verdict.EQUIVALENT) for v in main):
        return Outcome(
            CONTRADICTED, (Why(Reason.TARGET_NOT_IN_DIRECTION, values=(target,)),), evidence
        )
    differing = _differing(judged, Reason.EQUAL_VALUE_DIFFERS, lambda v: v.label != target)
    if differing:
        return Outcome(CONTRADICTED, differing, evidence)
    if all(v.verdict == direction for v in main):
        unshown = tuple(dict.fromkeys(v.label for v in rest if v.verdict != Verdict.EQUIVALENT))
        if not unshown:
            return Outcome(
                SUPPORTED,
                (Why(Reason.TARGET_DIFFERS_EQUALS_HOLD, values=(target, *claim.equal)),),
                evidence,
            )
        return Outcome(
            INCONCLUSIVE,
            (Why(Reason.TARGET_DIFFERS_EQUALS_UNSHOWN, values=(target, *unshown)),),
            evidence,
        )
    return Outcome(INCONCLUSIVE, (Why(Reason.TARGET_NOT_SIGNIFICANT, values=(target,)),), evidence)


@check(AnyDiffers)
def _any_differs(analysis: Analysis, claim: AnyDiffers) -> Outcome:
    judged = _judged(_comparisons(analysis, claim, lambda b: [v.label for v in b.comparisons]))
    evidence = _evidence(judged)
    differing = _differing(judged, Reason.VALUE_DIFFERS)
    if differing:
        return Outcome(SUPPORTED, differing, evidence)
    if all(v.verdict == Verdict.EQUIVALENT for _, v in judged):
        return Outcome(CONTRADICTED, (Why(Reason.ALL_EQUIVALENT),), evidence)
    return Outcome(INCONCLUSIVE, (Why(Reason.NONE_DIFFERS),), evidence)


@check(DoesNotLearn)
def _does_not_learn(analysis: Analysis, claim: DoesNotLearn) -> Outcome:
    """Every listed value failed to learn in every seed, significantly more often than the baseline
    (the block's own failure-rate test and Holm family)."""
    checks: list[tuple[Block, ValueSummary]] = []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        checks.extend((block, _value(block, label)) for label in claim.values)
    evidence = []
    for block, v in checks:
        rates = v.rates
        low, high = rates.ci if rates else (math.nan, math.nan)
        evidence.append(
            Evidence(
                Procedure.FAILURE_RATE,
                (block.dataset,),
                (v.label, block.baseline.label),
                difference=rates.rate - rates.base_rate if rates else math.nan,
                low=low,
                high=high,
                level=0.95,
                p=rates.p if rates else math.nan,
                p_adjusted=v.p_rate_adjusted,
                seeds=v.finished,
                counts=((rates.k, rates.n), (rates.base_k, rates.base_n)) if rates else (),
                expected_sign=1,
            )
        )
    learned = tuple(v.label for _, v in checks if v.learned * 2 > v.finished)
    if learned:
        return Outcome(
            CONTRADICTED, (Why(Reason.MOSTLY_LEARNED, values=learned),), tuple(evidence)
        )
    more = [
        v.rates is not None
        and v.rates.k == v.rates.n
        and v.rate_differs
        and v.rates.rate > v.rates.base_rate
        for _, v in checks
    ]
    if all(more):
        return Outcome(
            SUPPORTED, (Why(Reason.NEVER_LEARNED, values=claim.values),), tuple(evidence)
        )
    return Outcome(INCONCLUSIVE, (Why(Reason.FAILURES_NOT_SIGNIFICANT),), tuple(evidence))


# --- claims about an order of values ------------------------------------------------------------------------


def page_trend(rows: np.ndarray) -> tuple[float, float]:
    """Page's L statistic and its one-sided p that the columns of ``rows`` (seeds x values) increase left to
    right."""
    result = scipy_stats.page_trend_test(
        rows, method="exact" if rows.shape[0] * rows.shape[1] <= 20 else "auto"
    )
    return float(result.statistic), float(result.pvalue)


def one_sided_step(before: dict[int, float], after: dict[int, float], sign: int, level: float):
    """``after`` minus ``before`` over shared seeds (paired), with the one-sided p that it goes against
    ``sign`` (+1: the claim says it rises; -1: falls): the test of a step going the wrong way."""
    paired = paired_difference(after, before, level)
    if not math.isfinite(paired.p):
        return paired, math.nan, math.nan
    seeds = sorted(before.keys() & after.keys())
    t = scipy_stats.ttest_rel(
        [after[s] for s in seeds],
        [before[s] for s in seeds],
        alternative="less" if sign > 0 else "greater",
    )
    return paired, float(t.statistic), float(t.pvalue)


def _order(
    analysis: Analysis,
    claim: Trend | FasterEarly,
    accuracy: Callable[[ValueSummary], dict[int, float]],
    sign: int,
    reference_learns: bool,
) -> Outcome:
    """Accuracy follows the claim's order of values (``sign`` +1: rises along ``claim.values``, -1: falls),
    on each dataset: Page's L test of the order and of its reverse (Holm across the datasets), and a one-sided
    paired t-test of each adjacent step against the claimed sign, Bonferroni over the claim's k steps, its
    interval printed at 1 - 2 alpha / k (two-sided), which excludes zero on the wrong side exactly when the
    step is significant, so the interval shown is the one the verdict uses.
    Contradicted when the reverse order or a step the wrong way is significant; supported when the order is
    significant on every dataset and no step goes significantly the wrong way; else inconclusive."""
    k = len(claim.datasets) * (len(claim.values) - 1)  # the claim's adjacent steps
    level = 1 - 2 * analysis.alpha / max(1, k)
    pages, steps = [], []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        if reference_learns:
            _reference_learns(block)
        values = [_value(block, label) for label in claim.values]
        by_seed = [accuracy(v) for v in values]
        seeds = sorted(set.intersection(*(set(a) for a in by_seed)))
        if len(seeds) < 2:
            raise NotTestable(Why(Reason.FEW_SHARED_SEEDS, dataset, claim.values, (len(seeds),)))
        rows = np.array([[a[s] for a in by_seed] for s in seeds])
        if np.ptp(rows, axis=1).max() == 0:
            raise NotTestable(Why(Reason.SEEDS_TIE, dataset, claim.values))
        claimed = rows if sign > 0 else rows[:, ::-1]
        (l_claimed, p_claimed), (l_reverse, p_reverse) = (
            page_trend(claimed),
            page_trend(claimed[:, ::-1]),
        )
        means = tuple(float(rows[:, j].mean()) for j in range(rows.shape[1]))
        pages.append((dataset, len(seeds), means, l_claimed, p_claimed, l_reverse, p_reverse))
        shared = [{s: a[s] for s in seeds} for a in by_seed]
        for j in range(len(values) - 1):
            paired, t, p = one_sided_step(shared[j], shared[j + 1], sign, level)
            steps.append((dataset, (values[j].label, values[j + 1].label), paired, t, p))
    claimed_adjusted = holm([p[4] for p in pages])
    reverse_adjusted = holm([p[6] for p in pages])
    step_adjusted = bonferroni([s[4] for s in steps], k)
    evidence: list[Evidence] = []
    for (dataset, n, means, l_c, p_c, l_r, p_r), q_c, q_r in zip(
        pages, claimed_adjusted, reverse_adjusted
    ):
        for test, statistic, p, q, expected in (
            (Procedure.PAGE, l_c, p_c, q_c, sign),
            (Procedure.PAGE_REVERSE, l_r, p_r, q_r, 0),
        ):
            evidence.append(
                Evidence(
                    test,
                    (dataset,),
                    claim.values,
                    statistic=statistic,
                    p=p,
                    p_adjusted=q,
                    seeds=n,
                    means=means,
                    expected_sign=expected,
                )
            )
    wrong = []
    for (dataset, labels, paired, t, p), q in zip(steps, step_adjusted):
        evidence.append(
            Evidence(
                Procedure.STEP,
                (dataset,),
                labels,
                difference=paired.diff.mean,
                low=paired.diff.low,
                high=paired.diff.high,
                level=paired.confidence,
                statistic=t,
                df=paired.n - 1 if paired.n > 1 else math.nan,
                p=p,
                p_adjusted=q,
                seeds=paired.n,
                detectable=paired.mde,
                expected_sign=sign,
            )
        )
        if q < analysis.alpha:
            wrong.append((dataset, labels))
    found = tuple(evidence)
    if any(q < analysis.alpha for q in reverse_adjusted):
        datasets = tuple(p[0] for p, q in zip(pages, reverse_adjusted) if q < analysis.alpha)
        return Outcome(CONTRADICTED, tuple(Why(Reason.ORDER_REVERSED, d) for d in datasets), found)
    if wrong:
        return Outcome(
            CONTRADICTED, tuple(Why(Reason.STEP_REVERSED, d, labels) for d, labels in wrong), found
        )
    if all(q < analysis.alpha for q in claimed_adjusted):
        return Outcome(SUPPORTED, (Why(Reason.ORDER_HOLDS),), found)
    return Outcome(INCONCLUSIVE, (Why(Reason.ORDER_NOT_SIGNIFICANT),), found)


@check(Trend)
def _trend(analysis: Analysis, claim: Trend) -> Outcome:
    """Final accuracy over every finished seed (a collapsed one at its accuracy) along the claimed order."""
    sign = 1 if claim.direction == "increasing" else -1
    return _order(analysis, claim, lambda v: v.final_by_seed, sign, reference_learns=True)


def _two_values(block: Block, labels: tuple[str, ...]) -> tuple[ValueSummary, ValueSummary]:
    first, second = (_value(block, label) for label in labels[:2])
    if first.learned < MIN_LEARNED and second.learned < MIN_LEARNED:
        raise NotTestable(
            Why(
                Reason.NEITHER_LEARNED,
                block.dataset,
                (first.label, second.label),
                (first.learned, first.finished, second.learned, second.finished, MIN_LEARNED),
            )
        )
    return first, second


def _paired_evidence(
    test: Procedure,
    dataset: str,
    values: tuple[str, ...],
    paired: Paired,
    p_adjusted: float,
    **extra: Any,
) -> Evidence:
    return Evidence(
        test,
        (dataset,),
        values,
        difference=paired.diff.mean,
        low=paired.diff.low,
        high=paired.diff.high,
        level=paired.confidence,
        statistic=paired.diff.mean / (paired.sd / math.sqrt(paired.n))
        if paired.n > 1 and paired.sd > 0
        else math.nan,
        df=paired.n - 1 if paired.n > 1 else math.nan,
        p=paired.p,
        p_adjusted=p_adjusted,
        seeds=paired.n,
        detectable=paired.mde,
        **extra,
    )


def _positive(paired: Paired, p: float, dataset: str, alpha: float, ahead: Reason) -> Why:
    """Why for a paired difference the claim says is positive (``p`` Holm-adjusted)."""
    if paired.n < 2 or not math.isfinite(paired.p):
        raise NotTestable(
            Why(
                Reason.SEEDS_TIE if paired.tied else Reason.FEW_SHARED_SEEDS,
                dataset,
                (),
                (paired.n,),
            )
        )
    if p < alpha:
        return Why(ahead if paired.diff.mean > 0 else Reason.OPPOSITE, dataset)
    return Why(Reason.NOT_SIGNIFICANT, dataset, amount=paired.mde)


def _combine(whys: list[Why], evidence: list[Evidence], supported: Reason) -> Outcome:
    """One verdict over the datasets judged apart: contradicted if any is the opposite, supported if all are."""
    if any(w.reason == Reason.OPPOSITE for w in whys):
        verdict = CONTRADICTED
    elif all(w.reason == supported for w in whys):
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return Outcome(verdict, tuple(whys), tuple(evidence))


@check(FasterEarly)
def _faster_early(analysis: Analysis, claim: FasterEarly) -> Outcome:
    """Two values: the first is ahead of the second after epoch 1 (paired t, Holm across datasets). More
    values: accuracy after epoch 1 falls along the listed order (``_order``)."""
    if len(claim.values) > 2:
        return _order(analysis, claim, lambda v: v.first_epoch, -1, reference_learns=False)
    pairs: list[tuple[str, Paired]] = []
    for dataset in claim.datasets:
        first, second = _two_values(_block(analysis, claim.experiment, dataset), claim.values)
        pairs.append((dataset, paired_difference(first.first_epoch, second.first_epoch)))
    adjusted = holm([paired.p for _, paired in pairs])
    whys = [
        _positive(pd_, p, d, analysis.alpha, Reason.AHEAD) for (d, pd_), p in zip(pairs, adjusted)
    ]
    evidence = [
        _paired_evidence(Procedure.PAIRED, d, claim.values, pd_, p, expected_sign=1)
        for (d, pd_), p in zip(pairs, adjusted)
    ]
    return _combine(whys, evidence, Reason.AHEAD)


@check(CatchUp)
def _catch_up(analysis: Analysis, claim: CatchUp) -> Outcome:
    """The gap between two values shrinks in the longer run (oriented by the short run's gap) and closes:
    supported only when it shrinks significantly and the long run's gap lies inside the margin."""
    tests = []
    level = 1 - analysis.alpha  # the intervals every verdict of the analysis uses
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        short = _two_values(block, claim.values)
        long = _two_values(_block(analysis, claim.other, dataset), claim.values)
        # seeds in which the first value learned in both runs: the claim is about a gap between trained networks
        seeds = [
            s
            for s in short[0].seeds
            if short[0].outcomes.get(s) == LEARNED
            and long[0].outcomes.get(s) == LEARNED
            and all(s in v.final_by_seed for v in (*short, *long))
        ]
        if len(seeds) < 2:
            raise NotTestable(
                Why(Reason.FEW_LEARNED_IN_BOTH_RUNS, dataset, (claim.values[0],), (len(seeds),))
            )
        gap_short = {s: short[0].final_by_seed[s] - short[1].final_by_seed[s] for s in seeds}
        gap_long = {s: long[0].final_by_seed[s] - long[1].final_by_seed[s] for s in seeds}
        sign = (
            1.0 if np.mean(list(gap_short.values())) >= 0 else -1.0
        )  # shrinking means towards zero
        shrink = paired_difference(
            {s: sign * g for s, g in gap_short.items()},
            {s: sign * g for s, g in gap_long.items()},
            level,
        )
        closed = paired_difference(gap_long, {s: 0.0 for s in seeds}, level)
        tests.append((dataset, block, shrink, closed, gap_short))
    adjusted = holm([t[2].p for t in tests])
    whys, evidence = [], []
    for (dataset, block, shrink, closed, gap_short), p in zip(tests, adjusted):
        short_gap = float(np.mean(list(gap_short.values())))
        evidence.append(
            _paired_evidence(
                Procedure.SHRINKAGE,
                dataset,
                claim.values,
                shrink,
                p,
                means=(short_gap, closed.diff.mean),
                expected_sign=1,
            )
        )
        evidence.append(
            _paired_evidence(
                Procedure.LONG_GAP, dataset, claim.values, closed, math.nan, margin=block.margin
            )
        )
        why = _positive(shrink, p, dataset, analysis.alpha, Reason.GAP_CLOSES)
        if why.reason == Reason.GAP_CLOSES:
            inside = (
                closed.diff.defined
                and -block.margin <= closed.diff.low
                and closed.diff.high <= block.margin
            )
            outside = closed.diff.defined and (
                closed.diff.low > block.margin or closed.diff.high < -block.margin
            )
            if outside:
                why = Why(Reason.GAP_STILL_OUTSIDE, dataset, amount=block.margin)
            elif not inside:
                why = Why(Reason.GAP_NOT_INSIDE, dataset, amount=block.margin)
        whys.append(why)
    return _combine(whys, evidence, Reason.GAP_CLOSES)


@check(Interaction)
def _interaction(analysis: Analysis, claim: Interaction) -> Outcome:
    first, second = claim.datasets[:2]
    spreads = {}
    for dataset in (first, second):
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        values = [v for v in block.values if v.finished]
        seeds = sorted(set.intersection(*(set(v.learned_only()) for v in values)))
        if len(seeds) < 2:
            raise NotTestable(Why(Reason.FEW_SHARED_SEEDS, dataset, (), (len(seeds),)))
        spreads[dataset] = [
            max(v.final_by_seed[s] for v in values) - min(v.final_by_seed[s] for v in values)
            for s in seeds
        ]
    a, b = np.array(spreads[first]), np.array(spreads[second])
    if np.ptp(np.concatenate([a, b])) == 0:
        raise NotTestable(Why(Reason.SPREADS_IDENTICAL))
    welch = scipy_stats.ttest_ind(b, a, equal_var=False)
    interval = welch.confidence_interval(1 - analysis.alpha)
    evidence = Evidence(
        Procedure.SPREAD,
        (first, second),
        (),
        difference=float(b.mean() - a.mean()),
        low=float(interval.low),
        high=float(interval.high),
        level=1 - analysis.alpha,
        statistic=float(welch.statistic),
        df=float(welch.df),
        p=float(welch.pvalue),
        seeds=min(len(a), len(b)),
        means=(float(a.mean()), float(b.mean())),
        counts=((len(a),), (len(b),)),
        expected_sign=1,
    )
    if evidence.p < analysis.alpha:
        if b.mean() > a.mean():
            return Outcome(SUPPORTED, (Why(Reason.SPREAD_LARGER_SECOND, second),), (evidence,))
        return Outcome(CONTRADICTED, (Why(Reason.SPREAD_LARGER_FIRST, first),), (evidence,))
    return Outcome(INCONCLUSIVE, (Why(Reason.SPREADS_ALIKE),), (evidence,))


@check(LargestStable)
def _largest_stable(analysis: Analysis, claim: LargestStable) -> Outcome:
    declared = claim.values[0]
    stable, evidence = None, []
    blocks = [_block(analysis, claim.experiment, d) for d in claim.datasets]
    labels = [v.label for v in blocks[0].values]
    try:
        ordered = sorted(labels, key=float, reverse=True)
    except ValueError:
        raise NotTestable(Why(Reason.NOT_NUMBERS, values=(claim.experiment,))) from None
    for label in ordered:
        summaries = [_value(b, label) for b in blocks]
        if any(len(v.seeds) > v.finished for v in summaries):
            raise NotTestable(Why(Reason.NOT_FINISHED, values=(label,)))
        evidence.append(
            Evidence(
                Procedure.STABILITY,
                claim.datasets,
                (label,),
                counts=tuple((v.learned, v.finished) for v in summaries),
            )
        )
        if all(v.learned == v.finished for v in summaries):
            stable = label
            break
    if stable is None:
        raise NotTestable(Why(Reason.NONE_STABLE))
    if stable == declared:
        return Outcome(SUPPORTED, (Why(Reason.RULE_AGREES, values=(declared,)),), tuple(evidence))
    return Outcome(
        CONTRADICTED, (Why(Reason.RULE_PICKS_OTHER, values=(stable, declared)),), tuple(evidence)
    )


# --- confounds, budgets, and the findings -------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "/".join(_shown(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def confounds(analysis: Analysis, claim: Claim) -> tuple[Confound, ...]:
    """Where the networks ``claim`` compares differ in more than its knob: per dataset, each compared value
    against the reference (the block's baseline for a claim against it, else the first listed value) that also
    changes another setting (an adaptation's padding), or whose parameter count is ``SIZE_RATIO`` times the
    reference's or more (unless the knob is a size)."""
    study = analysis.stored.study
    found = []
    for name in claim.experiments:
        experiment = study.experiment(name)
        declared = {v.label: v for v in experiment.values}
        base = study.baseline.with_values(**experiment.base)
        for dataset in claim.datasets:
            block = analysis.blocks.get((name, dataset))
            if block is None:
                continue
            listed = [label for label in claim.labels if label in declared]
            if claim.against_baseline or not listed:
                reference = block.baseline.label
                compared = listed or [v.label for v in block.comparisons]
            else:
                reference, compared = listed[0], listed[1:]
            if reference not in declared:
                continue
            ref_settings = base.with_values(**declared[reference].params_for(dataset)).to_dict()
            ref_summary = block.value(reference)
            for label in compared:
                if label == reference or label not in declared:
                    continue
                params = declared[label].params_for(dataset)
                actual = base.with_values(**params).to_dict()
                knob = (
                    {experiment.parameter: params[experiment.parameter]}
                    if (experiment.parameter in params)
                    else {}
                )
                knob_only = (
                    base.with_values(**declared[reference].params_for(dataset))
                    .with_values(**knob)
                    .to_dict()
                )
                settings = tuple(
                    (key, _shown(actual[key]), _shown(ref_settings[key]))
                    for key in actual
                    if actual[key] != knob_only[key]
                    and key not in IMPLIED.get(experiment.parameter, ())
                )
                summary = block.value(label)
                size, ref_size = (
                    summary.params if summary else None,
                    ref_summary.params if ref_summary else None,
                )
                ratio = size / ref_size if size and ref_size else 1.0
                sized = experiment.parameter not in SIZE_KNOBS and not (
                    1 / SIZE_RATIO < ratio < SIZE_RATIO
                )
                if settings or sized:
                    found.append(Confound(dataset, label, reference, settings, size, ref_size))
    return tuple(found)


def measured_after(analysis: Analysis, claim: Claim) -> tuple[Measured, ...]:
    """The claim's experiments that trained fewer epochs than the study declares (none at the study's own
    epochs): the epochs of the claim's datasets under the profile, scaled like the trials (a longer run keeps
    its factor)."""
    profile, study = analysis.stored.profile, analysis.stored.study
    found = []
    for name in dict.fromkeys(claim.experiments):
        experiment = study.experiment(name)
        declared = round(study.baseline.epochs * experiment.epochs_factor)
        trained = sorted(
            {
                max(
                    1,
                    round(
                        (profile.for_dataset(d).epochs or study.baseline.epochs)
                        * experiment.epochs_factor
                    ),
                )
                for d in claim.datasets
            }
        )
        if trained[-1] < declared:
            found.append(Measured(name, tuple(trained), declared))
    return tuple(found)


def budget_gap(
    claim: Claim, measured: tuple[Measured, ...], checks: dict[str, BudgetCheck] | None
) -> BudgetGap | None:
    """Why a short budget cannot test ``claim``'s final accuracy (None when it can): the claim's datasets whose
    budget check did not pass, or that the study has no check (``checks`` None)."""
    if claim.judged_at != JudgedAt.FINAL or not measured:
        return None
    if checks is None:
        return BudgetGap(no_check=True)
    failing = tuple(
        (d, checks.get(d)) for d in claim.datasets if checks.get(d) is None or not checks[d].passed
    )
    return BudgetGap(no_check=False, checks=failing) if failing else None


def check_claims(analysis: Analysis) -> list[Finding]:
    """Every claim the stored study declares, judged on this analysis (none: an empty list).

    A claim about final accuracy at a budget shorter than the study's epochs is judged only where the study's
    budget check passed on each of its datasets; elsewhere it is not testable at this budget, and what its
    test reads at this budget is kept as ``at_budget`` with its evidence."""
    findings = []
    checks = budget_checks(analysis) if analysis.stored.study.budget_check else None
    for claim in analysis.stored.study.claims:
        measured = measured_after(analysis, claim)
        try:
            outcome = CHECKS[type(claim)](analysis, claim)
        except NotTestable as why:
            outcome = Outcome(NOT_TESTABLE, (why.why,))
        gap = budget_gap(claim, measured, checks)
        findings.append(
            Finding(
                claim,
                NOT_TESTABLE if gap else outcome.verdict,
                () if gap else outcome.why,
                outcome.evidence,
                confounds(analysis, claim),
                measured if claim.judged_at != JudgedAt.SPEED else (),
                gap,
                outcome.verdict if gap else None,
                outcome.why if gap else (),
            )
        )
    return findings
