"""From stored results to the report's numbers: outcomes per seed, comparisons, verdicts, power (no words).

Reads only the store (through ``study.results.tables``); never imports TensorFlow.

    analysis = analyse(store, profile="quick")
    analysis.blocks[(experiment_name, dataset_name)].values[0].verdict   # a Verdict
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.analyse import stats
from study.analyse.stats import (ALPHA, DECISIVE, Interval, Paired, Rates, Verdict, collapse_rates, equivalence_margin,
                                 equivalence_reach, holm, mean_ci, minimum_detectable_effect, paired_difference)
from study.results.outcomes import COLLAPSED, DIVERGED, LEARNED, TrialSummary
from study.results.tables import epochs_frame, plan_frame, trial_summaries
from study.results.store import Store
from study.plan.trials import TrialSpec
from study.results.stored import StoredStudy

UNIT = (0.0, 1.0)


@dataclass
class ValueSummary:
    label: str
    index: int
    is_baseline: bool
    note: str
    seeds: list[int]
    status: dict[str, int]  # ok, diverged, failed, missing -> count of seeds
    keys: dict[int, str]  # seed -> trial key
    outcomes: dict[int, str]  # seed -> learned / collapsed / diverged (finished seeds only)
    final_by_seed: dict[int, float]  # every finished seed: collapsed at its accuracy, diverged at chance
    final: Interval  # over every finished seed, inside [0, 1]
    final_learned: Interval  # over learned seeds only
    train_seconds: Interval
    params: int | None
    macs: int | None
    curves: dict[str, list[Interval]]  # val_accuracy / val_loss -> one interval per epoch (bounded)
    first_epoch: dict[int, float] = field(default_factory=dict)
    paired: Paired | None = None  # all seeds, against the baseline
    paired_learned: Paired | None = None  # seeds in which both learned
    p_holm: float = math.nan
    p_holm_learned: float = math.nan
    rates: Rates | None = None  # seeds that did not learn (collapsed or diverged), against the baseline
    p_rate_holm: float = math.nan
    verdict: Verdict = Verdict.REFERENCE
    verdict_learned: Verdict = Verdict.REFERENCE

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
        """Some but not all finished seeds learned: its accuracy is a mixture of two regimes."""
        return 0 < self.learned < self.finished

    @property
    def rate_differs(self) -> bool:
        return math.isfinite(self.p_rate_holm) and self.p_rate_holm < ALPHA

    @property
    def decisive(self) -> bool:
        return not self.is_baseline and (self.verdict in DECISIVE or self.rate_differs)

    def learned_only(self) -> dict[int, float]:
        return {s: a for s, a in self.final_by_seed.items() if self.outcomes.get(s) == LEARNED}


@dataclass
class Block:
    experiment: str
    parameter: str
    dataset: str
    values: list[ValueSummary]
    baseline: ValueSummary
    chance: float
    margin: float = math.nan  # equivalence margin (fraction), from the baseline's accuracy
    spread: float = math.nan  # pooled SD of the paired differences over the block's comparisons
    seeds: int = 0  # seeds per comparison (the most any comparison has)

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
    def mde(self) -> float:
        """Minimum detectable effect at 80% power from the block's pooled spread and its seeds."""
        return minimum_detectable_effect(self.spread, self.seeds)

    @property
    def confirmable_margin(self) -> float:
        """The finest equivalence margin these seeds confirm with 80% power when the true difference is zero."""
        return equivalence_reach(self.spread, self.seeds)

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

    @property
    def datasets(self) -> list[str]:
        return list(self.stored.datasets)

    @property
    def seeds_used(self) -> list[int]:
        return sorted(int(s) for s in self.plan["seed"].unique())


