"""From stored results to the report's numbers: outcomes per seed, comparisons, verdicts, power (no words).

Reads only the store (through ``study.results``); never imports TensorFlow. Per dataset one noise
model (``study.analyse.noise``: seed variances moderated across every configuration of the dataset);
per block (an experiment on a dataset) the decisions of ``study.analyse.decide``.

    analysis = analyse(store, profile="quick")
    analysis.blocks[(experiment_name, dataset_name)].values[0].verdict   # a Verdict
"""

from __future__ import annotations

import enum
import json
import math
import statistics
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.analyse.costs import Cost, CostRatio, cost_ratio, epoch_cost
from study.analyse.decide import Arm, Decision, dataset_priors, decide_dataset
from study.analyse.grid import GridAnalysis, analyse_grid
from study.analyse.noise import MeanComparison, Prior, SeedCorrelation, seed_correlation
from study.analyse.selection import cell_runs, held_out_chance, selection_rows
from study.analyse.stats import (
    ALPHA,
    Interval,
    Rates,
    Verdict,
    equivalence_reach,
    mean_ci,
    pocock_level,
)
from study.declare.spec import Profile
from study.errors import StudyError
from study.plan.shapes import summarize
from study.plan.trials import TrialSpec
from study.records import FINISHED, TrialStatus
from study.results.outcomes import (
    COLLAPSED,
    DIVERGED,
    LEARNED,
    ConstantAnswer,
    Outcome,
    TrialSummary,
)
from study.results.store import Store
from study.results.stored import StoredStudy
from study.results.tables import epochs_frame, plan_frame, trial_summaries

UNIT = (0.0, 1.0)


@dataclass
class ValueSummary:
    """One value of a block: every seed's outcome and final accuracy, and its decision against the baseline."""

    label: str
    index: int
    is_baseline: bool
    note: str
    seeds: list[int]
    status: dict[str, int]  # ok, diverged, failed, missing -> count of seeds
    keys: dict[int, str]  # seed -> trial key
    outcomes: dict[int, Outcome]  # seed -> learned / collapsed / diverged (finished seeds only)
    final_by_seed: dict[
        int, float
    ]  # every finished seed: collapsed at its accuracy, diverged at chance
    final: Interval  # over every finished seed, inside [0, 1] (for the figures; no verdict rests on it)
    final_learned: Interval  # over learned seeds only
    train_seconds: Interval  # per trial (sum of its epochs), over finished seeds: what a run of this value took
    params: int | None
    macs: int | None
    cost: Cost  # median seconds per epoch over finished seeds, their range and the MACs: what the report compares
    curves: dict[
        str, list[Interval]
    ]  # val_accuracy / val_loss -> one interval per epoch (bounded)
    first_epoch: dict[int, float] = field(default_factory=dict)
    decision: Decision | None = None  # against the block's baseline; None for the baseline itself

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == kind)

    @property
    def learned(self) -> int:
        return self.count(LEARNED)

    @property
    def finished(self) -> int:
        return len(self.outcomes)

    @property
    def all_diverged(self) -> bool:
        return self.finished > 0 and self.count(DIVERGED) == self.finished

    @property
    def mixed(self) -> bool:
        """Some but not all finished seeds learned."""
        return 0 < self.learned < self.finished

    def learned_only(self) -> dict[int, float]:
        return {s: a for s, a in self.final_by_seed.items() if self.outcomes.get(s) == LEARNED}

    def arm(self) -> Arm:
        """What the decision rule sees of this value."""
        return Arm(
            self.learned_only(), self.finished - self.learned, self.finished, self.all_diverged
        )

    @property
    def comparison(self) -> MeanComparison | None:
        return self.decision.comparison if self.decision else None

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict if self.decision else Verdict.REFERENCE

    @property
    def p_adjusted(self) -> float:
        return self.decision.p_adjusted if self.decision else math.nan

    @property
    def rates(self) -> Rates | None:
        return self.decision.rates if self.decision else None

    @property
    def p_rate_adjusted(self) -> float:
        return self.decision.p_rate_adjusted if self.decision else math.nan

    @property
    def rate_differs(self) -> bool:
        return self.decision is not None and self.decision.rate_differs

    @property
    def decisive(self) -> bool:
        return self.decision is not None and self.decision.decisive

    @property
    def small_but_real(self) -> bool:
        return self.decision is not None and self.decision.small_but_real


