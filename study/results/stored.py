"""Typed records the store returns: the stored study with its budget and the facts of its datasets.

    stored = store.stored_study("LeNet parameter study", "quick")
    stored.study.experiments[0].name, stored.profile.epochs, stored.datasets["mnist"].test_size
    stored.stages[0].look, stored.stages[0].seeds       # what a later look added (Stage records)

``StoredStudy.to_dict`` / ``from_dict`` are the only (de)serialisers of the ``studies.spec`` JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from study.declare.spec import Profile, Study
from study.plan.trials import TrialSpec
from study.records import TrialStatus
from study.results.outcomes import ConstantAnswer


@dataclass(frozen=True)
class DatasetFacts:
    """What a run recorded of one dataset: where it came from, the subset used and its classes.

    Sizes are image counts (``train_size``/``test_size``: the subset trained and validated on;
    ``full_*``: the whole split); ``*_class_counts`` give the subset's images per class, in ``classes`` order.
    """

    name: str
    path: str | None
    format: str
    train_size: int
    test_size: int
    full_train_size: int
    full_test_size: int
    input_shape: tuple[int, ...]
    classes: tuple[str, ...]
    fingerprint: str
    train_class_counts: tuple[int, ...] = ()
    test_class_counts: tuple[int, ...] = ()
    conversions: tuple[
        tuple[str, int], ...
    ] = ()  # (what was converted while decoding, images), e.g. grey to RGB
    # per-channel mean and SD of the training subset (pixels / 255): what center and standardize use; () in stores
    # written before input scaling existed
    channel_mean: tuple[float, ...] = ()
    channel_std: tuple[float, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetFacts:
        return cls(
            name=data["name"],
            path=data.get("path"),
            format=data.get("format", ""),
            train_size=int(data["train_size"]),
            test_size=int(data["test_size"]),
            full_train_size=int(data.get("full_train_size", data["train_size"])),
            full_test_size=int(data.get("full_test_size", data["test_size"])),
            input_shape=tuple(data.get("input_shape", ())),
            classes=tuple(data.get("classes", ())),
            fingerprint=data.get("fingerprint", ""),
            train_class_counts=tuple(data.get("train_class_counts", ())),
            test_class_counts=tuple(data.get("test_class_counts", ())),
            conversions=tuple(sorted((data.get("conversions") or {}).items())),
            channel_mean=tuple(data.get("channel_mean", ())),
            channel_std=tuple(data.get("channel_std", ())),
        )

    def constant_answer(self) -> ConstantAnswer | None:
        """The best constant answer on this test subset, or None when its class counts were not recorded."""
        counts = self.test_class_counts
        return ConstantAnswer.from_counts(counts) if counts and sum(counts) else None

    def to_dict(self) -> dict[str, Any]:
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        data["conversions"] = dict(self.conversions)
        return data


@dataclass(frozen=True)
class Stage:
    """Seeds a later look of a sequential design (``study.sequential``) gave one comparison, and why.

    Written by the sequential driver, stored in the ``stages`` list of the study spec (JSON objects with
    these field names, as before this record existed) and read back by ``StoredStudy.stages``."""

    look: (
        int  # the look that added the seeds: 2 or later (look 1 trains every value's first seeds)
    )
    experiment: str
    value: str  # the value's label, as in the plan
    dataset: str
    seeds: int  # the value's seed count after this look (not the number added)
    reason: str  # why: a study.analyse.sequential.Reason value ("difference", "equivalence", ...)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stage:
        return cls(
            look=int(data["look"]),
            experiment=str(data["experiment"]),
            value=str(data["value"]),
            dataset=str(data["dataset"]),
            seeds=int(data["seeds"]),
            reason=str(data["reason"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoredStudy:
    """A study as one run stored it: the declared study, the budget it ran under and its datasets' facts."""

    study: Study
    profile: Profile
    datasets: dict[str, DatasetFacts]
    stages: tuple[
        Stage, ...
    ] = ()  # seeds added after the first look, in the order they were added

    def classes(self, dataset: str) -> int:
        """Number of classes of ``dataset`` (10 when the run recorded none)."""
        facts = self.datasets.get(dataset)
        return len(facts.classes) if facts is not None and facts.classes else 10

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.study.to_dict(),
            "profile": asdict(self.profile),
            "datasets": {name: facts.to_dict() for name, facts in self.datasets.items()},
            "stages": [stage.to_dict() for stage in self.stages],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredStudy:
        return cls(
            study=Study.from_dict(data),
            profile=Profile(**data["profile"]),
            datasets={
                name: DatasetFacts.from_dict(facts)
                for name, facts in data.get("datasets", {}).items()
            },
            stages=tuple(Stage.from_dict(stage) for stage in data.get("stages") or ()),
        )


@dataclass(frozen=True)
class StoredTrial:
    """One trained (or failed) trial's row: how it ended and what it cost (seconds), with its plan.

    ``train_seconds`` is the sum of its epochs' ``epoch_seconds`` (training and validation); ``trace_seconds``
    (graph building and tracing, 0.0 when the worker had the graph) and ``load_seconds`` (data loading) are
    apart from it, and None for trials stored before schema version 2 (their first epoch may include tracing).
    """

    key: str
    dataset: str
    seed: int
    status: TrialStatus  # ok, diverged, failed
    epochs_run: int
    train_seconds: float | None
    planned: TrialSpec | None  # None for a row without a plan entry (a store written by hand)
    trace_seconds: float | None = None
    load_seconds: float | None = None


@dataclass(frozen=True)
class EpochRow:
    """One stored epoch: losses in nats, accuracies as fractions (None where not finite), seconds."""

    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    epoch_seconds: float | None
