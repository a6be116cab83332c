"""Two-factor experiments: the selection grid's numbers (no words, no pixels).

A grid experiment (``study.declare.grid.Grid``) compares the levels of one parameter (the solver) with a
second parameter (the learning rate) tuned per level. Every cell trains ``selection_seeds`` seeds scored on
a held-out validation split of the training subset (never the test images); each level's best cell is
chosen here, then rerun with fresh seeds whose test accuracy the ordinary comparisons decide on
(``study.analyse.comparisons``). This module holds what the report shows of the grid itself.

    runs = [CellRun("digits", "adam", 0, 0.001, 1001, 0.97, "learned"), ...]
    choices = choose(grid, cell_scores(runs, chance=0.11))      # the column chosen per level
    analysis = analyse_grid(grid, "digits", runs, chance=0.11, margin=0.005, validation_images=2000,
                            baseline={"optimizer": "sgd", "learning_rate": 0.05})
    choice_rows([analysis])                                      # choices.csv, one row per level

What it adds to the choice: per row, where the pick sits (an ``edge`` of its row says the span may be too
narrow) and how wide the good region is (``within_margin``); whether the best tuned value depends on the
level at all (a two-way ANOVA of level x column on the logit of the error, the seed as a block); the
expected best score after k tuning trials (Dodge et al. 2019); the slope of log(best tuned value) on
log(level) where both are positive numbers (1: the linear scaling rule, Goyal et al. 2017); and whether
tuning changes the levels' order (the search space decides rankings, Choi et al. 2019). Scores are
fractions in [0, 1]; a diverged seed counts at chance throughout.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from study.declare.grid import Grid

LEARNED, COLLAPSED, DIVERGED = "learned", "collapsed", "diverged"  # study.results.outcomes' names


@dataclass(frozen=True)
class CellRun:
    """One selection trial: a cell of the grid on one dataset and seed, scored on the validation split."""

    dataset: str
    level: str  # the compared parameter's level, by its row label ("adam")
    column: int  # the tuned value's position in its row
    tuned: float | int | str  # the tuned value itself (0.001)
    seed: int
    accuracy: float | None  # final validation accuracy; None where the trial failed or is missing
    outcome: str | None  # learned, collapsed or diverged; None where it failed or is missing


@dataclass(frozen=True)
class CellScore:
    """One cell's selection score: the mean over its finished seeds, a diverged seed at chance."""

    level: str
    column: int
    tuned: float | int | str
    scores: dict[int, float]  # seed -> validation accuracy (diverged: chance)
    outcomes: dict[int, str]  # seed -> learned / collapsed / diverged (finished seeds only)
    planned: int  # seeds planned for the cell

    @property
    def mean(self) -> float:
        return sum(self.scores.values()) / len(self.scores) if self.scores else math.nan

    @property
    def complete(self) -> bool:
        """Every planned seed finished (a choice is made only on complete rows)."""
        return len(self.scores) == self.planned


def cell_scores(runs: list[CellRun], chance: float) -> dict[tuple[str, int], CellScore]:
    """(level, column) -> its score over ``runs`` (one dataset): a diverged seed scores ``chance``."""
    cells: dict[tuple[str, int], CellScore] = {}
    for run in runs:
        key = (run.level, run.column)
        cell = cells.setdefault(key, CellScore(run.level, run.column, run.tuned, {}, {}, 0))
        cell = CellScore(
            cell.level, cell.column, cell.tuned, cell.scores, cell.outcomes, cell.planned + 1
        )
        if run.outcome is not None:
            cell.outcomes[run.seed] = run.outcome
            score = chance if run.outcome == DIVERGED or run.accuracy is None else run.accuracy
            cell.scores[run.seed] = float(score)
        cells[key] = cell
    return cells