class Standing(enum.StrEnum):
    """Where a comparison stands in the forest plot: an interval, a point without one, or why neither."""

    INTERVAL = "interval"
    POINT = "point"  # a difference without an interval (one seed pair, tied seeds)
    DID_NOT_LEARN = "did not learn"  # no seed of the value learned (diverged ones included)
    BASELINE_DID_NOT_LEARN = "baseline did not learn"
    TOO_FEW_SEEDS = "too few seeds"  # learned in fewer than 2 seeds, or none finished yet


@dataclass(frozen=True)
class Comparison:
    """One value against its baseline on one dataset: the one record every consumer reads (verdicts.csv, the
    tables, section 1, the forest plot, the summary and the claims). Built once by ``analyse`` from the
    decision of the look at which the comparison stopped; nothing downstream recomputes or re-derives it.

    Accuracy (fractions): the seeds the test used on each side (learned seeds; over the seeds both learned
    where the design pairs them), their means, the difference with the interval at ``level`` (the level its
    verdict uses), the raw and the family-adjusted p, the degrees of freedom. Failure to learn: the
    finished seeds that failed on each side, Boschloo's p raw and adjusted, and its direction. NaN where a
    number does not exist (no comparison, no interval)."""

    experiment: str
    group: str
    parameter: str
    dataset: str
    value: str
    baseline: str
    test: str | None  # None: no accuracy comparison (see ``standing``)
    paired: bool  # by design: same initial weights per seed as the baseline
    seeds_value: tuple[int, ...]  # the value's seeds the accuracy test used
    seeds_baseline: tuple[int, ...]  # the baseline's seeds the accuracy test used
    mean_value: float  # over seeds_value
    mean_baseline: float  # over seeds_baseline
    diff: float
    low: float
    high: float
    level: float  # confidence of low..high
    se: float
    dof: float
    p: float
    p_adjusted: float  # Bonferroni over the block's ``family`` accuracy comparisons
    family: int  # m: the block's accuracy comparisons with a test (its level is 1 - alpha / m)
    detectable: float  # the difference detected with 80% power at the verdict's level
    margin: float  # the dataset's equivalence margin
    verdict: Verdict
    decisive: bool  # better / worse / equivalent, or a significantly different failure rate
    failed: int  # the value's finished seeds that collapsed or diverged
    finished: int
    baseline_failed: int
    baseline_finished: int
    p_rate: float  # Boschloo, two-sided; NaN when untested
    p_rate_adjusted: float
    rate_differs: bool
    cost: CostRatio  # time per epoch against the baseline's
    look: int = 1  # the look whose decision this is

    @property
    def fails_more(self) -> bool | None:
        """True: the value fails to learn more often than the baseline; False: less often; None: as often or
        not comparable."""
        if not (self.finished and self.baseline_finished):
            return None
        rate, base = self.failed / self.finished, self.baseline_failed / self.baseline_finished
        return None if rate == base else rate > base

    @property
    def small_but_real(self) -> bool:
        """Better or worse, yet the whole interval lies inside +-margin: a real difference, smaller than M
        (as ``Decision.small_but_real``)."""
        return (
            self.verdict in (Verdict.BETTER, Verdict.WORSE)
            and self.has_interval
            and -self.margin <= self.low
            and self.high <= self.margin
        )

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def standing(self) -> Standing:
        if math.isfinite(self.diff):
            return Standing.INTERVAL if self.has_interval else Standing.POINT
        if self.finished and self.failed == self.finished:
            return Standing.DID_NOT_LEARN
        if self.baseline_finished and self.baseline_failed == self.baseline_finished:
            return Standing.BASELINE_DID_NOT_LEARN
        return Standing.TOO_FEW_SEEDS


