"""Turn a study and a profile into trials, each with a stable key; the same trial is never trained twice.

A trial is (resolved settings and model, dataset, subset, epochs, seed). Its key hashes all of that
plus the dataset fingerprint and the trainer version, so the baseline shared by ten experiments is
one trial, and changed data or code never reuses an old result.

    trials, rows = plan_study(builtin_study(), get_profile("smoke"), datasets_info)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from study.declare.config import ModelConfig, Settings
from study.errors import ConfigError
from study.plan.shapes import summarize
from study.declare.spec import Experiment, Profile, Study

TRAINER_VERSION = 3  # bump when training semantics change: old results then no longer match (3: seeded initialisers)


@dataclass(frozen=True)
class DatasetInfo:
    """What planning needs to know of a loaded dataset."""

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int
    fingerprint: str
    train_size: int | None  # the profile's subset sizes (None = all)
    test_size: int | None
    data_seed: int


@dataclass(frozen=True)
class Trial:
    key: str
    settings: Settings
    model: ModelConfig
    dataset: DatasetInfo
    seed: int
    params: int
    macs: int

    def payload(self) -> dict[str, Any]:
        """A plain, picklable description a worker trains from."""
        return {
            "key": self.key, "settings": self.settings.to_dict(), "model": self.model.to_dict(),
            "dataset": self.dataset.name, "fingerprint": self.dataset.fingerprint,
            "train_size": self.dataset.train_size, "test_size": self.dataset.test_size,
            "data_seed": self.dataset.data_seed, "seed": self.seed,
        }


@dataclass(frozen=True)
class PlanRow:
    """One (experiment, value, dataset, seed) of a study and the trial that answers it."""

    experiment: str
    parameter: str
    value: str
    value_index: int
    dataset: str
    seed: int
    trial_key: str
    is_baseline: bool
    note: str


def trial_key(settings: Settings, model: ModelConfig, dataset: DatasetInfo, seed: int) -> str:
    blob = json.dumps({
        "settings": settings.to_dict(), "model": model.to_dict(), "dataset": dataset.name,
        "fingerprint": dataset.fingerprint, "train_size": dataset.train_size, "test_size": dataset.test_size,
        "data_seed": dataset.data_seed, "seed": seed, "trainer": TRAINER_VERSION,
    }, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def scaled_epochs(epochs: int, study: Study, profile: Profile, experiment: Experiment) -> int:
    """Profile epochs scale every epoch count by the same ratio; a longer run keeps its factor."""
    scale = profile.epochs / study.baseline.epochs if profile.epochs else 1.0
    return max(1, round(epochs * scale * experiment.epochs_factor))


def resolve(study: Study, profile: Profile, experiment: Experiment, value_index: int,
            dataset: DatasetInfo) -> tuple[Settings, ModelConfig]:
    """The settings and model of one value on one dataset, checked by the shapes module."""
    value = experiment.values[value_index]
    where = f"experiment {experiment.name!r}, value {value.label!r}, dataset {dataset.name!r}"
    try:
        settings = study.baseline.with_values(**experiment.base).with_values(**value.params_for(dataset.name))
        settings = settings.with_values(epochs=scaled_epochs(settings.epochs, study, profile, experiment))
        model = settings.model_config(dataset.input_shape, dataset.num_classes)
        summarize(model)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return settings, model


def plan_study(study: Study, profile: Profile, datasets: dict[str, DatasetInfo]
               ) -> tuple[dict[str, Trial], list[PlanRow]]:
    """Every trial of ``study`` under ``profile`` (deduplicated by key) and the plan rows using them."""
    seeds = study.seeds[: profile.seeds] if profile.seeds else study.seeds
    trials: dict[str, Trial] = {}
    rows: list[PlanRow] = []
    for experiment in study.experiments:
        for dataset_name in experiment.datasets:
            dataset = datasets[dataset_name]
            base_settings = study.baseline.with_values(**experiment.base)
            base_settings = base_settings.with_values(
                epochs=scaled_epochs(base_settings.epochs, study, profile, experiment))
            for index, value in enumerate(experiment.values):
                settings, model = resolve(study, profile, experiment, index, dataset)
                summary = summarize(model)
                is_baseline = settings == base_settings
                for seed in seeds:
                    key = trial_key(settings, model, dataset, seed)
                    trials.setdefault(key, Trial(key, settings, model, dataset, seed, summary.params, summary.macs))
                    rows.append(PlanRow(experiment.name, experiment.parameter, value.label, index,
                                        dataset.name, seed, key, is_baseline, value.note))
    return trials, rows
