"""The one outcome rule: what became of a finished trial (learned, collapsed or diverged).

The runner's progress lines, ``study list``, the export, the TensorBoard export and the report all
read a trial's outcome from here, computed once per trial from its last stored epoch:

    outcome(TrialStatus.OK, 0.12, ConstantAnswer.uniform(10))        # Outcome.COLLAPSED
    summaries = trial_summaries(store)                                 # trial key -> TrialSummary
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from study.records import TrialStatus

CHANCE_MARGIN = 0.05  # a seed whose final accuracy is at most 5 points above chance (or below it) has collapsed
FLOAT_TOLERANCE = 1e-6  # accuracies are stored as float32: 0.15 reads back as 0.150000006


class Outcome(enum.StrEnum):
    """What became of a finished trial. A ``StrEnum``: it prints, compares and serialises as its value."""

    LEARNED = "learned"
    COLLAPSED = "collapsed"
    DIVERGED = "diverged"


LEARNED, COLLAPSED, DIVERGED = Outcome.LEARNED, Outcome.COLLAPSED, Outcome.DIVERGED


@dataclass(frozen=True)
class ConstantAnswer:
    """The best a network can do without looking at the image, on one test set: always answering the
    majority class (``accuracy``, a fraction) and predicting the class shares (``loss``, cross-entropy in
    nats: the entropy of the shares). Chance is this, not 1/classes: a subset of an unbalanced split can
    put one class well above 10%."""

    accuracy: float
    loss: float

    @classmethod
    def from_counts(cls, counts) -> ConstantAnswer:
        """From the test set's images per class; raises ValueError when there are none."""
        total = float(sum(counts))
        if total <= 0:
            raise ValueError(f"no test images in class counts {list(counts)!r}")
        shares = [c / total for c in counts if c > 0]
        return cls(max(shares), -sum(s * math.log(s) for s in shares))

    @classmethod
    def uniform(cls, classes: int) -> ConstantAnswer:
        """A balanced test set of ``classes`` classes (when the class counts were not recorded)."""
        return cls(1 / classes, math.log(classes))


def outcome(status: str, final_accuracy: float | None, answer: ConstantAnswer) -> Outcome | None:
    """learned / collapsed / diverged for a finished trial; None for failed or missing ones.

    ``status`` is the stored status (ok, diverged, failed, missing); ``final_accuracy`` is the validation
    accuracy after the last update (a fraction). Collapsed: at most ``CHANCE_MARGIN`` above the best constant
    answer's accuracy (with a float tolerance). A network stuck at the class shares scores exactly that, so
    the accuracy catches it. The loss is deliberately not a criterion: a run can sit near the constant
    answer's loss while already ranking the right class first (33.6% after one short epoch), or far above it
    while unstable yet well above chance (41%, 48%); neither has collapsed.
    """
    if status == TrialStatus.DIVERGED:
        return DIVERGED
    if status != TrialStatus.OK:
        return None
    if (
        final_accuracy is None
        or not math.isfinite(final_accuracy)
        or final_accuracy <= answer.accuracy + CHANCE_MARGIN + FLOAT_TOLERANCE
    ):
        return COLLAPSED
    return LEARNED


@dataclass(frozen=True)
class TrialSummary:
    """One stored trial, summarised once: how it ended and its last epoch's metrics.

    Accuracies are fractions, losses nats, times seconds; ``None`` where the trial has no epoch (or,
    for a diverged epoch, no finite value).
    """

    key: str
    dataset: str
    seed: int
    status: TrialStatus  # ok, diverged, failed
    outcome: Outcome | None  # None for a failed trial
    classes: int
    epochs_run: int
    val_accuracy: float | None
    val_loss: float | None
    loss: float | None
    accuracy: float | None
    train_seconds: float | None  # the sum of its epochs' times (training and validation)
    trace_seconds: float | None = (
        None  # graph building and tracing, apart (None: stored before it was kept)
    )
    load_seconds: float | None = None  # data loading, apart (None: stored before it was kept)


def summarise(
    key: str,
    dataset: str,
    seed: int,
    status: str,
    answer: ConstantAnswer,
    classes: int,
    epochs_run: int,
    last: dict | None,
    train_seconds: float | None,
    trace_seconds: float | None = None,
    load_seconds: float | None = None,
) -> TrialSummary:
    """A ``TrialSummary`` from a stored trial row and its last epoch (``last``: epoch fields, or None);
    times in seconds."""
    last = last or {}

    def number(name: str) -> float | None:
        value = last.get(name)
        return None if value is None or not math.isfinite(value) else float(value)

    return TrialSummary(
        key,
        dataset,
        int(seed),
        TrialStatus(status),
        outcome(status, number("val_accuracy"), answer),
        classes,
        int(epochs_run or 0),
        number("val_accuracy"),
        number("val_loss"),
        number("loss"),
        number("accuracy"),
        train_seconds,
        trace_seconds,
        load_seconds,
    )
