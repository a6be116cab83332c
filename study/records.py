"""Typed records that cross module boundaries: what a trainer returns and the store writes.

    result = TrialResult("1d9e0efc", epochs=[{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.2,
                                              "val_accuracy": 0.93, "epoch_seconds": 1.2}])
    result.last["val_accuracy"]          # 0.93
    result.train_seconds, result.trace_seconds, result.load_seconds   # set by the worker, in seconds
    TrialResult.failed("1d9e0efc", "KilledWorker: ...")

Produced by ``study.train.worker`` (inside a worker; it pickles to the driver), sent on by ``study.run.runner``,
written by ``Store.save_trial`` and built by the tests' synthetic store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TrialStatus(enum.StrEnum):
    """How a planned trial stands in the store. A ``StrEnum``: it prints, compares and serialises as its value,
    so the store's status column and plain strings ("ok") read the same."""

    OK = "ok"  # trained to its last epoch
    DIVERGED = "diverged"  # a NaN or infinite loss stopped it: a result, not retried
    FAILED = "failed"  # it crashed: retried by the next run
    MISSING = "missing"  # planned, not in the store yet (never a TrialResult's status)


STATUSES = (TrialStatus.OK, TrialStatus.DIVERGED, TrialStatus.FAILED)  # what a trainer may return
FINISHED = (TrialStatus.OK, TrialStatus.DIVERGED)  # a trial with a result (a diverged one is one)
EPOCH_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds")


@dataclass
class TrialResult:
    """One trained (or failed) trial: its per-epoch rows and how it ended."""

    key: str
    status: TrialStatus = TrialStatus.OK  # one of STATUSES (a plain string is converted)
    epochs: list[dict[str, float]] = field(
        default_factory=list
    )  # one row per epoch, keys EPOCH_FIELDS
    diverged_epoch: int | None = None
    error: str | None = None
    train_seconds: float | None = (
        0.0  # sum of epoch_seconds: training and validation, no tracing or loading
    )
    trace_seconds: float | None = (
        None  # building and tracing the graph; 0.0 when the worker had it cached
    )
    load_seconds: float | None = (
        None  # loading the data subset (0 when cached in the worker) and into tensors
    )
    wall_seconds: float | None = None  # the whole call in the worker, all of the above included
    params: int | None = None
    worker: str | None = None
    device: dict[str, Any] | None = None  # the worker's TensorFlow devices and threads
    # the predicted class of every test image after the last epoch, in the test subset's order (one byte
    # each); None where not kept (a failed trial, a selection cell scored on its validation split)
    predictions: bytes | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"trial {self.key}: status {self.status!r} is not one of {', '.join(STATUSES)}"
            )
        self.status = TrialStatus(self.status)

    @classmethod
    def failed(cls, key: str, error: str) -> TrialResult:
        return cls(key, status=TrialStatus.FAILED, error=error[:500], train_seconds=None)

    @property
    def last(self) -> dict[str, float]:
        """The last epoch's row ({} when no epoch ran)."""
        return self.epochs[-1] if self.epochs else {}


@dataclass
class RunCounts:
    """What one ``study run`` did: planned, already stored, trained, and what became of the trained trials."""

    planned: int
    stored: int
    trained: int = 0
    learned: int = 0
    collapsed: int = 0
    diverged: int = 0
    failed: int = 0
    images: int = 0  # training images seen, all epochs
    seconds: float = 0.0  # wall time of the run
    log: str | None = None  # the file that took the workers' and TensorFlow's output

    def add(self, status: TrialStatus, outcome: str | None, images: int) -> None:
        """Count one trained trial: its status (ok, diverged, failed) and outcome (learned, collapsed or
        diverged; ``study.results.outcomes.Outcome``, None for a failed trial)."""
        self.trained += 1
        self.images += images
        if status == TrialStatus.DIVERGED:
            self.diverged += 1
        elif status == TrialStatus.FAILED:
            self.failed += 1
        elif outcome == "learned":
            self.learned += 1
        elif outcome == "collapsed":
            self.collapsed += 1
