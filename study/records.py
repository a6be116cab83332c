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

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "diverged", "failed")
EPOCH_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds")


@dataclass
class TrialResult:
    """One trained (or failed) trial: its per-epoch rows and how it ended."""

    key: str
    status: str = (
        "ok"  # ok, diverged (NaN/inf loss: a result) or failed (a crash: retried by the next run)
    )
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

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"trial {self.key}: status {self.status!r} is not one of {', '.join(STATUSES)}"
            )

    @classmethod
    def failed(cls, key: str, error: str) -> TrialResult:
        return cls(key, status="failed", error=error[:500], train_seconds=None)

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

    def add(self, status: str, outcome: str | None, images: int) -> None:
        """Count one trained trial: its status (ok, diverged, failed) and outcome (learned, collapsed, ...)."""
        self.trained += 1
        self.images += images
        if status in ("diverged", "failed"):
            setattr(self, status, getattr(self, status) + 1)
        elif outcome in ("learned", "collapsed"):
            setattr(self, outcome, getattr(self, outcome) + 1)
