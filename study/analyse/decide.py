"""The verdicts of one block (an experiment on a dataset): every value against the block's baseline.

Pure numbers in, frozen decisions out, so that ``benchmarks/error_rates.py`` and the tests can simulate
the exact rule the report applies. Two questions per value, each a Holm family over the block's values,
computed once here and shown the same everywhere:

- **Does it learn as often?** The seeds that failed to learn (collapsed or diverged) against the
  baseline's: Boschloo's exact test (``study.analyse.stats.collapse_rates``).
- **How accurate is it when it learns?** The seeds that learned on each side: Welch's t on variances
  moderated by the dataset's noise model (``study.analyse.noise``), or a paired t over the seeds both
  learned where a value's network draws the same initial weights per seed as the baseline's (``paired``;
  decided by the design before the run, never by a test on the data). A seed that did
  not learn never enters an accuracy test; it is counted by the first question.

    decisions = decide_block(values, baseline, prior, margin=0.01, paired=False)
    decisions[0].verdict, decisions[0].comparison.p, decisions[0].p_holm
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from study.analyse.noise import (
    MeanComparison,
    Prior,
    compare_means,
    detectable_difference,
    fit_prior,
)
from study.analyse.stats import ALPHA, Rates, Verdict, collapse_rates, holm, paired_difference

MIN_SEEDS = 2  # learned seeds a side needs before its accuracy is compared


@dataclass(frozen=True)
class Arm:
    """One configuration's seeds: final accuracy (fraction) of each seed that learned, how many finished
    seeds failed to learn (collapsed or diverged), how many finished, and whether every one diverged."""

    learned: dict[int, float]
    failed: int
    finished: int
    all_diverged: bool = False

    @property
    def n(self) -> int:
        return len(self.learned)


@dataclass(frozen=True)
class Decision:
    """One value against its baseline: the accuracy comparison (None when a side has fewer than
    ``MIN_SEEDS`` learned seeds), its Holm-adjusted p, the failure rates and theirs, the verdict, and
    the smallest difference this comparison detects with 80% power at the Holm family's first-step level
    (alpha / tests in the block; fraction; NaN where undefined)."""

    comparison: MeanComparison | None
    p_holm: float
    rates: Rates
    p_rate_holm: float
    verdict: Verdict
    tests: int = 1  # accuracy tests in the block's Holm family
    alpha: float = ALPHA

    @functools.cached_property
    def detectable(self) -> float:
        """Computed when read (a root search over the noncentral t): simulations that never read it skip it."""
        c = self.comparison
        if c is None:
            return math.nan
        found = detectable_difference(c.se, c.dof, self.alpha / max(1, self.tests))
        return found if math.isfinite(found) and found < 1 else math.nan

    @property
    def rate_differs(self) -> bool:
        return math.isfinite(self.p_rate_holm) and self.p_rate_holm < self.alpha

    @property
    def small_but_real(self) -> bool:
        """Equivalent within the margin, yet the interval excludes zero: a real difference, smaller than M."""
        return (
            self.verdict == Verdict.EQUIVALENT
            and self.comparison is not None
            and self.comparison.excludes_zero
        )

    @property
    def decisive(self) -> bool:
        return (
            self.verdict in (Verdict.BETTER, Verdict.WORSE, Verdict.EQUIVALENT)
            or self.rate_differs
        )


def compare_paired(
    a: dict[int, float], b: dict[int, float], alpha: float = ALPHA
) -> MeanComparison:
    """Paired t over the seeds both sides have (each pair's own difference; no moderation): the project's
    ``stats.paired_difference``, as a ``MeanComparison`` with a (1 - ``alpha``) interval (NaN p and interval
    for ties or fewer than 2 pairs)."""
    paired = paired_difference(a, b, 1 - alpha)
    n = paired.n
    se = paired.sd / math.sqrt(n) if n >= 2 else math.nan
    return MeanComparison(
        n,
        n,
        paired.diff.mean if n else math.nan,
        paired.diff.low,
        paired.diff.high,
        paired.p,
        se,
        n - 1 if n >= 2 else math.nan,
        "paired t",
        1 - alpha,
    )


def accuracy_verdict(
    comparison: MeanComparison, p_holm: float, margin: float, alpha: float = ALPHA
) -> Verdict:
    """better / worse (Holm p < alpha), equivalent (the comparison's 1 - alpha interval inside +-margin),
    else inconclusive; untestable when the comparison has no spread (tied seeds)."""
    if not math.isfinite(comparison.p):
        return Verdict.UNTESTABLE
    if p_holm < alpha:
        return Verdict.BETTER if comparison.diff > 0 else Verdict.WORSE
    if comparison.defined and -margin <= comparison.low and comparison.high <= margin:
        return Verdict.EQUIVALENT
    return Verdict.INCONCLUSIVE


def decide_block(
    values: list[Arm],
    baseline: Arm,
    prior: Prior,
    margin: float,
    paired: bool | list[bool] = False,
    alpha: float = ALPHA,
) -> list[Decision]:
    """Judge every value of a block against ``baseline`` (see the module notes); one Decision per value.

    ``margin`` is the dataset's equivalence margin (fraction), declared before the run. ``paired`` (one
    flag, or one per value) is fixed by the design, never by the data: a value pairs with the baseline
    when its network draws the same initial weights per seed (``study.analyse.comparisons``). ``alpha``
    is the family-wise level of each Holm family and sets the intervals' confidence (1 - alpha): 0.05, or
    a look's nominal level in a sequential design (``stats.pocock_level``)."""
    pairing = paired if isinstance(paired, list) else [paired] * len(values)
    comparisons: list[MeanComparison | None] = []
    for arm, pair in zip(values, pairing):
        if arm.all_diverged or arm.n < MIN_SEEDS or baseline.n < MIN_SEEDS:
            comparisons.append(None)
        elif pair:
            comparisons.append(compare_paired(arm.learned, baseline.learned, alpha))
        else:
            comparisons.append(
                compare_means(
                    list(arm.learned.values()), list(baseline.learned.values()), prior, 1 - alpha
                )
            )
    p_holm = holm([c.p if c is not None else math.nan for c in comparisons])
    rates = [
        collapse_rates(arm.failed, arm.finished, baseline.failed, baseline.finished)
        for arm in values
    ]
    tested = [i for i, arm in enumerate(values) if arm.finished and baseline.finished]
    p_rate = [math.nan] * len(values)
    for i, p in zip(tested, holm([rates[i].p for i in tested], untested_count=True)):
        p_rate[i] = p
    decisions = []
    for arm, comparison, p, rate, pr in zip(values, comparisons, p_holm, rates, p_rate):
        if arm.all_diverged:
            verdict = Verdict.DIVERGED
        elif baseline.n == 0:
            verdict = Verdict.NEITHER_LEARNS if arm.n == 0 else Verdict.ONLY_VALUE_LEARNS
        elif arm.n == 0:
            verdict = Verdict.DOES_NOT_LEARN
        elif (
            comparison is None or min(comparison.n_a, comparison.n_b) < MIN_SEEDS
        ):  # e.g. pairs both learned
            verdict = Verdict.TOO_FEW_SEEDS
        else:
            verdict = accuracy_verdict(comparison, p, margin, alpha)
        # the detectable difference is stated at Holm's first-step level: alpha / the family's tests
        tests = max(1, sum(c is not None and math.isfinite(c.p) for c in comparisons))
        decisions.append(Decision(comparison, p, rate, pr, verdict, tests, alpha))
    return decisions


def dataset_prior(arms: list[Arm]) -> Prior:
    """The dataset's noise model: the prior fitted on the learned seeds' variances of its distinct
    configurations (pass each configuration once; a baseline shared by several experiments is one)."""
    return fit_prior(
        [
            (float(np.var(list(arm.learned.values()), ddof=1)), arm.n - 1)
            for arm in arms
            if arm.n >= 2
        ]
    )


def decide_dataset(
    blocks: list[tuple[list[Arm], Arm, bool | list[bool]]], margin: float, alpha: float = ALPHA
) -> tuple[Prior, list[list[Decision]]]:
    """Every block of one dataset: (values, baseline, paired) each. The prior is fitted once over the
    distinct configurations (a baseline object shared by several blocks counts once)."""
    distinct: dict[int, Arm] = {}
    for values, baseline, _ in blocks:
        for arm in (*values, baseline):
            distinct.setdefault(id(arm), arm)
    prior = dataset_prior(list(distinct.values()))
    return prior, [
        decide_block(values, baseline, prior, margin, paired, alpha)
        for values, baseline, paired in blocks
    ]
