"""What a value costs to train: its median time per epoch over seeds, the range over seeds, and its MACs.

A trial's epochs are timed by the trainer without graph tracing or data loading (``study.train.fastfit``
keeps those apart since store schema 2), so a seed's time per epoch is the mean of its epochs' times:
one pass over the training subset plus one validation pass, in seconds. Costing per epoch, not per
trial, puts a diverged seed that stopped after two epochs on the same footing as one that ran ten.

    cost = epoch_cost({1: [0.41, 0.40], 2: [0.44, 0.43]}, {1: True, 2: True}, macs=2_293_000)
    cost.median_epoch_s, cost.low, cost.high      # 0.42, 0.405, 0.435 (seconds per epoch)
    cost_ratio(cost, baseline_cost).ratio         # the value's median over the baseline's

Trials stored before schema 2 (``trace_seconds`` NULL) may hold a graph's tracing in their first epoch
(12.7 s against 4.0 s later in one measured case), and which of them traced cannot be told afterwards.
For them every seed of two or more epochs is costed on its epochs after the first (``first_epoch_dropped``
counts them); a seed of one epoch is costed on that epoch as it is (``may_include_trace`` counts them,
and the report says so).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    """One value's training cost over its finished seeds. Times are seconds per epoch (training and
    validation pass); NaN when no seed was timed."""

    median_epoch_s: float  # median over seeds of each seed's mean epoch time
    low: float  # the fastest seed's mean epoch time
    high: float  # the slowest seed's mean epoch time
    macs: (
        int | None
    )  # forward multiply-accumulates per image (study.plan.shapes), None when not stored
    seeds: int = 0  # seeds timed
    first_epoch_dropped: int = (
        0  # seeds stored before tracing was timed apart, costed on epochs 2 and later
    )
    may_include_trace: int = (
        0  # such seeds with a single epoch, costed on it: it may include tracing
    )

    @property
    def defined(self) -> bool:
        return self.seeds > 0 and math.isfinite(self.median_epoch_s)

    @classmethod
    def unknown(cls, macs: int | None = None) -> Cost:
        return cls(math.nan, math.nan, math.nan, macs)


def seed_epoch_seconds(
    epoch_seconds: Sequence[float | None], traced_apart: bool
) -> tuple[float, bool] | None:
    """One seed's mean epoch time (seconds) and whether its first epoch was left out.

    ``epoch_seconds``: its epochs' times in epoch order (None where not stored); ``traced_apart``: the trial
    recorded its tracing apart (store schema 2), so every epoch counts. Otherwise a trial of two or more
    epochs is costed on the epochs after its first. None when no epoch has a time."""
    times = list(epoch_seconds)
    dropped = not traced_apart and len(times) > 1
    counted = [t for t in (times[1:] if dropped else times) if t is not None and math.isfinite(t)]
    return (statistics.fmean(counted), dropped) if counted else None


def epoch_cost(
    epochs: Mapping[int, Sequence[float | None]],
    traced_apart: Mapping[int, bool],
    macs: int | None,
) -> Cost:
    """The cost of one value from its seeds' epoch times.

    ``epochs``: seed -> that trial's ``epoch_seconds`` in epoch order; ``traced_apart``: seed -> whether the
    trial recorded ``trace_seconds`` (a seed missing from it counts as stored before schema 2); ``macs``:
    forward multiply-accumulates per image. Median, low and high are over the seeds' mean epoch times."""
    per_seed, dropped, single = [], 0, 0
    for seed, times in epochs.items():
        apart = traced_apart.get(seed, False)
        timed = seed_epoch_seconds(times, apart)
        if timed is None:
            continue
        per_seed.append(timed[0])
        dropped += timed[1]
        single += not apart and len(times) == 1
    if not per_seed:
        return Cost.unknown(macs)
    return Cost(
        statistics.median(per_seed),
        min(per_seed),
        max(per_seed),
        macs,
        len(per_seed),
        dropped,
        single,
    )


@dataclass(frozen=True)
class CostRatio:
    """A value's cost relative to its baseline's (dimensionless; NaN when either side is untimed).

    ``ratio`` is the value's median epoch time over the baseline's; ``low``..``high`` is the range of the
    ratio over any seed of each arm: the value's fastest seed over the baseline's slowest, and the value's
    slowest over the baseline's fastest. Min/max, no bootstrap: it bounds every per-seed ratio, so it is
    wider than a confidence interval of the median ratio would be, and with one seed per arm it is the
    point itself."""

    ratio: float
    low: float
    high: float

    @property
    def defined(self) -> bool:
        return math.isfinite(self.ratio)


def cost_ratio(value: Cost, baseline: Cost) -> CostRatio:
    """``value`` over ``baseline`` (see ``CostRatio``); NaN throughout when either is undefined or zero."""
    if not (value.defined and baseline.defined) or baseline.low <= 0:
        return CostRatio(math.nan, math.nan, math.nan)
    return CostRatio(
        value.median_epoch_s / baseline.median_epoch_s,
        value.low / baseline.high,
        value.high / baseline.low,
    )