@dataclass
class Block:
    """One experiment on one dataset: its values, the baseline they are compared with, and how."""

    experiment: str
    parameter: str
    dataset: str
    values: list[ValueSummary]
    baseline: ValueSummary
    chance: float  # the best constant answer's accuracy on this test set
    margin: float = math.nan  # the dataset's equivalence margin (fraction), declared by the study
    prior: Prior | None = None  # the dataset's noise model
    paired: tuple[
        bool, ...
    ] = ()  # per comparison: same initial weights per seed as the baseline (by design)
    correlation: SeedCorrelation | None = (
        None  # measured across seeds, shown as a check of the design rule
    )
    paired_prior: Prior | None = None  # the dataset's noise model of paired differences
    group: str = ""  # the part of the study the experiment belongs to
    records: dict[str, Comparison] = field(default_factory=dict)  # value label -> its comparison

    @property
    def compared(self) -> list[Comparison]:
        """Every non-baseline value's comparison, in the block's order of values."""
        return [self.records[v.label] for v in self.comparisons if v.label in self.records]

    @property
    def missing(self) -> int:
        return sum(v.status.get(TrialStatus.MISSING, 0) for v in self.values)

    @property
    def comparisons(self) -> list[ValueSummary]:
        return [v for v in self.values if v is not self.baseline]

    @property
    def decisive(self) -> int:
        return sum(v.decisive for v in self.comparisons)

    @property
    def spread(self) -> float:
        """The dataset's pooled seed SD of a learned configuration's final accuracy (the prior's scale)."""
        return self.prior.sd if self.prior is not None and self.prior.usable else math.nan

    @property
    def detectables(self) -> list[float]:
        """The difference each testable comparison of the block detects with 80% power (its MDE), in order."""
        return [
            v.decision.detectable
            for v in self.comparisons
            if v.decision and math.isfinite(v.decision.detectable)
        ]

    @property
    def mde(self) -> float:
        """Median over the block's testable comparisons of the difference each detects with 80% power."""
        found = self.detectables
        return statistics.median(found) if found else math.nan

    @property
    def confirmable_margin(self) -> float:
        """Median over the testable comparisons of the finest margin each confirms with 80% power at a true
        difference of zero, (t_0.975 + t_0.90) x SE (NaN past 100 pp)."""
        reach = [
            equivalence_reach(v.comparison.se, v.comparison.dof)
            for v in self.comparisons
            if v.comparison
        ]
        reach = [r for r in reach if r < 1]  # NaN compares False: undefined reaches drop out too
        return statistics.median(reach) if reach else math.nan

    def value(self, label: str) -> ValueSummary | None:
        return next((v for v in self.values if v.label == label), None)


@dataclass
class Analysis:
    study: str
    profile: str
    stored: StoredStudy  # the study, its budget and its datasets' facts, as the run stored them
    plan: pd.DataFrame
    blocks: dict[tuple[str, str], Block]
    trials: dict[str, TrialSpec]  # every planned trial of the store, by key
    environment: dict
    run: dict
    answers: dict[str, ConstantAnswer] = field(
        default_factory=dict
    )  # each dataset's best constant answer
    alpha: float = ALPHA  # each Holm family's level: 0.05, or Pocock's per-look level when seeds come in stages
    runs: list[dict] = field(
        default_factory=list
    )  # every run record of this study and budget, oldest first
    # (experiment, dataset) -> a grid's selection phase: its cells, choices, interaction (study.analyse.grid)
    grids: dict[tuple[str, str], GridAnalysis] = field(default_factory=dict)
    # the plan rows of the grids' selection cells (``plan`` holds the comparisons' rows only)
    selection: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def every_trial(self) -> pd.DataFrame:
        """One row per distinct trial of the run, the grids' selection cells included, with its status."""
        return pd.concat([self.plan, self.selection]).drop_duplicates("trial_key")

    @property
    def selection_seeds(self) -> list[int]:
        return (
            sorted(int(s) for s in self.selection["seed"].unique()) if len(self.selection) else []
        )

    @property
    def looks(self) -> int:
        """How many looks the budget's design has (``Profile.looks``; 1 without stages)."""
        return self.stored.profile.looks

    @property
    def datasets(self) -> list[str]:
        """The datasets of the run, in the study's order (its experiments'), then any other stored one."""
        order = [d for d in self.stored.study.datasets if d in self.stored.datasets]
        return order + [d for d in self.stored.datasets if d not in order]

    @property
    def seeds_used(self) -> list[int]:
        return sorted(int(s) for s in self.plan["seed"].unique())


