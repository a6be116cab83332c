"""From stored results to the report's numbers and words: outcomes per seed, comparisons, verdicts, power.

Reads only the store (through ``study.results.tables``); never imports TensorFlow.

    analysis = analyse(store, profile="quick")
    analysis.blocks[(experiment_name, dataset_name)].conclusion
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from study.analyse import stats
from study.results.tables import epochs_frame, plan_frame
from study.analyse.stats import (ALPHA, COLLAPSED, DECISIVE, DIVERGED, LEARNED, Interval, Paired, Rates, collapse_rates,
                         equivalence_margin, equivalence_reach, holm, mean_ci, minimum_detectable_effect, outcome,
                         paired_difference)
from study.results.store import Store

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
    verdict: str = "reference"
    verdict_learned: str = "reference"

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
    conclusion: str = ""

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
    spec: dict
    plan: pd.DataFrame
    blocks: dict[tuple[str, str], Block]
    configs: dict[str, dict]
    environment: dict
    run: dict

    @property
    def datasets(self) -> list[str]:
        return list(self.spec["datasets"])

    @property
    def seeds_used(self) -> list[int]:
        return sorted(int(s) for s in self.plan["seed"].unique())


def classes_of(spec: dict, dataset: str) -> int:
    return len(spec["datasets"].get(dataset, {}).get("classes") or range(10))


def _summaries(group: pd.DataFrame, epochs: pd.DataFrame, classes: int) -> list[ValueSummary]:
    chance = 1 / classes
    summaries = []
    for (index, label), rows in group.groupby(["value_index", "value"], sort=True):
        seeds = sorted(int(s) for s in rows["seed"])
        status = rows["status"].value_counts().to_dict()
        seed_of = dict(zip(rows["trial_key"], rows["seed"].astype(int)))
        status_of = dict(zip(rows["trial_key"], rows["status"]))
        finished = [k for k, s in status_of.items() if s in ("ok", "diverged")]
        mine = epochs[epochs["trial_key"].isin(finished)].sort_values("epoch")
        last = mine.groupby("trial_key").tail(1).set_index("trial_key")
        outcomes, final = {}, {}
        for key in finished:
            acc = float(last.at[key, "val_accuracy"]) if key in last.index else math.nan
            loss = float(last.at[key, "loss"]) if key in last.index else math.nan
            kind = outcome(status_of[key], acc, loss, classes)
            outcomes[seed_of[key]] = kind
            final[seed_of[key]] = chance if kind == DIVERGED or not math.isfinite(acc) else acc
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


def pp(x: float, signed: bool = True, digits: int = 1) -> str:
    """A difference in percentage points, e.g. '+1.2 pp'; '–' when undefined."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x * 100:+.{digits}f} pp" if signed else f"{x * 100:.{digits}f} pp"


def diff_with_ci(paired: Paired) -> str:
    """'-19.9 pp (95% CI -21.0 to -18.8)', the one formatter for a difference and its interval."""
    if paired is None or paired.n == 0:
        return "no shared seed"
    if not paired.diff.defined:
        return f"{pp(paired.diff.mean)} (no interval: {'tied seeds' if paired.tied else 'n < 2'})"
    return f"{pp(paired.diff.mean)} (95% CI {paired.diff.low * 100:+.1f} to {paired.diff.high * 100:+.1f})"


def p_is(x: float, name: str = "p") -> str:
    """'p = 0.012', 'Holm p < 0.001' or 'p undefined'."""
    if x is None or not math.isfinite(x):
        return f"{name} undefined"
    return f"{name} < 0.001" if x < 0.001 else f"{name} = {x:.3f}"


def mde_text(x: float) -> str:
    """A minimum detectable effect; past 100 pp no difference on the accuracy scale is detectable."""
    if x is None or not math.isfinite(x):
        return "–"
    return "none (over 100 pp)" if x >= 1 else pp(x, signed=False)


def rates_text(rates: Rates) -> str:
    """'failed to learn in 4/4 seeds (95% CI 40-100%) vs the baseline's 0/4 (0-60%)'."""
    low, high = rates.ci
    base = rates.base_ci
    return (f"failed to learn in {rates.k}/{rates.n} seeds (95% CI {low * 100:.0f}-{high * 100:.0f}%) vs the "
            f"baseline's {rates.base_k}/{rates.base_n} ({base[0] * 100:.0f}-{base[1] * 100:.0f}%)")


def outcome_text(value: ValueSummary) -> str:
    """'learned 2 of 4 (collapsed 2)' - every finished seed accounted for."""
    parts = [f"learned {value.learned} of {value.finished}"]
    extra = [f"{value.count(k)} {k}" for k in (COLLAPSED, DIVERGED) if value.count(k)]
    missing = len(value.seeds) - value.finished
    if missing:
        extra.append(f"{missing} not finished")
    return parts[0] + (f" ({', '.join(extra)})" if extra else "")


