"""Error rates of the verdict engine (``study.analyse.decide``), by simulation (issue 15).

    .venv/bin/python benchmarks/error_rates.py [--reps 3000] [--json output/error_rates.json] \
        [--markdown docs/ERROR_RATES.md]

Simulates whole datasets shaped like the held-out MNIST probe study: eight experiments (blocks) with
4, 4, 4, 3, 2, 3, 2 and 4 values (26 comparisons), 4 seeds per value, one baseline of 12 seeds shared by
every block, a seed-to-seed SD of 0.6 pp around an accuracy of 96.3% and an equivalence margin of 1 pp.
Each simulated dataset goes through ``decide_dataset`` exactly as the report calls it (one noise prior
fitted over the 27 distinct configurations, one Bonferroni interval per comparison within each block), and
the verdicts are counted:

- a-e, and a with the paired engine: every true difference is 0, so any better/worse verdict is false.
  Reported: the familywise error rate per block (any false better/worse among the block's values),
  its mean over the blocks and its worst block, and (for information) the rate per dataset.
- d also: the failure-rate test (Boschloo, Bonferroni over the block) calling a value's failure rate different.
- f: every value is truly +1 margin (then -1 margin) from the baseline: the rate of "equivalent" verdicts, and
  the familywise rate per block of any wrong accuracy verdict (a false "equivalent" or the wrong direction).
- g: one value per block truly better by 0.5-3 seed SDs: the rate of "better" verdicts (power), and the
  engine's stated 80%-power difference (``Decision.detectable``) against the difference where the
  simulated power crosses 80%.

With ``--staged`` (the section "Seeds in stages" of docs/ERROR_RATES.md; ``--markdown`` rewrites only it):
the same scenarios under the quick profile's seeds in stages (``study.sequential``): 3 value seeds and 9
baseline seeds at the first look, 3 more seeds for each comparison ``sequential.reason_from_counts`` finds
undecided and decidable, every look at the product's level (``comparisons.look_level``: Pocock's), against
one look at 3 and at 6 seeds on the same draws; plus the value seeds the stages use.

    .venv/bin/python benchmarks/error_rates.py --staged --reps 1500 --power-reps 300 --markdown docs/ERROR_RATES.md

Every rate comes with its Monte Carlo standard error. ``tests/analyse/test_error_rates.py`` runs a short version.
The default run (not ``--staged``, not ``--seed-sd``) also writes the numbers the report states to
``study/report/data/error_rates.json`` (``--report-data``; read by ``study.report.error_rates``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from study.analyse import decide
from study.analyse.comparisons import look_level
from study.analyse.decide import Arm, Decision, decide_dataset
from study.analyse.noise import Prior, moderate
from study.analyse.sequential import Reason, reason_from_counts
from study.analyse.stats import ALPHA, DECISIVE, POWER, Verdict
from study.declare.spec import BASELINE_SEED_FACTOR, PROFILES

# The held-out MNIST probe's experiments, each with its values besides the baseline's.
BLOCKS = (
    ("batch_size", 4),
    ("initializer", 4),
    ("activation", 4),
    ("kernel_size", 3),
    ("stride", 2),
    ("filters", 3),
    ("conv_layers", 2),
    ("pooling", 4),
)
VALUE_SEEDS = 4
BASELINE_SEEDS = 12
BASELINE_ACCURACY = 0.963
SEED_SD = 0.006  # seed-to-seed SD of a final accuracy (fraction): 0.6 pp
MARGIN = 0.01  # the equivalence margin (fraction): 1 pp
SEED_EFFECT_SD = 0.004  # paired scenario: an offset shared by the same seed of every configuration
FAILURE_PROBABILITY = 0.1  # scenario d: chance that a seed fails to learn
UNSTABLE_BLOCK = "stride"  # scenario b: its first value has 3x the variance (a two-value block: mildest Bonferroni)
POWER_GRID = (0.5, 1.0, 1.5, 2.0, 3.0)  # scenario g: true differences in seed SDs
NOT_LEARNED_BELOW = 0.2  # a stored seed with a lower final accuracy did not learn (scenario e)

COMPARISONS = sum(size for _, size in BLOCKS)
BLOCK_OF = np.repeat(
    np.arange(len(BLOCKS)), [size for _, size in BLOCKS]
)  # block index of each comparison
FIRST_OF_BLOCK = np.concatenate([[0], np.cumsum([size for _, size in BLOCKS])[:-1]])

Noise = Callable[
    [np.random.Generator, tuple[int, ...]], np.ndarray
]  # (rng, shape) -> deviations, fractions


def normal_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Gaussian seed noise with SD ``SEED_SD``."""
    return SEED_SD * rng.standard_normal(shape)


def heavy_tailed_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Student t with 3 degrees of freedom (variance 3), scaled to SD ``SEED_SD``."""
    return SEED_SD / math.sqrt(3) * rng.standard_t(3, shape)


def resampled_noise(residuals: np.ndarray) -> Noise:
    """Draws with replacement from ``residuals`` (fractions), already scaled for their lost freedom."""
    return lambda rng, shape: rng.choice(residuals, size=shape, replace=True)


@dataclass(frozen=True)
class Scenario:
    """One simulated world: how seeds' accuracies are drawn and which differences are real."""

    key: str  # short name in the JSON and the tables: "a", "b", ..., "a paired", "f+", "g 1.5"
    title: str
    noise: Noise
    effects: tuple[float, ...] = (
        0.0,
    ) * COMPARISONS  # each value's true difference from the baseline
    sd_factors: tuple[float, ...] = (
        1.0,
    ) * COMPARISONS  # each value's seed SD, in multiples of the noise's
    failure_probability: float = 0.0  # chance that any seed (value or baseline) fails to learn
    seed_effect_sd: float = (
        0.0  # an offset shared by the same-numbered seeds of every configuration
    )
    paired: bool = False  # the engine's paired t over shared seeds instead of moderated Welch


def null_scenarios(residuals: np.ndarray | None) -> list[Scenario]:
    """Scenarios a-e and a with the paired engine: every true difference 0 (e only with stored residuals)."""
    unstable = [1.0] * COMPARISONS
    unstable[FIRST_OF_BLOCK[[name for name, _ in BLOCKS].index(UNSTABLE_BLOCK)]] = math.sqrt(3)
    scenarios = [
        Scenario("a", "Global null, normal noise", normal_noise),
        Scenario(
            "b",
            f"Global null, {UNSTABLE_BLOCK}'s first value at 3x the variance",
            normal_noise,
            sd_factors=tuple(unstable),
        ),
        Scenario("c", "Global null, heavy tails (t, 3 degrees of freedom)", heavy_tailed_noise),
        Scenario(
            "d",
            f"Global null, every seed fails to learn with probability {FAILURE_PROBABILITY}",
            normal_noise,
            failure_probability=FAILURE_PROBABILITY,
        ),
    ]
    if residuals is not None:
        scenarios.append(
            Scenario(
                "e",
                "Global null, residuals resampled from the stored MNIST probe",
                resampled_noise(residuals),
            )
        )
    scenarios.append(
        Scenario(
            "a paired",
            f"Global null, paired engine, shared seed offsets "
            f"(SD {100 * SEED_EFFECT_SD:g} pp)",
            normal_noise,
            seed_effect_sd=SEED_EFFECT_SD,
            paired=True,
        )
    )
    return scenarios


