"""Declarative study specs: a baseline, experiments that vary one parameter, seeds and profiles.

A spec only *declares*; ``study.plan.trials`` turns it into trials and ``study.run.runner`` trains them.
This module never imports the runner, the store or TensorFlow.

    experiment("kernel_size", "kernel_size", [1, 3, 5, 7])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from study.declare.claims import Claim
from study.declare.config import PARAMETERS, SETTING_FIELDS, Settings
from study.declare.grid import SELECTION_SEED_OFFSET, Grid, label_of
from study.errors import ConfigError

BUILTIN_DATASETS = (
    "mnist",
    "fashion_mnist",
    "cifar10",
)  # found by name (study.plan.data.KNOWN); else a folder
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
# (train, test) images of each known dataset's standard split, as keras.datasets ships it: the report
# says when a run read another copy (a subset, as the local MNIST is).
STANDARD_SPLITS = {
    "mnist": (60_000, 10_000),
    "fashion_mnist": (60_000, 10_000),
    "cifar10": (50_000, 10_000),
}


def dataset_title(name: str) -> str:
    """A dataset's name as prose writes it ("CIFAR-10"); an image folder's name as it is."""
    return DATASET_TITLES.get(name, name)


DEFAULT_SEEDS = (1, 2, 3, 4)  # the original used four fixed seeds, the same for every value
BASELINE_SEED_FACTOR = (
    3  # default: the baseline gets three times the value seeds (it serves every comparison)
)
DEFAULT_MARGIN_PP = (
    1.0  # default equivalence margin per dataset, percentage points: fixed before any run
)


@dataclass(frozen=True)
class Value:
    """One value of an experiment: a label and the parameters it sets (usually just one)."""

    label: str
    params: dict[str, Any]
    adapt: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset -> extra params
    note: str = ""  # why an adaptation was needed, shown in the report

    def params_for(self, dataset: str) -> dict[str, Any]:
        return {**self.params, **self.adapt.get(dataset, {})}


@dataclass(frozen=True)
class Experiment:
    name: str
    parameter: str  # the parameter it varies (see study.declare.config.PARAMETERS)
    values: tuple[Value, ...]
    datasets: tuple[str, ...] = ("mnist", "cifar10")
    epochs_factor: float = (
        1.0  # >1 for a longer run (e.g. the report's second learning-rate figure)
    )
    description: str = ""
    base: dict[str, Any] = field(
        default_factory=dict
    )  # changes to the study baseline this experiment varies around
    group: str = ""  # the part of the study it belongs to (e.g. "Table 1 as written"); the report groups by it
    # a two-factor experiment (study.declare.grid): ``values`` are then its selection cells, ``parameter`` the
    # compared parameter, and the comparisons are between the levels at their chosen cells
    grid: Grid | None = None

    @property
    def compared_labels(self) -> tuple[str, ...]:
        """The labels the comparisons (and claims) name: the grid's levels, else the values'."""
        if self.grid is not None:
            return tuple(row.label for row in self.grid.rows)
        return tuple(v.label for v in self.values)

    def __post_init__(self) -> None:
        if self.parameter not in PARAMETERS:
            raise ConfigError(
                f"experiment {self.name!r}: unknown parameter {self.parameter!r}; accepted: {', '.join(PARAMETERS)}"
            )
        if not self.values:
            raise ConfigError(f"experiment {self.name!r}: no values")
        labels = [v.label for v in self.values]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"experiment {self.name!r}: duplicate value labels {labels}")
        if not (isinstance(self.epochs_factor, (int, float)) and 0 < self.epochs_factor <= 100):
            raise ConfigError(
                f"experiment {self.name!r}: epochs_factor must be a number in (0, 100], "
                f"got {self.epochs_factor!r}"
            )


def _no_baseline_named(claim: Claim, exp: Experiment, baseline: Settings) -> None:
    """A claim that compares values with the baseline cannot name the baseline's own value (it is the
    reference its values are compared with): one ConfigError line naming it and the values it may name."""
    around = baseline.with_values(**exp.base)
    for value in exp.values:
        if value.label not in claim.labels:
            continue
        same = all(
            around.with_values(**value.params_for(dataset)) == around for dataset in claim.datasets
        )
        if same:
            others = [v.label for v in exp.values if v.label != value.label]
            raise ConfigError(
                f"claim {claim.text!r}: value {value.label!r} of experiment {exp.name!r} is the "
                f"baseline's own setting, the reference its values are compared with; accepted: "
                f"the other values, {', '.join(others)}"
            )


def grid_experiment(name: str, grid: Grid, **kwargs) -> Experiment:
    """A two-factor experiment: its values are the grid's selection cells (both factors set, scored on the
    held-out validation split)."""
    values = tuple(
        Value(grid.cell_label(row, column), grid.cell_params(row, column))
        for row, column in grid.cells()
    )
    return Experiment(name=name, parameter=grid.compared, values=values, grid=grid, **kwargs)


def experiment(name: str, parameter: str, values: list, **kwargs) -> Experiment:
    """An experiment whose plain values set ``parameter``; ``Value`` objects are kept as they are."""
    resolved = tuple(
        v if isinstance(v, Value) else Value(label_of(v), {parameter: v}) for v in values
    )
    return Experiment(name=name, parameter=parameter, values=resolved, **kwargs)


DATASET_BUDGET_FIELDS = ("epochs", "train_size", "test_size")  # what a profile may set per dataset


@dataclass(frozen=True)
class Profile:
    """A budget: how many seeds, epochs and images. It never changes the science.

    ``datasets`` sets epochs and subset sizes per dataset (MNIST learns from fewer images than CIFAR-10);
    a dataset not named there takes the profile-wide fields. Seeds may come in stages: the first look
    trains ``seeds`` seeds per value; while a comparison is undecided and can still be decided, a look
    adds ``seed_step`` seeds to it, up to ``max_seeds`` (``study.sequential``). ``max_trials`` caps the
    trials of a run (None: no cap); a cap never changes which trials a stage chooses, only where it stops.
    """

    name: str
    seeds: (
        int | None
    )  # how many of the study's seeds each value trains at the first look; None = all
    epochs: int | None  # None = the study's baseline epochs (Table 1: 100)
    train_size: int | None  # stratified subset of the training split; None = all
    test_size: int | None
    description: str = ""
    datasets: dict[str, dict[str, int | None]] = field(
        default_factory=dict
    )  # dataset -> epochs/train/test_size
    max_seeds: int | None = (
        None  # seeds per value after the last look; None = one look (no stages)
    )
    seed_step: int | None = None  # seeds a look adds to an undecided comparison; None = ``seeds``
    max_trials: int | None = None  # at most this many trials in the run (None = no cap)

    def for_dataset(self, dataset: str) -> Profile:
        """This budget as it applies to ``dataset``: its per-dataset epochs and sizes, if any, in place."""
        fields: dict[str, Any] = dict(self.datasets.get(dataset, {}))
        return replace(self, **fields, datasets={})

    @property
    def looks(self) -> int:
        """How many times the comparisons are looked at (1 + the stages that may add seeds)."""
        if not self.seeds or not self.max_seeds or self.max_seeds <= self.seeds:
            return 1
        step = self.seed_step or self.seeds
        return 1 + -(-(self.max_seeds - self.seeds) // step)


PROFILES = {
    "smoke": Profile(
        "smoke",
        seeds=2,
        epochs=1,
        train_size=256,
        test_size=128,
        description="CI check of the whole pipeline: 2 seeds, 1 epoch, tiny subsets",
    ),
    "quick": Profile(
        "quick",
        seeds=3,
        epochs=3,
        train_size=4000,
        test_size=1000,
        datasets={"cifar10": {"train_size": 10000}},
        max_seeds=6,
        seed_step=3,
        max_trials=310,
        description="the default of make report: 3 epochs on 4,000 MNIST and 10,000 CIFAR-10 training "
        "images (1,000 test images each); 3 seeds per value, 3 more where a comparison is "
        "still undecided (at most 310 trials)",
    ),
    "standard": Profile(
        "standard",
        seeds=4,
        epochs=10,
        train_size=None,
        test_size=None,
        description="between quick and paper: 4 seeds, 10 epochs (30 for the long run), full "
        "data; overnight on a workstation, short on a GPU or a cluster",
    ),
    "paper": Profile(
        "paper",
        seeds=4,
        epochs=None,
        train_size=None,
        test_size=None,
        description="Table 1 as written: 4 seeds, 100 epochs, full data (GPU or cluster)",
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; accepted: {', '.join(PROFILES)}")
    return PROFILES[name]


@dataclass(frozen=True)
class Study:
    name: str
    baseline: Settings
    experiments: tuple[Experiment, ...]
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    data_seed: int = 0  # draws the stratified subsets
    description: str = ""
    claims: tuple[
        Claim, ...
    ] = ()  # what the study checks; the report has a findings section only if any
    reference: tuple[
        tuple[str, str, Any], ...
    ] = ()  # (label, Settings field, value) of a reference table
    reference_title: str = ""  # e.g. "Table 1 of the original report"
    notes: tuple[str, ...] = ()  # study-level notes and adaptations, shown in the report's setup
    baseline_seeds: int | None = (
        None  # seeds of each baseline; None: BASELINE_SEED_FACTOR x the value seeds
    )
    margins: dict[str, float] = field(
        default_factory=dict
    )  # dataset -> equivalence margin, pp (default 1 pp)
    # The experiment that trains the baseline longer (it varies "epochs"; its one other value is the longer run):
    # where the longer run's interval is not inside the margin, claims about final accuracy are not testable.
    budget_check: str = ""
    # the Settings fields a study file's [baseline] did not set (they train Table 1 as written); () for a
    # built-in study, whose baseline is set in code
    inherited: tuple[str, ...] = ()
    source: str = ""  # the study file it was read from, as given ("" for a built-in study)

    @property
    def has_no_baseline_table(self) -> bool:
        """A study file without a [baseline] table (or an empty one): every setting is Table 1's."""
        return bool(self.source) and set(SETTING_FIELDS) <= set(self.inherited)

    def __post_init__(self) -> None:
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ConfigError(f"study {self.name!r}: duplicate experiment names {names}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(
                f"study {self.name!r}: seeds must be distinct integers, got {list(self.seeds)}"
            )
        if self.baseline_seeds is not None and (
            isinstance(self.baseline_seeds, bool)
            or not isinstance(self.baseline_seeds, int)
            or self.baseline_seeds < 1
        ):
            raise ConfigError(
                f"study {self.name!r}: baseline_seeds must be a positive integer, got "
                f"{self.baseline_seeds!r}"
            )
        for dataset, margin in self.margins.items():
            if (
                isinstance(margin, bool)
                or not isinstance(margin, (int, float))
                or not 0 < margin < 100
            ):
                raise ConfigError(
                    f"study {self.name!r}: the margin of {dataset!r} must be a number of percentage "
                    f"points in (0, 100), got {margin!r}"
                )
        by_name = {e.name: e for e in self.experiments}
        if self.budget_check:
            check = by_name.get(self.budget_check)
            if check is None:
                raise ConfigError(
                    f"study {self.name!r}: budget_check names no experiment: {self.budget_check!r}; "
                    f"accepted: {', '.join(names)}"
                )
            if check.parameter != "epochs" or len(check.values) != 2:
                raise ConfigError(
                    f"study {self.name!r}: budget_check {self.budget_check!r} must vary 'epochs' over "
                    f"two values (the baseline's and the longer run's), got {check.parameter!r} with "
                    f"{len(check.values)} values"
                )
            base = check.base.get("epochs", self.baseline.epochs)
            epochs = [v.params.get("epochs", base) for v in check.values]
            if epochs[0] != base or not (isinstance(epochs[1], int) and epochs[1] > base):
                raise ConfigError(
                    f"study {self.name!r}: budget_check {self.budget_check!r} must have the baseline's "
                    f"{base} epochs as its first value and more as its second, got {epochs}"
                )
        for claim in self.claims:
            for name in claim.experiments:
                if name not in by_name:
                    raise ConfigError(
                        f"claim {claim.text!r}: unknown experiment {name!r}; accepted: {', '.join(names)}"
                    )
            exp = by_name[claim.experiment]
            labels = list(exp.compared_labels)
            for label in claim.labels:
                if label not in labels:
                    raise ConfigError(
                        f"claim {claim.text!r}: experiment {exp.name!r} has no value {label!r}; "
                        f"accepted: {', '.join(labels)}"
                    )
            for dataset in claim.datasets:
                if dataset not in exp.datasets:
                    raise ConfigError(
                        f"claim {claim.text!r}: experiment {exp.name!r} does not run on {dataset!r}; "
                        f"accepted: {', '.join(exp.datasets)}"
                    )
            if claim.against_baseline and not claim.names_baseline and exp.grid is None:
                _no_baseline_named(claim, exp, self.baseline)

    def margin(self, dataset: str) -> float:
        """The equivalence margin of ``dataset`` as a fraction (the study's, else DEFAULT_MARGIN_PP)."""
        return self.margins.get(dataset, DEFAULT_MARGIN_PP) / 100

    def seed_list(self, count: int) -> tuple[int, ...]:
        """The first ``count`` seeds: the study's seeds, continued past the largest by consecutive integers."""
        extended = list(self.seeds[:count])
        extended += range(max(self.seeds) + 1, max(self.seeds) + 1 + count - len(extended))
        return tuple(extended)

    def selection_seeds(self, count: int) -> tuple[int, ...]:
        """The seeds of a grid's selection phase: ``count`` seeds from ``SELECTION_SEED_OFFSET`` past the
        study's largest seed, apart from every seed a comparison uses (the confirmation runs are fresh)."""
        start = max(self.seeds) + SELECTION_SEED_OFFSET + 1
        return tuple(range(start, start + count))

    def with_choices(self, choices: dict[tuple[str, str], tuple[int, ...]]) -> Study:
        """This study with the grids' chosen columns, by (experiment, dataset) (``study.analyse.grid``)."""
        experiments = []
        for exp in self.experiments:
            grid = exp.grid
            if grid is not None:
                for (name, dataset), columns in choices.items():
                    if name == exp.name:
                        grid = grid.with_choice(dataset, columns)
                exp = replace(exp, grid=grid)
            experiments.append(exp)
        return replace(self, experiments=tuple(experiments))

    def seeds_for(self, profile_seeds: int | None, baseline: bool) -> tuple[int, ...]:
        """The seeds a value (or, with ``baseline``, the baseline) trains with under a profile's seed count.

        Values take the first ``profile_seeds`` of the study's seeds (all when None; a later look of a
        sequential design may continue them, ``seed_list``). A baseline takes
        ``baseline_seeds`` seeds (default three times the value seeds): the study's seeds, continued past
        the largest by consecutive integers. Same seeds in, same trials out, on any machine.
        """
        values = self.seeds[:profile_seeds] if profile_seeds else self.seeds
        if not baseline:
            return values
        count = self.baseline_seeds or BASELINE_SEED_FACTOR * len(values)
        return self.seed_list(max(count, len(values)))

    @property
    def datasets(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for exp in self.experiments:
            seen.update(dict.fromkeys(exp.datasets))
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        """The study as plain JSON-able data (stored with each run; read back by ``from_dict``)."""
        return {
            "name": self.name,
            "description": self.description,
            "baseline": self.baseline.to_dict(),
            "seeds": list(self.seeds),
            "data_seed": self.data_seed,
            "experiments": [
                {
                    "name": e.name,
                    "parameter": e.parameter,
                    "datasets": list(e.datasets),
                    "epochs_factor": e.epochs_factor,
                    "description": e.description,
                    "base": dict(e.base),
                    "group": e.group,
                    "values": [
                        {"label": v.label, "params": v.params, "adapt": v.adapt, "note": v.note}
                        for v in e.values
                    ],
                    **({"grid": e.grid.to_dict()} if e.grid is not None else {}),
                }
                for e in self.experiments
            ],
            "claims": [c.to_dict() for c in self.claims],
            "reference": [[label, key, value] for label, key, value in self.reference],
            "reference_title": self.reference_title,
            "notes": list(self.notes),
            "baseline_seeds": self.baseline_seeds,
            "margins": dict(self.margins),
            **({"budget_check": self.budget_check} if self.budget_check else {}),
            **({"inherited": list(self.inherited)} if self.inherited else {}),
            **({"source": self.source} if self.source else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Study:
        experiments = tuple(
            Experiment(
                name=e["name"],
                parameter=e["parameter"],
                datasets=tuple(e["datasets"]),
                epochs_factor=e.get("epochs_factor", 1.0),
                description=e.get("description", ""),
                base=dict(e.get("base", {})),
                group=e.get("group", ""),
                values=tuple(
                    Value(v["label"], v["params"], v.get("adapt", {}), v.get("note", ""))
                    for v in e["values"]
                ),
                grid=Grid.from_dict(e["grid"]) if e.get("grid") else None,
            )
            for e in data["experiments"]
        )
        return cls(
            name=data["name"],
            baseline=Settings.from_dict(data["baseline"]),
            experiments=experiments,
            seeds=tuple(data["seeds"]),
            data_seed=data.get("data_seed", 0),
            description=data.get("description", ""),
            claims=tuple(Claim.from_dict(c) for c in data.get("claims", [])),
            reference=tuple(
                (label, key, value) for label, key, value in data.get("reference", [])
            ),
            reference_title=data.get("reference_title", ""),
            notes=tuple(data.get("notes", [])),
            baseline_seeds=data.get("baseline_seeds"),
            margins=dict(data.get("margins") or {}),
            budget_check=data.get("budget_check", ""),
            inherited=tuple(data.get("inherited", ())),
            source=str(data.get("source", "")),
        )

    def experiment(self, name: str) -> Experiment:
        for exp in self.experiments:
            if exp.name == name:
                return exp
        raise ConfigError(
            f"unknown experiment {name!r}; accepted: {', '.join(e.name for e in self.experiments)}"
        )
