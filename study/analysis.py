"""From stored results to the report's numbers and words: per-value summaries, tests, conclusions.

Reads only the store (through ``study.results``); never imports TensorFlow.

    analysis = analyse(store, study="LeNet parameter study", profile="quick")
    analysis.blocks[("kernel_size", "mnist")].conclusion
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from study.results import epochs_frame, plan_frame
from study.stats import LEARN_MARGIN, MARGIN_PP, Interval, Paired, holm, mean_ci, paired_difference, verdict
from study.store import Store


@dataclass
class ValueSummary:
    label: str
    index: int
    is_baseline: bool
    note: str
    seeds: list[int]
    status: dict[str, int]  # ok, diverged, failed, missing -> count of seeds
    final_by_seed: dict[int, float]  # final validation accuracy of ok trials
    final: Interval
    train_seconds: Interval
    params: int | None
    macs: int | None
    curves: dict[str, list[Interval]]  # val_accuracy / val_loss -> one interval per epoch
    first_epoch: dict[int, float] = field(default_factory=dict)
    paired: Paired | None = None
    p_holm: float = math.nan
    verdict: str = "reference"
    learns: bool | None = None


@dataclass
class Block:
    experiment: str
    parameter: str
    dataset: str
    values: list[ValueSummary]
    baseline: ValueSummary
    conclusion: str = ""

    @property
    def missing(self) -> int:
        return sum(v.status.get("missing", 0) for v in self.values)

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


def _chance(spec: dict, dataset: str) -> float:
    classes = spec["datasets"].get(dataset, {}).get("classes") or range(10)
    return 1 / len(classes)


def _summaries(group: pd.DataFrame, epochs: pd.DataFrame, chance: float) -> list[ValueSummary]:
    summaries = []
    for (index, label), rows in group.groupby(["value_index", "value"], sort=True):
        seeds = sorted(int(s) for s in rows["seed"])
        status = rows["status"].value_counts().to_dict()
        ok_keys = list(rows.loc[rows["status"] == "ok", "trial_key"])
        seed_of = dict(zip(rows["trial_key"], rows["seed"].astype(int)))
        mine = epochs[epochs["trial_key"].isin(ok_keys)]
        last = mine.sort_values("epoch").groupby("trial_key").tail(1)
        final = {seed_of[k]: float(a) for k, a in zip(last["trial_key"], last["val_accuracy"])}
        first = mine[mine["epoch"] == 1]
        curves = {}
        for metric in ("val_accuracy", "val_loss"):
            curves[metric] = [mean_ci(list(part[metric])) for _, part in mine.groupby("epoch", sort=True)]
        trained = rows[rows["status"].isin(["ok", "diverged"])]
        params = rows["params"].dropna()
        macs = rows["macs"].dropna()
        interval = mean_ci(list(final.values()))
        summaries.append(ValueSummary(
            label=str(label), index=int(index), is_baseline=bool(rows["is_baseline"].max()), note=rows["note"].iloc[0],
            seeds=seeds, status={k: int(v) for k, v in status.items()}, final_by_seed=final, final=interval,
            train_seconds=mean_ci(list(trained["train_seconds"].dropna())),
            params=int(params.iloc[0]) if len(params) else None, macs=int(macs.iloc[0]) if len(macs) else None,
            curves=curves, first_epoch={seed_of[k]: float(a) for k, a in zip(first["trial_key"], first["val_accuracy"])},
            learns=None if interval.n == 0 else interval.mean > chance + LEARN_MARGIN,
        ))
    return summaries


def _compare(block: Block) -> None:
    base = block.baseline
    others = [v for v in block.values if v is not base]
    for value in others:
        value.paired = paired_difference(value.final_by_seed, base.final_by_seed)
    adjusted = holm([v.paired.p for v in others])
    for value, p in zip(others, adjusted):
        value.p_holm = p
        all_diverged = value.status.get("diverged", 0) > 0 and value.status.get("diverged", 0) == len(value.seeds)
        value.verdict = verdict(value.paired, p, all_diverged)


def _pp(x: float) -> str:
    return f"{x * 100:+.1f} pp"


def conclude(block: Block) -> str:
    """A paragraph written from the block's numbers by the stated rules (never a canned sentence)."""
    base = block.baseline
    name, dataset = block.experiment.replace("_", " "), block.dataset
    if base.final.n == 0:
        return (f"On {dataset}, the baseline value {base.label} has no finished seed yet, so no value of "
                f"{name} can be compared; {block.missing} trial(s) are missing.")
    parts = [f"On {dataset}, the baseline {name} = {base.label} reaches {base.final.mean * 100:.1f}% final "
             f"validation accuracy (mean of {base.final.n} seed{'s' if base.final.n != 1 else ''})."]
    groups: dict[str, list[ValueSummary]] = {}
    for value in block.values:
        if value is not base:
            groups.setdefault(value.verdict, []).append(value)

    def describe(values):
        return ", ".join(f"{v.label} ({_pp(v.paired.diff.mean)}, p_Holm={v.p_holm:.3g})" for v in values)

    if groups.get("better"):
        parts.append(f"Significantly better: {describe(groups['better'])}.")
    if groups.get("worse"):
        parts.append(f"Significantly worse: {describe(groups['worse'])}.")
    if groups.get("equivalent"):
        labels = ", ".join(v.label for v in groups["equivalent"])
        parts.append(f"Equivalent within +-{MARGIN_PP:g} pp: {labels}.")
    if groups.get("inconclusive"):
        parts.append("Not significant but not shown equivalent (CI of the difference wider than the margin): "
                     + ", ".join(f"{v.label} ({_pp(v.paired.diff.mean)}, CI {v.paired.diff.low * 100:+.1f} to "
                                 f"{v.paired.diff.high * 100:+.1f})" for v in groups["inconclusive"]) + ".")
    if groups.get("too few seeds"):
        parts.append("Too few shared seeds to test: " + ", ".join(v.label for v in groups["too few seeds"]) + ".")
    if groups.get("diverged"):
        parts.append("Diverged (NaN/inf loss) in every seed: " + ", ".join(v.label for v in groups["diverged"]) + ".")
    not_learning = [v.label for v in block.values if v.learns is False]
    if not_learning:
        parts.append("Stays at chance level (does not learn): " + ", ".join(not_learning) + ".")
    some_diverged = [f"{v.label} ({v.status['diverged']}/{len(v.seeds)})" for v in block.values
                     if 0 < v.status.get("diverged", 0) < len(v.seeds)]
    if some_diverged:
        parts.append("Diverged in some seeds: " + ", ".join(some_diverged) + ".")
    timed = [v for v in block.values if v.train_seconds.n]
    if len(timed) > 1 and base.train_seconds.n:
        fastest = min(timed, key=lambda v: v.train_seconds.mean)
        slowest = max(timed, key=lambda v: v.train_seconds.mean)
        parts.append(f"Training time ranges from {fastest.train_seconds.mean:.1f} s ({fastest.label}) to "
                     f"{slowest.train_seconds.mean:.1f} s ({slowest.label}) per trial.")
    if block.missing:
        parts.append(f"{block.missing} trial(s) are still missing; the statistics rest on the seeds shown.")
    return " ".join(parts)


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
    configs = {r["trial_key"]: json.loads(r["config"]) for r in store.query(
        "SELECT trial_key, config FROM planned")}
    blocks = {}
    for (experiment, dataset), group in plan.groupby(["experiment", "dataset"], sort=False):
        values = _summaries(group, epochs, _chance(spec, dataset))
        base = next((v for v in values if v.is_baseline), values[0])
        block = Block(experiment, group["parameter"].iloc[0], dataset, values, base)
        _compare(block)
        block.conclusion = conclude(block)
        blocks[(experiment, dataset)] = block
    run = store.latest_run(study, profile)
    run_dict = dict(run) if run is not None else {}
    environment = json.loads(run_dict.pop("environment", "{}") or "{}")
    return Analysis(study, profile, spec, plan, blocks, configs, environment, run_dict)
