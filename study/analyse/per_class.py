"""Per-class results from the stored predictions (``Store.predictions``, ``Store.test_sets``).

    found = per_class(analysis, store.predictions(), store.test_sets())
    found.rows        # each value's accuracy on each class over its learned seeds: mean, 95% t-interval
    found.effects     # per knob, the classes its values change most against the baseline (Holm within the knob)
    found.confusions  # each dataset's baseline: true x predicted counts over its learned seeds

Only learned seeds enter (a seed at chance says nothing about which classes a configuration gets right), as
for every accuracy verdict. A knob's family is every (value, class) pair of its block: a per-class Welch t-test
of the value's learned seeds against the baseline's, Holm-adjusted over the family, so that ten classes times a
few values do not make a difference significant by number alone. Accuracies are fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from study.analyse.comparisons import Analysis, ValueSummary
from study.analyse.noise import NO_PRIOR, MeanComparison, compare_means
from study.analyse.stats import holm, mean_ci
from study.results.outcomes import LEARNED

CONFIDENCE = 0.95
SHOWN = 3  # classes a knob changes most, shown per knob


@dataclass(frozen=True)
class ClassRow:
    """One value's accuracy on one class of one dataset, over its learned seeds with predictions."""

    experiment: str
    dataset: str
    value: str
    is_baseline: bool
    label: str  # the class's name
    images: int  # test images of the class
    seeds: int
    mean: float
    low: float  # the 95% t-interval over seeds (nan below two seeds)
    high: float


@dataclass(frozen=True)
class ClassEffect:
    """A value's accuracy on one class minus the baseline's (learned seeds), its interval and Holm p."""

    experiment: str
    dataset: str
    value: str
    label: str
    diff: float
    low: float  # at 1 - alpha (the Welch interval; the family's error control is the Holm p)
    high: float
    p: float
    p_holm: float  # adjusted over every (value, class) test of the knob on the dataset
    seeds_value: int
    seeds_baseline: int


@dataclass(frozen=True)
class Confusion:
    """True x predicted counts of a dataset's baseline over its learned seeds."""

    dataset: str
    value: str
    seeds: int
    classes: tuple[str, ...]
    counts: np.ndarray  # int, rows: true class, columns: predicted class

    @property
    def by_row(self) -> np.ndarray:
        """Each true class's row as shares of its images (a class absent from the test subset stays 0)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)


@dataclass(frozen=True)
class PerClass:
    rows: tuple[ClassRow, ...]
    effects: tuple[ClassEffect, ...]  # every test; ``top`` gives those a report shows
    confusions: tuple[Confusion, ...]
    without: int  # learned trials of the analysis that have no stored predictions (older stores)

    def top(self, experiment: str, dataset: str, shown: int = SHOWN) -> list[ClassEffect]:
        """The knob's largest per-class changes on ``dataset``, by the size of the difference."""
        found = [
            e
            for e in self.effects
            if e.experiment == experiment and e.dataset == dataset and math.isfinite(e.diff)
        ]
        return sorted(found, key=lambda e: -abs(e.diff))[:shown]

    @property
    def empty(self) -> bool:
        return not self.rows


def predicted(
    analysis: Analysis,
    predictions: dict[str, np.ndarray],
    test_sets: dict[str, tuple[str, np.ndarray, np.ndarray]],
    key: str,
) -> tuple[np.ndarray, np.ndarray] | None:
    """A trial's predicted classes and its test images' labels, in order; None where it kept none (a trial
    stored before predictions were, a test subset not recorded)."""
    found, spec = predictions.get(key), analysis.trials.get(key)
    if found is None or spec is None or spec.fingerprint not in test_sets:
        return None
    return found, test_sets[spec.fingerprint][2]


