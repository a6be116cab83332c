"""Statistics of the report: t-intervals, paired tests over shared seeds, Holm correction, verdicts.

The rules the report states (``RULES``) live here, so the text and the numbers cannot disagree.

    mean_ci([0.97, 0.98, 0.975])      # mean with its 95% t-interval
    paired_difference(a, b)           # a - b over the seeds both have, with a paired t-test
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05  # family-wise error rate within one experiment and dataset (Holm)
MARGIN_PP = 1.0  # differences whose 95% CI lies inside +-1 percentage point count as equivalent
LEARN_MARGIN = 0.05  # "does not learn": mean final accuracy within 5 points of chance

RULES = (
    f"Each value is compared with the experiment's baseline value over the seeds both have (paired t-test on "
    f"final validation accuracy). p-values are Holm-corrected within an experiment and dataset. "
    f"A value is <b>better</b> or <b>worse</b> when its corrected p < {ALPHA}; <b>equivalent</b> when it is "
    f"not significant and the {int(CONFIDENCE * 100)}% CI of the difference lies inside "
    f"+-{MARGIN_PP:g} percentage points; <b>inconclusive</b> otherwise; <b>too few seeds</b> with fewer than "
    f"2 shared seeds; <b>diverged</b> when every seed of the value diverged (NaN/inf loss). A value "
    f"<b>does not learn</b> when its mean final accuracy is within {LEARN_MARGIN * 100:g} points of chance."
)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_ci(values, confidence: float = CONFIDENCE) -> Interval:
    """Mean and two-sided t-interval of the finite ``values`` (NaN bounds when n < 2)."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = len(data)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


@dataclass(frozen=True)
class Paired:
    n: int
    diff: Interval  # of a - b
    p: float  # two-sided paired t-test; NaN when n < 2


def paired_difference(a: dict[int, float], b: dict[int, float]) -> Paired:
    """Compare ``a`` and ``b`` (seed -> value) over the seeds where both are finite."""
    seeds = sorted(s for s in a.keys() & b.keys()
                   if a[s] is not None and b[s] is not None and math.isfinite(a[s]) and math.isfinite(b[s]))
    diffs = np.array([a[s] - b[s] for s in seeds], dtype=float)
    interval = mean_ci(diffs)
    if len(seeds) < 2:
        return Paired(len(seeds), interval, math.nan)
    if np.allclose(diffs, diffs[0]):  # zero variance: the t statistic is undefined
        return Paired(len(seeds), interval, 1.0 if diffs[0] == 0 else 0.0)
    result = stats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds])
    return Paired(len(seeds), interval, float(result.pvalue))


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and does not count as a test)."""
    indexed = [(p, i) for i, p in enumerate(pvalues) if p is not None and math.isfinite(p)]
    indexed.sort()
    m = len(indexed)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(paired: Paired, p_holm: float, all_diverged: bool) -> str:
    """The rule of ``RULES`` for one value against the baseline (differences in accuracy units)."""
    if all_diverged:
        return "diverged"
    if paired.n < 2:
        return "too few seeds"
    if p_holm < ALPHA:
        return "better" if paired.diff.mean > 0 else "worse"
    margin = MARGIN_PP / 100
    if -margin <= paired.diff.low and paired.diff.high <= margin:
        return "equivalent"
    return "inconclusive"
