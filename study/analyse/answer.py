"""Section 1's numbers: per dataset, every value's effect (the forest plot), one row per knob (the answer
table), the facts the run shows, and the budget. Frozen records of numbers, no words.

Every number here is a ``Comparison`` record of ``study.analyse.comparisons``, the one record
``verdict_rows`` writes to ``verdicts.csv`` (the same seeds, interval and verdict), so the answer can be
checked against that file.

    effects(analysis)[dataset][0].diff          # one value's difference to its baseline (fraction)
    answer_rows(analysis)[dataset][0].lead      # the knob's largest effect, a Comparison (None: none)
    facts(analysis)[dataset]                    # decided and undecided findings, as Fact records
    budgets(analysis)[dataset].steps            # SGD steps of one baseline trial
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from dataclasses import dataclass

from study.analyse.comparisons import Analysis, Block, Comparison, Standing
from study.analyse.costs import CostRatio
from study.analyse.stats import DECISIVE
from study.plan.schedules import steps_per_epoch

# A value whose every seed took at least this many times the baseline's time (or at most its inverse) is
# reported as a cost fact.
COST_FACT_RATIO = 2.0


def _blocks(analysis: Analysis, dataset: str) -> list[tuple[Block, str]]:
    """The dataset's blocks in the study's order of experiments, each with its experiment's group."""
    return [
        (analysis.blocks[(e.name, dataset)], e.group)
        for e in analysis.stored.study.experiments
        if (e.name, dataset) in analysis.blocks
    ]


def effects(analysis: Analysis) -> dict[str, list[Comparison]]:
    """Per dataset: every non-baseline value's comparison record, knob by knob in the study's order (the
    forest plot's rows)."""
    return {
        dataset: [record for block, _ in _blocks(analysis, dataset) for record in block.compared]
        for dataset in analysis.datasets
    }


@dataclass(frozen=True)
class KnobAnswer:
    """One knob (experiment) on one dataset: its largest effect and what it costs, and how often it failed.

    ``lead`` is the value whose difference to the baseline is largest in absolute terms among the comparisons
    with an interval (else among those with a difference at all); when no value has a difference, the value
    whose failure rate differs significantly (smallest Holm p), else None. ``failing``: (value, failed,
    finished) of every value with a seed that failed to learn, most failures first."""

    experiment: str
    group: str
    dataset: str
    baseline: str
    baseline_failed: int
    baseline_finished: int
    lead: Comparison | None
    effects: tuple[Comparison, ...]
    failed: int  # over the knob's non-baseline values: finished seeds that failed to learn
    finished: int
    failing: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> float:
        """The lead's absolute difference (NaN without one): what rows are sorted by."""
        return (
            abs(self.lead.diff)
            if self.lead is not None and math.isfinite(self.lead.diff)
            else math.nan
        )


def _lead(rows: list[Comparison]) -> Comparison | None:
    for standing in (Standing.INTERVAL, Standing.POINT):
        found = [r for r in rows if r.standing == standing]
        if found:
            return max(found, key=lambda r: abs(r.diff))
    failing = [r for r in rows if r.rate_differs]
    return min(failing, key=lambda r: r.p_rate_adjusted) if failing else None


def _order(answer: KnobAnswer) -> tuple:
    """Leads with an interval first, by size; then differences without one, by size; then the rest."""
    if answer.lead is not None and math.isfinite(answer.size):
        return (0 if answer.lead.standing == Standing.INTERVAL else 1, -answer.size)
    return (2, -answer.failed, answer.experiment)


