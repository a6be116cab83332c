"""The verdict rule's simulated error rates, as the report states them (numbers only, no words).

``benchmarks/error_rates.py`` simulates ``study.analyse.decide`` and writes ``data/error_rates.json`` next to
this module (docs/ERROR_RATES.md has the full tables); this reads it into frozen records.

    rates = load_error_rates()
    rates.null[0].false_better_or_worse.mean_over_blocks.rate   # a fraction; .se its Monte Carlo SE
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Estimate:
    """A simulated rate (fraction) and its Monte Carlo standard error."""

    rate: float
    se: float


@dataclass(frozen=True)
class Familywise:
    """How often a block has at least one flagged comparison: the mean over the blocks, the worst block (its
    name and rate) and, for information, how often a whole dataset has one."""

    mean_over_blocks: Estimate
    worst_block: str
    worst: Estimate
    per_dataset: Estimate


@dataclass(frozen=True)
class NullScenario:
    """Every true difference zero: false better/worse (familywise per block) and the share of comparisons
    called equivalent (correctly)."""

    key: str
    title: str
    reps: int
    false_better_or_worse: Familywise
    equivalent: Estimate


@dataclass(frozen=True)
class MarginScenario:
    """Every value truly one margin away: the share called equivalent (wrongly), any wrong accuracy verdict
    per block, and the share called better/worse in the true direction."""

    key: str
    title: str
    reps: int
    false_equivalent: Estimate
    any_wrong_verdict: Familywise
    correct_direction: float


@dataclass(frozen=True)
class Power:
    """One value per block truly better by ``differences_sd`` seed SDs: how often it is called better, the
    difference (in SDs) where that reaches 80%, the median stated 80%-power difference (``Decision.detectable``,
    in SDs) and the simulated power at it (NaN off the simulated grid)."""

    reps: int
    differences_sd: tuple[float, ...]
    detected: tuple[Estimate, ...]
    crossing_sd: float
    stated_sd: float
    power_at_stated: float


@dataclass(frozen=True)
class ErrorRates:
    """One simulation run of the verdict rule: its provenance, design and results."""

    commit: str
    dirty: bool  # the simulated code had changes not in ``commit``
    date: str
    command: str
    reps: int
    seed_sd: float  # fraction
    margin: float  # fraction
    alpha: float
    value_seeds: int
    baseline_seeds: int
    block_sizes: tuple[int, ...]
    null: tuple[NullScenario, ...]
    margin_scenarios: tuple[MarginScenario, ...]
    power: Power

    def scenario(self, key: str) -> NullScenario | MarginScenario:
        """The scenario named ``key`` ("a", "b", ..., "a paired", "f+", "f-")."""
        scenarios: list[NullScenario | MarginScenario] = [*self.null, *self.margin_scenarios]
        for found in scenarios:
            if found.key == key:
                return found
        raise KeyError(f"no simulated scenario {key!r}")


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _estimate(raw: dict) -> Estimate:
    return Estimate(_number(raw["rate"]), _number(raw["se"]))


def _familywise(raw: dict) -> Familywise:
    return Familywise(
        _estimate(raw["mean_over_blocks"]),
        raw["worst_block"],
        _estimate(raw["worst"]),
        _estimate(raw["per_dataset"]),
    )


def load_error_rates(path: Path | None = None) -> ErrorRates:
    """The simulated error rates from ``path`` (default: the package's ``data/error_rates.json``)."""
    text = (
        path.read_text()
        if path is not None
        else resources.files("study.report").joinpath("data/error_rates.json").read_text()
    )
    raw = json.loads(text)
    power = raw["power"]
    return ErrorRates(
        commit=raw["commit"],
        dirty=bool(raw["dirty"]),
        date=raw["date"],
        command=raw["command"],
        reps=int(raw["reps"]),
        seed_sd=float(raw["seed_sd"]),
        margin=float(raw["margin"]),
        alpha=float(raw["alpha"]),
        value_seeds=int(raw["value_seeds"]),
        baseline_seeds=int(raw["baseline_seeds"]),
        block_sizes=tuple(int(size) for size in raw["block_sizes"]),
        null=tuple(
            NullScenario(
                s["key"],
                s["title"],
                int(s["reps"]),
                _familywise(s["false_better_or_worse"]),
                _estimate(s["equivalent"]),
            )
            for s in raw["null"]
        ),
        margin_scenarios=tuple(
            MarginScenario(
                s["key"],
                s["title"],
                int(s["reps"]),
                _estimate(s["false_equivalent"]),
                _familywise(s["any_wrong_verdict"]),
                _number(s["correct_direction"]),
            )
            for s in raw["margin_scenarios"]
        ),
        power=Power(
            int(power["reps"]),
            tuple(float(d) for d in power["differences_sd"]),
            tuple(_estimate(e) for e in power["detected"]),
            _number(power["crossing_sd"]),
            _number(power["stated_sd"]),
            _number(power["power_at_stated"]),
        ),
    )