def _summaries(
    group: pd.DataFrame, epochs: pd.DataFrame, summaries_of: dict[str, TrialSummary], chance: float
) -> list[ValueSummary]:
    summaries = []
    for (index, label), rows in group.groupby(["value_index", "value"], sort=True):
        seeds = sorted(int(s) for s in rows["seed"])
        status = rows["status"].value_counts().to_dict()
        seed_of = dict(zip(rows["trial_key"], rows["seed"].astype(int)))
        status_of = dict(zip(rows["trial_key"], rows["status"]))
        finished = [k for k, s in status_of.items() if s in FINISHED]
        mine = epochs[epochs["trial_key"].isin(finished)].sort_values("epoch")
        outcomes: dict[int, Outcome] = {}
        final: dict[int, float] = {}
        # the one outcome rule, read from the trial's summary (study.results.outcomes); a finished
        # trial always has an outcome
        for key in finished:
            summary = summaries_of[key]
            if summary.outcome is None:
                continue
            outcomes[seed_of[key]] = summary.outcome
            acc = summary.val_accuracy
            final[seed_of[key]] = chance if summary.outcome == DIVERGED or acc is None else acc
        ok = mine[mine["trial_key"].map(status_of) == TrialStatus.OK]
        first = ok[ok["epoch"] == 1]
        curves = {
            "val_accuracy": [
                mean_ci(list(part["val_accuracy"]), bounds=UNIT)
                for _, part in ok.groupby("epoch", sort=True)
            ],
            "val_loss": [
                mean_ci(list(part["val_loss"]), bounds=(0.0, math.inf))
                for _, part in ok.groupby("epoch", sort=True)
            ],
        }
        trained = rows[rows["status"].isin(list(FINISHED))]
        params, macs = rows["params"].dropna(), rows["macs"].dropna()
        macs_per_image = int(macs.iloc[0]) if len(macs) else None
        times = {
            seed_of[key]: list(part["epoch_seconds"])
            for key, part in mine.groupby("trial_key", sort=False)
        }
        apart = {
            seed_of[key]: bool(pd.notna(trace))
            for key, trace in zip(rows["trial_key"], rows["trace_seconds"])
        }
        summaries.append(
            ValueSummary(
                label=str(label),
                index=int(index),
                is_baseline=bool(rows["is_baseline"].max()),
                note=rows["note"].iloc[0],
                seeds=seeds,
                status={k: int(v) for k, v in status.items()},
                keys={seed: key for key, seed in sorted(seed_of.items(), key=lambda kv: kv[1])},
                outcomes=dict(sorted(outcomes.items())),
                final_by_seed=dict(sorted(final.items())),
                final=mean_ci(list(final.values()), bounds=UNIT),
                final_learned=mean_ci(
                    [a for s, a in final.items() if outcomes[s] == LEARNED], bounds=UNIT
                ),
                train_seconds=mean_ci(list(trained["train_seconds"].dropna())),
                params=int(params.iloc[0]) if len(params) else None,
                macs=macs_per_image,
                cost=epoch_cost(times, apart, macs_per_image),
                curves=curves,
                first_epoch={
                    seed_of[k]: float(a) for k, a in zip(first["trial_key"], first["val_accuracy"])
                },
            )
        )
    return summaries