def _summaries(group: pd.DataFrame, epochs: pd.DataFrame, trials: dict[str, TrialSummary],
               classes: int) -> list[ValueSummary]:
    chance = 1 / classes
    summaries = []
    for (index, label), rows in group.groupby(["value_index", "value"], sort=True):
        seeds = sorted(int(s) for s in rows["seed"])
        status = rows["status"].value_counts().to_dict()
        seed_of = dict(zip(rows["trial_key"], rows["seed"].astype(int)))
        status_of = dict(zip(rows["trial_key"], rows["status"]))
        finished = [k for k, s in status_of.items() if s in ("ok", "diverged")]
        mine = epochs[epochs["trial_key"].isin(finished)].sort_values("epoch")
        outcomes, final = {}, {}
        for key in finished:  # the one outcome rule, read from the trial's summary (study.results.outcomes)
            summary = trials[key]
            outcomes[seed_of[key]] = summary.outcome
            acc = summary.val_accuracy
            final[seed_of[key]] = chance if summary.outcome == DIVERGED or acc is None else acc
        ok = mine[mine["trial_key"].map(status_of) == "ok"]
        first = ok[ok["epoch"] == 1]
        curves = {
            "val_accuracy": [mean_ci(list(part["val_accuracy"]), bounds=UNIT)
                             for _, part in ok.groupby("epoch", sort=True)],
            "val_loss": [mean_ci(list(part["val_loss"]), bounds=(0.0, math.inf))
                         for _, part in ok.groupby("epoch", sort=True)],
        }
        trained = rows[rows["status"].isin(["ok", "diverged"])]
        params, macs = rows["params"].dropna(), rows["macs"].dropna()
        summaries.append(ValueSummary(
            label=str(label), index=int(index), is_baseline=bool(rows["is_baseline"].max()), note=rows["note"].iloc[0],
            seeds=seeds, status={k: int(v) for k, v in status.items()},
            keys={seed: key for key, seed in sorted(seed_of.items(), key=lambda kv: kv[1])}, outcomes=dict(sorted(outcomes.items())),
            final_by_seed=dict(sorted(final.items())), final=mean_ci(list(final.values()), bounds=UNIT),
            final_learned=mean_ci([a for s, a in final.items() if outcomes[s] == LEARNED], bounds=UNIT),
            train_seconds=mean_ci(list(trained["train_seconds"].dropna())),
            params=int(params.iloc[0]) if len(params) else None, macs=int(macs.iloc[0]) if len(macs) else None,
            curves=curves, first_epoch={seed_of[k]: float(a) for k, a in zip(first["trial_key"], first["val_accuracy"])},
        ))
    return summaries


def _pooled_sd(pairs: list[Paired]) -> tuple[float, int]:
    """Pooled SD of the paired differences of the block's testable comparisons (ties left out), and their n."""
    usable = [p for p in pairs if p.n >= 2 and math.isfinite(p.sd) and p.sd > 0]
    if not usable:
        return math.nan, max((p.n for p in pairs), default=0)
    dof = sum(p.n - 1 for p in usable)
    variance = sum((p.n - 1) * p.sd ** 2 for p in usable) / dof
    return math.sqrt(variance), max(p.n for p in usable)


def compare(block: Block, margin: float) -> None:
    """Test every value against the block's baseline: collapse rates, all-seeds and learned-only accuracy.

    ``margin`` is the dataset's equivalence margin (one per dataset, see ``dataset_margins``)."""
    base = block.baseline
    others = block.comparisons
    block.margin = margin
    base_failed = base.finished - base.learned
    base_learned_seeds = base.learned_only()
    for value in others:
        value.paired = paired_difference(value.final_by_seed, base.final_by_seed)
        value.paired_learned = paired_difference(value.learned_only(), base_learned_seeds)
        value.rates = collapse_rates(value.finished - value.learned, value.finished, base_failed, base.finished)
    for attr, target in (("paired", "p_holm"), ("paired_learned", "p_holm_learned")):
        # a value that diverged in every seed is judged by its rate alone: no t-test against a constant
        raw = [math.nan if v.all_diverged else getattr(v, attr).p for v in others]
        for value, p in zip(others, holm(raw)):
            setattr(value, target, p)
    tested = [v for v in others if v.finished and base.finished]
    for value, p in zip(tested, holm([v.rates.p for v in tested], untested_count=True)):
        value.p_rate_holm = p
    for value in others:
        value.verdict = stats.verdict(value.paired, value.p_holm, block.margin, value_learned=value.learned,
                                      base_learned=base.learned, all_diverged=value.all_diverged)
        value.verdict_learned = stats.accuracy_verdict(value.paired_learned, value.p_holm_learned, block.margin)
    block.spread, block.seeds = _pooled_sd([v.paired for v in others if v.paired is not None and not v.all_diverged])


