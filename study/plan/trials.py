"""Turn a study and a profile into trials, each with a stable key; the same trial is never trained twice.

A trial is (resolved settings and model, dataset, subset, epochs, seed). Its key hashes all of that
plus the dataset fingerprint and the trainer version, so the baseline shared by ten experiments is
one trial, and changed data or code never reuses an old result.

    trials, rows = plan_study(builtin_study(), get_profile("smoke"), datasets_info)
    spec = trials[rows[0].trial_key].spec  # the frozen TrialSpec a worker trains and the store writes
    TrialSpec.from_dict(spec.to_dict()) == spec  # True: to_dict/from_dict are its only (de)serialisers
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from study.declare.config import ModelConfig, Settings
from study.declare.grid import label_of
from study.declare.spec import Experiment, Profile, Study, Value
from study.errors import ConfigError
from study.plan.shapes import summarize

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


# The stored JSON keeps the keys stores have had since their first version: ``params`` is ``expected_params``.
_STORED_AS = {"params": "expected_params"}


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to train one trial, and what the store keeps as its configuration.

    Frozen and picklable: the runner sends it to ``study.train.worker.train_trial`` (in this process or a
    Dask worker), and ``Store.save_trial`` / ``Store.save_plan`` write ``to_dict()`` as the ``config`` JSON.
    ``to_dict`` and ``from_dict`` are its only (de)serialisers.
    """

    key: str  # trial_key(...): 20 hex digits
    settings: Settings
    model: ModelConfig
    dataset: str  # dataset name, as study.plan.data.load_dataset takes it
    fingerprint: str  # of the subset the planner saw; the worker refuses other data
    train_size: int | None  # subset sizes in images (None = all)
    test_size: int | None
    data_seed: int  # seeds the stratified subsets
    seed: int  # seeds initial weights and shuffling
    macs: int  # forward multiply-accumulates per image (study.plan.shapes)
    params: int  # trainable parameters the shapes module expects

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: settings and model as dicts, the other fields as they are."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["settings"], data["model"] = self.settings.to_dict(), self.model.to_dict()
        return {_STORED_AS.get(name, name): value for name, value in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialSpec:
        """The spec ``to_dict`` wrote (keys it does not know, like older stores' extras, are ignored).

        Raises ConfigError naming the missing keys when ``data`` lacks a field."""
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [
            _STORED_AS.get(name, name) for name in names if _STORED_AS.get(name, name) not in data
        ]
        if missing:
            raise ConfigError(
                f"trial configuration {data.get('key', '?')!r} lacks {', '.join(missing)}"
            )
        values = {name: data[_STORED_AS.get(name, name)] for name in names}
        values["settings"] = Settings.from_dict(values["settings"])
        values["model"] = ModelConfig.from_dict(values["model"])
        return cls(**values)


@dataclass(frozen=True)
class Trial:
    """One planned trial: its key, resolved settings and model, the dataset it uses, and its size."""

    key: str
    settings: Settings
    model: ModelConfig
    dataset: DatasetInfo
    seed: int
    params: int  # trainable parameters (study.plan.shapes)
    macs: int  # forward multiply-accumulates per image

    @property
    def spec(self) -> TrialSpec:
        """What a worker trains from and the store writes."""
        return TrialSpec(
            self.key,
            self.settings,
            self.model,
            self.dataset.name,
            self.dataset.fingerprint,
            self.dataset.train_size,
            self.dataset.test_size,
            self.dataset.data_seed,
            self.seed,
            self.macs,
            self.params,
        )


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
    phase: str = (
        ""  # SELECTION: a grid cell scored on its validation split; "": a comparison's row
    )


SELECTION = "selection"  # the phase of a grid's selection rows (study.declare.grid)


def graph_key(settings: Settings, model: ModelConfig) -> str:
    """What a traced training graph depends on: the architecture and the optimiser, not the seed,
    initialiser, learning rate or batch sizes (``study.train.fastfit`` sets those per trial and keys its
    graph cache by this; ``study.plan.estimate`` counts one trace per key and worker)."""
    return repr((dataclasses.replace(model, initializer="glorot_uniform"), settings.optimizer))


# Settings added after stores existed, with the value every older trial was trained at: a trial at that value
# leaves it out of its key, so the keys of old stores stay what they were.
KEYED_ONLY_WHEN_SET = {"schedule": "constant", "input_scaling": "unit", "validation": 0.0}


def keyed_settings(settings: Settings) -> dict[str, Any]:
    """``settings`` as its trial key hashes them (``KEYED_ONLY_WHEN_SET`` left out at their old values)."""
    return {
        name: value
        for name, value in settings.to_dict().items()
        if KEYED_ONLY_WHEN_SET.get(name, object()) != value
    }


def trial_key(settings: Settings, model: ModelConfig, dataset: DatasetInfo, seed: int) -> str:
    blob = json.dumps(
        {
            "settings": keyed_settings(settings),
            "model": model.to_dict(),
            "dataset": dataset.name,
            "fingerprint": dataset.fingerprint,
            "train_size": dataset.train_size,
            "test_size": dataset.test_size,
            "data_seed": dataset.data_seed,
            "seed": seed,
            "trainer": TRAINER_VERSION,
        },
        sort_keys=True,
        default=list,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def scaled_epochs(epochs: int, study: Study, profile: Profile, experiment: Experiment) -> int:
    """Profile epochs scale every epoch count by the same ratio; a longer run keeps its factor."""
    scale = profile.epochs / study.baseline.epochs if profile.epochs else 1.0
    return max(1, round(epochs * scale * experiment.epochs_factor))


def resolve(
    study: Study, profile: Profile, experiment: Experiment, value_index: int, dataset: DatasetInfo
) -> tuple[Settings, ModelConfig]:
    """The settings and model of one value on one dataset, checked by the shapes module."""
    value = experiment.values[value_index]
    where = f"experiment {experiment.name!r}, value {value.label!r}, dataset {dataset.name!r}"
    profile = profile.for_dataset(dataset.name)
    try:
        settings = study.baseline.with_values(**experiment.base).with_values(
            **value.params_for(dataset.name)
        )
        settings = settings.with_values(
            epochs=scaled_epochs(settings.epochs, study, profile, experiment)
        )
        model = settings.model_config(dataset.input_shape, dataset.num_classes)
        summarize(model)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return settings, model


SeedCounts = Mapping[
    tuple[str, str, str], int
]  # (experiment, value label, dataset) -> seeds of that value


def confirmation(study: Study, experiment: Experiment, dataset: str) -> Experiment:
    """The one-factor experiment a grid's chosen cells make on ``dataset``: one value per level (its row label)
    at its chosen tuned value, the reference level's chosen cell as the baseline, scored on the test images.
    Before the selection phase has chosen (``Grid.chosen``), each row's usual column stands in: what
    ``study plan`` costs (a tuned parameter that changes a trial's cost may move it)."""
    grid = experiment.grid
    assert grid is not None
    around = study.baseline.with_values(**experiment.base).to_dict()
    columns = grid.chosen.get(dataset)
    chosen = columns is not None
    columns = columns or grid.usual(around)
    values = tuple(
        Value(
            row.label,
            {grid.compared: row.level, grid.tuned: row.tuned[column]},
            note=f"{grid.tuned} {label_of(row.tuned[column])}, "
            + ("chosen on the validation split" if chosen else "not chosen yet")
            + (
                f" (at the {'low' if column == 0 else 'high'} edge of its grid)"
                if chosen and len(row.tuned) > 1 and column in (0, len(row.tuned) - 1)
                else ""
            ),
        )
        for row, column in zip(grid.rows, columns)
    )
    reference = values[grid.reference_row(around)]
    return dataclasses.replace(
        experiment,
        values=values,
        base={**experiment.base, **reference.params},
        datasets=(dataset,),
        grid=None,
    )


def plan_study(
    study: Study,
    profile: Profile,
    datasets: dict[str, DatasetInfo],
    seeds: SeedCounts | None = None,
    selection_only: bool = False,
) -> tuple[dict[str, Trial], list[PlanRow]]:
    """Every trial of ``study`` under ``profile`` (deduplicated by key) and the plan rows using them.

    ``seeds`` gives a value more seeds than the profile's first look (``study.sequential`` adds them where a
    comparison is still undecided); a baseline keeps its own count (``Study.seeds_for``). A grid experiment
    plans its selection cells (``SELECTION`` rows, ``Study.selection_seeds``) and its confirmation
    (``confirmation``); with ``selection_only`` its confirmation is left out (the selection phase runs first,
    ``study.sequential.driver``)."""
    seeds = seeds or {}
    trials: dict[str, Trial] = {}
    rows: list[PlanRow] = []
    for experiment in study.experiments:
        for dataset_name in experiment.datasets:
            dataset = datasets[dataset_name]
            if experiment.grid is None:
                _plan_values(study, profile, experiment, dataset, seeds, trials, rows)
                continue
            chosen = study.selection_seeds(experiment.grid.selection_seeds)
            _plan_values(study, profile, experiment, dataset, seeds, trials, rows, chosen)
            if not selection_only:
                derived = confirmation(study, experiment, dataset_name)
                _plan_values(study, profile, derived, dataset, seeds, trials, rows)
    return trials, rows


def _plan_values(
    study: Study,
    profile: Profile,
    experiment: Experiment,
    dataset: DatasetInfo,
    seeds: SeedCounts,
    trials: dict[str, Trial],
    rows: list[PlanRow],
    selection: tuple[int, ...] = (),
) -> None:
    """Plan every value of ``experiment`` on ``dataset`` into ``trials`` and ``rows``; with ``selection``,
    each value is a grid cell trained with those seeds (``SELECTION`` rows, no baseline)."""
    base_settings = study.baseline.with_values(**experiment.base)
    base_settings = base_settings.with_values(
        epochs=scaled_epochs(
            base_settings.epochs, study, profile.for_dataset(dataset.name), experiment
        )
    )
    for index, value in enumerate(experiment.values):
        settings, model = resolve(study, profile, experiment, index, dataset)
        summary = summarize(model)
        is_baseline = not selection and settings == base_settings
        count = seeds.get((experiment.name, value.label, dataset.name))
        if selection:
            chosen = selection
        elif is_baseline or not count:
            chosen = study.seeds_for(profile.seeds, baseline=is_baseline)
        else:
            chosen = study.seed_list(count)
        for seed in chosen:
            key = trial_key(settings, model, dataset, seed)
            trials.setdefault(
                key,
                Trial(key, settings, model, dataset, seed, summary.params, summary.macs),
            )
            rows.append(
                PlanRow(
                    experiment.name,
                    experiment.parameter,
                    value.label,
                    index,
                    dataset.name,
                    seed,
                    key,
                    is_baseline,
                    value.note,
                    SELECTION if selection else "",
                )
            )