def constant_answer(stored: StoredStudy, dataset: str) -> ConstantAnswer:
    """The best constant answer on ``dataset``'s test subset (uniform when its class counts were not recorded)."""
    facts = stored.datasets.get(dataset)
    return (facts.constant_answer() if facts else None) or ConstantAnswer.uniform(
        stored.classes(dataset)
    )


def shares_initial_weights(a: TrialSpec | None, b: TrialSpec | None) -> bool:
    """Do two trials of one seed start from the same weights? Initial weights are drawn per layer from the
    trial seed (``study.train.model``), so they coincide exactly when the initialiser and every layer's
    parameter shapes do (batch size, learning rate, solver, activation); a pooling, kernel, filter, stride
    or layer change alters some shape and so the draw."""
    if a is None or b is None or a.model.initializer != b.model.initializer:
        return False

    def weights(
        spec: TrialSpec,
    ) -> list[tuple[str, int]]:  # layers that hold weights, with their sizes
        return [(row.kind, row.params) for row in summarize(spec.model).rows if row.params]

    return weights(a) == weights(b)


def _decide(
    blocks: list[Block], margin: float, trials: dict[str, TrialSpec], alpha: float
) -> None:
    """One dataset, through ``decide_dataset`` as the error-rate simulation calls it: one arm per distinct
    configuration (a baseline shared by several experiments is one), its noise model fitted once over
    them, then every block decided."""
    arms: dict[frozenset, Arm] = {}

    def arm(value: ValueSummary) -> Arm:
        return arms.setdefault(frozenset(value.keys.values()), value.arm())

    def spec(value: ValueSummary) -> TrialSpec | None:
        return trials.get(next(iter(value.keys.values()), ""))

    inputs: list[tuple[list[Arm], Arm, bool | list[bool]]] = []
    for block in blocks:
        block.paired = tuple(
            shares_initial_weights(spec(v), spec(block.baseline)) for v in block.comparisons
        )
        inputs.append(
            ([arm(v) for v in block.comparisons], arm(block.baseline), list(block.paired))
        )
    # the noise model is fitted once per configuration: two values that run the same configuration (the
    # budget check's longer run and a longer run's baseline) share trials, and each trial counts once
    merged: dict[str, dict[int, float]] = {}
    for block in blocks:
        for value in block.values:
            first = spec(value)
            if first is not None:
                merged.setdefault(_configuration(first), {}).update(value.learned_only())
    configurations = [Arm(learned, 0, len(learned)) for learned in merged.values()]
    prior, differences = dataset_priors(inputs, configurations)
    _, decided = decide_dataset(inputs, margin, alpha, (prior, differences))
    for block, decisions in zip(blocks, decided):
        block.margin, block.prior, block.paired_prior = margin, prior, differences
        block.correlation = seed_correlation(
            [(v.learned_only(), block.baseline.learned_only()) for v in block.comparisons]
        )
        for value, decision in zip(block.comparisons, decisions):
            value.decision = decision


def _configuration(spec: TrialSpec) -> str:
    """A trial's configuration: everything but its seed and key (trials of one configuration differ only
    in their seed)."""
    data = spec.to_dict()
    data.pop("seed", None)
    data.pop("key", None)
    return json.dumps(data, sort_keys=True, default=str)


def look_level(profile: Profile) -> float:
    """The level every look and the final analysis test at under ``profile``: Pocock's level for its looks
    (0.05 for a study that adds no seeds after its first look). ``benchmarks/error_rates.py`` simulates the
    staged design at this very level."""
    return pocock_level(profile.looks)


def stopping_looks(stored: StoredStudy) -> dict[tuple[str, str, str], int]:
    """(experiment, value, dataset) -> the look at which the comparison stopped, for every value that got
    seeds after the first look (``StoredStudy.stages``); a value not named stopped at look 1."""
    stops: dict[tuple[str, str, str], int] = {}
    for stage in stored.stages:
        key = (stage.experiment, stage.value, stage.dataset)
        stops[key] = max(stops.get(key, 1), stage.look)
    return stops