def margin_scenarios() -> list[Scenario]:
    """Scenario f: every value truly one margin above (f+) or below (f-) the baseline."""
    return [
        Scenario(
            f"f{sign}",
            f"Every value truly {sign}{100 * MARGIN:g} pp (the margin)",
            normal_noise,
            effects=(float(f"{sign}1") * MARGIN,) * COMPARISONS,
        )
        for sign in "+-"
    ]


def power_scenario(sds: float) -> Scenario:
    """Scenario g: each block's first value truly better by ``sds`` seed SDs, the others 0."""
    effects = np.zeros(COMPARISONS)
    effects[FIRST_OF_BLOCK] = sds * SEED_SD
    return Scenario(
        f"g {sds:g}",
        f"One value per block truly better by {sds:g} SD",
        normal_noise,
        effects=tuple(effects),
    )


def scenario_rng(key: str, seed: int) -> np.random.Generator:
    """Each scenario's own stream, derived from the base seed and its key (reproducible one at a time)."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


@contextlib.contextmanager
def engine_shortcuts(stated_power: bool):
    """One speed-up that changes no verdict (``tests/analyse/test_error_rates.py`` checks it): unless
    ``stated_power``, the 80%-power difference (a root search: 85% of the engine's time, read by no verdict) is
    skipped. The statistics themselves are the report's: the Boschloo test is memoised where it is defined
    (``stats.collapse_rates``), so nothing here stands in for it."""
    saved = decide.detectable_difference
    if not stated_power:
        decide.detectable_difference = lambda *args, **kwargs: math.nan
    try:
        yield
    finally:
        decide.detectable_difference = saved


def _arm(accuracies: np.ndarray, learned: np.ndarray) -> Arm:
    return Arm(
        {
            seed: float(accuracy)
            for seed, (accuracy, ok) in enumerate(zip(accuracies, learned))
            if ok
        },
        failed=int((~learned).sum()),
        finished=len(accuracies),
    )


def draw_datasets(
    scenario: Scenario,
    reps: int,
    rng: np.random.Generator,
    value_seeds: int = VALUE_SEEDS,
    baseline_seeds: int = BASELINE_SEEDS,
):
    """``reps`` datasets at once: accuracies (reps, 12) and (reps, 26, 4) and whether each seed learned
    (other seed counts: (reps, ``baseline_seeds``) and (reps, 26, ``value_seeds``)). A value's seed i
    shares the baseline's seed i offset (paired scenario), so ``value_seeds`` may not pass ``baseline_seeds``."""
    if value_seeds > baseline_seeds:
        raise ValueError(
            f"value_seeds ({value_seeds}) must not pass baseline_seeds ({baseline_seeds}): a value's "
            "seeds pair with the baseline's"
        )
    offsets = scenario.seed_effect_sd * rng.standard_normal((reps, baseline_seeds))
    baseline = BASELINE_ACCURACY + offsets + scenario.noise(rng, (reps, baseline_seeds))
    values = (
        BASELINE_ACCURACY
        + np.asarray(scenario.effects)[None, :, None]
        + offsets[:, None, :value_seeds]
        + np.asarray(scenario.sd_factors)[None, :, None]
        * scenario.noise(rng, (reps, COMPARISONS, value_seeds))
    )
    baseline_learned = rng.random(baseline.shape) >= scenario.failure_probability
    values_learned = rng.random(values.shape) >= scenario.failure_probability
    return baseline, baseline_learned, values, values_learned


def dataset_blocks(
    baseline: Arm, values: list[Arm], paired: bool
) -> list[tuple[list[Arm], Arm, bool]]:
    """The blocks of one dataset as ``decide_dataset`` takes them: one baseline object shared by all."""
    return [
        (values[first : first + size], baseline, paired)
        for first, (_, size) in zip(FIRST_OF_BLOCK, BLOCKS)
    ]


@dataclass(frozen=True)
class Outcomes:
    """What the engine said in each simulated dataset: one row per dataset, one column per comparison."""

    scenario: Scenario
    verdicts: np.ndarray  # Verdict values (object array)
    rate_differs: np.ndarray  # the failure-rate test's Bonferroni p < alpha
    fails_more: np.ndarray  # ... and the value's failure rate above the baseline's
    detectable: np.ndarray  # Decision.detectable (fraction; NaN where not computed)
    unmoderated: (
        np.ndarray
    )  # the value's own variance was larger than its posterior, so the test used it
    se: np.ndarray  # the accuracy comparison's standard error (fraction; NaN where none)
    dof: np.ndarray  # ... and its degrees of freedom

    @property
    def reps(self) -> int:
        return len(self.verdicts)

    def called(self, *verdicts: Verdict) -> np.ndarray:
        return np.isin(self.verdicts, verdicts)


class _Recorder:
    """Fills an ``Outcomes`` row by row: one dataset's decisions, arms and prior at a time."""

    def __init__(self, reps: int):
        self.verdicts = np.empty((reps, COMPARISONS), dtype=object)
        self.rate_differs = np.zeros((reps, COMPARISONS), dtype=bool)
        self.fails_more = np.zeros((reps, COMPARISONS), dtype=bool)
        self.detectable = np.full((reps, COMPARISONS), math.nan)
        self.unmoderated = np.zeros((reps, COMPARISONS), dtype=bool)
        self.se, self.dof = (
            np.full((reps, COMPARISONS), math.nan),
            np.full((reps, COMPARISONS), math.nan),
        )

    def add(
        self, rep: int, decisions: list[list[Decision]], arms: list[Arm], prior: Prior
    ) -> None:
        flat = [decision for block in decisions for decision in block]
        self.verdicts[rep] = [d.verdict for d in flat]
        self.rate_differs[rep] = [d.rate_differs for d in flat]
        self.fails_more[rep] = [
            d.rate_differs and d.rates.k * d.rates.base_n > d.rates.base_k * d.rates.n
            for d in flat
        ]
        self.detectable[rep] = [d.detectable for d in flat]
        self.se[rep] = [d.comparison.se if d.comparison else math.nan for d in flat]
        self.dof[rep] = [d.comparison.dof if d.comparison else math.nan for d in flat]
        self.unmoderated[rep] = [
            arm.n >= 2
            and not moderate(
                float(np.var(list(arm.learned.values()), ddof=1)), arm.n - 1, prior
            ).moderated
            for arm in arms
        ]

    def outcomes(self, scenario: Scenario) -> Outcomes:
        return Outcomes(
            scenario,
            self.verdicts,
            self.rate_differs,
            self.fails_more,
            self.detectable,
            self.unmoderated,
            self.se,
            self.dof,
        )


def simulate(
    scenario: Scenario, reps: int, seed: int = 15, stated_power: bool = False
) -> Outcomes:
    """Run ``reps`` datasets of ``scenario`` through ``decide_dataset``; ``stated_power`` keeps the
    engine's 80%-power difference (slow), otherwise only the verdicts are computed."""
    baseline, baseline_learned, values, values_learned = draw_datasets(
        scenario, reps, scenario_rng(scenario.key, seed)
    )
    recorder = _Recorder(reps)
    with engine_shortcuts(stated_power):
        for rep in range(reps):
            arms = [_arm(values[rep, i], values_learned[rep, i]) for i in range(COMPARISONS)]
            blocks = dataset_blocks(
                _arm(baseline[rep], baseline_learned[rep]), arms, scenario.paired
            )
            prior, decisions = decide_dataset(blocks, MARGIN)
            recorder.add(rep, decisions, arms, prior)
    return recorder.outcomes(scenario)


@dataclass(frozen=True)
class Estimate:
    """A simulated rate and its Monte Carlo standard error."""

    rate: float
    se: float


def proportion(events: np.ndarray) -> Estimate:
    """The rate of independent 0/1 ``events`` (one per dataset) and its binomial standard error."""
    rate = float(np.mean(events))
    return Estimate(rate, math.sqrt(rate * (1 - rate) / len(events)))


def mean_per_dataset(values: np.ndarray) -> Estimate:
    """The mean of per-dataset ``values`` (correlated columns averaged first) and its standard error."""
    return Estimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values))))


