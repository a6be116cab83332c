"""The verdicts of one block (an experiment on a dataset): every value against the block's baseline.

Pure numbers in, frozen decisions out, so that ``benchmarks/error_rates.py`` and the tests can simulate
the exact rule the report applies. Two questions per value, each a Bonferroni family over the block's
values, computed once here and shown the same everywhere:

- **Does it learn as often?** The seeds that failed to learn (collapsed or diverged) against the
  baseline's: Boschloo's exact test (``study.analyse.stats.collapse_rates``), its p multiplied by m.
- **How accurate is it when it learns?** The seeds that learned on each side: Welch's t on variances
  moderated by the dataset's noise model (``study.analyse.noise``), or a paired t over the seeds both
  learned where a value's network draws the same initial weights per seed as the baseline's (``paired``;
  decided by the design before the run, never by a test on the data), its difference variance moderated by
  a second prior fitted on the dataset's paired comparisons. A seed that did not learn never enters an
  accuracy test; it is counted by the first question.

**One error control for every accuracy verdict.** With m the values the block compares with its baseline
(fixed by the design: also a value that did not learn or tied), each comparison's interval is at
confidence 1 - alpha/m (Bonferroni), and that one interval decides: *better*/*worse* when it excludes
zero (exactly when m p < alpha, the ``p_adjusted`` shown), *equivalent* when it lies inside +-margin,
else *inconclusive*. A wrong verdict of either kind needs the interval to miss the true difference: a
false better/worse needs a difference claimed where the true one is zero (or of the other sign), which
zero outside the interval is; a false equivalent needs |true difference| >= margin while the interval
lies inside +-margin. So the chance of any wrong accuracy verdict in the block is at most the chance that
any of its m intervals misses, at most m (alpha/m) = alpha: the family-wise error over both kinds of
error together is at most alpha. ``alpha`` is the per-look level of the sequential design
(``stats.pocock_level``; 0.05 for one look), so the printed interval, the p and the verdict rest on the
same level.

    decisions = decide_block(values, baseline, prior, margin=0.01, paired=False)
    decisions[0].verdict, decisions[0].comparison.p, decisions[0].p_adjusted, decisions[0].level
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from study.analyse.noise import (
    NO_PRIOR,
    MeanComparison,
    Prior,
    compare_means,
    detectable_difference,
    fit_prior,
    moderate,
)
from study.analyse.stats import (
    ALPHA,
    CONFIDENCE,
    DIRECTIONAL,
    Rates,
    Verdict,
    bonferroni,
    collapse_rates,
    paired_difference,
)

MIN_SEEDS = 2  # learned seeds a side needs before its accuracy is compared

# What a paired comparison rests on (``MeanComparison.test``; each starts "paired t")
PAIRED_MODERATED = "paired t, moderated variance"
PAIRED_OWN = (
    "paired t, own variance"  # its difference variance is above its moderated one: kept (noise)
)
PAIRED_UNMODERATED = "paired t, unmoderated (too few paired comparisons for a prior)"


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
    ``MIN_SEEDS`` learned seeds; its interval at ``level``), its Bonferroni-adjusted p, the failure rates and
    their adjusted p, the verdict, and the smallest difference this comparison detects with 80% power at the
    Bonferroni level alpha / ``tests`` (fraction; NaN where undefined). ``margin``: the equivalence margin it
    was judged against (fraction)."""

    comparison: MeanComparison | None
    p_adjusted: float  # min(1, tests * p); NaN without a test
    rates: Rates
    p_rate_adjusted: (
        float  # min(1, tested rate comparisons of the block * Boschloo p); NaN untested
    )
    verdict: Verdict
    tests: int = (
        1  # m: the values the block compares with its baseline (the family of both questions)
    )
    alpha: float = ALPHA
    margin: float = math.nan

    @property
    def level(self) -> float:
        """The confidence of the comparison's interval: 1 - alpha / m."""
        return 1 - self.alpha / max(1, self.tests)

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
        return math.isfinite(self.p_rate_adjusted) and self.p_rate_adjusted < self.alpha

    @property
    def small_but_real(self) -> bool:
        """Better or worse, yet the whole interval lies inside +-margin: a real difference, smaller than M."""
        c = self.comparison
        return (
            self.verdict in DIRECTIONAL
            and c is not None
            and c.defined
            and -self.margin <= c.low
            and c.high <= self.margin
        )

    @property
    def decisive(self) -> bool:
        return (
            self.verdict in (Verdict.BETTER, Verdict.WORSE, Verdict.EQUIVALENT)
            or self.rate_differs
        )