def last_look(stored: StoredStudy) -> int:
    """The last look the run took: 1 + the looks that added seeds."""
    return max([1] + [stage.look for stage in stored.stages])


def _as_of(plan: pd.DataFrame, stored: StoredStudy, look: int) -> pd.Series:
    """The plan rows a look saw: every baseline seed, and each value's seeds as of that look."""
    study, profile = stored.study, stored.profile
    counts: dict[tuple[str, str, str], int] = {}
    for stage in stored.stages:
        if stage.look <= look:
            key = (stage.experiment, stage.value, stage.dataset)
            counts[key] = max(counts.get(key, 0), stage.seeds)
    first = len(study.seeds_for(profile.seeds, baseline=False))
    allowed = {n: set(study.seed_list(n)) for n in {first, *counts.values()}}
    return pd.Series(
        [
            bool(row.is_baseline)
            or int(row.seed)
            in allowed[counts.get((row.experiment, row.value, row.dataset), first)]
            for row in plan.itertuples()
        ],
        index=plan.index,
    )


def analyse(store: Store, study: str | None = None, profile: str | None = None) -> Analysis:
    """Everything the report shows, for one (study, profile) of the store (default: the latest).

    With seeds in stages (``study.sequential``), each comparison's verdict is the one of the look at which it
    stopped: a comparison that got no more seeds after look k keeps look k's decision, as a group-sequential
    design stops at the first look that decides."""
    known = store.studies()
    if not known:
        raise StudyError(f"results store {store.path} holds no study yet; run `study run` first")
    if profile is not None and study is None:
        matches = [r for r in known if r["profile"] == profile]
        if not matches:
            raise StudyError(
                f"no study with profile {profile!r} in {store.path}; stored profiles: "
                + ", ".join(sorted({r["profile"] for r in known}))
            )
        study = matches[0]["study"]
    study = study or known[0]["study"]
    if study not in {r["study"] for r in known}:
        raise StudyError(
            f"no study named {study!r} in {store.path} (--study takes the name a run stored, not a "
            f"file); stored studies: " + ", ".join(sorted({repr(r["study"]) for r in known}))
        )
    profile = profile or next(r["profile"] for r in known if r["study"] == study)
    stored = store.stored_study(study, profile)
    plan = plan_frame(store, study, profile)
    # a grid's selection cells are scored on a validation split and only choose its comparisons' cells
    # (study.analyse.selection); no comparison, noise model or verdict reads them
    selection = plan[selection_rows(plan)].reset_index(drop=True)
    plan = plan[~selection_rows(plan)].reset_index(drop=True)
    epochs = epochs_frame(store, list(plan["trial_key"].unique()))
    summaries_of = trial_summaries(store)
    answers = {dataset: constant_answer(stored, dataset) for dataset in stored.datasets}
    specs = store.planned_trials()
    alpha = look_level(stored.profile)

    def decided(rows: pd.DataFrame) -> dict[tuple[str, str], Block]:
        blocks = {}
        for (experiment, dataset), group in rows.groupby(["experiment", "dataset"], sort=False):
            chance = answers.get(dataset, ConstantAnswer.uniform(stored.classes(dataset))).accuracy
            values = _summaries(group, epochs, summaries_of, chance)
            base = next((v for v in values if v.is_baseline), values[0])
            blocks[(experiment, dataset)] = Block(
                experiment, group["parameter"].iloc[0], dataset, values, base, chance
            )
        for dataset in dict.fromkeys(d for _, d in blocks):
            _decide(
                [b for (_, d), b in blocks.items() if d == dataset],
                stored.study.margin(dataset),
                specs,
                alpha,
            )
        return blocks

    blocks = decided(plan)
    stops = stopping_looks(stored)
    for look in range(1, last_look(stored)):
        # a comparison that stopped at an earlier look keeps the verdict of that look (its own seeds are
        # the same; the noise model of a later look would otherwise re-decide it after the fact)
        earlier = decided(plan[_as_of(plan, stored, look)])
        for (experiment, dataset), block in blocks.items():
            for value in block.comparisons:
                if stops.get((experiment, value.label, dataset), 1) == look:
                    then = earlier[(experiment, dataset)].value(value.label)
                    value.decision = then.decision if then is not None else None
    groups = {e.name: e.group for e in stored.study.experiments}
    for (experiment, _), block in blocks.items():
        block.group = groups.get(experiment, "")
        block.records = {
            value.label: comparison_record(
                block, value, stops.get((experiment, value.label, block.dataset), 1)
            )
            for value in block.comparisons
        }
    grids = _grids(stored, selection, summaries_of)
    run = store.latest_run(study, profile)
    run_dict = dict(run) if run is not None else {}
    environment = json.loads(run_dict.pop("environment", "{}") or "{}")
    return Analysis(
        study,
        profile,
        stored,
        plan,
        blocks,
        specs,
        environment,
        run_dict,
        answers,
        alpha,
        store.runs(study, profile),
        grids,
        selection,
    )


