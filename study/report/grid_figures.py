"""Figures of a grid's selection phase (matplotlib, Agg): a heatmap of the cells and the sensitivity curves.

Each figure is two steps, as Optuna draws its plots: a typed info object computed from the
``study.analyse.grid.GridAnalysis`` (testable without pixels), then the drawing of that object.

    info = heatmap_info(grid_analysis)          # one HeatmapCell per cell of the grid
    heatmap_figure(info, grid_figure_path(out, experiment, dataset, "heatmap"))
    sensitivity_figure(sensitivity_info(grid_analysis), path)

The scores are the selection runs' validation accuracies (a diverged seed at chance, as the choice
counts it); the test images never enter these figures. Names from the study are drawn literally
(``figures.literal``) and never become a path unchanged (``study.names.path_name``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from study.analyse.grid import COLLAPSED, DIVERGED, LEARNED, GridAnalysis
from study.analyse.stats import CONFIDENCE, mean_ci
from study.declare.grid import label_of
from study.names import path_name
from study.report.figures import (
    CHANCE_STYLE,
    MARKERS,
    _legend_below,
    accuracy_limits,
    colour,
    literal,
    outcome_handles,
    padded_limits,
    saved,
)

FAILED_MARK = "†"  # a cell with a seed that diverged or collapsed (the heatmap's caption says so)
HEATMAP_COLOURS = "viridis"  # perceptually uniform and colour-blind safe
MIN_COLOUR_SPAN_PP = 1.0  # a grid whose cells all score alike still gets a readable colour scale


def grid_figure_path(out: Path, experiment: str, dataset: str, kind: str) -> Path:
    """The PNG of one grid figure ``kind`` (heatmap, sensitivity) of ``experiment`` on ``dataset``."""
    return out / f"{path_name(experiment)}_grid-{path_name(dataset)}_{kind}.png"


@dataclass(frozen=True)
class HeatmapCell:
    """One cell of the grid as the heatmap shows it (scores are fractions; NaN where no seed finished)."""

    row: int  # the level's position in the grid, from 0
    column: int  # the tuned value's position in its row, from 0
    level: str  # the row's label
    tuned: str  # the tuned value, as a label (each row may have its own values)
    mean: float  # mean validation accuracy over the finished seeds, a diverged seed at chance
    seeds: int  # finished seeds
    planned: int  # seeds planned for the cell
    diverged: int  # finished seeds that diverged
    collapsed: int  # finished seeds that collapsed to chance
    chosen: bool  # the row's pick (``Choice.column``)
    usual: bool  # the single-setting comparison's column (``Grid.usual``)

    @property
    def failed(self) -> bool:
        """A seed of the cell diverged or collapsed."""
        return self.diverged + self.collapsed > 0


@dataclass(frozen=True)
class HeatmapInfo:
    """What the heatmap draws: every cell of the grid, row by row, and the colour scale (percent)."""

    experiment: str
    dataset: str
    compared: str  # the compared parameter (the rows)
    tuned: str  # the tuned parameter (the columns)
    levels: tuple[str, ...]
    columns: int  # the longest row's length
    cells: tuple[HeatmapCell, ...]
    low: float  # colour scale, percent: the cells whose seeds all learned (a cell below takes its end)
    high: float

    @property
    def failed(self) -> int:
        return sum(cell.failed for cell in self.cells)

    @property
    def below(self) -> int:
        """Cells whose mean lies below the colour scale (they take its darkest colour)."""
        return sum(math.isfinite(c.mean) and c.mean * 100 < self.low - 1e-9 for c in self.cells)

    def cell(self, level: str, column: int) -> HeatmapCell:
        return next(c for c in self.cells if c.level == level and c.column == column)


def heatmap_info(analysis: GridAnalysis) -> HeatmapInfo:
    """The ``HeatmapInfo`` of one grid on one dataset: one cell per (row, column) of the grid, those not
    run yet with no seed and a NaN mean."""
    grid = analysis.grid
    chosen = {c.level: c.column for c in analysis.choices}
    cells = []
    for index, row in enumerate(grid.rows):
        for column, value in enumerate(row.tuned):
            score = analysis.cells.get((row.label, column))
            outcomes = list(score.outcomes.values()) if score is not None else []
            cells.append(
                HeatmapCell(
                    row=index,
                    column=column,
                    level=row.label,
                    tuned=label_of(value),
                    mean=score.mean if score is not None else math.nan,
                    seeds=len(score.scores) if score is not None else 0,
                    planned=score.planned if score is not None else grid.selection_seeds,
                    diverged=outcomes.count(DIVERGED),
                    collapsed=outcomes.count(COLLAPSED),
                    chosen=chosen.get(row.label) == column,
                    usual=index < len(analysis.usual) and analysis.usual[index] == column,
                )
            )
    # the colour scale spans the cells whose seeds all learned: a cell at chance would paint every good
    # cell the same colour; it takes the scale's darkest colour and its † says why
    learned = [c.mean * 100 for c in cells if math.isfinite(c.mean) and c.seeds and not c.failed]
    means = learned or [c.mean * 100 for c in cells if math.isfinite(c.mean)]
    low, high = (min(means), max(means)) if means else (0.0, 100.0)
    if high - low < MIN_COLOUR_SPAN_PP:
        middle = (low + high) / 2
        low, high = middle - MIN_COLOUR_SPAN_PP / 2, middle + MIN_COLOUR_SPAN_PP / 2
    return HeatmapInfo(
        experiment=analysis.experiment,
        dataset=analysis.dataset,
        compared=grid.compared,
        tuned=grid.tuned,
        levels=tuple(row.label for row in grid.rows),
        columns=max(len(row.tuned) for row in grid.rows),
        cells=tuple(cells),
        low=low,
        high=high,
    )


def heatmap_figure(info: HeatmapInfo, path: Path) -> Path:
    """Rows the levels, columns the tuned value's position; colour the mean validation accuracy; in each
    cell its tuned value, its mean (%) and its seed count, ``FAILED_MARK`` where a seed diverged or
    collapsed; the chosen cells outlined in black, the usual column's cells dashed."""
    rows, columns = len(info.levels), info.columns
    fig, ax = plt.subplots(figsize=(1.6 + 0.95 * columns, 0.9 + 0.5 * rows))
    norm = Normalize(vmin=info.low, vmax=info.high)
    cmap = plt.get_cmap(HEATMAP_COLOURS)
    ax.set_facecolor("#f0f0f0")
    for cell in info.cells:
        x, y = cell.column, cell.row
        finite = math.isfinite(cell.mean)
        shade = cmap(norm(cell.mean * 100)) if finite else (0.94, 0.94, 0.94, 1.0)
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=shade, edgecolor="white"))
        dark = finite and norm(cell.mean * 100) < 0.55
        mean = f"{cell.mean * 100:.1f}" if finite else "–"
        ax.text(
            x,
            y,
            f"{literal(cell.tuned)}\n{mean}{FAILED_MARK if cell.failed else ''}  n={cell.seeds}",
            ha="center",
            va="center",
            fontsize=6.5,
            color="white" if dark else "#111",
        )
        # chosen: a solid black frame; usual: a grey dashed frame inside it (a cell may be both)
        for drawn, half, edge, width, style in (
            (cell.chosen, 0.46, "black", 2.2, "-"),
            (cell.usual, 0.38, "#555", 1.0, "--"),
        ):
            if drawn:
                ax.add_patch(
                    Rectangle(
                        (x - half, y - half),
                        2 * half,
                        2 * half,
                        fill=False,
                        edgecolor=edge,
                        linewidth=width,
                        linestyle=style,
                    )
                )
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks(range(columns))
    ax.set_yticks(range(rows))
    ax.set_yticklabels([literal(level) for level in info.levels])
    shared = {tuple(c.tuned for c in info.cells if c.row == r) for r in range(rows)}
    if len(shared) == 1:  # every row tries the same values (a full grid): the axis is those values
        ax.set_xticklabels([literal(t) for t in next(iter(shared))])
        ax.set_xlabel(literal(info.tuned.replace("_", " ")))
    else:
        ax.set_xticklabels([str(c + 1) for c in range(columns)])
        ax.set_xlabel(literal(f"{info.tuned.replace('_', ' ')}: position in its row"))
    ax.set_ylabel(literal(info.compared.replace("_", " ")))
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        fraction=0.05,
        pad=0.02,
        extend="min" if info.below else "neither",
    )
    bar.set_label("mean validation accuracy (%)", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    ax.set_title(
        literal(f"{info.dataset}: validation split, mean over selection seeds"), fontsize=8
    )
    handles: list[Artist] = [
        Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", linewidth=2.2),
        Rectangle((0, 0), 1, 1, fill=False, edgecolor="#555", linewidth=1.0, linestyle="--"),
    ]
    labels = ["chosen cell", "usual value (single-setting comparison)"]
    if info.failed:
        handles.append(Line2D([], [], color="none"))
        labels.append(f"{FAILED_MARK} a seed diverged (scored at chance) or collapsed")
    _legend_below(fig, handles, labels, 1)
    return saved(fig, path)


@dataclass(frozen=True)
class SeedPoint:
    seed: int
    score: float  # validation accuracy, a diverged seed at chance
    outcome: str  # learned, collapsed or diverged


@dataclass(frozen=True)
class SensitivityPoint:
    """One cell on a level's curve: its seeds, their mean and (2 seeds or more) its t-interval."""

    column: int
    tuned: str  # the tuned value as a label
    x: float  # where it is drawn: the value itself on a numeric axis, else its position
    seeds: tuple[SeedPoint, ...]
    mean: float  # fraction; NaN without a finished seed
    low: float  # the CONFIDENCE t-interval of the mean, inside [0, 1]; NaN under 2 seeds or tied seeds
    high: float
    chosen: bool


@dataclass(frozen=True)
class SensitivityLine:
    level: str
    index: int  # the row's position: its colour and marker
    points: tuple[SensitivityPoint, ...]


@dataclass(frozen=True)
class SensitivityInfo:
    """What the sensitivity figure draws: per level, validation accuracy against the tuned value."""

    experiment: str
    dataset: str
    tuned: str  # the tuned parameter (the x axis)
    scale: (
        str  # "log": every tuned value a positive number; "linear": numbers; "position": otherwise
    )
    tick_labels: tuple[
        str, ...
    ]  # on a "position" axis, the shared values' labels (else the positions)
    lines: tuple[SensitivityLine, ...]
    chance: float  # what a diverged seed scores
    low: float  # the accuracy axis (percent): the learned seeds and their means, padded
    high: float
    confidence: float = CONFIDENCE

    @property
    def chance_shown(self) -> bool:
        return self.low <= self.chance * 100 <= self.high

    @property
    def below(self) -> tuple[SeedPoint, ...]:
        """Seeds under the axis (collapsed or diverged, at chance): drawn on its bottom edge."""
        return tuple(
            s
            for line in self.lines
            for p in line.points
            for s in p.seeds
            if s.score * 100 < self.low
        )

    def line(self, level: str) -> SensitivityLine:
        return next(line for line in self.lines if line.level == level)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value) -> bool:
    return _is_number(value) and value > 0