def _seedwise(a: dict[int, float], b: dict[int, float]) -> np.ndarray:
    """a - b over the seeds both have, finite on both sides, in seed order."""
    seeds = sorted(
        s
        for s in a.keys() & b.keys()
        if a[s] is not None and b[s] is not None and math.isfinite(a[s]) and math.isfinite(b[s])
    )
    return np.array([a[s] - b[s] for s in seeds], dtype=float)


def compare_paired(
    a: dict[int, float],
    b: dict[int, float],
    prior: Prior = NO_PRIOR,
    confidence: float = CONFIDENCE,
) -> MeanComparison:
    """Paired t over the seeds both sides have, with a (``confidence``) interval kept inside [-1, 1].

    With a usable ``prior`` (fitted on the difference variances of the dataset's paired comparisons,
    ``paired_prior``) the variance of the seed-wise differences is moderated (``noise.moderate``: posterior
    with d + d0 degrees of freedom, or its own with d where that is larger); without one, the test is the
    unmoderated paired t (scipy's ``ttest_rel``) and ``test`` says so. NaN p and interval for fewer than 2
    pairs, and without a prior for differences without spread (tied seeds: never p = 0 or 1); with one, tied
    differences are tested on their moderated variance (the prior's share), as limma tests a zero variance."""
    if not prior.usable:
        paired = paired_difference(a, b, confidence)
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
            PAIRED_UNMODERATED,
            confidence,
            (float(n - 1),) if n >= 2 else (),
        )
    diffs = _seedwise(a, b)
    n = len(diffs)
    mean = float(diffs.mean()) if n else math.nan
    if n < 2:
        return MeanComparison(
            n,
            n,
            mean,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            n - 1 if n >= 2 else math.nan,
            PAIRED_MODERATED,
            confidence,
        )
    noise = moderate(float(diffs.var(ddof=1)), n - 1, prior)
    se = math.sqrt(noise.variance / n)
    half = float(stats.t.ppf((1 + confidence) / 2, noise.dof)) * se
    return MeanComparison(
        n,
        n,
        mean,
        max(-1.0, mean - half),
        min(1.0, mean + half),
        float(2 * stats.t.sf(abs(mean) / se, noise.dof)),
        se,
        noise.dof,
        PAIRED_MODERATED if noise.moderated else PAIRED_OWN,
        confidence,
        (noise.dof,),
    )