def _grids(
    stored: StoredStudy, selection: pd.DataFrame, summaries: dict[str, TrialSummary]
) -> dict[tuple[str, str], GridAnalysis]:
    """(experiment, dataset) -> the analysis of every grid's selection phase the store holds."""
    out = {}
    baseline = stored.study.baseline.to_dict()
    for experiment in stored.study.experiments:
        grid = experiment.grid
        if grid is None:
            continue
        for dataset, runs in cell_runs(experiment, selection, summaries).items():
            facts = stored.datasets.get(dataset)
            images = max(1, round(grid.validation * (facts.train_size if facts else 1)))
            out[(experiment.name, dataset)] = analyse_grid(
                grid,
                dataset,
                runs,
                held_out_chance(stored, dataset),
                stored.study.margin(dataset),
                images,
                {**baseline, **experiment.base},
                experiment.name,
            )
    return out


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def comparison_record(block: Block, value: ValueSummary, look: int = 1) -> Comparison:
    """The one record of ``value`` against ``block``'s baseline, from its decision (see ``Comparison``)."""
    decision, base = value.decision, block.baseline
    c = decision.comparison if decision else None
    paired = bool(block.paired[block.comparisons.index(value)]) if block.paired else False
    mine, theirs = value.learned_only(), base.learned_only()
    if c is None:
        seeds_value: tuple[int, ...] = ()
        seeds_baseline: tuple[int, ...] = ()
    elif paired:  # the paired test runs over the seeds both learned
        seeds_value = seeds_baseline = tuple(sorted(mine.keys() & theirs.keys()))
    else:
        seeds_value, seeds_baseline = tuple(sorted(mine)), tuple(sorted(theirs))
    rates = decision.rates if decision else None
    nan = math.nan
    return Comparison(
        experiment=block.experiment,
        group=block.group,
        parameter=block.parameter,
        dataset=block.dataset,
        value=value.label,
        baseline=base.label,
        test=c.test if c else None,
        paired=paired,
        seeds_value=seeds_value,
        seeds_baseline=seeds_baseline,
        mean_value=_mean([mine[s] for s in seeds_value]),
        mean_baseline=_mean([theirs[s] for s in seeds_baseline]),
        diff=c.diff if c else nan,
        low=c.low if c else nan,
        high=c.high if c else nan,
        level=c.confidence if c else nan,
        se=c.se if c else nan,
        dof=c.dof if c else nan,
        p=c.p if c else nan,
        p_adjusted=decision.p_adjusted if decision else nan,
        family=decision.tests if decision else 0,
        detectable=decision.detectable if decision and c else nan,
        margin=block.margin,
        verdict=value.verdict,
        decisive=value.decisive,
        failed=value.finished - value.learned,
        finished=value.finished,
        baseline_failed=base.finished - base.learned,
        baseline_finished=base.finished,
        p_rate=rates.p if rates else nan,
        p_rate_adjusted=decision.p_rate_adjusted if decision else nan,
        rate_differs=value.rate_differs,
        cost=cost_ratio(value.cost, base.cost),
        look=look,
    )


