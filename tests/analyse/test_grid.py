"""The selection grid's numbers: the choice rests on validation scores only, edges and the good region's
width, a diverged seed at chance, the interaction test against statsmodels itself, Dodge et al.'s expected
best against its closed forms and a simulation, the scaling slope on exact power laws, and the ranking."""

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.anova import anova_lm

from study.analyse.grid import (
    COLLAPSED,
    DIVERGED,
    HIGH,
    LEARNED,
    LOGIT_ERROR,
    LOW,
    CellRun,
    analyse_grid,
    cell_scores,
    choice_rows,
    choices,
    choose,
    expected_best,
    interaction,
    logit_error,
    ranking,
    scaling_slope,
)
from study.declare.grid import Grid, GridRow

SEEDS = (1001, 1002)
CHANCE = 0.1135
IMAGES = 10_000  # validation images: large enough that the logit's clipping never bites here

SOLVERS = {
    "sgd": (0.005, 0.015, 0.05, 0.15, 0.5),
    "adam": (0.0001, 0.0003, 0.001, 0.003, 0.01),
    "rmsprop": (0.0001, 0.0003, 0.001, 0.003, 0.01),
}


def solver_grid(rows: dict[str, tuple[float, ...]] = SOLVERS, seeds: int = 2) -> Grid:
    return Grid(
        "optimizer",
        "learning_rate",
        tuple(GridRow(level, values) for level, values in rows.items()),
        selection_seeds=seeds,
    )


def surface_runs(grid: Grid, score, seeds=SEEDS, dataset: str = "mnist") -> list[CellRun]:
    """One learned run per cell and seed, scoring ``score(row index, column, seed index)``."""
    return [
        CellRun(dataset, row.label, column, row.tuned[column], seed, score(r, column, s), LEARNED)
        for r, row in enumerate(grid.rows)
        for column in range(len(row.tuned))
        for s, seed in enumerate(seeds)
    ]


def accuracy_from_logit(y: float) -> float:
    """The accuracy whose error has logit ``y``."""
    return 1.0 - 1.0 / (1.0 + math.exp(-y))


# choose: only the validation scores decide


def test_choose_picks_the_highest_mean_and_the_lower_column_on_a_tie():
    grid = solver_grid({"sgd": (0.01, 0.1, 1.0), "adam": (0.001, 0.01, 0.1)})
    means = {0: [0.90, 0.95, 0.93], 1: [0.96, 0.96, 0.90]}
    runs = surface_runs(grid, lambda r, c, s: means[r][c])
    assert choose(grid, cell_scores(runs, CHANCE)) == (1, 0)


def unfinished_last(runs: list[CellRun]) -> list[CellRun]:
    """``runs`` with the last one planned but not finished (failed, or still to run)."""
    last = runs[-1]
    return [
        *runs[:-1],
        CellRun(last.dataset, last.level, last.column, last.tuned, last.seed, None, None),
    ]


def test_choose_returns_none_for_an_incomplete_row():
    grid = solver_grid()
    runs = unfinished_last(surface_runs(grid, lambda r, c, s: 0.9))
    assert choose(grid, cell_scores(runs, CHANCE)) is None


def test_choose_returns_none_for_a_missing_cell():
    grid = solver_grid()
    runs = [run for run in surface_runs(grid, lambda r, c, s: 0.9) if run.column != 2]
    assert choose(grid, cell_scores(runs, CHANCE)) is None


scores_strategy = st.lists(
    st.floats(0.0, 1.0, allow_nan=False), min_size=3 * 5 * 2, max_size=3 * 5 * 2
)


@settings(max_examples=60, deadline=None)
@given(scores_strategy, st.randoms(use_true_random=False))
def test_choose_does_not_depend_on_which_seed_holds_which_score_nor_on_run_order(scores, random):
    grid = solver_grid()
    runs = surface_runs(grid, lambda r, c, s: scores[(r * 5 + c) * 2 + s])
    shuffled = []
    for start in range(0, len(runs), 2):  # the two seeds of one cell swap their scores at random
        a, b = runs[start], runs[start + 1]
        if random.random() < 0.5:
            a, b = (
                CellRun(a.dataset, a.level, a.column, a.tuned, a.seed, b.accuracy, b.outcome),
                CellRun(b.dataset, b.level, b.column, b.tuned, b.seed, a.accuracy, a.outcome),
            )
        shuffled += [a, b]
    random.shuffle(shuffled)
    assert choose(grid, cell_scores(shuffled, CHANCE)) == choose(grid, cell_scores(runs, CHANCE))