def accuracy_verdict(comparison: MeanComparison, margin: float) -> Verdict:
    """The verdict of ``comparison``'s one interval (already at the block's Bonferroni level): better / worse
    when it excludes zero, equivalent when it lies inside +-margin, else inconclusive; untestable when the
    comparison has no test (tied seeds: no spread)."""
    if not math.isfinite(comparison.p):
        return Verdict.UNTESTABLE
    if comparison.excludes_zero:
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
    paired_prior: Prior = NO_PRIOR,
) -> list[Decision]:
    """Judge every value of a block against ``baseline`` (see the module notes); one Decision per value.

    ``margin`` is the dataset's equivalence margin (fraction), declared before the run. ``paired`` (one
    flag, or one per value) is fixed by the design, never by the data: a value pairs with the baseline
    when its network draws the same initial weights per seed (``study.analyse.comparisons``); a paired
    comparison's difference variance is moderated by ``paired_prior`` (``paired_prior`` of the dataset).
    ``alpha`` is the family-wise level of the block's accuracy verdicts and of its failure-rate verdicts,
    each Bonferroni over the block: 0.05, or a look's nominal level in a sequential design
    (``stats.pocock_level``)."""
    pairing = paired if isinstance(paired, list) else [paired] * len(values)
    comparisons: list[MeanComparison | None] = []
    for arm, pair in zip(values, pairing):
        if arm.all_diverged or arm.n < MIN_SEEDS or baseline.n < MIN_SEEDS:
            comparisons.append(None)
        elif pair:
            comparisons.append(compare_paired(arm.learned, baseline.learned, paired_prior))
        else:
            comparisons.append(
                compare_means(list(arm.learned.values()), list(baseline.learned.values()), prior)
            )
    # m, fixed by the design and never by the data: every value the block compares with its baseline,
    # also one that did not learn, tied or has no finished seed yet (a family that shrank with the data
    # would choose its own level after seeing it). The failure-rate family is the same m values.
    tests = len(values)
    level = 1 - alpha / max(1, tests)
    comparisons = [c.at_confidence(level) if c is not None else None for c in comparisons]
    p_adjusted = bonferroni([c.p if c is not None else math.nan for c in comparisons], tests)
    rates = [
        collapse_rates(arm.failed, arm.finished, baseline.failed, baseline.finished)
        for arm in values
    ]
    p_rate = bonferroni([r.p for r in rates], tests)
    decisions = []
    for arm, comparison, p, rate, pr in zip(values, comparisons, p_adjusted, rates, p_rate):
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
            verdict = accuracy_verdict(comparison, margin)
        decisions.append(Decision(comparison, p, rate, pr, verdict, max(1, tests), alpha, margin))
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


def paired_prior(pairs: list[tuple[Arm, Arm]]) -> Prior:
    """The dataset's noise model of paired differences: the prior fitted on the variances of the seed-wise
    differences (n - 1 degrees of freedom each, over the seeds both learned) of its paired comparisons,
    each (value, baseline) pair once. Fewer than three usable ones give ``NO_PRIOR``: each paired
    comparison is then the unmoderated paired t."""
    samples = []
    for value, baseline in pairs:
        diffs = _seedwise(value.learned, baseline.learned)
        if len(diffs) >= 2:
            samples.append((float(diffs.var(ddof=1)), len(diffs) - 1))
    return fit_prior(samples)


def decide_dataset(
    blocks: Sequence[tuple[list[Arm], Arm, bool | list[bool]]],
    margin: float,
    alpha: float = ALPHA,
    priors: tuple[Prior, Prior] | None = None,
) -> tuple[Prior, list[list[Decision]]]:
    """Every block of one dataset: (values, baseline, paired) each. The prior of the seed variances is
    fitted once over the distinct configurations (a baseline object shared by several blocks counts once),
    and the prior of the paired differences once over the distinct paired comparisons; returns the former
    (the dataset's noise model) and the decisions. ``priors``: both models, where the caller fitted them
    already (``dataset_priors``; the report fits the first once per configuration); default: fitted here."""
    prior, differences = priors if priors is not None else dataset_priors(blocks)
    return prior, [
        decide_block(values, baseline, prior, margin, paired, alpha, differences)
        for values, baseline, paired in blocks
    ]


def dataset_priors(
    blocks: Sequence[tuple[list[Arm], Arm, bool | list[bool]]],
    configurations: list[Arm] | None = None,
) -> tuple[Prior, Prior]:
    """The two noise models of one dataset's blocks (as ``decide_dataset`` takes them): the seed variances'
    over its distinct configurations, and the paired differences' over its distinct paired comparisons."""
    distinct: dict[int, Arm] = {}
    pairs: dict[tuple[int, int], tuple[Arm, Arm]] = {}
    for values, baseline, paired in blocks:
        pairing = paired if isinstance(paired, list) else [paired] * len(values)
        for arm in (*values, baseline):
            distinct.setdefault(id(arm), arm)
        for arm, pair in zip(values, pairing):
            if pair and not arm.all_diverged:
                pairs.setdefault((id(arm), id(baseline)), (arm, baseline))
    seeds = configurations if configurations is not None else list(distinct.values())
    return dataset_prior(seeds), paired_prior(list(pairs.values()))