def verdict_rows(analysis: Analysis) -> list[dict]:
    """One row per (experiment, dataset, value): the machine-readable verdicts (output/verdicts.csv), a
    projection of the ``Comparison`` records (the baseline's row: its own seeds, no comparison).

    Differences, intervals, detectable differences and margins are percentage points; the accuracy
    comparison rests on the learned seeds listed in ``seeds_value`` and ``seeds_baseline`` (their counts in
    ``n_value`` and ``n_baseline``; the means over exactly those seeds in ``mean_value_pct`` and
    ``mean_baseline_pct``), by ``test`` with ``df`` degrees of freedom; its interval is at ``level``, the
    level the verdict uses, and ``p_adjusted`` is the p of that family's correction. The failure-rate test
    rests on every finished seed."""
    rows = []
    for (experiment, dataset), block in analysis.blocks.items():
        for v in block.values:
            r = block.records.get(v.label)
            row = {
                "study": analysis.study,
                "profile": analysis.profile,
                "experiment": experiment,
                "dataset": dataset,
                "value": v.label,
                "is_baseline": v.is_baseline,
                "n_seeds": len(v.seeds),
                "learned": v.learned,
                "collapsed": v.count(COLLAPSED),
                "diverged": v.count(DIVERGED),
                "failed": v.status.get(TrialStatus.FAILED, 0),
                "missing": v.status.get(TrialStatus.MISSING, 0),
                "mean_pct": _num(v.final_learned.mean, 100),
                "ci_low_pct": _num(v.final_learned.low, 100),
                "ci_high_pct": _num(v.final_learned.high, 100),
                "pooled_sd_pp": _num(block.spread, 100),
                "margin_pp": _num(block.margin, 100),
                "alpha": _p(analysis.alpha),
                "verdict": r.verdict if r else v.verdict,
                "decisive": bool(r and r.decisive),
                "small_but_real": bool(r and r.small_but_real),
                "rate_differs": bool(r and r.rate_differs),
            }
            if r is not None:
                row |= {
                    "test": r.test,
                    "paired": r.paired,
                    "df": _dof(r.dof) if r.test else None,
                    "n_value": len(r.seeds_value),
                    "n_baseline": len(r.seeds_baseline),
                    "seeds_value": " ".join(map(str, r.seeds_value)),
                    "seeds_baseline": " ".join(map(str, r.seeds_baseline)),
                    "mean_value_pct": _num(r.mean_value, 100),
                    "mean_baseline_pct": _num(r.mean_baseline, 100),
                    "diff_pp": _num(r.diff, 100),
                    "diff_low_pp": _num(r.low, 100),
                    "diff_high_pp": _num(r.high, 100),
                    "level": _p(r.level),
                    "p": _p(r.p),
                    "p_adjusted": _p(r.p_adjusted),
                    "family": r.family,
                    "mde_pp": _num(r.detectable, 100),
                    "failure_rate_p": _p(r.p_rate),
                    "failure_rate_p_adjusted": _p(r.p_rate_adjusted),
                    "fails_more": r.fails_more,
                    "look": r.look,
                }
            rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return [{k: row.get(k) for k in columns} for row in rows]


def _num(x: float | None, scale: float = 1.0) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x) * scale, 6)


def _p(x: float | None) -> float | None:
    """A p-value to six significant digits (never rounded to 0)."""
    return None if x is None or not np.isfinite(x) else float(f"{x:.6g}")


def _dof(x: float | None) -> float | str | None:
    """Degrees of freedom; 'inf' where the variance counts as known (the noise model's d0 is infinite)."""
    return None if x is None or np.isnan(x) else ("inf" if np.isinf(x) else round(float(x), 6))