@dataclass(frozen=True)
class Familywise:
    """The rate of at least one flagged comparison: per block, mean over blocks, worst block, per dataset."""

    per_block: dict[str, Estimate]
    mean_over_blocks: Estimate
    worst_block: str
    worst: Estimate
    per_dataset: Estimate


def familywise(flagged: np.ndarray) -> Familywise:
    """Summarise ``flagged`` (datasets x comparisons, bool) by block."""
    any_in_block = np.stack(
        [flagged[:, b == BLOCK_OF].any(axis=1) for b in range(len(BLOCKS))], axis=1
    )
    per_block = {name: proportion(any_in_block[:, b]) for b, (name, _) in enumerate(BLOCKS)}
    worst = max(per_block, key=lambda name: per_block[name].rate)
    return Familywise(
        per_block,
        mean_per_dataset(any_in_block.mean(axis=1)),
        worst,
        per_block[worst],
        proportion(np.asarray(flagged.any(axis=1))),
    )


@dataclass(frozen=True)
class NullResult:
    """A global-null scenario: false better/worse verdicts, failure-rate test errors, verdict shares."""

    key: str
    title: str
    reps: int
    directional: Familywise
    rate_test: Familywise | None  # any failure-rate difference called (only where seeds fail)
    fails_more: Familywise | None  # ... of which "the value fails more often"
    verdict_shares: dict[str, float]
    unmoderated_share: (
        float  # of the values' tests, the share on the value's own (larger) variance
    )
    unmoderated_unstable: float  # ... of the 3x-variance value's tests (scenario b; NaN elsewhere)
    equivalent: (
        Estimate  # share of comparisons called equivalent (correctly: every true difference is 0)
    )


def null_result(outcomes: Outcomes) -> NullResult:
    failures = outcomes.scenario.failure_probability > 0
    shares = {
        str(v): float(outcomes.called(v).mean()) for v in Verdict if outcomes.called(v).any()
    }
    unstable = np.asarray(outcomes.scenario.sd_factors) > 1
    return NullResult(
        outcomes.scenario.key,
        outcomes.scenario.title,
        outcomes.reps,
        familywise(outcomes.called(Verdict.BETTER, Verdict.WORSE)),
        familywise(outcomes.rate_differs) if failures else None,
        familywise(outcomes.fails_more) if failures else None,
        shares,
        float(outcomes.unmoderated.mean()),
        float(outcomes.unmoderated[:, unstable].mean()) if unstable.any() else math.nan,
        mean_per_dataset(outcomes.called(Verdict.EQUIVALENT).mean(axis=1)),
    )


@dataclass(frozen=True)
class EquivalenceResult:
    """Scenario f: how often a value truly one margin away is called equivalent, per comparison."""

    key: str
    title: str
    reps: int
    per_comparison: Estimate
    per_block: dict[str, Estimate]  # per comparison, within the block
    worst_block: str
    directional_correct: float  # share of comparisons called better/worse in the true direction
    any_error: (
        Familywise  # any wrong accuracy verdict in the block: "equivalent" or the wrong direction
    )


def equivalence_result(outcomes: Outcomes) -> EquivalenceResult:
    equivalent = outcomes.called(Verdict.EQUIVALENT)
    per_block = {
        name: mean_per_dataset(equivalent[:, b == BLOCK_OF].mean(axis=1))
        for b, (name, _) in enumerate(BLOCKS)
    }
    right = Verdict.BETTER if outcomes.scenario.effects[0] > 0 else Verdict.WORSE
    wrong = Verdict.WORSE if right == Verdict.BETTER else Verdict.BETTER
    return EquivalenceResult(
        outcomes.scenario.key,
        outcomes.scenario.title,
        outcomes.reps,
        mean_per_dataset(equivalent.mean(axis=1)),
        per_block,
        max(per_block, key=lambda name: per_block[name].rate),
        float(outcomes.called(right).mean()),
        familywise(outcomes.called(Verdict.EQUIVALENT, wrong)),
    )


@dataclass(frozen=True)
class PowerResult:
    """Scenario g: detection rate (a correct "better") of the truly better value per true difference,
    overall and by block size, and where it crosses 80% against the engine's stated 80%-power difference."""

    reps: int
    differences_sd: tuple[float, ...]
    power: dict[str, tuple[Estimate, ...]]  # "all" and "2 values", "3 values", "4 values"
    crossing_sd: dict[
        str, float
    ]  # true difference (SDs) where the simulated power reaches 80%; NaN: beyond
    stated_sd: dict[str, float]  # median Decision.detectable of the truly better value, in SDs
    power_at_stated: dict[
        str, float
    ]  # the simulated power at that median (interpolated; NaN off the grid)
    unmoderated_share: (
        float  # of the truly better value's tests, the share on its own (larger) variance
    )
    false_directional: Estimate  # any false better/worse among the other values, per dataset