def test_a_diverged_seed_scores_chance_whatever_accuracy_it_reports():
    runs = [
        CellRun("mnist", "sgd", 0, 0.5, 1001, 0.98, DIVERGED),
        CellRun("mnist", "sgd", 0, 0.5, 1002, 0.96, LEARNED),
    ]
    cell = cell_scores(runs, CHANCE)[("sgd", 0)]
    assert cell.scores == {1001: CHANCE, 1002: 0.96}
    assert cell.mean == pytest.approx((CHANCE + 0.96) / 2)


# Choice: edges, the good region, unlearned cells


def choice_of(rows: dict[str, tuple[float, ...]], means: dict[int, list[float]], margin=0.005):
    grid = solver_grid(rows)
    return choices(
        grid, cell_scores(surface_runs(grid, lambda r, c, s: means[r][c]), CHANCE), margin
    )


def test_edge_is_low_at_a_rows_first_column_high_at_its_last_and_empty_inside():
    rows = {"sgd": (0.01, 0.1, 1.0), "adam": (0.001, 0.01, 0.1), "rmsprop": (0.001, 0.01, 0.1)}
    picked = choice_of(rows, {0: [0.97, 0.95, 0.9], 1: [0.9, 0.95, 0.97], 2: [0.9, 0.97, 0.95]})
    assert [c.edge for c in picked] == [LOW, HIGH, ""]
    assert [c.column for c in picked] == [0, 2, 1]
    assert [c.tuned for c in picked] == [0.01, 0.1, 0.01]


def test_a_row_of_one_column_is_not_an_edge():
    picked = choice_of({"sgd": (0.1,), "adam": (0.001, 0.01)}, {0: [0.9], 1: [0.95, 0.9]})
    assert [c.edge for c in picked] == ["", LOW]


def test_within_margin_counts_the_cells_close_to_the_best_the_best_and_the_boundary_included():
    rows = {"sgd": (0.005, 0.015, 0.05, 0.15, 0.5), "adam": (0.0001, 0.0003, 0.001, 0.003, 0.01)}
    means = {0: [0.90, 0.965, 0.97, 0.968, 0.80], 1: [0.5, 0.6, 0.7, 0.8, 0.95]}
    picked = choice_of(rows, means, margin=0.005)
    assert [c.within_margin for c in picked] == [3, 1]
    assert [c.cells for c in picked] == [5, 5]
    assert picked[0].mean == pytest.approx(0.97)


def test_a_zero_margin_counts_only_the_best_and_its_ties():
    picked = choice_of(
        {"sgd": (0.1, 1.0), "adam": (0.001, 0.01)}, {0: [0.9, 0.9], 1: [0.9, 0.8]}, 0
    )
    assert [c.within_margin for c in picked] == [2, 1]


def test_choice_counts_the_cells_of_its_row_with_a_diverged_or_collapsed_seed():
    grid = solver_grid()
    runs = surface_runs(grid, lambda r, c, s: 0.9 + 0.01 * c)
    outcomes = {
        ("sgd", 4, 1001): DIVERGED,
        ("sgd", 4, 1002): DIVERGED,
        ("sgd", 3, 1001): COLLAPSED,
    }
    runs = [
        CellRun(
            r.dataset,
            r.level,
            r.column,
            r.tuned,
            r.seed,
            r.accuracy,
            outcomes.get((r.level, r.column, r.seed), LEARNED),
        )
        for r in runs
    ]
    picked = choices(grid, cell_scores(runs, CHANCE), margin=0.005)
    assert [c.unlearned for c in picked] == [2, 0, 0]
    assert (
        picked[0].column == 3
    )  # both diverged seeds at chance sink column 4; a collapse keeps its score


def test_choices_are_empty_until_every_cell_has_all_its_seeds():
    grid = solver_grid()
    runs = unfinished_last(surface_runs(grid, lambda r, c, s: 0.9))
    assert choices(grid, cell_scores(runs, CHANCE), margin=0.005) == ()


def test_a_negative_margin_raises():
    with pytest.raises(ValueError, match="margin"):
        choice_of({"sgd": (0.1,), "adam": (0.01,)}, {0: [0.9], 1: [0.9]}, margin=-0.01)


# Interaction: level x column on the logit of the error, the seed as a block


def test_logit_error_is_clipped_half_an_image_from_either_end():
    assert logit_error(1.0, 1000) == pytest.approx(math.log(0.0005 / 0.9995))
    assert logit_error(0.0, 1000) == pytest.approx(math.log(0.9995 / 0.0005))
    assert logit_error(0.9, 1000) == pytest.approx(math.log(0.1 / 0.9))