def choose(grid: Grid, cells: dict[tuple[str, int], CellScore]) -> tuple[int, ...] | None:
    """The chosen column of every row of ``grid``: the highest mean validation score (ties: the lower
    column). None until every cell of every row has all its seeds (a partial row could change its pick)."""
    chosen = []
    for row in grid.rows:
        row_cells = [cells.get((row.label, column)) for column in range(len(row.tuned))]
        if any(cell is None or not cell.complete or not cell.scores for cell in row_cells):
            return None
        means = [cell.mean for cell in row_cells if cell is not None]
        chosen.append(max(range(len(means)), key=lambda column: (means[column], -column)))
    return tuple(chosen)


LOW, HIGH = "low", "high"  # Choice.edge: the pick is its row's first or its last column
LOGIT_ERROR = "logit error"  # Interaction.scale: log(err / (1 - err)), err = 1 - accuracy
CONFIDENCE = 0.95  # the level of the scaling slope's interval (as study.analyse.stats.CONFIDENCE)
_TIE = 1e-12  # two means this close count as equal when counting the cells within the margin


@dataclass(frozen=True)
class Choice:
    """One row's pick: its best cell on the validation split, where that cell sits in its row and how
    many other cells come close."""

    level: str  # the row's label ("adam")
    column: int  # the chosen cell's position in its row, from 0
    tuned: float | int | str  # the tuned value there (0.001)
    mean: float  # its mean validation score, a diverged seed at chance
    edge: str  # LOW: first column, HIGH: last; "" inside the row, or in a row of one cell
    within_margin: int  # cells of the row within the margin of its best, the best included
    cells: int  # the row's cells
    unlearned: int  # cells of the row with at least one seed that diverged or collapsed