def crossing(
    differences: tuple[float, ...], power: tuple[Estimate, ...], target: float = POWER
) -> float:
    """The difference where ``power`` first reaches ``target``, interpolated linearly (NaN: never)."""
    rates = [p.rate for p in power]
    for i, rate in enumerate(rates):
        if rate >= target:
            if i == 0:
                return differences[0]
            d0, d1, r0 = differences[i - 1], differences[i], rates[i - 1]
            return d0 + (target - r0) * (d1 - d0) / (rate - r0)
    return math.nan


def interpolate(differences: tuple[float, ...], power: tuple[Estimate, ...], at: float) -> float:
    """The simulated power at difference ``at``, linear between grid points (NaN outside the grid)."""
    if not differences[0] <= at <= differences[-1]:
        return math.nan
    return float(np.interp(at, differences, [p.rate for p in power]))


def power_result(runs: list[Outcomes]) -> PowerResult:
    groups = {"all": FIRST_OF_BLOCK} | {
        f"{size} values": FIRST_OF_BLOCK[[s == size for _, s in BLOCKS]]
        for size in sorted({s for _, s in BLOCKS})
    }
    differences = tuple(POWER_GRID)
    power = {
        g: tuple(mean_per_dataset(r.called(Verdict.BETTER)[:, cols].mean(axis=1)) for r in runs)
        for g, cols in groups.items()
    }
    stated = {
        g: float(np.nanmedian(np.concatenate([r.detectable[:, cols].ravel() for r in runs])))
        / SEED_SD
        for g, cols in groups.items()
    }
    others = np.ones(COMPARISONS, dtype=bool)
    others[FIRST_OF_BLOCK] = False
    false = np.concatenate(
        [r.called(Verdict.BETTER, Verdict.WORSE)[:, others].any(axis=1) for r in runs]
    )
    return PowerResult(
        runs[0].reps,
        differences,
        power,
        {g: crossing(differences, p) for g, p in power.items()},
        stated,
        {g: interpolate(differences, power[g], stated[g]) for g in groups},
        float(np.mean([r.unmoderated[:, FIRST_OF_BLOCK].mean() for r in runs])),
        proportion(false),
    )


# Seeds in stages (``study.sequential``) as the default profile applies them: its first look's seeds, its
# step, its cap and its looks; the baseline keeps its seeds (three times a value's first-look seeds) at every
# look; every look and the final analysis test at Pocock's level for the profile's looks.
STAGED = PROFILES["quick"]
RULES = {
    "first": "one look, first-look seeds, alpha 0.05",
    "staged": "in stages, Pocock's level at every look",
    "max": "one look, the cap's seeds, alpha 0.05",
}


def rule_labels(profile=STAGED, alpha: float | None = None) -> dict[str, str]:
    """The three rules' names in the tables, with the profile's numbers."""
    level = look_level(profile) if alpha is None else alpha
    return {
        "first": f"one look, {profile.seeds} seeds",
        "staged": f"in stages, {profile.seeds} to "
        f"{profile.max_seeds} seeds, alpha {level:.4g}",
        "max": f"one look, {profile.max_seeds} seeds",
    }


@dataclass(frozen=True)
class Staged:
    """One scenario under three rules, on the same draws: one look at the first look's seeds (alpha 0.05),
    seeds in stages (its final analysis), one look at the cap's seeds (alpha 0.05); and what the stages used."""

    scenario: Scenario
    alpha: float  # the staged rule's level at every look
    rules: dict[str, Outcomes]  # RULES key -> outcomes
    seeds: np.ndarray  # (reps, comparisons) value seeds at the staged rule's final analysis
    reasons: (
        np.ndarray
    )  # (reps, comparisons) the first look's reason for more seeds (a Reason or None)
    first_look: np.ndarray  # (reps, comparisons) the first look's verdicts at the staged level


def simulate_staged(
    scenario: Scenario,
    reps: int,
    seed: int = 15,
    alpha: float | None = None,
    profile=STAGED,
    one_look: tuple[str, ...] = ("first", "max"),
) -> Staged:
    """Run ``reps`` datasets of ``scenario`` through seeds in stages as ``study.sequential`` applies them:
    the first look on ``profile.seeds`` seeds per value through ``decide_dataset`` at ``alpha`` (default
    the product's, ``comparisons.look_level``: Pocock's level for ``profile.looks``); each comparison
    ``sequential.reason_from_counts`` finds undecided and decidable gets ``seed_step`` more seeds (new
    draws after the ones it has), up to ``max_seeds``; the next look decides the dataset again on all the
    data at the same level, until the last look or a look that adds nothing, and every comparison keeps the
    decision of the look at which it stopped (as ``comparisons.analyse`` does). The trial cap
    (``max_trials``) is not simulated: every addition is made. The one-look rules named in ``one_look``
    ("first": ``profile.seeds`` seeds, "max": ``max_seeds``, both at alpha 0.05) run on the same draws."""
    level = look_level(profile) if alpha is None else alpha
    step, cap = profile.seed_step or profile.seeds, profile.max_seeds
    baseline, baseline_learned, values, values_learned = draw_datasets(
        scenario,
        reps,
        scenario_rng("staged " + scenario.key, seed),
        cap,
        BASELINE_SEED_FACTOR * profile.seeds,
    )
    recorders = {key: _Recorder(reps) for key in RULES if key in one_look or key == "staged"}
    used = np.full((reps, COMPARISONS), profile.seeds)
    reasons = np.full((reps, COMPARISONS), None, dtype=object)
    first_look = np.empty((reps, COMPARISONS), dtype=object)
    with engine_shortcuts(stated_power=False):
        for rep in range(reps):
            base = _arm(baseline[rep], baseline_learned[rep])

            def decide_at(counts: list[int], at: float):
                arms = [
                    _arm(values[rep, i, :n], values_learned[rep, i, :n])  # noqa: B023
                    for i, n in enumerate(counts)
                ]
                prior, decisions = decide_dataset(
                    dataset_blocks(base, arms, scenario.paired),  # noqa: B023
                    MARGIN,
                    at,
                )
                return decisions, arms, prior

            for key, n in (("first", profile.seeds), ("max", cap)):
                if key in one_look:
                    recorders[key].add(rep, *decide_at([n] * COMPARISONS, ALPHA))
            counts = [profile.seeds] * COMPARISONS
            running = [True] * COMPARISONS
            stopped: list[Decision | None] = [
                None
            ] * COMPARISONS  # each comparison's decision at its last look
            for look in range(1, profile.looks + 1):
                decisions, arms, prior = decide_at(counts, level)
                flat = [decision for block in decisions for decision in block]
                stopped = [d if run else old for d, old, run in zip(flat, stopped, running)]
                if look == 1:
                    first_look[rep] = [d.verdict for d in flat]
                if look == profile.looks:
                    break
                # only comparisons still running may continue (one that stopped stays stopped, as in next_look)
                more = [
                    reason_from_counts(
                        d,
                        n,
                        arm.n,
                        arm.finished,
                        arm.all_diverged,
                        base.n,
                        base.finished,
                        MARGIN,
                        min(cap, n + step),
                        level,
                    )
                    if run
                    else None
                    for d, arm, n, run in zip(flat, arms, counts, running)
                ]
                if look == 1:
                    reasons[rep] = more
                if not any(more):  # the driver stops: every comparison keeps this look's decision
                    break
                running = [bool(why) for why in more]
                counts = [min(cap, n + step) if why else n for n, why in zip(counts, more)]
            # every comparison's verdict is the one of the look at which it stopped (comparisons.analyse)
            decided = [d for d in stopped if d is not None]  # look 1 decides every comparison
            assert len(decided) == len(stopped)
            shaped, at = [], 0
            for block in decisions:
                shaped.append(decided[at : at + len(block)])
                at += len(block)
            recorders["staged"].add(rep, shaped, arms, prior)
            used[rep] = counts
    return Staged(
        scenario,
        level,
        {key: r.outcomes(scenario) for key, r in recorders.items()},
        used,
        reasons,
        first_look,
    )