def dataset_margins(stored: StoredStudy, blocks: dict[tuple[str, str], Block]) -> dict[str, float]:
    """One equivalence margin per dataset, from the baseline that learned in most seeds (then most accurately)."""
    margins = {}
    for dataset in {d for _, d in blocks}:
        bases = [b.baseline for (_, d), b in blocks.items() if d == dataset]
        best = max(bases, key=lambda v: (v.learned, v.final_learned.mean if v.final_learned.n else -1))
        facts = stored.datasets.get(dataset)
        test_images = facts.test_size if facts is not None else None
        margins[dataset] = equivalence_margin(best.final_learned.mean if best.learned else math.nan, test_images)
    return margins


def analyse(store: Store, study: str | None = None, profile: str | None = None) -> Analysis:
    """Everything the report shows, for one (study, profile) of the store (default: the latest)."""
    from study.errors import StudyError

    known = store.studies()
    if not known:
        raise StudyError(f"results store {store.path} holds no study yet; run `study run` first")
    if profile is not None and study is None:
        matches = [r for r in known if r["profile"] == profile]
        if not matches:
            raise StudyError(f"no study with profile {profile!r} in {store.path}; stored profiles: "
                             + ", ".join(sorted({r['profile'] for r in known})))
        study = matches[0]["study"]
    study = study or known[0]["study"]
    profile = profile or next(r["profile"] for r in known if r["study"] == study)
    stored = store.stored_study(study, profile)
    plan = plan_frame(store, study, profile)
    epochs = epochs_frame(store, list(plan["trial_key"].unique()))
    trials = trial_summaries(store)
    blocks = {}
    for (experiment, dataset), group in plan.groupby(["experiment", "dataset"], sort=False):
        classes = stored.classes(dataset)
        values = _summaries(group, epochs, trials, classes)
        base = next((v for v in values if v.is_baseline), values[0])
        blocks[(experiment, dataset)] = Block(experiment, group["parameter"].iloc[0], dataset, values, base,
                                              chance=1 / classes)
    margins = dataset_margins(stored, blocks)
    for (experiment, dataset), block in blocks.items():
        compare(block, margins[dataset])
    run = store.latest_run(study, profile)
    run_dict = dict(run) if run is not None else {}
    environment = json.loads(run_dict.pop("environment", "{}") or "{}")
    return Analysis(study, profile, stored, plan, blocks, store.planned_trials(), environment, run_dict)


def verdict_rows(analysis: Analysis) -> list[dict]:
    """One row per (experiment, dataset, value): the machine-readable verdicts (output/verdicts.csv)."""
    rows = []
    for (experiment, dataset), block in analysis.blocks.items():
        for v in block.values:
            paired = v.paired
            rows.append({
                "study": analysis.study, "profile": analysis.profile, "experiment": experiment, "dataset": dataset,
                "value": v.label, "is_baseline": v.is_baseline, "n_seeds": len(v.seeds), "learned": v.learned,
                "collapsed": v.count(COLLAPSED), "diverged": v.count(DIVERGED),
                "failed": v.status.get("failed", 0), "missing": v.status.get("missing", 0),
                "mean_pct": _num(v.final.mean, 100), "ci_low_pct": _num(v.final.low, 100),
                "ci_high_pct": _num(v.final.high, 100),
                "diff_pp": _num(paired.diff.mean, 100) if paired else None,
                "diff_low_pp": _num(paired.diff.low, 100) if paired else None,
                "diff_high_pp": _num(paired.diff.high, 100) if paired else None,
                "p": _num(paired.p) if paired else None, "p_holm": _num(v.p_holm),
                "mde_pp": _num(paired.mde, 100) if paired else None, "margin_pp": _num(block.margin, 100),
                "collapse_p_holm": _num(v.p_rate_holm),
                "learned_diff_pp": _num(v.paired_learned.diff.mean, 100) if v.paired_learned else None,
                "learned_p_holm": _num(v.p_holm_learned), "verdict_learned_only": v.verdict_learned,
                "verdict": v.verdict, "decisive": v.decisive,
                "train_seconds": _num(v.train_seconds.mean),
            })
    return rows


def _num(x: float | None, scale: float = 1.0) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x) * scale, 6)
