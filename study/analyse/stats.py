"""Statistics of the report: outcomes per seed, bounded intervals, paired tests, power, Bonferroni and Holm,
verdicts.

Every threshold the report states lives here (``study.report.wording`` and the template state them from
these constants), so the text and the numbers cannot disagree. No words beyond the verdict names, no
HTML. Accuracies are fractions in [0, 1]; differences are fractions in [-1, 1].

    mean_ci([0.97, 0.98, 0.975], bounds=(0, 1))   # mean with its 95% t-interval, kept inside [0, 1]
    paired_difference(a, b)                        # a - b over shared seeds: paired t-test, MDE at 80% power
    collapse_rates(2, 4, 0, 4)                     # exact (Boschloo) test of two collapse rates
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import integrate, optimize, stats

CONFIDENCE = 0.95
ALPHA = 0.05  # family-wise error rate within one experiment and dataset (Bonferroni, study.analyse.decide)
POWER = 0.80  # the power at which the minimum detectable effect is stated


class Verdict(enum.StrEnum):
    """What one value's comparison with its baseline says (``study.report.wording`` gives each its meaning).

    better/worse/equivalent (and a significant difference in how often seeds fail to learn) are decisive:
    the budget answered the question."""

    BETTER = "better"
    WORSE = "worse"
    EQUIVALENT = "equivalent"
    INCONCLUSIVE = "inconclusive"
    UNTESTABLE = "untestable"
    TOO_FEW_SEEDS = "too few seeds"
    DOES_NOT_LEARN = "does not learn"
    NEITHER_LEARNS = "neither learns"
    ONLY_VALUE_LEARNS = "learns where the baseline does not"
    DIVERGED = "diverged"
    REFERENCE = "reference"


DECISIVE = (Verdict.BETTER, Verdict.WORSE, Verdict.EQUIVALENT)
DIRECTIONAL = (Verdict.BETTER, Verdict.WORSE)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def defined(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan, 0)


def _finite(values) -> np.ndarray:
    return np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)


def t_half_width(sd: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Half-width of the two-sided t-interval of a mean of ``n`` values with standard deviation ``sd``."""
    if n < 2 or not math.isfinite(sd):
        return math.nan
    return float(stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n))


