"""Seeds and test images as two sources of uncertainty, from the stored predictions.

Every verdict's interval counts the seeds only: the test images are one fixed subset (1,000 images: a
+0.7 pp difference is 7 of them), and a new subset would move every accuracy. A two-level bootstrap (Davison
and Hinkley 1997, section 3.8) resamples both: the seeds of each side (a paired comparison's seed pairs
together) and the test images (the same draw for both sides, since both were scored on the same images), and
gives the difference's percentile interval at the comparison's own level beside the seeds-only one; the
images' share is the variance of the images-only bootstrap over the sum of both one-source variances. Where the
design pairs the seeds (the same initial weights), the images each pair disagrees on give McNemar's exact test:
what the test images alone say, the seeds taken as given.

    found = two_source(analysis, predictions, test_sets, [lead, ...])   # one TwoSource per comparison
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from study.analyse.comparisons import Analysis, Comparison

REPLICATES = 2000
SEED = 20261205  # the bootstrap's own stream: the same numbers on every machine


@dataclass(frozen=True)
class TwoSource:
    experiment: str
    dataset: str
    value: str
    diff: float  # over the comparison's seeds and every test image (fractions)
    level: float  # the comparison's confidence
    seeds_low: float  # resampling the seeds only
    seeds_high: float
    low: float  # resampling the seeds and the test images
    high: float
    image_share: float  # of the one-source variances, the images'
    images: int
    # a paired comparison's seed pairs on the same images: images only the value gets right, only the
    # baseline gets right (summed over the pairs), and the exact McNemar p on them (nan unpaired): what
    # the test images alone say, each seed pair's images taken as given
    value_only: int = 0
    baseline_only: int = 0
    mcnemar_p: float = math.nan


def _correct(
    analysis: Analysis,
    predictions: dict[str, np.ndarray],
    test_sets: dict[str, tuple[str, np.ndarray, np.ndarray]],
    keys: list[str],
) -> np.ndarray | None:
    """Seeds x images: whether each trial predicted each test image right; None when one has none."""
    rows = []
    for key in keys:
        spec = analysis.trials.get(key)
        found = predictions.get(key)
        if spec is None or found is None or spec.fingerprint not in test_sets:
            return None
        rows.append(found == test_sets[spec.fingerprint][2])
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
    paired = c.paired and len(v) == len(b)

    def draws(seeds: bool, pictures: bool) -> np.ndarray:
        """``replicates`` differences, every replicate's seeds and images drawn at once."""
        shape = (replicates, len(v))
        sv = rng.integers(0, len(v), shape) if seeds else np.broadcast_to(np.arange(len(v)), shape)
        if paired:
            sb = sv
        elif seeds:
            sb = rng.integers(0, len(b), (replicates, len(b)))
        else:
            sb = np.broadcast_to(np.arange(len(b)), (replicates, len(b)))
        per_image = v[sv].mean(axis=1) - b[sb].mean(axis=1)  # replicates x images
        if not pictures:
            return per_image.mean(axis=1)
        im = rng.integers(0, images, (replicates, images))
        return np.take_along_axis(per_image, im, axis=1).mean(axis=1)

    both, seeds_only, images_only = draws(True, True), draws(True, False), draws(False, True)
    tail = (1 - c.level) / 2 * 100
    low, high = np.percentile(both, [tail, 100 - tail])
    seeds_low, seeds_high = np.percentile(seeds_only, [tail, 100 - tail])
    spread = seeds_only.var() + images_only.var()
    value_only = baseline_only = 0
    mcnemar = math.nan
    if paired:
        value_only = int(((v == 1) & (b == 0)).sum())
        baseline_only = int(((v == 0) & (b == 1)).sum())
        discordant = value_only + baseline_only
        if discordant:
            mcnemar = float(stats.binomtest(value_only, discordant, 0.5).pvalue)
    return TwoSource(
        c.experiment,
        c.dataset,
        c.value,
        float(v.mean() - b.mean()),
        c.level,
        float(seeds_low),
        float(seeds_high),
        float(low),
        float(high),
        float(images_only.var() / spread) if spread > 0 else math.nan,
        images,
        value_only,
        baseline_only,
        mcnemar,
    )
