"""Declarative study specs: a baseline, experiments that vary one parameter, seeds and profiles.

A spec only *declares*; ``study.trials`` turns it into trials and ``study.runner`` trains them.
This module never imports the runner, the store or TensorFlow.

    experiment("kernel_size", "kernel_size", [1, 3, 5, 7])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from study.config import PARAMETERS, Settings
from study.errors import ConfigError

DEFAULT_SEEDS = (1, 2, 3, 4)  # the original used four fixed seeds, the same for every value


def label_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "/".join(label_of(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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
    parameter: str  # the parameter it varies (see study.config.PARAMETERS)
    values: tuple[Value, ...]
    datasets: tuple[str, ...] = ("mnist", "cifar10")
    epochs_factor: float = 1.0  # >1 for a longer run (e.g. the report's second learning-rate figure)
    description: str = ""

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
            raise ConfigError(f"experiment {self.name!r}: epochs_factor must be a number in (0, 100], "
                              f"got {self.epochs_factor!r}")


def experiment(name: str, parameter: str, values: list, **kwargs) -> Experiment:
    """An experiment whose plain values set ``parameter``; ``Value`` objects are kept as they are."""
    resolved = tuple(v if isinstance(v, Value) else Value(label_of(v), {parameter: v}) for v in values)
    return Experiment(name=name, parameter=parameter, values=resolved, **kwargs)


@dataclass(frozen=True)
class Profile:
    """A budget: how many seeds, epochs and images. It never changes the science."""

    name: str
    seeds: int | None  # how many of the study's seeds; None = all
    epochs: int | None  # None = the study's baseline epochs (Table 1: 100)
    train_size: int | None  # stratified subset of the training split; None = all
    test_size: int | None
    description: str = ""


PROFILES = {
    "smoke": Profile("smoke", seeds=2, epochs=1, train_size=256, test_size=128,
                     description="CI check of the whole pipeline: 2 seeds, 1 epoch, tiny subsets"),
    "quick": Profile("quick", seeds=3, epochs=4, train_size=1000, test_size=500,
                     description="the default of make report: 3 seeds, 4 epochs, 1,000/500-image subsets"),
    "paper": Profile("paper", seeds=4, epochs=None, train_size=None, test_size=None,
                     description="Table 1 as written: 4 seeds, 100 epochs, full data (GPU or cluster)"),
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

    def __post_init__(self) -> None:
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ConfigError(f"study {self.name!r}: duplicate experiment names {names}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"study {self.name!r}: seeds must be distinct integers, got {list(self.seeds)}")

    @property
    def datasets(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for exp in self.experiments:
            seen.update(dict.fromkeys(exp.datasets))
        return tuple(seen)

    def experiment(self, name: str) -> Experiment:
        for exp in self.experiments:
            if exp.name == name:
                return exp
        raise ConfigError(f"unknown experiment {name!r}; accepted: {', '.join(e.name for e in self.experiments)}")