def test_logit_error_needs_a_positive_image_count():
    with pytest.raises(ValueError, match="validation_images"):
        logit_error(0.9, 0)


def noisy(seed: int, sd: float):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, sd, size=(3, 5, 2))
    return lambda r, c, s: float(noise[r, c, s])


def test_interaction_matches_a_hand_built_statsmodels_model():
    grid = solver_grid()
    wobble = noisy(3, 0.3)
    runs = surface_runs(
        grid, lambda r, c, s: accuracy_from_logit(-3 + 0.2 * r * c + wobble(r, c, s))
    )
    ours = interaction(grid, cell_scores(runs, CHANCE), IMAGES)

    frame = pd.DataFrame(
        {
            "y": [math.log((1 - run.accuracy) / run.accuracy) for run in runs],
            "level": [run.level for run in runs],
            "column": [run.column for run in runs],
            "seed": [run.seed for run in runs],
        }
    )
    formula = "y ~ C(level) + C(column) + C(level):C(column) + C(seed)"
    model = smf.ols(formula, data=frame).fit()
    row = anova_lm(model, typ=2).loc["C(level):C(column)"]
    assert ours is not None
    assert ours.f == pytest.approx(row["F"], rel=1e-9)
    assert ours.p == pytest.approx(row["PR(>F)"], rel=1e-9)
    assert (ours.df_num, ours.df_den) == (8, 3 * 5 * 2 - 15 - 1)
    assert (ours.scale, ours.observations) == (LOGIT_ERROR, 30)
    # balanced: sequential (type I) sums of squares give the interaction the same test
    assert anova_lm(model, typ=1).loc["C(level):C(column)", "F"] == pytest.approx(row["F"])


def additive(r: int, c: int) -> float:
    """An additive logit surface: levels far apart in error, the best column in the middle."""
    return [-4.0, -3.0, -1.5][r] + [1.0, 0.3, 0.0, 0.3, 1.0][c]


def test_an_additive_surface_on_the_logit_scale_shows_no_interaction():
    """Cell means exactly additive on the logit, seeds spread around them: the interaction explains
    nothing."""
    grid = solver_grid()
    spread = noisy(7, 0.1)
    runs = surface_runs(
        grid,
        lambda r, c, s: accuracy_from_logit(
            additive(r, c) + 0.05 * s + (-1) ** s * spread(r, c, 0)
        ),
    )
    result = interaction(grid, cell_scores(runs, CHANCE), IMAGES)
    assert result is not None
    assert result.p > 0.99


def test_additive_surfaces_with_noise_reject_at_about_the_nominal_rate():
    grid = solver_grid()
    rejected = 0
    for seed in range(40):
        wobble = noisy(100 + seed, 0.1)
        runs = surface_runs(
            grid,
            lambda r, c, s, wobble=wobble: accuracy_from_logit(additive(r, c) + wobble(r, c, s)),
        )
        result = interaction(grid, cell_scores(runs, CHANCE), IMAGES)
        assert result is not None
        rejected += result.p < 0.05
    assert rejected <= 6  # 2 expected; 7 or more has probability 0.3% under the null


def test_the_same_additive_surface_fakes_an_interaction_on_the_accuracy_scale():
    """Why the logit: near the ceiling, the raw accuracies of the same surface interact strongly."""
    grid = solver_grid()
    wobble = noisy(7, 0.1)
    runs = surface_runs(
        grid, lambda r, c, s: accuracy_from_logit(additive(r, c) + wobble(r, c, s))
    )
    frame = pd.DataFrame(
        {
            "y": [run.accuracy for run in runs],
            "level": [run.level for run in runs],
            "column": [run.column for run in runs],
            "seed": [run.seed for run in runs],
        }
    )
    model = smf.ols("y ~ C(level) * C(column) + C(seed)", data=frame).fit()
    assert anova_lm(model, typ=2).loc["C(level):C(column)", "PR(>F)"] < 1e-4


def test_a_crossing_surface_shows_a_strong_interaction():
    grid = solver_grid()
    wobble = noisy(11, 0.1)
    slopes = [0.5, -0.5, 0.0]  # sgd best at the first column, adam at the last, rmsprop flat
    runs = surface_runs(
        grid, lambda r, c, s: accuracy_from_logit(-3 + slopes[r] * (c - 2) + wobble(r, c, s))
    )
    result = interaction(grid, cell_scores(runs, CHANCE), IMAGES)
    assert result is not None
    assert result.p < 1e-6