def mean_ci(
    values, confidence: float = CONFIDENCE, bounds: tuple[float, float] | None = None
) -> Interval:
    """Mean and two-sided t-interval of the finite ``values``, intersected with ``bounds``.

    NaN bounds when n < 2 or when the values have no spread: a zero-width interval would claim a
    certainty that two or three tied seeds do not carry.
    """
    data = _finite(values)
    n = len(data)
    if n == 0:
        return NAN_INTERVAL
    mean = float(data.mean())
    sd = float(data.std(ddof=1)) if n > 1 else math.nan
    if n < 2 or sd == 0:
        return Interval(mean, math.nan, math.nan, n)
    half = t_half_width(sd, n, confidence)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Interval(mean, low, high, n)


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval of ``k`` successes in ``n`` (NaN, NaN when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Rates:
    """Collapse (or divergence) rates of a value and its baseline and their exact comparison."""

    k: int
    n: int
    base_k: int
    base_n: int
    p: float  # two-sided Boschloo exact test; NaN when untested (no collapse on either side, or n = 0)

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def base_rate(self) -> float:
        return self.base_k / self.base_n if self.base_n else math.nan

    @property
    def ci(self) -> tuple[float, float]:
        return clopper_pearson(self.k, self.n)

    @property
    def base_ci(self) -> tuple[float, float]:
        return clopper_pearson(self.base_k, self.base_n)


@cache
def collapse_rates(k: int, n: int, base_k: int, base_n: int) -> Rates:
    """Compare ``k`` of ``n`` failed-to-learn seeds with the baseline's ``base_k`` of ``base_n`` (Boschloo).

    scipy's ``boschloo_exact`` takes each binomial sample as a *column* of the table (its Notes), so the
    value's seeds are the first column and the baseline's the second; rows are failed / learned. Memoised
    (a pure function of four counts, and the same few tables recur in every block and simulated dataset)."""
    k, n, base_k, base_n = int(k), int(n), int(base_k), int(base_n)
    if n == 0 or base_n == 0 or (k == 0 and base_k == 0) or (k == n and base_k == base_n):
        return Rates(k, n, base_k, base_n, math.nan)
    table = np.array([[k, base_k], [n - k, base_n - base_k]])
    p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
    return Rates(k, n, base_k, base_n, min(1.0, p))


def power(delta: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of a two-sided paired t-test with ``n`` pairs to detect a true mean difference ``delta``.

    The noncentral t probability, written as an integral over the chi-square of the variance estimate so
    that it stays accurate for n = 2 (scipy's ``nct`` returns NaN there for large effects).
    """
    if n < 2 or not (math.isfinite(sd) and sd > 0):
        return math.nan
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = abs(delta) * math.sqrt(n) / sd

    def given_variance(v: float) -> float:
        scale = crit * math.sqrt(v / df)
        return (stats.norm.sf(scale - nc) + stats.norm.cdf(-scale - nc)) * stats.chi2.pdf(v, df)

    value, _ = integrate.quad(given_variance, 0, math.inf, limit=200)
    return float(min(1.0, max(0.0, value)))


@cache
def _standard_mde(n: int, alpha: float, target: float) -> float:
    high = 1.0
    while power(high, 1.0, n, alpha) < target:
        high *= 2
    return float(optimize.brentq(lambda d: power(d, 1.0, n, alpha) - target, 0.0, high, xtol=1e-9))


def equivalence_reach(se: float, dof: float, target: float = POWER) -> float:
    """The margin within which a 95% CI of a true zero difference falls with ``target`` probability,
    approximately (t_0.975 + t_power) x se for a difference with standard error ``se`` and ``dof`` degrees
    of freedom: the finest equivalence a comparison can confirm (fractions; NaN when undefined)."""
    if not (dof >= 1 and math.isfinite(se) and se > 0):
        return math.nan
    return float(
        (stats.t.ppf((1 + CONFIDENCE) / 2, dof) + stats.t.ppf((1 + target) / 2, dof)) * se
    )


def minimum_detectable_effect(
    sd: float, n: int, alpha: float = ALPHA, target: float = POWER
) -> float:
    """The smallest true difference a paired t-test over ``n`` seeds detects with ``target`` power."""
    if n < 2 or not (math.isfinite(sd) and sd > 0):
        return math.nan
    return sd * _standard_mde(n, alpha, target)


@dataclass(frozen=True)
class Paired:
    n: int
    diff: Interval  # of a - b, bounded to [-1, 1]
    p: float  # two-sided paired t-test; NaN when n < 2 or the differences have no spread
    sd: float  # standard deviation of the paired differences
    mde: float  # minimum detectable effect at 80% power (fraction)
    confidence: float = (
        CONFIDENCE  # of the interval ``diff`` (what ``formats.diff_with_ci`` labels it with)
    )

    @property
    def tied(self) -> bool:
        return self.n >= 2 and self.sd == 0

    @property
    def rules_out(self) -> float:
        """The largest absolute difference still inside the CI: 'no effect larger than this'."""
        return max(abs(self.diff.low), abs(self.diff.high)) if self.diff.defined else math.nan


def paired_difference(
    a: dict[int, float], b: dict[int, float], confidence: float = CONFIDENCE
) -> Paired:
    """Compare ``a`` and ``b`` (seed -> value) over the seeds where both are finite (``confidence``: of the
    interval of the mean difference)."""
    seeds = sorted(
        s
        for s in a.keys() & b.keys()
        if a[s] is not None and b[s] is not None and math.isfinite(a[s]) and math.isfinite(b[s])
    )
    diffs = np.array([a[s] - b[s] for s in seeds], dtype=float)
    n = len(seeds)
    interval = mean_ci(diffs, confidence, bounds=(-1.0, 1.0))
    sd = float(diffs.std(ddof=1)) if n > 1 else math.nan
    if n < 2 or sd == 0 or np.ptp(diffs) <= 1e-12 * max(1.0, float(np.abs(diffs).max())):
        # no spread (ties or identical seeds): the t statistic is undefined, not 0 or infinite
        return Paired(
            n,
            Interval(interval.mean, math.nan, math.nan, n),
            math.nan,
            0.0 if n > 1 else math.nan,
            math.nan,
            confidence,
        )
    result = stats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds])
    return Paired(
        n, interval, float(result.pvalue), sd, minimum_detectable_effect(sd, n), confidence
    )


def bonferroni(pvalues: list[float], family: int | None = None) -> list[float]:
    """Bonferroni-adjusted p-values, min(1, m p), with m = ``family`` or, by default, the number of finite
    ``pvalues``; NaN stays NaN. m p < alpha exactly when the (1 - alpha / m) interval of a t-test excludes
    zero, which is how ``study.analyse.decide`` uses it: one interval for every verdict of a block."""
    m = sum(1 for p in pvalues if p is not None and math.isfinite(p)) if family is None else family
    return [
        min(1.0, max(1, m) * p) if p is not None and math.isfinite(p) else math.nan
        for p in pvalues
    ]


def holm(pvalues: list[float], untested_count: bool = False) -> list[float]:
    """Holm-Bonferroni adjusted p-values. NaN stays NaN; it counts in the family size only when
    ``untested_count`` (a hypothesis whose table held no information is still one of the family's)."""
    indexed = [(p, i) for i, p in enumerate(pvalues) if p is not None and math.isfinite(p)]
    indexed.sort()
    m = len(pvalues) if untested_count else len(indexed)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


# Pocock's constant boundary for K equally spaced looks at a two-sided test with overall level 0.05: the
# critical |z| of every look (Jennison and Turnbull, Group Sequential Methods, 2000, Table 2.1; checked
# against scipy's multivariate normal in tests/sequential/test_sequential.py).
POCOCK_Z = {
    1: 1.960,
    2: 2.178,
    3: 2.289,
    4: 2.361,
    5: 2.413,
    6: 2.453,
    7: 2.485,
    8: 2.512,
    9: 2.535,
    10: 2.555,
}


def pocock_level(looks: int, alpha: float = ALPHA) -> float:
    """The nominal two-sided level each of ``looks`` looks tests at, so that stopping at the first
    significant look keeps the overall type I error at ``alpha`` (Pocock, Biometrika 1977): 0.05 for one
    look, 0.0294 for two, 0.0221 for three. Only ``alpha`` = 0.05 and 1 to 10 looks are tabled; anything
    else raises ValueError. The looks of ``study.sequential`` are not exactly equally spaced and use t
    rather than z: ``benchmarks/error_rates.py`` measures the error rates the rule really has."""
    if alpha != ALPHA or looks not in POCOCK_Z:
        raise ValueError(
            f"Pocock's level is tabled for alpha = {ALPHA} and 1 to {max(POCOCK_Z)} looks, "
            f"got alpha = {alpha}, {looks} looks"
        )
    return alpha if looks == 1 else float(2 * stats.norm.sf(POCOCK_Z[looks]))