@dataclass(frozen=True)
class StagedResult:
    """One scenario under the three rules: false better/worse (familywise per block), the failure-rate test's
    errors, "equivalent" and "better" per comparison, and the staged rule's cost."""

    key: str
    title: str
    reps: int
    alpha: float
    directional: dict[
        str, Familywise
    ]  # rule -> any better/worse among a block's truly-null values
    rate_test: (
        dict[str, Familywise] | None
    )  # rule -> any failure rate called different (only where seeds fail)
    equivalent: dict[str, Estimate]  # rule -> share of comparisons called equivalent
    correct_direction: dict[
        str, Estimate
    ]  # rule -> share of the truly different values called so (NaN: none)
    seeds: Estimate  # value seeds per comparison at the staged rule's final analysis (mean)
    more_seeds: dict[
        str, float
    ]  # Reason -> share of comparisons the first look gives more seeds for it
    changed: float  # of the first look's better/worse/equivalent verdicts, the share the final analysis changes
    excess: Estimate  # false better/worse per block (mean over blocks), in stages minus one look at the
    # first-look seeds, on the same draws (the SE of the paired difference; NaN without that rule)


def staged_result(run: Staged) -> StagedResult:
    effects = np.asarray(run.scenario.effects)
    null = effects == 0
    different = ~null
    right = np.where(effects > 0, Verdict.BETTER, Verdict.WORSE)[None, :]

    def directional(outcomes: Outcomes) -> Familywise:
        return familywise(outcomes.called(Verdict.BETTER, Verdict.WORSE) & null[None, :])

    def correct(outcomes: Outcomes) -> Estimate:
        if not different.any():
            return Estimate(math.nan, math.nan)
        return mean_per_dataset((outcomes.verdicts == right)[:, different].mean(axis=1))

    def per_block(
        outcomes: Outcomes,
    ) -> np.ndarray:  # (reps,) share of blocks with a false better/worse
        flagged = outcomes.called(Verdict.BETTER, Verdict.WORSE) & null[None, :]
        return np.stack(
            [flagged[:, b == BLOCK_OF].any(axis=1) for b in range(len(BLOCKS))], axis=1
        ).mean(axis=1)

    excess = (
        mean_per_dataset(per_block(run.rules["staged"]) - per_block(run.rules["first"]))
        if "first" in run.rules and null.any()
        else Estimate(math.nan, math.nan)
    )
    decided_first = np.isin(run.first_look, DECISIVE)
    final = run.rules["staged"].verdicts
    return StagedResult(
        run.scenario.key,
        run.scenario.title,
        len(run.seeds),
        run.alpha,
        {key: directional(o) for key, o in run.rules.items()},
        {key: familywise(o.rate_differs) for key, o in run.rules.items()}
        if run.scenario.failure_probability > 0
        else None,
        {
            key: mean_per_dataset(o.called(Verdict.EQUIVALENT).mean(axis=1))
            for key, o in run.rules.items()
        },
        {key: correct(o) for key, o in run.rules.items()},
        mean_per_dataset(run.seeds.mean(axis=1)),
        {reason: float((run.reasons == reason).mean()) for reason in Reason},
        float((final[decided_first] != run.first_look[decided_first]).mean())
        if decided_first.any()
        else math.nan,
        excess,
    )


def run_staged(
    reps: int, power_reps: int, seed: int, residuals: np.ndarray | None, alpha: float | None = None
) -> dict:
    """Every scenario under seeds in stages; returns the results keyed "null", "margin", "power"."""
    return {
        "null": [
            staged_result(simulate_staged(s, reps, seed, alpha)) for s in null_scenarios(residuals)
        ],
        "margin": [
            staged_result(simulate_staged(s, reps, seed, alpha)) for s in margin_scenarios()
        ],
        "power": [
            staged_result(simulate_staged(power_scenario(d), power_reps, seed, alpha))
            for d in POWER_GRID
        ],
    }


def stored_residuals(path: Path, study: str, profile: str) -> tuple[np.ndarray | None, str]:
    """Seed residuals of a stored study: each configuration's learned seeds' final accuracies minus their
    mean, scaled by sqrt(n / (n - 1)), pooled. Plain SQL on ``plan`` and ``epochs`` (a trial's epochs are
    stored when it finishes), a read-only connection, so a study being trained is left alone."""
    if not path.exists():
        return None, f"{path} does not exist"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT p.dataset, p.experiment, p.value, p.trial_key, e.val_accuracy FROM plan p "
            "JOIN epochs e ON e.trial_key = p.trial_key "
            "WHERE p.study = ? AND p.profile = ? "
            "AND e.epoch = (SELECT MAX(epoch) FROM epochs WHERE trial_key = p.trial_key)",
            (study, profile),
        ).fetchall()
    finally:
        db.close()
    configurations: dict[tuple[str, ...], dict[str, float]] = {}
    for dataset, experiment, value, key, accuracy in rows:
        configurations.setdefault((dataset, experiment, value), {})[key] = accuracy
    distinct = {
        tuple(sorted(seeds.items())) for seeds in configurations.values()
    }  # the baseline once
    residuals, used = [], 0
    for seeds in distinct:
        learned = np.array(
            [a for _, a in seeds if a is not None and math.isfinite(a) and a >= NOT_LEARNED_BELOW]
        )
        if len(learned) >= 2:
            residuals.extend(
                (learned - learned.mean()) * math.sqrt(len(learned) / (len(learned) - 1))
            )
            used += 1
    note = (
        f"{len(residuals)} residuals from {used} configurations of {len({r[3] for r in rows})} finished trials "
        f"in {path} ({study!r}, {profile!r})"
    )
    if used < 5 or len(residuals) < 20:
        return None, "too few: " + note + "; needs 5 configurations and 20 residuals"
    return np.array(residuals), note


