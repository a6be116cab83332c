"""The sentences of a grid's selection phase, written from its numbers (``study.analyse.grid.GridAnalysis``).

Plain text, no HTML: the templates escape it. Each sentence states what its numbers carry and no more.

    protocol_text(grid_analysis, train_images=4000, ...)   # how the cells were scored and chosen
    interaction_text(grid_analysis)                         # 'Two-way ANOVA of the logit ...: F(4, 24) = ...'
    ranking_text(grid_analysis)                             # the single-setting column against the chosen
    edge_text(choice, "learning_rate")                      # 'at the low edge of its grid: ...'
"""

from __future__ import annotations

import math

from study.analyse.comparisons import Analysis
from study.analyse.grid import (
    COLLAPSED,
    CONFIDENCE,
    DIVERGED,
    HIGH,
    LOW,
    Choice,
    GridAnalysis,
    Interaction,
    Slope,
)
from study.analyse.stats import ALPHA
from study.declare.grid import Grid, label_of
from study.declare.spec import dataset_title
from study.report import cells
from study.report.formats import p_is, pp
from study.report.grid_figures import HeatmapInfo, SensitivityInfo
from study.report.selection_rates import SAME, SEPARATE, SelectionRates

EXPECTED_TRIALS = (1, 2, 5)  # the k of the expected-best table, before "all"
TIE = 0.0005  # expected-best leads closer than this (0.05 pp) are ties in words


def _name(parameter: str) -> str:
    return parameter.replace("_", " ")


def _share(x: float) -> str:
    return f"{x * 100:.0f}%" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x * 100:.1f}%"