def sensitivity_info(analysis: GridAnalysis) -> SensitivityInfo:
    """The ``SensitivityInfo`` of one grid on one dataset: a log axis when every tuned value is a positive
    number, a linear one when every value is a number, else each value at its position in its row."""
    grid = analysis.grid
    values = [value for row in grid.rows for value in row.tuned]
    if all(_positive(v) for v in values):
        scale = "log"
    elif all(_is_number(v) for v in values):
        scale = "linear"
    else:
        scale = "position"
    shared = {tuple(label_of(v) for v in row.tuned) for row in grid.rows}
    longest = max(len(row.tuned) for row in grid.rows)
    tick_labels = (
        next(iter(shared))
        if scale == "position" and len(shared) == 1
        else tuple(str(c + 1) for c in range(longest))
    )
    chosen = {c.level: c.column for c in analysis.choices}
    lines = []
    for index, row in enumerate(grid.rows):
        points = []
        for column, value in enumerate(row.tuned):
            cell = analysis.cells.get((row.label, column))
            scores = dict(cell.scores) if cell is not None else {}
            outcomes = dict(cell.outcomes) if cell is not None else {}
            interval = mean_ci(list(scores.values()), bounds=(0.0, 1.0))
            points.append(
                SensitivityPoint(
                    column=column,
                    tuned=label_of(value),
                    x=float(value) if scale != "position" else float(column),
                    seeds=tuple(
                        SeedPoint(seed, score, outcomes.get(seed, LEARNED))
                        for seed, score in sorted(scores.items())
                    ),
                    mean=interval.mean,
                    low=interval.low,
                    high=interval.high,
                    chosen=chosen.get(row.label) == column,
                )
            )
        lines.append(SensitivityLine(row.label, index, tuple(points)))
    low, high = _accuracy_axis(lines, analysis.chance)
    return SensitivityInfo(
        experiment=analysis.experiment,
        dataset=analysis.dataset,
        tuned=grid.tuned,
        scale=scale,
        tick_labels=tick_labels,
        lines=tuple(lines),
        chance=analysis.chance,
        low=low,
        high=high,
    )