def run_all(reps: int, power_reps: int, seed: int, residuals: np.ndarray | None) -> dict:
    """Every scenario; returns the results keyed "null", "margin", "power"."""
    return {
        "null": [null_result(simulate(s, reps, seed)) for s in null_scenarios(residuals)],
        "margin": [equivalence_result(simulate(s, reps, seed)) for s in margin_scenarios()],
        "power": power_result(
            [simulate(power_scenario(d), power_reps, seed, stated_power=True) for d in POWER_GRID]
        ),
    }


def _pct(estimate: Estimate) -> str:
    return f"{100 * estimate.rate:.2f}% | {100 * estimate.se:.2f}"


def _flag(estimate: Estimate) -> str:
    return " **above 5%**" if estimate.rate > ALPHA else ""


def _familywise_rows(errors: Familywise, what: str) -> list[str]:
    sizes = dict(BLOCKS)
    rows = [
        f"| {name} ({sizes[name]} values) | {_pct(e)} |" for name, e in errors.per_block.items()
    ]
    rows += [
        f"| **mean over blocks** | {_pct(errors.mean_over_blocks)}{_flag(errors.mean_over_blocks)} |",
        f"| **worst block** ({errors.worst_block}) | {_pct(errors.worst)}{_flag(errors.worst)} |",
        f"| any in the dataset (information) | {_pct(errors.per_dataset)} |",
    ]
    return [f"| block | {what} | MC SE (pp) |", "|---|---|---|", *rows]


DESIGN = f"""Each simulated dataset has the held-out MNIST probe's shape: eight experiments (blocks) with
4, 4, 4, 3, 2, 3, 2 and 4 values, {VALUE_SEEDS} seeds per value, one baseline of {BASELINE_SEEDS} seeds shared by every
block, seed SD {100 * SEED_SD:g} pp around {100 * BASELINE_ACCURACY:g}%, margin {100 * MARGIN:g} pp. It goes through
`study.analyse.decide.decide_dataset` as the report calls it: each comparison's interval at 1 - alpha/m (m: the
block's compared values, fixed by the design) decides better/worse (it excludes zero) and equivalent (it lies
inside the margin).
"Familywise, per block": the share of datasets in which the block has at least one false better/worse verdict
(scenarios f: any wrong verdict); the target is at most {100 * ALPHA:g}%.
"MC SE" is the Monte Carlo standard error, in percentage points (mean over blocks: of the per-dataset
means, so the blocks' correlation through the shared baseline and prior is accounted for). The worst
block is the largest of eight estimates, so it is biased upwards by up to about 1.5 MC SE."""


def markdown(results: dict, header: list[str]) -> str:
    """The results as ``docs/ERROR_RATES.md``: a header, then one table per scenario."""
    lines = ["# Error rates of the verdict engine", "", *header, "", DESIGN, ""]
    for result in results["null"]:
        lines += [
            f"## {result.key}. {result.title}",
            "",
            *_familywise_rows(result.directional, "false better/worse (familywise, per block)"),
            "",
        ]
        if result.rate_test is not None:
            lines += [
                "Failure-rate test (Boschloo, Bonferroni over the block): any rate called different, and "
                '"the value fails more often":',
                "",
                *_familywise_rows(result.rate_test, "rate called different"),
                "",
                *_familywise_rows(result.fails_more, '"fails more often"'),
                "",
            ]
        lines += [
            "Verdict shares: "
            + ", ".join(f"{v} {100 * s:.1f}%" for v, s in result.verdict_shares.items())
            + f" (MC SE of the equivalent share {100 * result.equivalent.se:.2f} pp)."
            + (
                ""
                if result.key.endswith("paired")
                else f" Values tested on their own (larger) variance: {100 * result.unmoderated_share:.0f}%"
                + (
                    f"; the 3x-variance value: {100 * result.unmoderated_unstable:.0f}%"
                    if math.isfinite(result.unmoderated_unstable)
                    else ""
                )
                + "."
            ),
            "",
        ]
    for result in results["margin"]:
        lines += [
            f'## {result.key}. {result.title}: false "equivalent"',
            "",
            "| block | called equivalent (per comparison) | MC SE (pp) |",
            "|---|---|---|",
            *[f"| {name} | {_pct(e)} |" for name, e in result.per_block.items()],
            f"| **all comparisons** | {_pct(result.per_comparison)}{_flag(result.per_comparison)} |",
            "",
            f"Called {'better' if result.key == 'f+' else 'worse'} (correctly): "
            f"{100 * result.directional_correct:.1f}% of comparisons.",
            "",
            'Any wrong accuracy verdict in the block (a false "equivalent" or the wrong direction; the one '
            "Bonferroni interval per comparison bounds both together by alpha):",
            "",
            *_familywise_rows(result.any_error, "any wrong verdict (familywise, per block)"),
            "",
        ]
    power = results["power"]
    groups = list(power.power)
    lines += [
        f"## g. Power: one value per block truly better ({power.reps} datasets per difference)",
        "",
        "| true difference | " + " | ".join(f"detected, {g} (MC SE)" for g in groups) + " |",
        "|---" * (len(groups) + 1) + "|",
    ]
    for i, d in enumerate(power.differences_sd):
        lines.append(
            f"| {d:g} SD ({100 * d * SEED_SD:.2f} pp) | "
            + " | ".join(
                f"{100 * power.power[g][i].rate:.1f}% ({100 * power.power[g][i].se:.1f})"
                for g in groups
            )
            + " |"
        )
    lines += [
        "",
        "| | " + " | ".join(groups) + " |",
        "|---" * (len(groups) + 1) + "|",
        "| simulated power reaches 80% at | "
        + " | ".join(
            f"{power.crossing_sd[g]:.2f} SD"
            if math.isfinite(power.crossing_sd[g])
            else "beyond 3 SD"
            for g in groups
        )
        + " |",
        "| stated `Decision.detectable` (median) | "
        + " | ".join(f"{power.stated_sd[g]:.2f} SD" for g in groups)
        + " |",
        "| simulated power at that median | "
        + " | ".join(
            f"{100 * power.power_at_stated[g]:.0f}%"
            if math.isfinite(power.power_at_stated[g])
            else "off the grid"
            for g in groups
        )
        + " |",
        "",
        f"The truly better value's test used its own (larger) variance in "
        f"{100 * power.unmoderated_share:.0f}% of the datasets (the rest: its moderated variance).",
        "",
        f"False better/worse among the other values (any per dataset): "
        f"{100 * power.false_directional.rate:.2f}% (MC SE {100 * power.false_directional.se:.2f} pp).",
        "",
    ]
    return "\n".join(lines)


STAGED_HEADING = "## Seeds in stages"