def answer_rows(analysis: Analysis) -> dict[str, list[KnobAnswer]]:
    """Per dataset: one row per knob, sorted by the size of its largest effect (those with an interval first,
    then differences without one, then knobs without a difference, most failures first); groups (parts of the
    study) kept in the study's order."""
    out: dict[str, list[KnobAnswer]] = {}
    for dataset, rows in effects(analysis).items():
        by_knob: dict[str, list[Comparison]] = {}
        for row in rows:
            by_knob.setdefault(row.experiment, []).append(row)
        answers = []
        for block, group in _blocks(analysis, dataset):
            mine = by_knob.get(block.experiment, [])
            base = block.baseline
            failing = sorted(
                ((r.value, r.failed, r.finished) for r in mine if r.failed), key=lambda f: -f[1]
            )
            answers.append(
                KnobAnswer(
                    block.experiment,
                    group,
                    dataset,
                    base.label,
                    base.finished - base.learned,
                    base.finished,
                    _lead(mine),
                    tuple(mine),
                    sum(r.failed for r in mine),
                    sum(r.finished for r in mine),
                    tuple(failing),
                )
            )
        groups = list(dict.fromkeys(a.group for a in answers))
        out[dataset] = sorted(answers, key=lambda a: (groups.index(a.group), _order(a)))
    return out


class Evidence(enum.StrEnum):
    """What a fact rests on."""

    DECIDED = "decided"  # a decisive verdict at the Holm level (accuracy or failure rate)
    NOT_DECIDED = "not decided at this budget"
    OBSERVED = "observed in every seed, no test"  # counts and times, which no verdict judges


class FactKind(enum.StrEnum):
    ACCURACY = "accuracy"  # better / worse / equivalent values of one knob
    FAILURE_RATE = (
        "failure rate"  # values of one knob that fail to learn significantly more or less often
    )
    BASELINE_FAILS = (
        "baseline fails"  # a baseline that learned in no seed: its knobs cannot be compared
    )
    NEVER_LEARNED = (
        "never learned"  # values that learned in no seed, without a decided failure rate
    )
    LARGEST_UNDECIDED = "largest undecided"  # the largest difference no verdict decided
    COST = "cost"  # values whose every seed took >= COST_FACT_RATIO times the baseline's time (or <= 1/it)


@dataclass(frozen=True)
class Fact:
    """One thing the run shows on one dataset, in one part of the study (``group``), with the effects it rests
    on (``experiment``: '' when the fact spans knobs)."""

    kind: FactKind
    evidence: Evidence
    group: str
    experiment: str
    effects: tuple[Comparison, ...]


def _costly(cost: CostRatio) -> bool:
    """Every seed pairing costs at least COST_FACT_RATIO times the baseline (or at most its inverse)."""
    return (
        cost.defined
        and math.isfinite(cost.low)
        and (cost.low >= COST_FACT_RATIO or cost.high <= 1 / COST_FACT_RATIO)
    )


def facts(analysis: Analysis) -> dict[str, list[Fact]]:
    """Per dataset and part of the study (its group): first what is decided (accuracy verdicts, then failure
    rates, knob by knob), then what is observed (a baseline that never learned, costs), then what this budget
    leaves undecided (values that never learned without a decided failure rate, the largest undecided
    difference)."""
    out: dict[str, list[Fact]] = {}
    for dataset, every in effects(analysis).items():
        found: list[Fact] = []
        for group in dict.fromkeys(r.group for r in every):
            rows = [r for r in every if r.group == group]
            by_knob: dict[str, list[Comparison]] = {}
            for row in rows:
                by_knob.setdefault(row.experiment, []).append(row)
            for experiment, mine in by_knob.items():
                decided = tuple(r for r in mine if r.verdict in DECISIVE)
                if decided:
                    found.append(
                        Fact(FactKind.ACCURACY, Evidence.DECIDED, group, experiment, decided)
                    )
            for experiment, mine in by_knob.items():
                rates = tuple(r for r in mine if r.rate_differs)
                if rates:
                    found.append(
                        Fact(FactKind.FAILURE_RATE, Evidence.DECIDED, group, experiment, rates)
                    )
            shared: dict[frozenset, list[Block]] = {}
            for block, _ in _blocks(analysis, dataset):
                if block.experiment in by_knob:
                    shared.setdefault(frozenset(block.baseline.keys.values()), []).append(block)
            for blocks in (
                shared.values()
            ):  # one fact per baseline that never learned, with every knob around it
                base = blocks[0].baseline
                if base.finished and not base.learned:
                    names = {b.experiment for b in blocks}
                    found.append(
                        Fact(
                            FactKind.BASELINE_FAILS,
                            Evidence.OBSERVED,
                            group,
                            blocks[0].experiment,
                            tuple(r for r in rows if r.experiment in names),
                        )
                    )
            costly = tuple(r for r in rows if _costly(r.cost))
            if costly:
                found.append(Fact(FactKind.COST, Evidence.OBSERVED, group, "", costly))
            never = tuple(
                r
                for r in rows
                if r.standing == Standing.DID_NOT_LEARN
                and not r.rate_differs
                and r.baseline_failed < r.baseline_finished
            )
            if never:
                found.append(Fact(FactKind.NEVER_LEARNED, Evidence.NOT_DECIDED, group, "", never))
            undecided = [
                r for r in rows if r.standing == Standing.INTERVAL and r.verdict not in DECISIVE
            ]
            if undecided:
                top = max(undecided, key=lambda r: abs(r.diff))
                found.append(
                    Fact(
                        FactKind.LARGEST_UNDECIDED,
                        Evidence.NOT_DECIDED,
                        group,
                        top.experiment,
                        (top,),
                    )
                )
        out[dataset] = found
    return out


