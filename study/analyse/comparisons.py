"""From stored results to the report's numbers: outcomes per seed, comparisons, verdicts, power (no words).

Reads only the store (through ``study.results``); never imports TensorFlow. Per dataset one noise
model (``study.analyse.noise``: seed variances moderated across every configuration of the dataset);
per block (an experiment on a dataset) the decisions of ``study.analyse.decide``.

    analysis = analyse(store, profile="quick")
    analysis.blocks[(experiment_name, dataset_name)].values[0].verdict   # a Verdict
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.analyse.costs import Cost, epoch_cost
from study.analyse.decide import Arm, Decision, decide_dataset
from study.analyse.noise import MeanComparison, Prior, SeedCorrelation, seed_correlation
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
    def p_holm(self) -> float:
        return self.decision.p_holm if self.decision else math.nan

    @property
    def rates(self) -> Rates | None:
        return self.decision.rates if self.decision else None

    @property
    def p_rate_holm(self) -> float:
        return self.decision.p_rate_holm if self.decision else math.nan

    @property
    def rate_differs(self) -> bool:
        return self.decision is not None and self.decision.rate_differs

    @property
    def decisive(self) -> bool:
        return self.decision is not None and self.decision.decisive

    @property
    def small_but_real(self) -> bool:
        return self.decision is not None and self.decision.small_but_real


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

    @property
    def missing(self) -> int:
        return sum(v.status.get("missing", 0) for v in self.values)

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
    def mde(self) -> float:
        """Median over the block's testable comparisons of the difference each detects with 80% power."""
        found = [
            v.decision.detectable
            for v in self.comparisons
            if v.decision and math.isfinite(v.decision.detectable)
        ]
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
        finished = [k for k, s in status_of.items() if s in ("ok", "diverged")]
        mine = epochs[epochs["trial_key"].isin(finished)].sort_values("epoch")
        outcomes, final = {}, {}
        for key in (
            finished
        ):  # the one outcome rule, read from the trial's summary (study.results.outcomes)
            summary = summaries_of[key]
            outcomes[seed_of[key]] = summary.outcome
            acc = summary.val_accuracy
            final[seed_of[key]] = chance if summary.outcome == DIVERGED or acc is None else acc
        ok = mine[mine["trial_key"].map(status_of) == "ok"]
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
        trained = rows[rows["status"].isin(["ok", "diverged"])]
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

    inputs = []
    for block in blocks:
        block.paired = tuple(
            shares_initial_weights(spec(v), spec(block.baseline)) for v in block.comparisons
        )
        inputs.append(
            ([arm(v) for v in block.comparisons], arm(block.baseline), list(block.paired))
        )
    prior, decided = decide_dataset(inputs, margin, alpha)
    for block, decisions in zip(blocks, decided):
        block.margin, block.prior = margin, prior
        block.correlation = seed_correlation(
            [(v.learned_only(), block.baseline.learned_only()) for v in block.comparisons]
        )
        for value, decision in zip(block.comparisons, decisions):
            value.decision = decision


def look_level(profile: Profile) -> float:
    """The level every look and the final analysis test at under ``profile``: Pocock's level for its looks
    (0.05 for a study that adds no seeds after its first look). ``benchmarks/error_rates.py`` simulates the
    staged design at this very level."""
    return pocock_level(profile.looks)


def stopping_looks(stored: StoredStudy) -> dict[tuple[str, str, str], int]:
    """(experiment, value, dataset) -> the look at which the comparison stopped, for every value that got
    seeds after the first look (``StoredStudy.stages``); a value not named stopped at look 1."""
    stops: dict[tuple[str, str, str], int] = {}
    for row in stored.stages:
        key = (row["experiment"], row["value"], row["dataset"])
        stops[key] = max(stops.get(key, 1), int(row["look"]))
    return stops


def last_look(stored: StoredStudy) -> int:
    """The last look the run took: 1 + the looks that added seeds."""
    return max([1] + [int(row["look"]) for row in stored.stages])


def _as_of(plan: pd.DataFrame, stored: StoredStudy, look: int) -> pd.Series:
    """The plan rows a look saw: every baseline seed, and each value's seeds as of that look."""
    study, profile = stored.study, stored.profile
    counts: dict[tuple[str, str, str], int] = {}
    for row in stored.stages:
        if int(row["look"]) <= look:
            key = (row["experiment"], row["value"], row["dataset"])
            counts[key] = max(counts.get(key, 0), int(row["seeds"]))
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
                    value.decision = earlier[(experiment, dataset)].value(value.label).decision
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
    )


def verdict_rows(analysis: Analysis) -> list[dict]:
    """One row per (experiment, dataset, value): the machine-readable verdicts (output/verdicts.csv).

    Differences, intervals, detectable differences and margins are percentage points; the accuracy
    comparison rests on learned seeds only (``seeds_value`` against ``seeds_baseline``, by ``test`` with
    ``df`` degrees of freedom); the failure-rate test on every finished seed."""
    rows = []
    for (experiment, dataset), block in analysis.blocks.items():
        for v in block.values:
            c, d = v.comparison, v.decision
            rows.append(
                {
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
                    "failed": v.status.get("failed", 0),
                    "missing": v.status.get("missing", 0),
                    "mean_pct": _num(v.final_learned.mean, 100),
                    "ci_low_pct": _num(v.final_learned.low, 100),
                    "ci_high_pct": _num(v.final_learned.high, 100),
                    "test": c.test if c else None,
                    "df": _dof(c.dof) if c else None,
                    "seeds_value": c.n_a if c else (v.learned if not v.is_baseline else None),
                    "seeds_baseline": c.n_b
                    if c
                    else (block.baseline.learned if not v.is_baseline else None),
                    "pooled_sd_pp": _num(block.spread, 100),
                    "diff_pp": _num(c.diff, 100) if c else None,
                    "diff_low_pp": _num(c.low, 100) if c else None,
                    "diff_high_pp": _num(c.high, 100) if c else None,
                    "p": _p(c.p) if c else None,
                    "p_holm": _p(v.p_holm),
                    "mde_pp": _num(d.detectable, 100) if d else None,
                    "margin_pp": _num(block.margin, 100),
                    "failure_rate_p_holm": _p(v.p_rate_holm),
                    "verdict": v.verdict,
                    "small_but_real": v.small_but_real,
                    "rate_differs": v.rate_differs,
                    "decisive": v.decisive,
                    "alpha": _p(analysis.alpha),
                }
            )
    return rows


def _num(x: float | None, scale: float = 1.0) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x) * scale, 6)


def _p(x: float | None) -> float | None:
    """A p-value to six significant digits (never rounded to 0)."""
    return None if x is None or not np.isfinite(x) else float(f"{x:.6g}")


def _dof(x: float | None) -> float | str | None:
    """Degrees of freedom; 'inf' where the variance counts as known (the noise model's d0 is infinite)."""
    return None if x is None or np.isnan(x) else ("inf" if np.isinf(x) else round(float(x), 6))
