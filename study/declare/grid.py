"""Two-factor experiments: one parameter compared across its levels, a second tuned per level.

    [[experiments]]
    name = "solver x learning rate"
    grid = { optimizer = ["sgd", "adam"], learning_rate = [0.001, 0.01, 0.1] }

    [[experiments]]                    # per row: each level its own values of the tuned parameter
    name = "solver"
    grid = [
      { optimizer = "sgd", learning_rate = [0.005, 0.05, 0.5] },
      { optimizer = "adam", learning_rate = [0.0001, 0.001, 0.01] },
    ]

The first parameter is compared, the second tuned (``tune = "..."`` names it otherwise). A grid runs in two
phases (``study.plan.trials``): every cell trains ``selection_seeds`` seeds on the training subset less a
held-out validation split (``validation``, stratified, drawn by the study's data seed) and is scored there;
each level's best cell is chosen on those scores (``study.analyse.grid.choose``), never on the test
images; the chosen cells are then rerun with the study's own seeds, fresh ones, and the comparisons between
levels rest on those confirmation runs only. This module only declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from study.errors import ConfigError

SELECTION_SEEDS = 2  # default seeds per cell of the selection phase
VALIDATION = 0.2  # default share of the training subset held out to score the selection phase
# Selection seeds start this far past the study's largest seed, so that no confirmation run (the study's
# seeds, continued by consecutive integers as looks add them) ever shares a seed with a selection run.
SELECTION_SEED_OFFSET = 1000


def label_of(value: Any) -> str:
    """A value as a label: 0.001, 20/50, adam."""
    if isinstance(value, (list, tuple)):
        return "/".join(label_of(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class GridRow:
    """One level of the compared parameter and the values of the tuned parameter tried with it."""

    level: Any  # the compared parameter's value ("adam")
    tuned: tuple[Any, ...]  # the tuned parameter's values for this level, in the order declared
    label: str = ""  # the level's label (default: the value as text)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", label_of(self.level))


@dataclass(frozen=True)
class Grid:
    """A compared parameter, a tuned one, and the cells: each row's level with each of its tuned values."""

    compared: str
    tuned: str
    rows: tuple[GridRow, ...]
    selection_seeds: int = SELECTION_SEEDS
    validation: float = VALIDATION
    # dataset -> the chosen column of each row, once the selection phase has run (study.analyse.grid.choose)
    chosen: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.compared == self.tuned:
            raise ConfigError(
                f"a grid needs two different parameters, got {self.compared!r} twice"
            )
        if len(self.rows) < 2:
            raise ConfigError(
                f"a grid compares at least two levels of {self.compared!r}, got {len(self.rows)}"
            )
        labels = [row.label for row in self.rows]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"grid levels of {self.compared!r} repeat: {labels}")
        for row in self.rows:
            if not row.tuned:
                raise ConfigError(f"grid level {row.label!r}: no values of {self.tuned!r}")
            tuned = [label_of(t) for t in row.tuned]
            if len(set(tuned)) != len(tuned):
                raise ConfigError(
                    f"grid level {row.label!r}: {self.tuned!r} values repeat: {tuned}"
                )
        if (
            isinstance(self.selection_seeds, bool)
            or not isinstance(self.selection_seeds, int)
            or not 1 <= self.selection_seeds <= 100
        ):
            raise ConfigError(
                f"selection_seeds must be an integer from 1 to 100, got {self.selection_seeds!r}"
            )
        if (
            isinstance(self.validation, bool)
            or not isinstance(self.validation, (int, float))
            or not 0.05 <= self.validation <= 0.5
        ):
            raise ConfigError(
                f"validation must be the share of the training subset held out, from 0.05 to 0.5, "
                f"got {self.validation!r}"
            )
        for dataset, columns in self.chosen.items():
            if len(columns) != len(self.rows) or any(
                not 0 <= c < len(row.tuned) for c, row in zip(columns, self.rows)
            ):
                raise ConfigError(f"grid choice of {dataset!r} does not fit the grid: {columns!r}")

    def cell_label(self, row: GridRow, column: int) -> str:
        """A selection cell's label: "adam @ 0.001"."""
        return f"{row.label} @ {label_of(row.tuned[column])}"

    def cells(self) -> list[tuple[GridRow, int]]:
        """Every (row, column) of the grid, row by row."""
        return [(row, column) for row in self.rows for column in range(len(row.tuned))]

    def cell_params(self, row: GridRow, column: int) -> dict[str, Any]:
        """The parameters a selection cell sets: both factors and the validation split."""
        return {
            self.compared: row.level,
            self.tuned: row.tuned[column],
            "validation": self.validation,
        }

    def reference_row(self, baseline: dict[str, Any]) -> int:
        """The row the others are compared with: the one whose level is the baseline's (``baseline``: the
        settings as a dict), else the first."""
        value = baseline.get(self.compared)
        for index, row in enumerate(self.rows):
            if label_of(row.level) == label_of(value):
                return index
        return 0

    def usual(self, baseline: dict[str, Any]) -> tuple[int, ...]:
        """Per row, the column of the single-setting comparison the grid replaces. Where every row tries the
        same values (a full grid), the one-at-a-time design kept the tuned parameter at the baseline's value:
        its column (the middle where the rows lack it). Where each row has its own values (a per-row grid,
        declared as a span around each level's usual value), the middle of each row."""
        middle = tuple((len(row.tuned) - 1) // 2 for row in self.rows)
        labels = [label_of(t) for t in self.rows[0].tuned]
        if any([label_of(t) for t in row.tuned] != labels for row in self.rows):
            return middle
        value = label_of(baseline.get(self.tuned))
        return (labels.index(value),) * len(self.rows) if value in labels else middle

    def with_choice(self, dataset: str, columns: tuple[int, ...]) -> Grid:
        return replace(self, chosen={**self.chosen, dataset: tuple(columns)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "tuned": self.tuned,
            "rows": [
                {"level": row.level, "tuned": list(row.tuned), "label": row.label}
                for row in self.rows
            ],
            "selection_seeds": self.selection_seeds,
            "validation": self.validation,
            "chosen": {dataset: list(columns) for dataset, columns in self.chosen.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grid:
        def level(value: Any) -> Any:
            return tuple(value) if isinstance(value, list) else value

        return cls(
            compared=data["compared"],
            tuned=data["tuned"],
            rows=tuple(
                GridRow(level(r["level"]), tuple(level(t) for t in r["tuned"]), r.get("label", ""))
                for r in data["rows"]
            ),
            selection_seeds=data.get("selection_seeds", SELECTION_SEEDS),
            validation=data.get("validation", VALIDATION),
            chosen={d: tuple(c) for d, c in (data.get("chosen") or {}).items()},
        )