@dataclass(frozen=True)
class Budget:
    """What one trial of a dataset's main baseline (the one most knobs share) was given: training and test
    images, epochs, batch size and the SGD steps that make (ceil(images / batch) per epoch), and the seeds
    of a value and of a baseline."""

    dataset: str
    train_images: int
    test_images: int
    epochs: int
    batch_size: int
    steps_per_epoch: int
    value_seeds: int  # the fewest seeds a value ran (the first look's)
    baseline_seeds: int
    more_seeds: int = (
        0  # the most seeds a value ran (more than value_seeds when a later look added some)
    )
    more_values: int = 0  # how many values ran more than value_seeds
    batch_sizes: tuple[
        tuple[int, int], ...
    ] = ()  # (batch size, SGD steps in all) of values with another batch
    learning_rate: float = math.nan  # the baseline's, and how it changes over the trial's steps
    schedule: str = "constant"
    input_scaling: str = "unit"

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs


def budgets(analysis: Analysis) -> dict[str, Budget]:
    """Per dataset, read from the stored dataset facts and the baseline's stored trial settings."""
    out = {}
    for dataset in analysis.datasets:
        blocks = [block for block, _ in _blocks(analysis, dataset)]
        if not blocks:
            continue
        shared = Counter(frozenset(b.baseline.keys.values()) for b in blocks).most_common(1)[0][0]
        base = next(b.baseline for b in blocks if frozenset(b.baseline.keys.values()) == shared)
        spec = next((analysis.trials[k] for k in base.keys.values() if k in analysis.trials), None)
        facts_ = analysis.stored.datasets.get(dataset)
        if spec is None or facts_ is None:
            continue
        batch = spec.settings.batch_size
        values = [len(v.seeds) for b in blocks for v in b.comparisons]
        fewest, most = min(values, default=0), max(values, default=0)
        batches = sorted(
            {
                analysis.trials[k].settings.batch_size
                for b in blocks
                for v in b.comparisons
                for k in v.keys.values()
                if k in analysis.trials
            }
            - {batch}
        )
        out[dataset] = Budget(
            dataset,
            facts_.train_size,
            facts_.test_size,
            spec.settings.epochs,
            batch,
            steps_per_epoch(facts_.train_size, batch),
            fewest,
            len(base.seeds),
            most,
            sum(n > fewest for n in values),
            tuple(
                (b, steps_per_epoch(facts_.train_size, b) * spec.settings.epochs) for b in batches
            ),
            spec.settings.learning_rate,
            spec.settings.schedule,
            spec.settings.input_scaling,
        )
    return out