def _est(estimate: Estimate, scale: float = 100, digits: int = 2) -> str:
    return f"{scale * estimate.rate:.{digits}f} ({scale * estimate.se:.{digits}f})"


def staged_markdown(results: dict, header: list[str], profile=STAGED) -> str:
    """The staged results as the section ``STAGED_HEADING`` of ``docs/ERROR_RATES.md``."""
    alpha = results["null"][0].alpha
    labels = rule_labels(profile, alpha)
    rules = list(labels)
    cap, first = profile.max_seeds, profile.seeds
    lines = [
        STAGED_HEADING,
        "",
        *header,
        "",
        f"""The `{profile.name}` profile's design (`study.sequential`):
{first} seeds per value at the first look and a baseline of {BASELINE_SEED_FACTOR * first} seeds it keeps at
every look; each comparison that `study.analyse.sequential.reason_from_counts` (the rule `next_look`
applies) finds undecided and decidable gets {profile.seed_step or first} more seeds, new draws after its
first {first}, up to {cap}; {profile.looks} looks, each and the final analysis through `decide_dataset` at
alpha = {alpha:.4f} (`comparisons.look_level`). Every comparison keeps the verdict of the look at
which it stopped: one that got no more seeds keeps its first look's verdict (the later look's noise model does
not re-decide it), as `study report` does (`comparisons.analyse`). Same dataset shape, seed SD and margin as
above. The trial cap
(`max_trials`) is not simulated: every addition is made. On the same draws: one look at {first} seeds and
one look at {cap} seeds, both at alpha 0.05. Numbers in percent, Monte Carlo SE in brackets (pp).""",
        "",
        "### False better/worse under the global null (familywise, per block)",
        "",
        f"| scenario | rule | mean over blocks | worst block | any in the dataset | minus one look at {first} "
        "seeds, same draws (mean over blocks) |",
        "|---|---|---|---|---|---|",
    ]
    for result in results["null"]:
        for rule in rules:
            errors = result.directional[rule]
            lines.append(
                f"| {result.key} | {labels[rule]} | {_est(errors.mean_over_blocks)}"
                f"{_flag(errors.mean_over_blocks)} | {_est(errors.worst)}{_flag(errors.worst)} "
                f"({errors.worst_block}) | {_est(errors.per_dataset)} | "
                + (f"{_est(result.excess)} |" if rule == "staged" else "|")
            )
    for result in results["null"]:
        if result.rate_test is not None:
            lines += [
                "",
                f"Failure-rate test, scenario {result.key} (any rate called different, familywise per "
                "block, mean over blocks; worst block): "
                + "; ".join(
                    f"{labels[rule]} {_est(result.rate_test[rule].mean_over_blocks)}, "
                    f"{_est(result.rate_test[rule].worst)} ({result.rate_test[rule].worst_block})"
                    for rule in rules
                )
                + ".",
            ]
    lines += [
        "",
        '### False "equivalent": every value truly one margin away (per comparison)',
        "",
        "| scenario | "
        + " | ".join(labels[r] for r in rules)
        + " | correct direction, in stages |",
        "|---" * (len(rules) + 2) + "|",
    ]
    for result in results["margin"]:
        lines.append(
            f"| {result.key} | "
            + " | ".join(
                f"{_est(result.equivalent[r])}{_flag(result.equivalent[r])}" for r in rules
            )
            + f" | {_est(result.correct_direction['staged'], digits=1)} |"
        )
    power = results["power"]
    differences = tuple(POWER_GRID)
    curves = {r: tuple(p.correct_direction[r] for p in power) for r in rules}
    lines += [
        "",
        f"### Power: one value per block truly better ({power[0].reps} datasets per difference)",
        "",
        "| true difference | " + " | ".join(labels[r] for r in rules) + " |",
        "|---" * (len(rules) + 1) + "|",
    ]
    for i, d in enumerate(differences):
        lines.append(
            f"| {d:g} SD ({100 * d * SEED_SD:.2f} pp) | "
            + " | ".join(_est(curves[r][i], digits=1) for r in rules)
            + " |"
        )
    lines.append(
        "| **80% power at** | "
        + " | ".join(
            f"{crossing(differences, curves[r]):.2f} SD"
            if math.isfinite(crossing(differences, curves[r]))
            else f"beyond {differences[-1]:g} SD"
            for r in rules
        )
        + " |"
    )
    lines += [
        "",
        "### Cost: value seeds per comparison under seeds in stages",
        "",
        "| scenario | seeds per value (mean) | given more seeds at look 1 | of which: "
        + ", ".join(Reason)
        + " | first-look better/worse/equivalent changed by the final analysis |",
        "|---|---|---|---|---|",
    ]
    for result in results["null"] + results["margin"] + power:
        more = sum(result.more_seeds.values())
        lines.append(
            f"| {result.key} | {result.seeds.rate:.2f} ({result.seeds.se:.2f}) | {100 * more:.1f}% | "
            + ", ".join(f"{100 * result.more_seeds[r]:.1f}" for r in Reason)
            + " | "
            + (
                f"{100 * result.changed:.1f}% |"
                if math.isfinite(result.changed)
                else "none decided |"
            )
        )
    lines += [
        "",
        f"One look at {first} seeds costs {first} seeds per value and one at {cap} seeds {cap}. The last "
        "column: of the comparisons the first look called better, worse or equivalent (which get no more seeds), "
        "the share whose verdict the final analysis changes though their own seeds did not change (the noise "
        "prior is refitted with the added seeds, and the Bonferroni families change).",
    ]
    return "\n".join(lines) + "\n"


OTHER_NOISE_HEADING = (
    "## At other noise levels"  # written by hand from --seed-sd runs; kept by every rewrite
)


def with_section(existing: str, section: str | None, main: str | None = None) -> str:
    """``docs/ERROR_RATES.md`` with its parts replaced: ``main`` (everything before ``STAGED_HEADING``) and/or
    ``section`` (``STAGED_HEADING`` up to ``OTHER_NOISE_HEADING`` or the end); a part given as None is kept from
    ``existing``, and the ``OTHER_NOISE_HEADING`` section always is."""
    other_at = existing.find("\n" + OTHER_NOISE_HEADING + "\n")
    existing, other = (
        (existing, "") if other_at < 0 else (existing[: other_at + 1], existing[other_at + 1 :])
    )
    return _with_section(existing, section, main) + ("\n" + other if other else "")


def _with_section(existing: str, section: str | None, main: str | None) -> str:
    at = existing.find("\n" + STAGED_HEADING + "\n")
    kept_main, kept_section = (
        (existing, "") if at < 0 else (existing[: at + 1], existing[at + 1 :])
    )
    body = (main if main is not None else kept_main).rstrip("\n") + "\n"
    tail = section if section is not None else kept_section
    return body + ("\n" + tail if tail else "")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown CPU"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


REPORT_DATA = (
    Path(__file__).resolve().parents[1] / "study" / "report" / "data" / "error_rates.json"
)