def per_class(
    analysis: Analysis,
    predictions: dict[str, np.ndarray],
    test_sets: dict[str, tuple[str, np.ndarray, np.ndarray]],
    alpha: float = 0.05,
) -> PerClass:
    """Per-class accuracy of every value of every block, the per-class effects of each knob, and each
    dataset's baseline confusion matrix, from the trials' stored predictions."""
    rows: list[ClassRow] = []
    effects: list[ClassEffect] = []
    confusions: dict[str, Confusion] = {}
    missing: set[str] = set()
    # a baseline serves every block of its dataset (and stands among each block's values): computed once
    done: dict[tuple[tuple[int, str], ...], tuple[np.ndarray, np.ndarray | None]] = {}

    def seed_accuracies(value: ValueSummary) -> tuple[np.ndarray, np.ndarray | None]:
        """(seeds x classes accuracies, summed confusion counts) over the learned seeds."""
        trials = tuple(sorted(value.keys.items()))
        if trials in done:
            return done[trials]
        per_seed: list[np.ndarray] = []
        counts: np.ndarray | None = None
        classes = 0
        for seed, outcome in sorted(value.outcomes.items()):
            key = value.keys.get(seed)
            if outcome != LEARNED or key is None:
                continue
            kept = predicted(analysis, predictions, test_sets, key)
            if kept is None:
                missing.add(key)
                continue
            found, labels = kept
            classes = max(classes, int(labels.max()) + 1, int(found.max()) + 1)
            matrix = np.zeros((classes, classes), dtype=np.int64)
            np.add.at(matrix, (labels.astype(np.int64), found.astype(np.int64)), 1)
            totals = matrix.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_seed.append(np.diag(matrix) / totals)
            counts = matrix if counts is None else _add(counts, matrix)
        width = max((len(a) for a in per_seed), default=0)
        padded = np.array(
            [np.pad(a, (0, width - len(a)), constant_values=np.nan) for a in per_seed]
        )
        done[trials] = padded.reshape(len(per_seed), width), counts
        return done[trials]

    for (experiment, dataset), block in analysis.blocks.items():
        names = _class_names(analysis, dataset)
        base = block.baseline
        base_acc, base_counts = seed_accuracies(base)
        if dataset not in confusions and base_counts is not None:
            confusions[dataset] = Confusion(
                dataset, base.label, len(base_acc), _names(names, len(base_counts)), base_counts
            )
        family: list[tuple[str, str, MeanComparison]] = []
        for value in block.values:
            accuracy, _ = seed_accuracies(value)
            for c in range(accuracy.shape[1] if accuracy.size else 0):
                column = accuracy[:, c][np.isfinite(accuracy[:, c])]
                if not len(column):
                    continue
                interval = mean_ci(column, CONFIDENCE, bounds=(0.0, 1.0))
                rows.append(
                    ClassRow(
                        experiment,
                        dataset,
                        value.label,
                        value.is_baseline,
                        _name(names, c),
                        _images(analysis, value, test_sets, c),
                        len(column),
                        interval.mean,
                        interval.low,
                        interval.high,
                    )
                )
                if value.is_baseline or not base_acc.size or c >= base_acc.shape[1]:
                    continue
                reference = base_acc[:, c][np.isfinite(base_acc[:, c])]
                # Welch's t without a prior (scipy's), its interval inside [-1, 1], no test on tied seeds
                welch = compare_means(list(column), list(reference), NO_PRIOR, 1 - alpha)
                family.append((value.label, _name(names, c), welch))
        adjusted = holm([welch.p for *_, welch in family]) if family else []
        for (label, name, w), p_holm in zip(family, adjusted):
            effects.append(
                ClassEffect(
                    experiment,
                    dataset,
                    label,
                    name,
                    w.diff,
                    w.low,
                    w.high,
                    w.p,
                    p_holm,
                    w.n_a,
                    w.n_b,
                )
            )
    return PerClass(tuple(rows), tuple(effects), tuple(confusions.values()), len(missing))


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    size = max(len(a), len(b))
    out = np.zeros((size, size), dtype=np.int64)
    out[: len(a), : len(a)] += a
    out[: len(b), : len(b)] += b
    return out


def _class_names(analysis: Analysis, dataset: str) -> tuple[str, ...]:
    facts = analysis.stored.datasets.get(dataset)
    return tuple(facts.classes) if facts is not None and facts.classes else ()


def _name(names: tuple[str, ...], c: int) -> str:
    """Class ``c``'s recorded name, else its index as text."""
    return names[c] if c < len(names) else str(c)


def _names(names: tuple[str, ...], count: int) -> tuple[str, ...]:
    return tuple(_name(names, c) for c in range(count))


def _images(analysis: Analysis, value: ValueSummary, test_sets, c: int) -> int:
    """Test images of class ``c`` in the value's test subset."""
    for key in value.keys.values():
        spec = analysis.trials.get(key)
        if spec is not None and spec.fingerprint in test_sets:
            return int((test_sets[spec.fingerprint][2] == c).sum())
    return 0