def _accuracy_axis(lines: list[SensitivityLine], chance: float) -> tuple[float, float]:
    """The accuracy axis of the sensitivity figure (percent), as ``figures.final_accuracy_axis`` sets its
    own: the learned seeds and the means of the cells whose seeds all learned, padded and at least
    ``FINAL_MIN_SPAN_PP`` wide, so that the differences between good cells show; a seed at chance sits on
    the bottom edge. Without a learned seed, the seeds and chance (``figures.accuracy_limits``)."""
    points = [p for line in lines for p in line.points]
    learned = [s.score * 100 for p in points for s in p.seeds if s.outcome == LEARNED]
    means = [
        p.mean * 100
        for p in points
        if math.isfinite(p.mean) and p.seeds and all(s.outcome == LEARNED for s in p.seeds)
    ]
    if not learned:
        return accuracy_limits([s.score * 100 for p in points for s in p.seeds], chance * 100)
    return padded_limits(learned + means)


def sensitivity_axis_label(info: SensitivityInfo) -> str:
    """The x axis' label: the tuned parameter, on a log scale, or by its position in each row where the
    rows hold values that are not numbers and differ between rows."""
    name = info.tuned.replace("_", " ")
    if info.scale == "log":
        return f"{name} (log scale)"
    positions = tuple(str(c + 1) for c in range(len(info.tick_labels)))
    if info.scale == "position" and info.tick_labels == positions:
        return f"{name}: position in its row"
    return name