def choices(
    grid: Grid, cells: dict[tuple[str, int], CellScore], margin: float
) -> tuple[Choice, ...]:
    """Every row's ``Choice`` at ``choose``'s columns; empty while ``choose`` makes none. ``margin`` is a
    fraction of accuracy (0.005: half a percentage point)."""
    if not margin >= 0:
        raise ValueError(f"margin must be a fraction of accuracy, 0 or more, got {margin!r}")
    columns = choose(grid, cells)
    if columns is None:
        return ()
    out = []
    for row, column in zip(grid.rows, columns):
        row_cells = [cells[(row.label, c)] for c in range(len(row.tuned))]
        means = [cell.mean for cell in row_cells]
        best, last = means[column], len(row_cells) - 1
        edge = LOW if column == 0 and last > 0 else HIGH if column == last > 0 else ""
        out.append(
            Choice(
                level=row.label,
                column=column,
                tuned=row_cells[column].tuned,
                mean=best,
                edge=edge,
                within_margin=sum(best - mean <= margin + _TIE for mean in means),
                cells=len(row_cells),
                unlearned=sum(
                    any(o != LEARNED for o in cell.outcomes.values()) for cell in row_cells
                ),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Interaction:
    """The F test of the level x column interaction: does the best tuned value depend on the level?"""

    f: float
    df_num: float  # (levels - 1) x (columns - 1)
    df_den: float  # the residual's degrees of freedom
    p: float
    scale: str = LOGIT_ERROR  # the scale the scores were tested on
    observations: int = 0  # the seeds' scores the model was fitted to


def logit_error(accuracy: float, validation_images: int) -> float:
    """log(err / (1 - err)), err = 1 - accuracy, with err clipped to [0.5 / n, 1 - 0.5 / n] (n: the
    validation images): half an image from either end, so that a perfect or a null score stays finite."""
    if isinstance(validation_images, bool) or not (
        isinstance(validation_images, int) and validation_images >= 1
    ):
        raise ValueError(
            f"validation_images must be the validation split's image count, got {validation_images!r}"
        )
    low = 0.5 / validation_images
    error = min(max(1.0 - accuracy, low), 1.0 - low)
    return math.log(error / (1.0 - error))


def interaction(
    grid: Grid,
    cells: dict[tuple[str, int], CellScore],
    validation_images: int,
    learned_only: bool = False,
) -> Interaction | None:
    """Two-way ANOVA of every seed's score, ``C(level) * C(column) + C(seed)``, on the logit of the error
    (``logit_error``): near the ceiling, accuracy compresses the differences between good cells, which
    fakes an interaction on the raw scale. The column (a position in its row) is the common factor: each
    level has its own values over the same span. The seed is a block (the cells share their seeds).

    Type II sums of squares (``anova_lm(typ=2)``): the interaction is the model's highest-order term, so
    its type II test is adjusted for both main effects and the block, as a type III test would be, without
    depending on how the factors are coded (type III needs sum-to-zero contrasts to mean anything). In a
    balanced grid (every cell the same seeds) types I, II and III give the interaction the same sum of
    squares; type II keeps it right where a cell lost a seed.

    None where it cannot be tested: rows of different lengths, a missing cell, a cell with fewer than 2
    seeds, fewer than 2 columns, a design whose seeds do not cross the cells, no residual degrees of
    freedom, or no residual variance (tied runs).

    ``learned_only``: the same test over the runs that learned (a collapsed or diverged run sits at chance,
    far from every other run on the logit scale, and can dominate the residual); every cell then needs one
    learned run, and a cell short of a seed leaves the design unbalanced (type II stays right)."""
    lengths = {len(row.tuned) for row in grid.rows}
    if len(lengths) != 1 or lengths.pop() < 2:
        return None
    records = []
    for row, column in grid.cells():
        cell = cells.get((row.label, column))
        scores = dict(cell.scores) if cell is not None else {}
        if cell is not None and learned_only:
            scores = {s: v for s, v in scores.items() if cell.outcomes.get(s) == LEARNED}
        if len(scores) < (1 if learned_only else 2):
            return None
        for seed, score in scores.items():
            logit = logit_error(score, validation_images)
            records.append({"y": logit, "level": row.label, "column": column, "seed": seed})
    frame = pd.DataFrame.from_records(records)
    design = smf.ols("y ~ C(level) * C(column) + C(seed)", data=frame)
    exog = np.asarray(design.exog)
    if np.linalg.matrix_rank(exog) < exog.shape[1]:  # seeds nested in cells: no block to remove
        return None
    model = design.fit()
    if model.df_resid < 1:
        return None
    y = frame["y"].to_numpy()
    total = float(np.sum((y - y.mean()) ** 2))
    if np.ptp(y) == 0 or not model.ssr > 1e-12 * total:  # tied runs: no residual variance
        return None
    table = anova_lm(model, typ=2)
    term = next(name for name in table.index if ":" in str(name))
    return Interaction(
        f=float(table.loc[term, "F"]),
        df_num=float(table.loc[term, "df"]),
        df_den=float(model.df_resid),
        p=float(table.loc[term, "PR(>F)"]),
        observations=len(frame),
    )


def expected_best(scores: list[float], k_max: int) -> list[float]:
    """The expected best validation score after k = 1..``k_max`` tuning trials drawn with replacement
    from ``scores`` (Dodge et al. 2019, "Show Your Work"): with v sorted ascending and N scores,
    E[max of k] = sum_i v_i ((i / N)^k - ((i - 1) / N)^k). k = 1 gives the mean; a large k, the maximum."""
    if not scores:
        raise ValueError("expected_best needs at least one score")
    if isinstance(k_max, bool) or not (isinstance(k_max, int) and k_max >= 1):
        raise ValueError(f"k_max must be a whole number of trials, 1 or more, got {k_max!r}")
    values = np.sort(np.asarray(scores, dtype=float))
    if not np.all(np.isfinite(values)):
        raise ValueError(f"scores must be finite numbers, got {scores!r}")
    n = len(values)
    rank = np.arange(1, n + 1)
    return [
        float(np.sum(values * ((rank / n) ** k - ((rank - 1) / n) ** k)))
        for k in range(1, k_max + 1)
    ]


@dataclass(frozen=True)
class Slope:
    """The least-squares slope of log(best tuned value) on log(level): 1 is the linear scaling rule
    (Goyal et al. 2017: the learning rate grows with the batch size), 0.5 the square-root rule."""

    slope: float
    stderr: float
    levels: int  # the points it rests on
    low: float = math.nan  # its CONFIDENCE t-interval (levels - 2 degrees of freedom)
    high: float = math.nan


def _positive_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and float(value) > 0
    )


def scaling_slope(levels: list[float], chosen: list[float]) -> Slope | None:
    """The ``Slope`` of log(``chosen``) on log(``levels``), one point per level; None with fewer than 3
    levels, or where a level or a chosen value is not a positive number."""
    if len(levels) != len(chosen):
        raise ValueError(f"{len(levels)} levels but {len(chosen)} chosen values")
    if len(levels) < 3 or not all(_positive_number(v) for v in [*levels, *chosen]):
        return None
    x = np.log(np.asarray(levels, dtype=float))
    y = np.log(np.asarray(chosen, dtype=float))
    if np.ptp(x) == 0:
        return None
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    low, high = np.asarray(fit.conf_int(alpha=1 - CONFIDENCE))[1]
    return Slope(float(fit.params[1]), float(fit.bse[1]), len(levels), float(low), float(high))


@dataclass(frozen=True)
class Ranking:
    """The levels' order (best first) at the usual columns and at the tuned choices."""

    levels: tuple[str, ...]  # in the declared order
    usual_means: tuple[float, ...]  # per level, the mean at its usual column
    tuned_means: tuple[float, ...]  # per level, the mean at its chosen column
    usual: tuple[
        str, ...
    ]  # the levels, best first, at the usual columns (ties: the declared order)
    tuned: tuple[str, ...]  # the same at the chosen columns

    @property
    def changed(self) -> bool:
        """Tuning changed the order of the levels."""
        return self.usual != self.tuned


def ranking(levels: list[str], usual: list[float], tuned: list[float]) -> Ranking:
    """The ``Ranking`` of ``levels`` by their means at the usual columns and at the tuned ones."""
    if not len(levels) == len(usual) == len(tuned):
        raise ValueError(f"{len(levels)} levels, {len(usual)} usual and {len(tuned)} tuned means")
    if len(set(levels)) != len(levels):
        raise ValueError(f"levels repeat: {levels}")
    if not all(math.isfinite(m) for m in [*usual, *tuned]):
        raise ValueError("every level needs a finite mean at its usual and its tuned column")

    def order(means: list[float]) -> tuple[str, ...]:
        return tuple(levels[i] for i in sorted(range(len(levels)), key=lambda i: (-means[i], i)))

    return Ranking(tuple(levels), tuple(usual), tuple(tuned), order(usual), order(tuned))


@dataclass(frozen=True)
class GridAnalysis:
    """What the report shows of one grid on one dataset's selection phase."""

    experiment: str
    dataset: str
    grid: Grid
    cells: dict[tuple[str, int], CellScore]  # cell_scores over this dataset's selection runs
    choices: tuple[Choice, ...]  # one per row; empty until every cell has all its seeds
    interaction: Interaction | None
    expected_best: dict[str, tuple[float, ...]]  # level -> E[best of k], k = 1..its finished runs
    slope: Slope | None  # where both parameters are positive numbers and the rows are chosen
    usual: tuple[int, ...]  # per row, the column of the single-setting comparison (Grid.usual)
    reference: int  # the row the others are compared with (Grid.reference_row)
    validation: float  # the share of the training subset held out to score the cells
    seeds: tuple[int, ...]  # the selection seeds that finished in some cell
    ranking: Ranking | None = None  # the levels' order at the usual and at the chosen columns
    margin: float = 0.0  # the margin ``Choice.within_margin`` counts within
    chance: float = 0.0  # the score a diverged seed counts at
    validation_images: int = 0  # the validation split's images (the logit's clipping)
    # the interaction over the runs that learned only, where some run collapsed or diverged (else None)
    interaction_learned: Interaction | None = None

    @property
    def unlearned_runs(self) -> int:
        """Selection runs that collapsed or diverged (left out of ``interaction_learned``)."""
        return sum(
            outcome != LEARNED
            for cell in self.cells.values()
            for outcome in cell.outcomes.values()
        )


def analyse_grid(
    grid: Grid,
    dataset: str,
    runs: list[CellRun],
    chance: float,
    margin: float,
    validation_images: int,
    baseline: dict[str, Any],
    experiment: str = "",
) -> GridAnalysis:
    """The ``GridAnalysis`` of ``grid`` on ``dataset`` from its selection ``runs`` (those of other
    datasets are left out): ``chance`` is what a diverged seed scores, ``margin`` the fraction of accuracy
    that counts as close to a row's best, ``baseline`` the study's settings as a dict."""
    if not 0 <= chance <= 1:
        raise ValueError(f"chance must be an accuracy from 0 to 1, got {chance!r}")
    logit_error(0.5, validation_images)  # checks the image count
    mine = [run for run in runs if run.dataset == dataset]
    cells = cell_scores(mine, chance)
    picked = choices(grid, cells, margin)
    usual = grid.usual(baseline)
    expected = {}
    for row in grid.rows:
        scores = [s for c in range(len(row.tuned)) for s in _scores(cells, row.label, c)]
        expected[row.label] = tuple(expected_best(scores, len(scores))) if scores else ()
    slope = order = None
    if picked:
        chosen: list[Any] = [c.tuned for c in picked]
        slope = scaling_slope([row.level for row in grid.rows], chosen)
        order = ranking(
            [row.label for row in grid.rows],
            [cells[(row.label, c)].mean for row, c in zip(grid.rows, usual)],
            [c.mean for c in picked],
        )
    return GridAnalysis(
        experiment=experiment,
        dataset=dataset,
        grid=grid,
        cells=cells,
        choices=picked,
        interaction=interaction(grid, cells, validation_images),
        interaction_learned=(
            interaction(grid, cells, validation_images, learned_only=True)
            if any(o != LEARNED for c in cells.values() for o in c.outcomes.values())
            else None
        ),
        expected_best=expected,
        slope=slope,
        usual=usual,
        reference=grid.reference_row(baseline),
        validation=grid.validation,
        seeds=tuple(sorted({seed for cell in cells.values() for seed in cell.scores})),
        ranking=order,
        margin=margin,
        chance=chance,
        validation_images=validation_images,
    )


def _scores(cells: dict[tuple[str, int], CellScore], level: str, column: int) -> list[float]:
    cell = cells.get((level, column))
    return list(cell.scores.values()) if cell is not None else []


# choices.csv's columns, in order (written even when no grid has chosen)
CHOICE_COLUMNS = (
    "experiment",
    "dataset",
    "compared",
    "level",
    "tuned",
    "chosen",
    "position",
    "positions",
    "edge",
    "mean_validation_pct",
    "within_margin",
    "unlearned_cells",
    "selection_seeds",
    "validation_share",
)


def choice_rows(analyses: list[GridAnalysis]) -> list[dict]:
    """One row per (experiment, dataset, level) with a choice: the machine-readable choices
    (output/choices.csv), a projection of the ``Choice`` records. ``column`` is the chosen value's position
    in its row from 0, ``columns`` the row's length; ``mean_validation_pct`` the chosen cell's mean
    validation accuracy in percent (a diverged seed at chance); ``selection_seeds`` the seeds that scored
    the cells, on ``validation_share`` of the training subset."""
    rows = []
    for analysis in analyses:
        for choice in analysis.choices:
            rows.append(
                {
                    "experiment": analysis.experiment,
                    "dataset": analysis.dataset,
                    "compared": analysis.grid.compared,
                    "level": choice.level,
                    "tuned": analysis.grid.tuned,
                    "chosen": choice.tuned,
                    "position": choice.column + 1,  # in its row, from 1 (as the report counts)
                    "positions": choice.cells,
                    "edge": choice.edge,
                    "mean_validation_pct": _pct(choice.mean),
                    "within_margin": choice.within_margin,
                    "unlearned_cells": choice.unlearned,
                    "selection_seeds": len(analysis.seeds),
                    "validation_share": analysis.validation,
                }
            )
    return rows


def _pct(x: float) -> float | None:
    return round(float(x) * 100, 6) if math.isfinite(x) else None