def commit() -> tuple[str, bool]:
    """The checkout's commit and whether its tracked files differ from it (read-only git; "unknown" without)."""
    root = REPORT_DATA.parents[3]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return head, bool(dirty)


def _estimate(estimate: Estimate) -> dict:
    return {"rate": estimate.rate, "se": estimate.se}


def _familywise(errors: Familywise) -> dict:
    return {
        "mean_over_blocks": _estimate(errors.mean_over_blocks),
        "worst_block": errors.worst_block,
        "worst": _estimate(errors.worst),
        "per_dataset": _estimate(errors.per_dataset),
    }


def report_data(results: dict, reps: int, power_reps: int, seed: int, command: str) -> dict:
    """The numbers the report states (``study.report.error_rates`` reads them): per scenario the false
    better/worse rate, the equivalence rates and the power, each with its Monte Carlo SE, and the design."""
    head, dirty = commit()
    power = results["power"]
    return {
        "commit": head,
        "dirty": dirty,  # the run's code differed from that commit (uncommitted changes)
        "date": datetime.date.today().isoformat(),
        "command": command,
        "reps": reps,
        "power_reps": power_reps,
        "seed": seed,
        "seed_sd": SEED_SD,
        "margin": MARGIN,
        "alpha": ALPHA,
        "value_seeds": VALUE_SEEDS,
        "baseline_seeds": BASELINE_SEEDS,
        "block_sizes": [size for _, size in BLOCKS],
        "null": [
            {
                "key": r.key,
                "title": r.title,
                "reps": r.reps,
                "false_better_or_worse": _familywise(r.directional),
                "equivalent": _estimate(r.equivalent),
            }
            for r in results["null"]
        ],
        "margin_scenarios": [
            {
                "key": r.key,
                "title": r.title,
                "reps": r.reps,
                "false_equivalent": _estimate(r.per_comparison),
                "any_wrong_verdict": _familywise(r.any_error),
                "correct_direction": r.directional_correct,
            }
            for r in results["margin"]
        ],
        "power": {
            "reps": power.reps,
            "differences_sd": list(power.differences_sd),
            "detected": [_estimate(e) for e in power.power["all"]],
            "crossing_sd": power.crossing_sd["all"],
            "stated_sd": power.stated_sd["all"],
            "power_at_stated": power.power_at_stated["all"],
        },
    }


def main(argv: list[str] | None = None) -> None:
    default_sd = SEED_SD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=3000, help="simulated datasets per scenario (a-f)"
    )
    parser.add_argument(
        "--power-reps", type=int, default=None, help="per true difference in g (default reps/5)"
    )
    parser.add_argument(
        "--seed", type=int, default=15, help="base seed; each scenario derives its own"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=Path("/work/heldout/mnist.sqlite"),
        help="stored study whose residuals scenario e resamples",
    )
    parser.add_argument("--study", default="mnist probe")
    parser.add_argument("--profile", default="custom-e3-tr8000-te1000-s4")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--markdown", type=Path, help="write the tables here (docs/ERROR_RATES.md)"
    )
    parser.add_argument(
        "--report-data",
        type=Path,
        default=REPORT_DATA,
        help="where a default run (not --staged, not --seed-sd) writes the numbers the report states "
        f"(default {REPORT_DATA.relative_to(REPORT_DATA.parents[3])}; --no-report-data: nowhere)",
    )
    parser.add_argument("--no-report-data", action="store_true", help="write no report data")
    parser.add_argument(
        "--staged",
        action="store_true",
        help=f"seeds in stages ({STAGED.name!r} profile) against one look at its first and its last "
        f"seed counts, instead of a-g; --markdown then rewrites only {STAGED_HEADING!r}",
    )
    parser.add_argument(
        "--staged-alpha",
        type=float,
        default=None,
        help="the staged rule's level at every look (default Pocock's; 0.05 shows what ignoring "
        "the looks costs)",
    )
    parser.add_argument(
        "--seed-sd",
        type=float,
        default=None,
        help=f"seed-to-seed SD in pp (default {100 * default_sd:g}): the noise of another study "
        "(issue 22 reran the staged design at the default study's new noise); the tables are "
        "printed and written as JSON, and --markdown is refused with it",
    )
    args = parser.parse_args(argv)
    if args.seed_sd is not None:
        if args.markdown:
            parser.error(
                "--seed-sd changes the noise the document's tables describe; write --json instead"
            )
        globals()["SEED_SD"] = args.seed_sd / 100  # read by the noise functions when they draw
    if args.reps < 10:
        parser.error("--reps must be at least 10")
    power_reps = args.power_reps or max(10, args.reps // 5)

    started, cpu_started = time.perf_counter(), time.process_time()
    residuals, note = stored_residuals(args.store, args.study, args.profile)
    print(
        ("scenario e: " if residuals is not None else "scenario e skipped: ")
        + note
        + (f"; residual SD {100 * residuals.std():.2f} pp" if residuals is not None else "")
    )
    if args.staged:
        results = run_staged(args.reps, power_reps, args.seed, residuals, args.staged_alpha)
    else:
        results = run_all(args.reps, power_reps, args.seed, residuals)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

    command = "python benchmarks/error_rates.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    header = [
        f"- Command: `{command.strip()}`",
        f"- CPU: {cpu_model()}",
        f"- Reps: {args.reps} simulated datasets per scenario a-f, {power_reps} per difference in g; "
        f"base seed {args.seed}",
        f"- Date: {datetime.date.today().isoformat()}; runtime {seconds:.0f} s"
        + (f" ({cpu_seconds:.0f} CPU seconds)" if args.staged else ""),
        f"- Scenario e: {note}"
        + (
            f"; residual SD {100 * residuals.std():.2f} pp"
            if residuals is not None
            else " (skipped)"
        ),
    ]
    text = staged_markdown(results, header) if args.staged else markdown(results, header)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        existing = args.markdown.read_text() if args.markdown.exists() else ""
        args.markdown.write_text(
            with_section(existing, text) if args.staged else with_section(existing, None, text)
        )
    if not (args.staged or args.seed_sd is not None or args.no_report_data):
        args.report_data.parent.mkdir(parents=True, exist_ok=True)
        data = report_data(results, args.reps, power_reps, args.seed, command.strip())
        args.report_data.write_text(json.dumps(_jsonable(data), indent=1) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "reps": args.reps,
            "power_reps": power_reps,
            "seed_sd": globals()["SEED_SD"],
            "margin": MARGIN,
            "scenario_e": note,
            "staged": args.staged,
            **{
                k: [asdict(r) for r in v] if isinstance(v, list) else asdict(v)
                for k, v in results.items()
            },
        }
        args.json.write_text(json.dumps(_jsonable(payload), indent=1))


if __name__ == "__main__":
    main()