SEED_STYLE: dict[str, dict[str, Any]] = {
    LEARNED: {"marker": "o", "fill": True},
    COLLAPSED: {"marker": "o", "fill": False},
    DIVERGED: {"marker": "x", "fill": True},
}


def sensitivity_figure(info: SensitivityInfo, path: Path) -> Path:
    """Validation accuracy against the tuned value, one colour per level: each seed a small mark (filled:
    learned, open: collapsed, x: diverged, at chance), the mean joined by a line with its t-interval where
    it has one, the chosen cell ringed; the chance line dotted."""
    fig, ax = plt.subplots(figsize=(5.2, 2.9))
    edge = ax.get_xaxis_transform()  # x in data, y in axes fractions
    spread = 0.035 if info.scale == "log" else 0.0  # seeds side by side (in decades) on a log axis
    handles: list[Artist] = []
    labels: list[str] = []
    for line in info.lines:
        tint = colour(line.index)
        drawn = [p for p in line.points if math.isfinite(p.mean)]
        ax.plot(
            [p.x for p in drawn],
            [p.mean * 100 for p in drawn],
            color=tint,
            marker=MARKERS[line.index % len(MARKERS)],
            markersize=4,
            linewidth=1.3,
        )
        for p in drawn:
            if math.isfinite(p.low) and math.isfinite(p.high):
                ax.errorbar(
                    [p.x],
                    [p.mean * 100],
                    yerr=[[(p.mean - p.low) * 100], [(p.high - p.mean) * 100]],
                    color=tint,
                    capsize=2,
                    linewidth=0.8,
                )
            for j, seed in enumerate(p.seeds):
                offset = (j - (len(p.seeds) - 1) / 2) * spread
                x = p.x * 10**offset if info.scale == "log" else p.x
                style = SEED_STYLE.get(seed.outcome, SEED_STYLE[LEARNED])
                paint: dict[str, Any] = (
                    {"color": tint}
                    if style["marker"] == "x"
                    else {"facecolors": tint if style["fill"] else "none", "edgecolors": tint}
                )
                under = seed.score * 100 < info.low  # on the bottom edge, as final_figure does
                ax.scatter(
                    x,
                    0.0 if under else seed.score * 100,
                    transform=edge if under else ax.transData,
                    s=10,
                    marker=style["marker"],
                    linewidths=0.8,
                    alpha=0.8,
                    zorder=4,
                    clip_on=False,
                    **paint,
                )
            if p.chosen:
                ax.scatter(
                    p.x,
                    p.mean * 100,
                    s=140,
                    facecolors="none",
                    edgecolors="black",
                    linewidths=1.4,
                    zorder=6,
                )
        handles.append(
            Line2D([], [], color=tint, marker=MARKERS[line.index % len(MARKERS)], markersize=4)
        )
        labels.append(literal(line.level))
    if info.chance_shown:
        ax.axhline(info.chance * 100, color="#666", **CHANCE_STYLE)
    # the axis spans the learned seeds, not the intervals (at 2 seeds a 95% t-interval is 12.7 SEs wide)
    ax.set_ylim(info.low, info.high)
    if info.scale == "log":
        ax.set_xscale("log")
    elif info.scale == "position":
        ax.set_xticks(range(len(info.tick_labels)))
        ax.set_xticklabels([literal(t) for t in info.tick_labels])
    ax.set_xlabel(literal(sensitivity_axis_label(info)))
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(literal(f"{info.dataset}: each seed; mean, {info.confidence:.0%} CI"), fontsize=8)
    handles += [
        *outcome_handles(),
        Line2D(
            [],
            [],
            color="black",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            markersize=9,
        ),
        Line2D(
            [], [], color="#666", linewidth=0.9, linestyle=":" if info.chance_shown else "none"
        ),
    ]
    labels += [
        "learned",
        "collapsed",
        "diverged (at chance)",
        "chosen cell",
        f"chance {info.chance * 100:.1f}%" + ("" if info.chance_shown else " (off the axis)"),
    ]
    if info.below:
        handles.append(Line2D([], [], color="none"))
        labels.append("on the bottom edge: a seed below the axis")
    _legend_below(fig, handles, labels, min(5, len(handles)))
    return saved(fig, path)