def conclude(block: Block) -> str:
    """A paragraph written from the block's numbers by the stated rules (never a canned sentence)."""
    base = block.baseline
    name, dataset = block.experiment.replace("_", " "), block.dataset
    if base.finished == 0:
        return (f"On {dataset}, the baseline value {base.label} has no finished seed yet, so no value of "
                f"{name} can be compared; {block.missing} trial(s) are missing.")
    parts = [f"On {dataset}, the baseline {name} = {base.label} {outcome_text(base)} seeds and reaches "
             f"{base.final.mean * 100:.1f}% final validation accuracy over all its seeds."]
    if base.learned == 0:
        parts.append(f"The baseline did not learn in any seed, so this budget cannot tell what {name} does on "
                     f"{dataset}: a value can only be seen to learn where the baseline does not.")
    elif base.learned < base.finished:
        parts.append(f"The baseline itself failed to learn in {base.finished - base.learned} of {base.finished} "
                     f"seeds; those seeds stay in the all-seeds comparison and widen its intervals.")
    groups: dict[str, list[ValueSummary]] = {}
    for value in block.comparisons:
        groups.setdefault(value.verdict, []).append(value)

    def named(v: ValueSummary) -> str:
        return f"{block.experiment} = {v.label}"

    def described(values):
        return ", ".join(f"{named(v)} ({diff_with_ci(v.paired)}, {p_is(v.p_holm, 'Holm p')})" for v in values)

    if groups.get("better"):
        parts.append(f"Higher accuracy than the baseline: {described(groups['better'])}.")
    if groups.get("worse"):
        parts.append(f"Lower accuracy than the baseline: {described(groups['worse'])}.")
    if groups.get("equivalent"):
        parts.append("Equivalent within the margin of ±" + pp(block.margin, signed=False) + ": " + ", ".join(
            f"{named(v)} (the 95% CI excludes effects larger than {pp(v.paired.rules_out, signed=False)})"
            for v in groups["equivalent"]) + ".")
    if groups.get("inconclusive"):
        parts.append("Inconclusive (neither significant nor inside the margin): " + ", ".join(
            f"{named(v)} ({diff_with_ci(v.paired)}; smallest detectable at 80% power: {mde_text(v.paired.mde)})"
            for v in groups["inconclusive"]) + ".")
    for word in ("untestable", "too few seeds", "neither learns", "learns where the baseline does not", "diverged"):
        if groups.get(word):
            parts.append(f"{word[0].upper()}{word[1:]}: " + ", ".join(named(v) for v in groups[word]) + ".")
    rate_changes = [v for v in block.comparisons if v.rate_differs]
    if rate_changes:
        parts.append("Failure to learn differs from the baseline (Boschloo, Holm-adjusted): " + ", ".join(
            f"{named(v)} {rates_text(v.rates)} ({p_is(v.p_rate_holm, 'Holm p')})"
            for v in rate_changes) + ".")
    unstable = [f"{named(v)} ({outcome_text(v)})" for v in block.comparisons if v.mixed]
    if unstable:
        parts.append("Learned in some seeds only: " + ", ".join(unstable) + ".")
    if math.isfinite(block.mde) and block.mde >= 1:
        parts.append(f"With {block.seeds} seeds and the observed spread, no difference on the accuracy scale is "
                     f"detectable at 80% power: this block cannot answer its question at this budget.")
    elif math.isfinite(block.mde):
        parts.append(f"With {block.seeds} seeds and the observed spread, this block detects differences of about "
                     f"{pp(block.mde, signed=False)} at 80% power and could confirm equivalence only within "
                     f"±{pp(block.confirmable_margin, signed=False)} (the margin is ±{pp(block.margin, signed=False)}).")
    timed = [v for v in block.values if v.train_seconds.n]
    if len(timed) > 1 and base.train_seconds.n and len({round(v.train_seconds.mean, 1) for v in timed}) > 1:
        fastest = min(timed, key=lambda v: v.train_seconds.mean)
        slowest = max(timed, key=lambda v: v.train_seconds.mean)
        parts.append(f"Training time ranges from {fastest.train_seconds.mean:.1f} s ({fastest.label}) to "
                     f"{slowest.train_seconds.mean:.1f} s ({slowest.label}) per trial.")
    if block.missing:
        parts.append(f"{block.missing} trial(s) are still missing; the statistics rest on the seeds shown.")
    return " ".join(parts)


def dataset_margins(spec: dict, blocks: dict[tuple[str, str], Block]) -> dict[str, float]:
    """One equivalence margin per dataset, from the baseline that learned in most seeds (then most accurately)."""
    margins = {}
    for dataset in {d for _, d in blocks}:
        bases = [b.baseline for (_, d), b in blocks.items() if d == dataset]
        best = max(bases, key=lambda v: (v.learned, v.final_learned.mean if v.final_learned.n else -1))
        test_images = spec["datasets"].get(dataset, {}).get("test_size")
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
    spec = store.spec(study, profile)
    plan = plan_frame(store, study, profile)
    epochs = epochs_frame(store, list(plan["trial_key"].unique()))
    configs = store.configs()
    blocks = {}
    for (experiment, dataset), group in plan.groupby(["experiment", "dataset"], sort=False):
        classes = classes_of(spec, dataset)
        values = _summaries(group, epochs, classes)
        base = next((v for v in values if v.is_baseline), values[0])
        blocks[(experiment, dataset)] = Block(experiment, group["parameter"].iloc[0], dataset, values, base,
                                              chance=1 / classes)
    margins = dataset_margins(spec, blocks)
    for (experiment, dataset), block in blocks.items():
        compare(block, margins[dataset])
        block.conclusion = conclude(block)
    run = store.latest_run(study, profile)
    run_dict = dict(run) if run is not None else {}
    environment = json.loads(run_dict.pop("environment", "{}") or "{}")
    return Analysis(study, profile, spec, plan, blocks, configs, environment, run_dict)


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