def test_interaction_counts_a_diverged_seed_at_chance():
    grid = solver_grid()
    wobble = noisy(3, 0.3)
    runs = surface_runs(grid, lambda r, c, s: accuracy_from_logit(-3 + wobble(r, c, s)))
    runs[0] = CellRun(*list(vars(runs[0]).values())[:5], 0.99, DIVERGED)
    ours = interaction(grid, cell_scores(runs, CHANCE), IMAGES)
    frame = pd.DataFrame(
        {
            "y": [
                logit_error(CHANCE if i == 0 else run.accuracy, IMAGES)
                for i, run in enumerate(runs)
            ],
            "level": [run.level for run in runs],
            "column": [run.column for run in runs],
            "seed": [run.seed for run in runs],
        }
    )
    model = smf.ols("y ~ C(level) * C(column) + C(seed)", data=frame).fit()
    assert ours is not None
    assert ours.f == pytest.approx(anova_lm(model, typ=2).loc["C(level):C(column)", "F"])


def test_interaction_is_none_with_one_seed_per_cell():
    grid = solver_grid(seeds=1)
    runs = surface_runs(grid, lambda r, c, s: 0.9 + 0.01 * r * c, seeds=(1001,))
    assert interaction(grid, cell_scores(runs, CHANCE), IMAGES) is None


def test_interaction_is_none_with_a_missing_cell():
    grid = solver_grid()
    wobble = noisy(3, 0.3)
    runs = surface_runs(grid, lambda r, c, s: accuracy_from_logit(-3 + wobble(r, c, s)))
    runs = [run for run in runs if (run.level, run.column) != ("adam", 3)]
    assert interaction(grid, cell_scores(runs, CHANCE), IMAGES) is None


def test_interaction_is_none_when_rows_differ_in_length():
    grid = solver_grid({"sgd": (0.01, 0.1, 1.0), "adam": (0.001, 0.01)})
    wobble = noisy(3, 0.3)
    runs = surface_runs(grid, lambda r, c, s: accuracy_from_logit(-3 + wobble(r, c, s)))
    assert interaction(grid, cell_scores(runs, CHANCE), IMAGES) is None


def test_interaction_is_none_for_tied_runs():
    grid = solver_grid()
    runs = surface_runs(grid, lambda r, c, s: CHANCE)
    assert interaction(grid, cell_scores(runs, CHANCE), IMAGES) is None


def test_interaction_is_none_when_the_cells_do_not_share_their_seeds():
    grid = solver_grid()
    wobble = noisy(3, 0.3)
    runs = [
        CellRun(run.dataset, run.level, run.column, run.tuned, index, run.accuracy, run.outcome)
        for index, run in enumerate(
            surface_runs(grid, lambda r, c, s: accuracy_from_logit(-3 + wobble(r, c, s)))
        )
    ]
    assert interaction(grid, cell_scores(runs, CHANCE), IMAGES) is None


# expected_best: Dodge et al. 2019


def test_expected_best_of_one_trial_is_the_mean():
    scores = [0.2, 0.9, 0.5, 0.7]
    assert expected_best(scores, 1) == [pytest.approx(np.mean(scores))]


def test_expected_best_of_many_trials_reaches_the_maximum():
    scores = [0.2, 0.9, 0.5, 0.7]
    assert expected_best(scores, 500)[-1] == pytest.approx(0.9, abs=1e-12)


def test_expected_best_of_two_trials_matches_its_closed_form():
    # max of two draws from {a < b}: a only when both draw a (1/4), else b
    assert expected_best([0.3, 0.8], 2)[1] == pytest.approx(0.25 * 0.3 + 0.75 * 0.8)


def test_expected_best_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    scores = list(rng.uniform(0.5, 1.0, size=10))
    ours = expected_best(scores, 6)
    draws = rng.choice(scores, size=(40_000, 6), replace=True)
    for k in range(1, 7):
        best = draws[:, :k].max(axis=1)
        assert ours[k - 1] == pytest.approx(best.mean(), abs=4 * best.std() / math.sqrt(len(best)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=20))
def test_expected_best_never_falls_as_trials_grow_and_stays_between_mean_and_max(scores):
    curve = expected_best(scores, 8)
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(curve))
    assert min(scores) - 1e-12 <= curve[0] and curve[-1] <= max(scores) + 1e-12


