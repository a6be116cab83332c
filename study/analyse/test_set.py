"""Seeds and test images as two sources of uncertainty, from the stored predictions.

Every verdict's interval counts the seeds only: the test images are one fixed subset (1,000 images: a
+0.7 pp difference is 7 of them), and a new subset would move every accuracy. This module states the
decomposition beside each headline verdict:

- the images' variance of the difference: a bootstrap over the test images with the comparison's seeds fixed
  (one draw for both sides, since both were scored on the same images; Davison and Hinkley 1997, section 2.4);
- the seeds' variance: the verdict's own standard error, so that the seeds part is exactly the test the verdict
  rests on (a percentile bootstrap over three seeds cannot reach a
  99% level: it returns the range of the seeds);
- the two together: the difference plus or minus t times the root of their sum, at the verdict's level and its
  own degrees of freedom (conservative: the images' variance, estimated from every test image, would add
  degrees of freedom that are not counted, so the interval only ever widens the verdict's), and the images'
  share of the sum.

Where the design pairs the seeds (the same initial weights), the images the pairs disagree on give an exact
sign test clustered by image: each image counts once, by the net number of pairs that get it right only with the
value minus only with the baseline (the same image across pairs is not independent). It conditions on these
trained networks: what the test images alone carry, not a verdict about the configurations.

    found = two_source(analysis, predictions, test_sets, [lead, ...])   # one TwoSource per comparison
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from study.analyse.comparisons import Analysis, Comparison
from study.analyse.per_class import predicted

REPLICATES = 2000
SEED = 20261205  # the bootstrap's own stream: the same numbers on every machine


@dataclass(frozen=True)
class TwoSource:
    experiment: str
    dataset: str
    value: str
    diff: float  # the verdict's difference (fractions)
    level: float  # the verdict's confidence
    seeds_low: float  # the verdict's own interval: the seeds only
    seeds_high: float
    low: float  # the seeds and the test images together
    high: float
    image_share: float  # of the two variances, the images'
    images: int
    # a paired comparison: images that more seed pairs get right only with the value than only with the
    # baseline, and the reverse; the exact sign test on them (nan unpaired)
    value_images: int = 0
    baseline_images: int = 0
    pairs: int = 0
    sign_p: float = math.nan


def _correct(
    analysis: Analysis,
    predictions: dict[str, np.ndarray],
    test_sets: dict[str, tuple[str, np.ndarray, np.ndarray]],
    keys: list[str],
) -> np.ndarray | None:
    """Seeds x images: whether each trial predicted each test image right; None when one has none."""
    rows = []
    for key in keys:
        kept = predicted(analysis, predictions, test_sets, key)
        if kept is None:
            return None
        rows.append(kept[0] == kept[1])
    return np.array(rows, dtype=np.float64) if rows else None


def two_source(
    analysis: Analysis,
    predictions: dict[str, np.ndarray],
    test_sets: dict[str, tuple[str, np.ndarray, np.ndarray]],
    comparisons: list[Comparison],
    replicates: int = REPLICATES,
) -> list[TwoSource]:
    """The two-source interval of each comparison whose seeds all have predictions and whose sides have two
    or more seeds."""
    found = []
    for c in comparisons:
        block = analysis.blocks.get((c.experiment, c.dataset))
        if block is None or len(c.seeds_value) < 2 or len(c.seeds_baseline) < 2:
            continue
        if not (math.isfinite(c.low) and math.isfinite(c.high)):  # no interval to widen
            continue
        value = block.value(c.value)
        if value is None:
            continue
        v = _correct(analysis, predictions, test_sets, [value.keys[s] for s in c.seeds_value])
        b = _correct(
            analysis, predictions, test_sets, [block.baseline.keys[s] for s in c.seeds_baseline]
        )
        if v is None or b is None or v.shape[1] != b.shape[1]:
            continue
        found.append(_bootstrap(c, v, b, replicates))
    return found


def _bootstrap(c: Comparison, v: np.ndarray, b: np.ndarray, replicates: int) -> TwoSource:
    rng = np.random.default_rng([SEED, len(v), len(b), v.shape[1]])
    images = v.shape[1]
    per_image = v.mean(axis=0) - b.mean(axis=0)  # the comparison's seeds fixed
    drawn = rng.integers(0, images, (replicates, images))
    image_var = float(per_image[drawn].mean(axis=1).var(ddof=1))
    quantile = float(stats.t.ppf((1 + c.level) / 2, c.dof)) if c.dof > 0 else math.nan
    seed_var = c.se**2  # the verdict's own standard error
    total = seed_var + image_var
    if math.isfinite(total) and total > 0:
        # at the verdict's own degrees of freedom: Satterthwaite's would count the images' variance as known
        # and could give an interval narrower than the verdict's; this one only ever widens it
        spread = quantile * math.sqrt(total)
        low, high, share = c.diff - spread, c.diff + spread, image_var / total
    else:
        low = high = share = math.nan
    value_images = baseline_images = 0
    sign = math.nan
    paired = c.paired and len(v) == len(b)
    if paired:
        net = ((v == 1) & (b == 0)).sum(axis=0) - ((v == 0) & (b == 1)).sum(axis=0)
        value_images, baseline_images = int((net > 0).sum()), int((net < 0).sum())
        if value_images + baseline_images:
            sign = float(stats.binomtest(value_images, value_images + baseline_images, 0.5).pvalue)
    return TwoSource(
        c.experiment,
        c.dataset,
        c.value,
        c.diff,
        c.level,
        c.low,
        c.high,
        max(-1.0, low),
        min(1.0, high),
        share,
        images,
        value_images,
        baseline_images,
        len(v) if paired else 0,
        sign,
    )
