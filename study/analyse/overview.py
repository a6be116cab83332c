"""Study-wide numbers for the report's first and summary sections: rankings, what the budget can tell,
and agreement with other budgets of the same study in the store. Frozen records of numbers; no words.

    ranking(analysis)[dataset][0].experiment    # the parameter with the largest decisive effect
    power_summary(analysis)[0].decisive          # decisive comparisons on the first dataset
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from study.analyse.comparisons import Analysis, Block, Comparison, analyse
from study.analyse.noise import Prior
from study.analyse.stats import DECISIVE, DIRECTIONAL
from study.results.store import Store
from study.results.stored import Stage


@dataclass(frozen=True)
class RankRow:
    """One experiment on one dataset for the summary: its leading comparison (the record itself, not a copy)
    and how many of its comparisons decided.

    A value that fails to learn significantly more (or less) often than the baseline leads before any accuracy
    difference (the largest change of failure rate); else the largest better/worse difference; else the
    largest difference."""

    experiment: str
    lead: Comparison
    significant: (
        int  # values with a better/worse verdict or a significantly different failure rate
    )
    decisive: int
    compared: int


def _rate_change(r: Comparison) -> float:
    base = r.baseline_failed / r.baseline_finished if r.baseline_finished else 0.0
    return abs(r.failed / r.finished - base) if r.finished else 0.0


def ranking(analysis: Analysis) -> dict[str, list[RankRow]]:
    """Per dataset: experiments ordered by their largest decided effect (a failure to learn first, then the
    largest better/worse difference); undecided ones follow, ordered by their largest difference."""
    ranks: dict[str, list[tuple[tuple, RankRow]]] = {}
    for (experiment, dataset), block in analysis.blocks.items():
        records = block.compared
        compared = [r for r in records if r.test is not None and math.isfinite(r.diff)]
        failing = [r for r in records if r.rate_differs]
        if not compared and not failing:
            continue
        decided = [r for r in compared if r.verdict in DIRECTIONAL]
        significant = len({r.value for r in decided + failing})
        if failing:
            top = max(failing, key=_rate_change)
            key: tuple = (0, -2.0)
        else:
            top = max(decided or compared, key=lambda r: abs(r.diff))
            key = (0 if decided else 1, -abs(top.diff))
        row = RankRow(experiment, top, significant, block.decisive, len(records))
        ranks.setdefault(dataset, []).append((key, row))
    return {
        dataset: [row for _, row in sorted(rows, key=lambda r: r[0])]
        for dataset, rows in ranks.items()
    }


@dataclass(frozen=True)
class PowerSummary:
    """What one dataset's budget can tell: its baselines' learning, typical spread and detectable effect.

    ``baselines``: one (experiment, value label, learned seeds, finished seeds) per distinct baseline; spreads,
    detectable differences and margins are fractions (medians over the dataset's experiments)."""

    dataset: str
    group: (
        str  # the part of the study an experiment belongs to (Experiment.group); "" without groups
    )
    baselines: tuple[tuple[str, str, int, int], ...]
    spread: float
    mde: float
    margins: tuple[float, ...]
    decisive: int
    compared: int
    prior_dof: float = math.nan  # the noise model's d0 (inf: one pooled variance)
    configurations: int = 0  # learned configurations the noise model was fitted on
    paired: Prior | None = (
        None  # the noise model of paired differences (None: no paired comparison)
    )


def power_summary(analysis: Analysis) -> list[PowerSummary]:
    """Per dataset and part of the study: the baselines' learned seeds, the pooled seed SD (the dataset's
    noise model), the median detectable difference, the margin and the decisive count. Parts are kept
    apart: a part whose baseline does not learn must not hide behind one whose baseline does."""
    group_of = {e.name: e.group for e in analysis.stored.study.experiments}
    rows = []
    for dataset in analysis.datasets:
        for group in dict.fromkeys(
            group_of.get(e, "") for (e, d) in analysis.blocks if d == dataset
        ):
            blocks = [
                b
                for (e, d), b in analysis.blocks.items()
                if d == dataset and group_of.get(e, "") == group
            ]
            bases: dict[frozenset, Block] = {}
            for b in (
                blocks
            ):  # one entry per baseline trial set, named by the first experiment that uses it
                bases.setdefault(frozenset(b.baseline.keys.values()), b)
            mdes = [b.mde for b in blocks if math.isfinite(b.mde)]
            rows.append(
                PowerSummary(
                    dataset=dataset,
                    group=group,
                    baselines=tuple(
                        (b.experiment, b.baseline.label, b.baseline.learned, b.baseline.finished)
                        for b in bases.values()
                        if b.baseline.finished
                    ),
                    spread=blocks[0].spread,
                    mde=statistics.median(mdes) if mdes else math.nan,
                    margins=tuple(b.margin for b in blocks if math.isfinite(b.margin)),
                    decisive=sum(b.decisive for b in blocks),
                    compared=sum(len(b.comparisons) for b in blocks),
                    prior_dof=blocks[0].prior.dof if blocks[0].prior else math.nan,
                    configurations=blocks[0].prior.configurations if blocks[0].prior else 0,
                    paired=blocks[0].paired_prior if any(any(b.paired) for b in blocks) else None,
                )
            )
    return rows


@dataclass(frozen=True)
class Agreement:
    """This profile's verdicts against another profile's of the same study, over the comparisons both have.

    ``conflicting``: (experiment, value, dataset, verdict here, verdict there) where both are decisive and differ."""

    profile: str
    shared: int
    same: int
    both_decisive: int
    conflicting: tuple[tuple[str, str, str, str, str], ...]


def _verdicts(analysis: Analysis) -> dict[tuple[str, str, str], str]:
    return {
        (r.experiment, r.dataset, r.value): r.verdict
        for block in analysis.blocks.values()
        for r in block.compared
    }


def profile_agreement(store: Store, analysis: Analysis) -> list[Agreement]:
    """When the store holds other profiles of the same study: do their verdicts agree with this one's?"""
    others = [
        r["profile"]
        for r in store.studies()
        if r["study"] == analysis.study and r["profile"] != analysis.profile
    ]
    mine = _verdicts(analysis)
    rows = []
    for profile in others:
        theirs = _verdicts(analyse(store, analysis.study, profile))
        shared = mine.keys() & theirs.keys()
        decided = [k for k in shared if mine[k] in DECISIVE and theirs[k] in DECISIVE]
        rows.append(
            Agreement(
                profile,
                len(shared),
                sum(mine[k] == theirs[k] for k in shared),
                len(decided),
                tuple(
                    sorted(
                        (e, v, d, mine[(e, d, v)], theirs[(e, d, v)])
                        for (e, d, v) in decided
                        if mine[(e, d, v)] != theirs[(e, d, v)]
                    )
                ),
            )
        )
    return rows


@dataclass(frozen=True)
class SeedFailure:
    """A finished seed that did not learn, and the epoch that decided it: the epoch its loss became NaN/inf
    (``diverged``), else its last epoch, at which the outcome rule found it at chance (``collapsed``)."""

    seed: int
    outcome: str  # collapsed or diverged
    epoch: int


@dataclass(frozen=True)
class ArmFacts:
    """How one configuration fared on one dataset: seeds that learned, seeds finished, mean accuracy of the
    learned ones (fraction; NaN when none learned); each failed seed with the epoch that decided it, and the
    epochs a seed of this configuration trains (0 when unknown)."""

    learned: int
    finished: int
    mean: float
    seeds: tuple[int, ...] = ()  # the finished seeds
    failures: tuple[SeedFailure, ...] = ()
    epochs: int = 0


@dataclass(frozen=True)
class ReferenceRun:
    """One experiment that trained the reference value: per dataset, the reference value's seeds beside the
    experiment's baseline's; ``epochs_factor`` > 1 for a longer run."""

    experiment: str
    epochs_factor: float
    datasets: dict[
        str, tuple[ArmFacts, ArmFacts]
    ]  # dataset -> (the reference value, the baseline)
    # the reference value's learning-rate schedule: unless constant, a longer run's rates differ from its first
    # epoch on (they decay over each trial's own steps), so its first epochs are not a shorter run's
    schedule: str = ""


@dataclass(frozen=True)
class Deviation:
    """A setting where the study's baseline departs from its reference table, and how the reference value
    fared in this run in every experiment that trained it (``runs`` empty when none did)."""

    setting: str  # the reference table's label, e.g. "Learning rate"
    reference: str  # its value there, as the study labels values (e.g. "0.5")
    used: str  # the study's baseline value
    runs: tuple[ReferenceRun, ...]
    missing: tuple[
        str, ...
    ]  # datasets of the study where no experiment trained the reference value


def _facts(value, analysis: Analysis, experiment: str, dataset: str) -> ArmFacts:
    """``value``'s seeds in one block; a failed seed's deciding epoch is read from its own trial (the plan's
    diverged epoch, else the epochs it trained), never from another experiment's."""
    learned = value.learned_only()
    plan = analysis.plan
    rows = plan[
        (plan["experiment"] == experiment)
        & (plan["dataset"] == dataset)
        & (plan["value"] == value.label)
    ]
    diverged_at = {
        int(seed): int(epoch)
        for seed, epoch in zip(rows["seed"], rows["diverged_epoch"])
        if epoch == epoch and epoch is not None
    }
    specs = [analysis.trials.get(key) for key in value.keys.values()]
    epochs = max((spec.settings.epochs for spec in specs if spec is not None), default=0)
    failures = tuple(
        SeedFailure(
            seed, str(outcome), diverged_at.get(seed, epochs) if outcome == "diverged" else epochs
        )
        for seed, outcome in sorted(value.outcomes.items())
        if seed not in learned
    )
    return ArmFacts(
        len(learned),
        value.finished,
        statistics.fmean(learned.values()) if learned else math.nan,
        tuple(sorted(value.outcomes)),
        failures,
        epochs,
    )


def deviations(analysis: Analysis) -> list[Deviation]:
    """Every baseline setting that differs from the study's reference table (``Study.reference``), with the
    outcome of the reference value in every experiment of the study that trained it: the numbers behind a
    generated adaptation note (a study without a reference table has none)."""
    study = analysis.stored.study
    found = []
    for label, key, original in study.reference:
        used = getattr(study.baseline, key)
        if _label(used) == _label(original):
            continue
        runs, covered = [], set()
        for experiment in study.experiments:
            value = next(
                (
                    v
                    for v in experiment.values
                    if v.params.get(key) is not None
                    and _label(v.params[key]) == _label(original)
                    and len(v.params) == 1
                ),
                None,
            )
            if value is None:
                continue
            per_dataset = {}
            for dataset in experiment.datasets:
                block = analysis.blocks.get((experiment.name, dataset))
                summary = block.value(value.label) if block else None
                if block is not None and summary is not None:
                    per_dataset[dataset] = (
                        _facts(summary, analysis, experiment.name, dataset),
                        _facts(block.baseline, analysis, experiment.name, dataset),
                    )
            if per_dataset:
                shown = analysis.blocks[(experiment.name, next(iter(per_dataset)))].value(
                    value.label
                )
                keys = list(shown.keys.values()) if shown is not None else []
                spec = analysis.trials.get(keys[0]) if keys else None
                runs.append(
                    ReferenceRun(
                        experiment.name,
                        experiment.epochs_factor,
                        per_dataset,
                        spec.settings.schedule if spec is not None else "",
                    )
                )
                covered |= set(per_dataset)
        missing = tuple(d for d in analysis.datasets if d not in covered)
        found.append(Deviation(label, _label(original), _label(used), tuple(runs), missing))
    return found


def _label(value) -> str:
    if isinstance(value, (list, tuple)):
        return "/".join(_label(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class LookSummary:
    """The sequential design as run: looks, the level every look tests at, and the seeds each later look
    added (``StoredStudy.stages``: one ``Stage`` record per value and look)."""

    looks: int
    alpha: float
    first_seeds: int | None
    baseline_seeds: int
    max_seeds: int | None
    max_trials: int | None
    added: tuple[Stage, ...]


def look_summary(analysis: Analysis) -> LookSummary:
    profile, study = analysis.stored.profile, analysis.stored.study
    return LookSummary(
        profile.looks,
        analysis.alpha,
        profile.seeds,
        len(study.seeds_for(profile.seeds, baseline=True)),
        profile.max_seeds,
        profile.max_trials,
        tuple(analysis.stored.stages),
    )
