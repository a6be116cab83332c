"""One noise model per dataset: seed-to-seed variances moderated across configurations (empirical Bayes).

A one-at-a-time study has 20-30 configurations per dataset, each with 2-4 seeds (the baseline with more).
Estimated alone, each configuration's seed variance has 1-3 degrees of freedom and its t-test a huge
critical value. Following limma's moderated t (Smyth 2004, "Linear models and empirical Bayes methods
for assessing differential expression in microarray experiments", Stat. Appl. Genet. Mol. Biol. 3(1)),
the sample variances s_c^2 (d_c degrees of freedom) are modelled as scaled chi-square draws around
variances that themselves follow a scaled inverse chi-square prior with d0 degrees of freedom and scale
s0^2. The prior is fitted by Smyth's method of moments on log s_c^2 (section 6.2 of the paper), and each
configuration's variance becomes the posterior

    s~_c^2 = (d0 s0^2 + d_c s_c^2) / (d0 + d_c)     with min(d0 + d_c, sum of every d_c) degrees of freedom.

The cap is limma's (``eBayes``: ``df.total`` at most ``df.pooled``): a prior fitted on a few configurations
knows the variance no better than all their seeds together, so d0 = infinity (the variances differ no more
than sampling explains) gives the pooled variance its pooled degrees of freedom, not a known variance; four
paired comparisons of three seeds gave z-tests and p-values of 1e-83 without it.

An unstable configuration must not borrow a small variance: where a configuration's own variance exceeds
its posterior, the test uses its own variance and its own degrees of freedom (``moderated`` is then
False). That keeps the error rate of a configuration whose noise is several times the others' near
nominal (``benchmarks/error_rates.py`` simulates it: 5.3% +- 0.4% in its worst experiment), at a cost in
power: about 40% of comparisons fall back to a value's own 3 degrees of freedom (``docs/ERROR_RATES.md``).

Two configurations are compared by a Welch t-test on these variances with Satterthwaite's degrees of
freedom (``compare_means``): each side's variance counts with the degrees of freedom it has, d_c + d0 where
moderated and d_c where the side kept its own (larger) variance (``MeanComparison.variance_dof`` records
both; without a prior the test is scipy's Welch t). Where a value draws the same initial weights per seed as
the baseline (fixed by the design, ``study.analyse.comparisons.shares_initial_weights``), the comparison is a
paired t-test (``study.analyse.decide.compare_paired``) whose variance of the seed-wise differences is
moderated the same way, by a second prior fitted on the difference variances of the dataset's paired
comparisons; ``seed_correlation`` measures how much the seeds pair.

    prior = fit_prior([(variance, dof), ...])              # Prior(d0, s0_squared)
    noise = moderate(variance=1.2e-5, dof=3, prior=prior)  # Noise(variance, dof, moderated)
    result = compare_means(values_a, values_b, prior)      # Welch t on moderated variances

Accuracies are fractions; variances are in fraction^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import integrate, optimize, special, stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Prior:
    """The fitted prior of the seed variances: ``dof`` (d0, may be ``inf``: one pooled variance) and
    ``variance`` (s0^2, fraction^2); ``configurations`` is how many variances it was fitted on."""

    dof: float
    variance: float
    configurations: int
    pooled: float = math.inf  # the degrees of freedom of every variance it was fitted on, together

    def total(self, dof: float) -> float:
        """A moderated variance's degrees of freedom: d0 + d, at most ``pooled`` (limma's cap)."""
        return min(self.dof + dof, self.pooled)

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance) if math.isfinite(self.variance) else math.nan

    @property
    def usable(self) -> bool:
        return (
            self.configurations >= 3
            and math.isfinite(self.variance)
            and self.variance > 0
            and self.dof > 0
        )


NO_PRIOR = Prior(0.0, math.nan, 0)


def _trigamma_inverse(y: float) -> float:
    """x with trigamma(x) = y (y > 0), by Newton's method as in limma's ``trigammaInverse``."""
    if y > 1e7:
        return 1 / math.sqrt(y)
    if y < 1e-6:
        return 1 / y
    x = 0.5 + 1 / y
    for _ in range(50):
        tri = float(special.polygamma(1, x))
        step = tri * (1 - tri / y) / float(special.polygamma(2, x))
        x += step
        if -step / x < 1e-8:
            break
    return x


def fit_prior(samples: list[tuple[float, int]]) -> Prior:
    """Fit (d0, s0^2) to ``samples`` of (sample variance, its degrees of freedom) by Smyth's moments.

    Samples with no degrees of freedom or a zero variance (tied seeds) are left out. Fewer than three
    usable samples give ``NO_PRIOR`` (nothing to borrow). When the log-variances vary no more than
    chi-square sampling alone explains, d0 is infinite: one pooled variance for every configuration.
    """
    usable = [(v, d) for v, d in samples if d >= 1 and math.isfinite(v) and v > 0]
    if len(usable) < 3:
        return NO_PRIOR
    variances = np.array([v for v, _ in usable])
    dofs = np.array([d for _, d in usable], dtype=float)
    z = np.log(variances)
    e = z - special.digamma(dofs / 2) + np.log(dofs / 2)
    e_mean = float(e.mean())
    excess = float(np.var(e, ddof=1) - np.mean(special.polygamma(1, dofs / 2)))
    if excess <= 0:
        d0 = math.inf
        s0 = math.exp(e_mean)
    else:
        d0 = 2 * _trigamma_inverse(excess)
        s0 = math.exp(e_mean + float(special.digamma(d0 / 2)) - math.log(d0 / 2))
    return Prior(d0, s0, len(usable), float(dofs.sum()))


@dataclass(frozen=True)
class Noise:
    """The variance (fraction^2) one configuration's test uses, its degrees of freedom, and whether it was
    moderated (False: too few seeds to estimate, no prior, or its own variance is larger than the posterior)."""

    variance: float
    dof: float
    moderated: bool


def moderate(variance: float, dof: int, prior: Prior) -> Noise:
    """The posterior variance of one configuration (its own where that is larger: see the module notes)."""
    if not prior.usable:
        return Noise(variance if dof >= 1 else math.nan, float(dof), False)
    if dof < 1 or not math.isfinite(variance):
        return Noise(prior.variance, prior.total(0), True)
    if math.isinf(prior.dof):
        posterior = prior.variance
    else:
        posterior = (prior.dof * prior.variance + dof * variance) / (prior.dof + dof)
    posterior_dof = prior.total(dof)
    if variance > posterior:
        return Noise(variance, float(dof), False)
    return Noise(posterior, posterior_dof, True)


@dataclass(frozen=True)
class MeanComparison:
    """Mean of ``a`` minus mean of ``b`` with its t-interval, the two-sided p, and what they rest on.

    ``test`` names it ("Welch t, moderated variances"); ``dof`` is Satterthwaite's (a paired test's: its
    difference variance's); ``se`` the standard error of the difference (fractions); ``variance_dof`` the
    degrees of freedom of each variance the test used (Welch: the value's and the baseline's; paired: the
    differences'), d + d0 where moderated, d where a configuration kept its own variance."""

    n_a: int
    n_b: int
    diff: float
    low: float
    high: float
    p: float
    se: float
    dof: float
    test: str
    confidence: float = CONFIDENCE  # of the interval low..high (1 - the block's alpha / its tests)
    variance_dof: tuple[float, ...] = ()

    def at_confidence(self, confidence: float) -> MeanComparison:
        """The same test with its interval at ``confidence`` (t quantile at ``dof``, kept inside [-1, 1]);
        p, the estimate and its standard error do not change. An undefined interval stays undefined."""
        if not (self.defined and math.isfinite(self.se) and self.se > 0):
            return replace(self, confidence=confidence)
        half = float(stats.t.ppf((1 + confidence) / 2, self.dof)) * self.se
        return replace(
            self,
            low=max(-1.0, self.diff - half),
            high=min(1.0, self.diff + half),
            confidence=confidence,
        )

    @property
    def defined(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def excludes_zero(self) -> bool:
        return self.defined and (self.low > 0 or self.high < 0)

    @property
    def rules_out(self) -> float:
        """The largest absolute difference still inside the interval."""
        return max(abs(self.low), abs(self.high)) if self.defined else math.nan


def _welch(a: Noise, n_a: int, b: Noise, n_b: int) -> tuple[float, float]:
    """Standard error of a difference of two means and its Welch-Satterthwaite degrees of freedom."""
    part_a, part_b = a.variance / n_a, b.variance / n_b
    se = math.sqrt(part_a + part_b)
    denominator = sum(
        p * p / d for p, d in ((part_a, a.dof), (part_b, b.dof)) if math.isfinite(d) and d > 0
    )
    dof = (part_a + part_b) ** 2 / denominator if denominator > 0 else math.inf
    return se, dof


def compare_means(
    a: list[float], b: list[float], prior: Prior, confidence: float = CONFIDENCE
) -> MeanComparison:
    """Welch's t-test of mean(a) - mean(b), each side's variance moderated by ``prior``, intervals kept
    inside [-1, 1]. With fewer than 2 values on a side and no prior the test is undefined (NaN p)."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_a, n_b = len(a_arr), len(b_arr)
    test = "Welch t, moderated variances" if prior.usable else "Welch t"
    if n_a == 0 or n_b == 0:
        return MeanComparison(
            n_a, n_b, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, test
        )
    diff = float(a_arr.mean() - b_arr.mean())
    noise_a = moderate(float(a_arr.var(ddof=1)) if n_a > 1 else math.nan, n_a - 1, prior)
    noise_b = moderate(float(b_arr.var(ddof=1)) if n_b > 1 else math.nan, n_b - 1, prior)
    if (
        not (math.isfinite(noise_a.variance) and math.isfinite(noise_b.variance))
        or noise_a.dof < 1
        or noise_b.dof < 1
    ):
        return MeanComparison(
            n_a, n_b, diff, math.nan, math.nan, math.nan, math.nan, math.nan, test
        )
    se, dof = _welch(noise_a, n_a, noise_b, n_b)
    if prior.usable and not (noise_a.moderated and noise_b.moderated):
        # a side whose own variance is above its moderated one keeps it, with its own df: say which
        kept = (
            "both sides keep their"
            if not (noise_a.moderated or noise_b.moderated)
            else ("the value keeps its" if not noise_a.moderated else "the baseline keeps its")
        )
        test = f"Welch t, moderated variances ({kept} own larger variance)"
    if se <= 1e-9:  # no spread on either side (tied seeds): no test, never p = 0 or 1
        return MeanComparison(
            n_a,
            n_b,
            diff,
            math.nan,
            math.nan,
            math.nan,
            0.0,
            dof,
            test,
            confidence,
            (noise_a.dof, noise_b.dof),
        )
    t_crit = float(stats.t.ppf((1 + confidence) / 2, dof))
    p = float(2 * stats.t.sf(abs(diff) / se, dof))
    return MeanComparison(
        n_a,
        n_b,
        diff,
        max(-1.0, diff - t_crit * se),
        min(1.0, diff + t_crit * se),
        p,
        se,
        dof,
        test,
        confidence,
        (noise_a.dof, noise_b.dof),
    )


def t_test_power(delta: float, se: float, dof: float, alpha: float = 0.05) -> float:
    """Power of a two-sided t-test of a true difference ``delta`` whose estimate has standard error ``se``
    with ``dof`` degrees of freedom: the noncentral t written as an integral over the chi-square of the
    variance estimate, which stays accurate where scipy's ``nct`` returns NaN (few df, large effects)."""
    if not (math.isfinite(se) and se > 0 and dof >= 1):
        return math.nan
    crit = float(stats.t.ppf(1 - alpha / 2, dof))
    nc = abs(delta) / se
    if dof > 1000:  # the normal limit
        return float(stats.norm.sf(crit - nc) + stats.norm.cdf(-crit - nc))
    fast = float(stats.nct.sf(crit, dof, nc) + stats.nct.cdf(-crit, dof, nc))
    if math.isfinite(fast):
        return min(1.0, max(0.0, fast))
    if (
        nc > crit + 8
    ):  # scipy's NaN lies far in the tail: power is 1 to three decimals even at 1 df
        return 1.0

    def given_variance(v: float) -> float:
        scale = crit * math.sqrt(v / dof)
        return float(
            (stats.norm.sf(scale - nc) + stats.norm.cdf(-scale - nc)) * stats.chi2.pdf(v, dof)
        )

    value, _ = integrate.quad(given_variance, 0, math.inf, limit=200)
    return float(min(1.0, max(0.0, value)))


def detectable_difference(
    se: float, dof: float, alpha: float = 0.05, power: float = 0.80
) -> float:
    """The smallest true difference a two-sided t-test at level ``alpha`` with standard error ``se`` and
    ``dof`` degrees of freedom detects with probability ``power`` (fractions). NaN when undefined."""
    if not (math.isfinite(se) and se > 0 and dof >= 1):
        return math.nan
    high = 4 * se
    while t_test_power(high, se, dof, alpha) < power:
        high *= 2
        if high > 10:
            return math.nan
    return float(
        optimize.brentq(lambda d: t_test_power(d, se, dof, alpha) - power, 0.0, high, xtol=1e-9)
    )


@dataclass(frozen=True)
class SeedCorrelation:
    """Pearson correlation of seed-matched deviations (value minus its mean, baseline minus its mean) over
    an experiment's comparisons, and the one-sided p of "pairing carries information" (r > 0)."""

    r: float
    pairs: int
    p: float

    @property
    def pairs_informative(self) -> bool:
        return math.isfinite(self.p) and self.p < 0.05 and self.r > 0


def seed_correlation(pairs: list[tuple[dict[int, float], dict[int, float]]]) -> SeedCorrelation:
    """Do seeds carry across values? ``pairs``: (value seed -> accuracy, baseline seed -> accuracy) per
    comparison; each side is centred on its own mean over the shared seeds, then all deviations pooled.
    Across architectures the same seed draws different weights, so expect r near 0 there."""
    xs, ys, centred = [], [], 0
    for value, base in pairs:
        seeds = sorted(value.keys() & base.keys())
        if len(seeds) < 3:
            continue
        x = np.array([value[s] for s in seeds])
        y = np.array([base[s] for s in seeds])
        xs.extend(x - x.mean())
        ys.extend(y - y.mean())
        centred += 1
    n = len(xs)
    dof = (
        n - centred - 1
    )  # within-comparison correlation: one mean per comparison removed (as in ANCOVA)
    if n < 3 or dof < 2 or np.std(xs) == 0 or np.std(ys) == 0:
        return SeedCorrelation(math.nan, n, math.nan)
    r = float(np.corrcoef(xs, ys)[0, 1])
    t = r * math.sqrt(dof / max(1e-12, 1 - r * r))
    return SeedCorrelation(r, n, float(stats.t.sf(t, dof)))