def _seeds(seeds: tuple[int, ...] | list[int]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + cells.seeds_text(seeds)


def _values(values: tuple) -> str:
    return ", ".join(label_of(v) for v in values)


def tuned_values_text(experiment: str, grid: Grid) -> str:
    """The setup's line of one grid: every value of the tuned parameter each level was tried at, one list
    per level where the rows differ ('<name>: each <compared> at its own <tuned> values: <level> 0.005,
    0.05, 0.5; ...'), then the selection seeds per cell and the validation share."""
    compared, tuned = _name(grid.compared), _name(grid.tuned)
    shared = {tuple(label_of(v) for v in row.tuned) for row in grid.rows}
    if len(shared) == 1:
        values = (
            f"every {compared} ({', '.join(r.label for r in grid.rows)}) at {tuned} "
            + _values(grid.rows[0].tuned)
        )
    else:
        values = f"each {compared} at its own {tuned} values: " + "; ".join(
            f"{row.label} {_values(row.tuned)}" for row in grid.rows
        )
    seeds = grid.selection_seeds
    return (
        f"{experiment.replace('_', ' ')}: {values}. {seeds} selection seed{'s' if seeds != 1 else ''} "
        f"per cell, scored on a {_share(grid.validation)} validation split of the training images."
    )


def protocol_text(
    analysis: GridAnalysis,
    train_images: int | None,
    value_seeds: tuple[int, ...],
    baseline_seeds: tuple[int, ...],
    confirmed: tuple[int, ...] | None,
    baseline_value: str = "",
) -> str:
    """How the cells were scored and chosen, and what the comparisons below rest on. ``train_images``: the
    training subset the split was held out of (None: unknown); ``value_seeds`` and ``baseline_seeds``: the
    finished seeds of the confirmation runs (the levels', the reference level's); ``confirmed``: the columns
    the confirmation runs were planned at (None: planned before any choice, at the usual columns);
    ``baseline_value``: the study baseline's value of the tuned parameter, as a label."""
    grid = analysis.grid
    compared, tuned = _name(grid.compared), _name(grid.tuned)
    cell_count = sum(len(row.tuned) for row in grid.rows)
    held = (
        f"{analysis.validation_images:,} of the {train_images:,} training images used"
        if train_images
        else f"{analysis.validation_images:,} images"
    )
    if analysis.seeds:
        seeds = f"with {_seeds(analysis.seeds)}"
        if len(analysis.seeds) != grid.selection_seeds:
            seeds += (
                f" ({len(analysis.seeds)} of the {grid.selection_seeds} planned per cell finished)"
            )
    else:
        seeds = "with no selection seed finished yet"
    sentences = [
        f"Selection: each of the {cell_count} cells ({len(grid.rows)} levels of {compared}, each with "
        f"its {tuned} values) trained {seeds} on the training images less a stratified "
        f"{_share(analysis.validation)} validation split ({held}) and was scored on that split; each "
        f"{compared}'s cell with the highest mean validation accuracy is chosen (a diverged seed counts at "
        f"chance {cells.pct(analysis.chance)}%, a tie goes to the lower position). The test images are "
        f"never read for the choice."
    ]
    if train_images:
        sentences.append(
            f"A selection run trains on {train_images - analysis.validation_images:,} images, its "
            f"confirmation run on all {train_images:,}: as many epochs, so more SGD steps (a {tuned} chosen "
            "at fewer steps)."
        )
    confirmation = tuple(sorted(set(value_seeds) | set(baseline_seeds)))
    if not confirmation:
        sentences.append("No confirmation run has finished yet: there is no comparison below.")
        return " ".join(sentences)
    reference = grid.rows[analysis.reference].label
    runs = (
        f"{_seeds(value_seeds)} among the other levels and {_seeds(baseline_seeds)} for the reference level "
        f"{reference}"
        if value_seeds and tuple(value_seeds) != tuple(baseline_seeds)
        else f"{_seeds(baseline_seeds or value_seeds)}"
    )
    shared = sorted(set(analysis.seeds) & set(confirmation))
    fresh = (
        "fresh seeds, none of them a selection seed"
        if not shared
        else f"seeds of which {_seeds(shared)} also scored the selection"
    )
    sentences.append(
        f"The comparisons below rest only on confirmation runs of the chosen cells with {fresh} "
        f"({runs}), scored on the test images (the 'validation accuracy' of the tables and figures below "
        "and of the rest of the report); no selection run enters them."
    )
    picked = tuple(c.column for c in analysis.choices)
    if picked:
        row = grid.rows[analysis.reference]
        chosen = label_of(row.tuned[picked[analysis.reference]])
        if chosen != baseline_value:
            sentences.append(
                f"Their reference, the baseline of the table below, is {reference} at its chosen {tuned} "
                f"{chosen}"
                + (
                    f", not the study baseline's {tuned} {baseline_value}"
                    if baseline_value
                    else ""
                )
                + "."
            )
    if confirmed is None:
        sentences.append(
            f"The confirmation runs stored were planned before the choice: each {compared} at its "
            f"single-setting {tuned} ("
            + ", ".join(
                f"{row.label} {label_of(row.tuned[c])}"
                for row, c in zip(grid.rows, analysis.usual)
            )
            + "), not at its chosen one."
        )
    elif picked and tuple(confirmed) != picked:
        sentences.append(
            "The confirmation runs were planned at a choice ("
            + ", ".join(
                f"{row.label} {label_of(row.tuned[c])}" for row, c in zip(grid.rows, confirmed)
            )
            + ") that differs from the one these cells give now."
        )
    return " ".join(sentences)


def edge_text(choice: Choice) -> str:
    """Where a row's pick sits: at an edge of its row (the span may be too narrow) or inside it."""
    if choice.edge == LOW:
        return "at the low edge of its grid: a better value may lie below"
    if choice.edge == HIGH:
        return "at the high edge of its grid: a better value may lie above"
    return "inside its grid" if choice.cells > 1 else "its grid's only value"


def no_choice_text(analysis: GridAnalysis) -> str:
    """Why no cell is chosen yet: the cells still short of their seeds."""
    short = [
        (row.label, column)
        for row, column in analysis.grid.cells()
        if (cell := analysis.cells.get((row.label, column))) is None
        or not cell.complete
        or not cell.scores
    ]
    return (
        f"No cell is chosen yet: {len(short)} of the {len(analysis.grid.cells())} cells have not "
        f"finished all their {analysis.grid.selection_seeds} seeds."
    )


def _untested_reason(analysis: GridAnalysis) -> str:
    grid = analysis.grid
    lengths = sorted({len(row.tuned) for row in grid.rows})
    tuned = _name(grid.tuned)
    if len(lengths) > 1:
        return (
            f"its rows hold different numbers of {tuned} values "
            f"({', '.join(str(n) for n in lengths)}), so no position is common to every row"
        )
    if lengths[0] < 2:
        return f"each row holds a single {tuned} value"
    short = sum(
        len(cell.scores) < 2 if (cell := analysis.cells.get((row.label, column))) else True
        for row, column in grid.cells()
    )
    if short:
        return f"{short} of its {len(grid.cells())} cells have fewer than 2 finished seeds"
    return (
        "the seeds' scores leave nothing to test against (the runs tie, or the seeds do not cross "
        "the cells)"
    )


def _anova(test: Interaction) -> str:
    return f"F({test.df_num:g}, {test.df_den:g}) = {test.f:.2f}, {p_is(test.p)}, over {test.observations} runs"


def interaction_text(analysis: GridAnalysis, alpha: float = ALPHA) -> str:
    """The interaction test in words: the statistic over every run and, where some run collapsed or diverged,
    over the runs that learned (a run at chance can dominate the residual); what a significant one carries;
    or why it could not be tested. A description of the grid at ``alpha``, not one of the report's verdicts."""
    grid = analysis.grid
    compared, tuned = _name(grid.compared), _name(grid.tuned)
    test = analysis.interaction
    if test is None:
        return (
            f"Whether the {tuned}'s effect depends on the {compared} could not be tested: "
            f"{_untested_reason(analysis)}."
        )
    sentences = [
        f"Two-way ANOVA of the logit of the validation error ({compared} x the {tuned}'s position in its "
        f"row), seed as a block, a description of the grid at α = {alpha:g} and not one of the report's "
        f"verdicts: {_anova(test)}."
    ]
    learned = analysis.interaction_learned
    left = analysis.unlearned_runs
    if left:
        sentences.append(
            f"Over the runs that learned ({left} run{'s' if left != 1 else ''} at chance left out): "
            + (f"{_anova(learned)}." if learned else "not testable (a cell has no learned run).")
        )
    judged = [t for t in (test, learned) if t is not None]
    if all(t.p < alpha for t in judged):
        meaning = (
            f"The {tuned}'s effect on the validation error differs between levels of {compared}: a "
            f"comparison of the levels at any one {tuned} depends on which {tuned} it is."
        )
    elif not any(t.p < alpha for t in judged):
        meaning = (
            f"No evidence at these seeds that the {tuned}'s effect depends on the {compared}; that is not "
            "evidence that it does not."
        )
    else:
        meaning = (
            f"The two disagree: the runs at chance inflate the residual and hide an interaction the runs "
            f"that learned show (the {tuned}'s effect on the error of a run that learns differs between "
            f"levels of {compared})"
            if learned and learned.p < alpha
            else f"The two disagree: the interaction rests on the runs at chance; among the runs that "
            f"learned there is no evidence that the {tuned}'s effect depends on the {compared}"
        ) + "."
    return " ".join([*sentences, meaning])


def _order(levels: tuple[str, ...], means: dict[str, float]) -> str:
    return ", ".join(f"{level} ({cells.pct(means[level])}%)" for level in levels)


def ranking_text(analysis: GridAnalysis) -> str:
    """The single-setting comparison as one column of the grid: the levels' order on the validation split
    at their usual values and at their chosen cells, and whether tuning changed it."""
    grid = analysis.grid
    tuned = _name(grid.tuned)
    usual = ", ".join(
        f"{row.label} {label_of(row.tuned[c])}" for row, c in zip(grid.rows, analysis.usual)
    )
    ranking = analysis.ranking
    if ranking is None:
        return (
            f"The single-setting comparison is one column of this grid ({usual}); its order against the "
            f"chosen cells' waits for the choice."
        )
    usual_means = dict(zip(ranking.levels, ranking.usual_means))
    tuned_means = dict(zip(ranking.levels, ranking.tuned_means))
    seeds = grid.selection_seeds
    verdict = (
        (
            "The order of the means changed with tuning"
            if ranking.changed
            else "The order of the means did not change with tuning"
        )
        + f" (means over {seeds} selection seed{'s' if seeds != 1 else ''} per cell; no test of the order: "
        "a swap of two close means says nothing, and the confirmation runs below, on fresh seeds and the "
        "test images, may order the levels otherwise)."
    )
    same = len({tuple(label_of(t) for t in row.tuned) for row in grid.rows}) == 1
    where = "the baseline's, else the middle of the row" if same else "the middle of each row"
    return (
        f"The single-setting comparison is one column of this grid: at the single-setting {tuned} "
        f"({where}: {usual}) the order on the "
        f"validation split, best first, is {_order(ranking.usual, usual_means)}; "
        f"at the chosen cells it is {_order(ranking.tuned, tuned_means)}. {verdict}"
    )


def slope_text(slope: Slope | None, compared: str, tuned: str, edges: int = 0) -> str:
    """The scaling slope with its interval, against the linear (1) and square-root (0.5) rules and no coupling
    (0); ``edges``: chosen values at an edge of their row (the best there may lie beyond the grid). '' without
    a slope."""
    if slope is None:
        return ""
    head = (
        f"Slope of log(chosen {_name(tuned)}) on log({_name(compared)}) over {slope.levels} levels: "
        f"{slope.slope:.2f}"
    )
    edge = (
        f" {edges} of the {slope.levels} chosen values lie at an edge of their row: the best value there "
        "may lie outside the grid, which no interval here accounts for."
        if edges
        else ""
    )
    if not (math.isfinite(slope.low) and math.isfinite(slope.high)):
        return f"{head} (no interval: {slope.levels} points leave no spread to estimate it).{edge}"
    rules = (
        ("the linear scaling rule (1)", 1.0),
        ("the square-root rule (0.5)", 0.5),
        ("no coupling (0)", 0.0),
    )
    inside = [words for words, rule in rules if slope.low <= rule <= slope.high]
    outside = [words for words, rule in rules if not slope.low <= rule <= slope.high]
    verdict = "; ".join(
        part
        for part in (
            "its interval includes " + _and(inside) if inside else "",
            "it excludes " + _and(outside) if outside else "",
        )
        if part
    )
    return (
        f"{head} ({cells.level_text(CONFIDENCE)} CI {slope.low:.2f} to {slope.high:.2f}): {verdict}."
        f"{edge}"
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def expected_ks(analysis: GridAnalysis) -> tuple[int, ...]:
    """The k of the expected-best table that some level reaches, before 'all'."""
    longest = max((len(v) for v in analysis.expected_best.values()), default=0)
    return tuple(k for k in EXPECTED_TRIALS if k < longest)


def expected_best_text(analysis: GridAnalysis) -> str:
    """Which level leads after one tuning trial and which after all of them (Dodge et al. 2019)."""
    curves = {level: curve for level, curve in analysis.expected_best.items() if curve}
    if not curves:
        return ""

    def leader(pick) -> str:
        order = sorted(curves, key=lambda level: -pick(curves[level]))
        best = order[0]
        text = f"{best} ({cells.pct(pick(curves[best]))}%"
        if (
            len(order) > 1
        ):  # how far ahead: a lead of a few hundredths of a point is a tie in words
            gap = pick(curves[best]) - pick(curves[order[1]])
            text += (
                f", {pp(gap, signed=False, digits=2)} above {order[1]}"
                if gap >= TIE
                else f", level with {order[1]} within {pp(TIE, signed=False, digits=2)}"
            )
        return text + ")"

    return (
        "Expected best validation accuracy after k tuning trials, each a run drawn at random (with "
        "replacement) from the level's runs over all its cells and seeds (Dodge et al. 2019): k = 1 is "
        "the mean run; k = all draws as many as the level has. After one trial "
        f"{leader(lambda c: c[0])} is highest; after all of them {leader(lambda c: c[-1])}. These are "
        "expectations over the runs observed, with no interval."
    )


def heatmap_caption(info: HeatmapInfo) -> str:
    """What the heatmap shows, with its count of cells that had a failed seed."""
    compared, tuned = _name(info.compared), _name(info.tuned)
    failed = (
        f"† marks the {info.failed} cell{'s' if info.failed != 1 else ''} with a seed that diverged "
        f"(counted at chance) or collapsed."
        if info.failed
        else "No seed of any cell diverged or collapsed."
    )
    if info.below:
        failed += (
            f" The colours span the cells whose seeds all learned ({info.low:.1f}% to {info.high:.1f}%); "
            f"{info.below} cell{'s' if info.below != 1 else ''} below take{'s' if info.below == 1 else ''} "
            f"its darkest colour."
        )
    return (
        f"{dataset_title(info.dataset)}: mean validation accuracy of every cell (colour, and the number in "
        f"%; n: finished seeds), rows the levels of {compared}, columns the position of the {tuned} "
        f"value in its row (each cell names its value). Solid outline: each row's chosen cell; dashed: "
        f"the single-setting comparison's {tuned}. {failed}"
    )


def sensitivity_caption(info: SensitivityInfo) -> str:
    """What the sensitivity figure shows, with its counts of failed seeds."""
    seeds = [s for line in info.lines for p in line.points for s in p.seeds]
    diverged = sum(s.outcome == DIVERGED for s in seeds)
    collapsed = sum(s.outcome == COLLAPSED for s in seeds)
    failed = [f"{n} {what}" for n, what in ((diverged, "diverged"), (collapsed, "collapsed")) if n]
    counts = (
        f"Of the {len(seeds)} runs, {' and '.join(failed)}."
        if failed
        else f"All {len(seeds)} runs learned."
    )
    under = len(info.below)
    below = (
        f"; {under} seed{'s' if under != 1 else ''} below it sit{'' if under != 1 else 's'} on its "
        f"bottom edge"
        if under
        else ""
    )
    axis = (
        "on a log scale"
        if info.scale == "log"
        else "by its position in its row"
        if info.scale == "position"
        else ""
    )
    return (
        f"{dataset_title(info.dataset)}: validation accuracy of every selection run against the "
        f"{_name(info.tuned)}{' ' + axis if axis else ''}, one line per level: each seed a mark (filled: "
        f"learned, open: collapsed, x: diverged, at chance {cells.pct(info.chance)}%), the mean with its "
        f"{cells.level_text(info.confidence)} t-interval where a cell has 2 seeds that differ (cut at the "
        f"axis), the chosen cell ringed. The axis spans the seeds that learned{below}. {counts}"
    )


def selection_rates_text(rates: SelectionRates | None) -> str:
    """The simulated family-wise false-verdict rate of both protocols, per scenario, read from
    ``benchmarks/selection_rates.py``'s data; '' without it."""
    if rates is None:
        return ""
    quoted = [
        (s, s.familywise[SEPARATE], s.familywise[SAME])
        for s in rates.scenarios
        if SEPARATE in s.familywise and SAME in s.familywise
    ]
    quoted = [(s, a, b) for s, a, b in quoted if math.isfinite(a.rate) and math.isfinite(b.rate)]
    if not quoted:
        return ""
    ses = [e.se for _, a, b in quoted for e in (a, b) if math.isfinite(e.se)]
    level = f" at alpha {rates.alpha:g}" if math.isfinite(rates.alpha) else ""
    parts = "; ".join(
        f"{a.rate * 100:.1f}% against {b.rate * 100:.1f}% ({s.title})" for s, a, b in quoted
    )
    return (
        f"Simulated ({rates.reps:,} replications per scenario, benchmarks/selection_rates.py, "
        f"docs/ERROR_RATES.md of the study source): the family-wise rate of a false better or worse "
        f"verdict{level} among a "
        f"grid's comparisons, choosing on separate seeds and judging on fresh ones as here against "
        f"choosing and judging on the same seeds, is {parts}"
        + (f" (Monte Carlo SE at most {max(ses) * 100:.1f} pp)." if ses else ".")
        + (
            f" Rates above {rates.alpha * 100:g}% exceed the nominal level; docs/ERROR_RATES.md of the "
            "study source gives why, "
            "as far as it is known (the count includes right verdicts about a chosen cell that is truly "
            "below its level's best; the paired engine's excess in a lone block is not explained)."
            if math.isfinite(rates.alpha)
            and any(e.rate > rates.alpha for _, a, b in quoted for e in (a, b))
            else ""
        )
    )


def reference_names(analysis: Analysis) -> dict[str, str]:
    """experiment -> its comparisons' reference in words where a grid's reference is a chosen cell ('sgd at
    learning rate 0.15'), when the chosen value is the same on every dataset (else the level alone)."""
    study = analysis.stored.study
    out = {}
    for experiment in study.experiments:
        grid = experiment.grid
        if grid is None:
            continue
        index = grid.reference_row({**study.baseline.to_dict(), **experiment.base})
        row = grid.rows[index]
        values = {label_of(row.tuned[columns[index]]) for columns in grid.chosen.values()}
        if len(values) == 1:
            out[experiment.name] = f"{row.label} at {_name(grid.tuned)} {values.pop()}"
    return out
