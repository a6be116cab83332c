"""The one outcome rule: what became of a finished trial (learned, collapsed or diverged).

The runner's progress lines, ``study list``, the export, the TensorBoard export and the report all
read a trial's outcome from here, computed once per trial from its last stored epoch:

    outcome("ok", final_accuracy=0.12, final_loss=2.30, classes=10)   # Outcome.COLLAPSED
    summaries = trial_summaries(store)                                 # trial key -> TrialSummary
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

CHANCE_MARGIN = 0.05  # a seed whose final accuracy is within 5 points of chance has collapsed
LOSS_STUCK = 0.98  # ... or whose final training loss is still >= 98% of ln(classes), the loss of a uniform guess


class Outcome(enum.StrEnum):
    """What became of a finished trial. A ``StrEnum``: it prints, compares and serialises as its value."""

    LEARNED = "learned"
    COLLAPSED = "collapsed"
    DIVERGED = "diverged"


LEARNED, COLLAPSED, DIVERGED = Outcome.LEARNED, Outcome.COLLAPSED, Outcome.DIVERGED


def outcome(status: str, final_accuracy: float | None, final_loss: float | None, classes: int) -> Outcome | None:
    """learned / collapsed / diverged for a finished trial; None for failed or missing ones.

    ``status`` is the stored status (ok, diverged, failed, missing); ``final_accuracy`` the last epoch's
    validation accuracy (fraction); ``final_loss`` its mean training loss (nats); ``classes`` the number
    of classes (chance is taken as ``1 / classes``).
    """
    if status == "diverged":
        return DIVERGED
    if status != "ok":
        return None
    chance = 1 / classes
    if final_accuracy is None or not math.isfinite(final_accuracy) or final_accuracy <= chance + CHANCE_MARGIN:
        return COLLAPSED
    if final_loss is not None and math.isfinite(final_loss) and final_loss >= LOSS_STUCK * math.log(classes):
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
    status: str  # ok, diverged, failed
    outcome: Outcome | None  # None for a failed trial
    classes: int
    epochs_run: int
    val_accuracy: float | None
    val_loss: float | None
    loss: float | None
    accuracy: float | None
    train_seconds: float | None


def summarise(key: str, dataset: str, seed: int, status: str, classes: int, epochs_run: int,
              last: dict | None, train_seconds: float | None) -> TrialSummary:
    """A ``TrialSummary`` from a stored trial row and its last epoch (``last``: epoch fields, or None)."""
    last = last or {}

    def number(name: str) -> float | None:
        value = last.get(name)
        return None if value is None or not math.isfinite(value) else float(value)

    return TrialSummary(key, dataset, int(seed), status, outcome(status, number("val_accuracy"), number("loss"), classes),
                        classes, int(epochs_run or 0), number("val_accuracy"), number("val_loss"), number("loss"),
                        number("accuracy"), train_seconds)