def test_expected_best_needs_scores_and_a_trial():
    with pytest.raises(ValueError):
        expected_best([], 3)
    with pytest.raises(ValueError):
        expected_best([0.5], 0)


# scaling_slope: log(best tuned value) on log(level)


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_scaling_slope_recovers_an_exact_power_law(power):
    batches = [32, 64, 128, 256, 512]
    rates = [0.1 * (b / 32) ** power for b in batches]
    slope = scaling_slope(batches, rates)
    assert slope is not None
    assert slope.slope == pytest.approx(power, rel=1e-9)
    assert slope.stderr == pytest.approx(0, abs=1e-9)
    assert slope.levels == 5
    assert slope.low == pytest.approx(power, abs=1e-6) and slope.high == pytest.approx(
        power, abs=1e-6
    )


def test_scaling_slope_matches_a_least_squares_fit_with_its_standard_error():
    levels, chosen = [16, 32, 64, 128], [0.01, 0.03, 0.03, 0.1]
    slope = scaling_slope(levels, chosen)
    x, y = np.log(levels), np.log(chosen)
    (b, _), cov = np.polyfit(x, y, 1, cov="unscaled")
    residual = y - np.polyval(np.polyfit(x, y, 1), x)
    assert slope is not None
    assert slope.slope == pytest.approx(b)
    assert slope.stderr == pytest.approx(math.sqrt(cov[0, 0] * residual @ residual / (4 - 2)))


@pytest.mark.parametrize(
    "levels, chosen",
    [
        ([32, 64], [0.1, 0.2]),  # fewer than 3 levels
        (["sgd", "adam", "rmsprop"], [0.1, 0.001, 0.001]),  # the levels are not numbers
        ([32, 64, 128], [0.1, 0.0, 0.4]),  # a chosen value that is not positive
        ([32, 64, True], [0.1, 0.2, 0.4]),  # a flag is not a number
    ],
)
def test_scaling_slope_is_none_without_three_positive_numbers(levels, chosen):
    assert scaling_slope(levels, chosen) is None


# ranking: the usual columns against the tuned ones


def test_ranking_orders_levels_best_first_and_flags_a_change():
    order = ranking(["sgd", "adam", "rmsprop"], [0.95, 0.97, 0.96], [0.98, 0.975, 0.97])
    assert order.usual == ("adam", "rmsprop", "sgd")
    assert order.tuned == ("sgd", "adam", "rmsprop")
    assert order.changed


def test_ranking_is_unchanged_when_tuning_keeps_the_order():
    order = ranking(["sgd", "adam"], [0.95, 0.97], [0.96, 0.98])
    assert order.usual == order.tuned == ("adam", "sgd")
    assert not order.changed


def test_ranking_keeps_the_declared_order_for_ties():
    assert ranking(["sgd", "adam"], [0.9, 0.9], [0.9, 0.9]).usual == ("sgd", "adam")


def test_ranking_needs_a_finite_mean_per_level():
    with pytest.raises(ValueError):
        ranking(["sgd", "adam"], [0.9, math.nan], [0.9, 0.9])
    with pytest.raises(ValueError):
        ranking(["sgd", "adam"], [0.9], [0.9, 0.9])


# analyse_grid and choices.csv


BASELINE = {"optimizer": "sgd", "learning_rate": 0.05}


def test_analyse_grid_reads_only_its_own_dataset():
    grid = solver_grid()
    mine = surface_runs(grid, lambda r, c, s: 0.9 + 0.01 * c)
    other = surface_runs(grid, lambda r, c, s: 0.9 - 0.01 * c, dataset="cifar10")
    analysis = analyse_grid(grid, "mnist", other + mine, CHANCE, 0.005, IMAGES, BASELINE, "solver")
    assert [c.column for c in analysis.choices] == [4, 4, 4]
    assert set(analysis.cells) == {(row.label, c) for row, c in grid.cells()}


def test_analyse_grid_bundles_the_usual_columns_reference_and_ranking():
    grid = solver_grid()
    means = {0: [0.90, 0.93, 0.95, 0.94, 0.5], 1: [0.9, 0.96, 0.97, 0.9, 0.8], 2: [0.99] * 5}
    runs = surface_runs(grid, lambda r, c, s: means[r][c] + (0.002 if s else -0.002))
    analysis = analyse_grid(grid, "mnist", runs, CHANCE, 0.005, IMAGES, BASELINE, "solver")
    assert analysis.usual == (2, 2, 2)  # a per-row grid: the middle of each row
    assert analysis.reference == 0
    assert analysis.seeds == SEEDS
    assert analysis.validation == grid.validation
    assert analysis.ranking is not None
    assert analysis.ranking.usual == analysis.ranking.tuned == ("rmsprop", "adam", "sgd")
    assert analysis.slope is None  # solvers are not numbers
    assert analysis.interaction is not None


def test_analyse_grid_gives_each_level_its_expected_best_up_to_its_runs():
    grid = solver_grid()
    runs = surface_runs(grid, lambda r, c, s: 0.9 + 0.01 * c + 0.001 * s)
    analysis = analyse_grid(grid, "mnist", runs, CHANCE, 0.005, IMAGES, BASELINE)
    curve = analysis.expected_best["adam"]
    assert len(curve) == 10
    assert curve[0] == pytest.approx(
        np.mean([run.accuracy for run in runs if run.level == "adam"])
    )


def test_analyse_grid_leaves_choices_slope_and_ranking_out_while_a_cell_is_incomplete():
    grid = solver_grid()
    runs = unfinished_last(surface_runs(grid, lambda r, c, s: 0.9))
    analysis = analyse_grid(grid, "mnist", runs, CHANCE, 0.005, IMAGES, BASELINE)
    assert analysis.choices == ()
    assert analysis.ranking is None and analysis.slope is None
    assert len(analysis.expected_best["rmsprop"]) == 9


def test_analyse_grid_fits_the_scaling_slope_of_a_batch_size_grid():
    batches = (32, 64, 128, 256)
    grid = Grid(
        "batch_size",
        "learning_rate",
        tuple(
            GridRow(b, tuple(0.01 * (b / 32) * f for f in (0.25, 0.5, 1, 2, 4))) for b in batches
        ),
    )
    runs = surface_runs(grid, lambda r, c, s: 0.97 - 0.01 * abs(c - 2), seeds=SEEDS)
    analysis = analyse_grid(grid, "mnist", runs, CHANCE, 0.005, IMAGES, {"batch_size": 64})
    assert analysis.slope is not None
    assert analysis.slope.slope == pytest.approx(1.0)
    assert analysis.reference == 1


def test_choice_rows_has_one_row_per_level_with_the_csv_columns():
    grid = solver_grid()
    runs = surface_runs(grid, lambda r, c, s: 0.9 + 0.01 * c)
    analysis = analyse_grid(grid, "mnist", runs, CHANCE, 0.005, IMAGES, BASELINE, "solver")
    rows = choice_rows([analysis])
    assert len(rows) == 3
    assert rows[0] == {
        "experiment": "solver",
        "dataset": "mnist",
        "compared": "optimizer",
        "level": "sgd",
        "tuned": "learning_rate",
        "chosen": 0.5,
        "position": 5,
        "positions": 5,
        "edge": HIGH,
        "mean_validation_pct": pytest.approx(94.0),
        "within_margin": 1,
        "unlearned_cells": 0,
        "selection_seeds": 2,
        "validation_share": 0.2,
    }


def test_choice_rows_is_empty_for_a_grid_without_choices():
    grid = solver_grid()
    analysis = analyse_grid(grid, "mnist", [], CHANCE, 0.005, IMAGES, BASELINE)
    assert choice_rows([analysis]) == []


def test_a_run_at_chance_can_hide_an_interaction_that_the_learned_runs_show():
    grid = solver_grid({"sgd": (0.01, 0.1, 1.0), "adam": (0.001, 0.01, 0.1)})
    peaks = {0: [0.90, 0.97, 0.93], 1: [0.97, 0.93, 0.90]}  # the levels' best rates cross
    runs = surface_runs(grid, lambda r, c, s: peaks[r][c] + (0.002 if s else -0.002))
    # one seed of one cell collapsed to chance: on the logit scale it swamps the residual
    runs[0] = dataclasses.replace(runs[0], accuracy=CHANCE, outcome=COLLAPSED)
    every = analyse_grid(grid, "mnist", runs, CHANCE, 0.01, IMAGES, BASELINE)
    assert every.unlearned_runs == 1
    assert every.interaction is not None and every.interaction.p > 0.05
    learned = every.interaction_learned
    assert learned is not None and learned.p < 1e-3 and learned.observations == 11
    learned_runs = surface_runs(grid, lambda r, c, s: peaks[r][c] + (0.002 if s else -0.002))
    clean = analyse_grid(grid, "mnist", learned_runs, CHANCE, 0.01, IMAGES, BASELINE)
    assert clean.interaction_learned is None  # every run learned: one test
