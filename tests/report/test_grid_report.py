"""A grid's selection phase in the report: the heatmap's and the curves' info objects, the choices table and
CSV, the interaction, ranking and protocol sentences, the simulated rates, and a rendered report of a grid
store (no training)."""

import csv
import dataclasses
import json
import math
import re

import numpy as np
import pytest
import synthetic
from pdf_pages import layout_problems

from study.analyse.grid import (
    CHOICE_COLUMNS,
    DIVERGED,
    LEARNED,
    CellRun,
    Ranking,
    analyse_grid,
    choice_rows,
)
from study.declare.config import Settings
from study.declare.grid import Grid, GridRow
from study.declare.spec import Study, grid_experiment
from study.report import grid_figures, grid_words, render, wording
from study.report.selection_rates import SAME, SEPARATE, load_selection_rates

CHANCE = 0.1
SEEDS = (1003, 1004)
RATES = {"sgd": (0.01, 0.05, 0.2), "adam": (0.0003, 0.001, 0.003)}
BASELINE = {"optimizer": "sgd", "learning_rate": 0.05}
# true validation accuracy per cell: sgd best at 0.05, adam at 0.001; sgd at 0.2 diverges in its first seed
SURFACE = {"sgd": (0.90, 0.95, 0.93), "adam": (0.93, 0.96, 0.94)}


def grid(rows=RATES) -> Grid:
    return Grid(
        "optimizer",
        "learning_rate",
        tuple(GridRow(level, values) for level, values in rows.items()),
    )


def runs(surface=SURFACE, rows=RATES, seeds=SEEDS) -> list[CellRun]:
    out = []
    for r, (level, values) in enumerate(rows.items()):
        for column, value in enumerate(values):
            for s, seed in enumerate(seeds):
                if level == "sgd" and column == 2 and s == 0:
                    out.append(CellRun("mnist", level, column, value, seed, None, DIVERGED))
                    continue
                wobble = 0.004 * (s - 0.5) * (1 + r + column)  # seeds differ, by cell
                out.append(
                    CellRun(
                        "mnist",
                        level,
                        column,
                        value,
                        seed,
                        surface[level][column] + wobble,
                        LEARNED,
                    )
                )
    return out


@pytest.fixture(scope="module")
def analysis():
    return analyse_grid(grid(), "mnist", runs(), CHANCE, 0.01, 2000, BASELINE, "solver")


def test_the_heatmap_info_has_every_cell_with_its_mean_seeds_and_marks(analysis):
    info = grid_figures.heatmap_info(analysis)
    assert len(info.cells) == 6 and info.levels == ("sgd", "adam") and info.columns == 3
    assert {(c.level, c.column) for c in info.cells} == {
        (level, column) for level in RATES for column in range(3)
    }
    best = info.cell("adam", 1)
    assert best.mean == pytest.approx(0.96) and best.seeds == 2 and best.tuned == "0.001"
    assert best.chosen and not best.failed
    diverged = info.cell("sgd", 2)
    assert diverged.failed and diverged.diverged == 1 and diverged.seeds == 2
    assert diverged.mean == pytest.approx((CHANCE + 0.93 + 0.004 * 0.5 * 3) / 2)  # at chance
    assert [c.column for c in info.cells if c.chosen] == [1, 1]
    assert [c.column for c in info.cells if c.usual] == [1, 1]  # sgd holds 0.05; adam: the middle
    assert info.failed == 1
    # the colours span the cells whose seeds all learned; the diverged cell takes the darkest
    assert info.low == pytest.approx(min(c.mean for c in info.cells if not c.failed) * 100)
    assert info.below == 1


def test_a_cell_not_run_yet_is_in_the_heatmap_without_seeds():
    partial = [r for r in runs() if not (r.level == "adam" and r.column == 2)]
    info = grid_figures.heatmap_info(
        analyse_grid(grid(), "mnist", partial, CHANCE, 0.01, 2000, BASELINE, "solver")
    )
    missing = info.cell("adam", 2)
    assert missing.seeds == 0 and math.isnan(missing.mean) and len(info.cells) == 6
    assert not any(c.chosen for c in info.cells)  # no choice until every cell has its seeds


def test_the_sensitivity_info_draws_each_seed_on_a_log_axis(analysis):
    info = grid_figures.sensitivity_info(analysis)
    assert info.scale == "log" and [line.level for line in info.lines] == ["sgd", "adam"]
    adam = info.line("adam")
    assert [p.x for p in adam.points] == [0.0003, 0.001, 0.003]
    assert [p.chosen for p in adam.points] == [False, True, False]
    best = adam.points[1]
    assert [s.seed for s in best.seeds] == list(SEEDS) and best.low < best.mean < best.high
    edge = info.line("sgd").points[2]
    assert [s.outcome for s in edge.seeds] == [DIVERGED, LEARNED]
    assert edge.seeds[0].score == CHANCE
    # the axis spans the learned seeds; the diverged one, at chance, sits on its bottom edge
    assert info.low > CHANCE * 100 and not info.chance_shown
    assert info.below == (edge.seeds[0],)
    assert grid_figures.sensitivity_axis_label(info) == "learning rate (log scale)"
    words = grid_figures.sensitivity_info(
        analyse_grid(
            Grid(
                "activation",
                "initializer",
                (GridRow("relu", ("a", "b")), GridRow("tanh", ("a", "b"))),
            ),
            "mnist",
            [
                CellRun("mnist", level, c, v, seed, 0.9, LEARNED)
                for level in ("relu", "tanh")
                for c, v in enumerate(("a", "b"))
                for seed in SEEDS
            ],
            CHANCE,
            0.01,
            2000,
            {},
        )
    )
    assert words.scale == "position" and words.tick_labels == ("a", "b")
    assert all(math.isnan(p.low) for line in words.lines for p in line.points)  # tied seeds


def test_the_figures_are_drawn(analysis, tmp_path):
    heatmap = grid_figures.heatmap_figure(
        grid_figures.heatmap_info(analysis), tmp_path / "heatmap.png"
    )
    curves = grid_figures.sensitivity_figure(
        grid_figures.sensitivity_info(analysis), tmp_path / "curves.png"
    )
    assert heatmap.read_bytes()[:4] == b"\x89PNG" and curves.read_bytes()[:4] == b"\x89PNG"


def test_the_choices_table_says_where_each_pick_sits(analysis):
    rows = render.choice_table(analysis)
    assert [r["level"] for r in rows] == ["sgd", "adam"] and rows[0]["reference"]
    assert rows[1]["chosen"] == "0.001" and rows[1]["position"] == "2 of 3"
    assert rows[1]["edge"] == "inside its grid" and rows[1]["mean"] == "96.0"
    assert rows[0]["unlearned"] == "1 of 3"  # sgd at 0.2 diverged in a seed
    edged = analyse_grid(
        grid(),
        "mnist",
        runs({"sgd": (0.95, 0.93, 0.90), "adam": (0.90, 0.93, 0.96)}),
        CHANCE,
        0.01,
        2000,
        BASELINE,
    )
    low, high = (c for c in edged.choices)
    assert grid_words.edge_text(low) == "at the low edge of its grid: a better value may lie below"
    assert (
        grid_words.edge_text(high) == "at the high edge of its grid: a better value may lie above"
    )


def test_choices_csv_columns_are_the_choice_rows(analysis):
    (row, _) = choice_rows([analysis])
    assert tuple(row) == CHOICE_COLUMNS


def test_the_interaction_sentence_states_the_test_and_what_it_means(analysis):
    text = grid_words.interaction_text(analysis)
    test = analysis.interaction
    assert test is not None
    assert text.startswith(
        "Two-way ANOVA of the logit of the validation error (optimizer x the learning rate's position "
        "in its row), seed as a block, a description of the grid at α = 0.05 and not one of the report's "
        f"verdicts: F({test.df_num:g}, {test.df_den:g}) = {test.f:.2f}"
    )
    significant = dataclasses.replace(
        analysis,
        interaction=dataclasses.replace(test, p=0.0004),
        interaction_learned=dataclasses.replace(test, p=0.002),
    )
    assert "p < 0.001" in grid_words.interaction_text(significant)
    assert (
        "a comparison of the levels at any one learning rate depends on which learning rate it is."
        in grid_words.interaction_text(significant)
    )
    null = dataclasses.replace(
        analysis, interaction=dataclasses.replace(test, p=0.4), interaction_learned=None
    )
    assert "p = 0.400" in grid_words.interaction_text(null)
    assert (
        "No evidence at these seeds that the learning rate's effect depends on the optimizer"
        in (grid_words.interaction_text(null))
    )


def test_runs_at_chance_that_hide_an_interaction_are_named(analysis):
    test = analysis.interaction
    hidden = dataclasses.replace(
        analysis,
        interaction=dataclasses.replace(test, p=0.2),
        interaction_learned=dataclasses.replace(test, p=1e-9, observations=test.observations - 1),
    )
    text = grid_words.interaction_text(hidden)
    assert "Over the runs that learned (" in text and "at chance left out)" in text
    assert (
        "the runs at chance inflate the residual and hide an interaction the runs that learned"
        in text
    )


def test_the_interaction_sentence_says_why_it_was_not_tested():
    uneven = {"sgd": (0.01, 0.05, 0.2), "adam": (0.001, 0.01)}
    surface = {"sgd": (0.90, 0.95, 0.93), "adam": (0.93, 0.96)}
    ragged = analyse_grid(
        grid(uneven), "mnist", runs(surface, uneven), CHANCE, 0.01, 2000, BASELINE
    )
    assert ragged.interaction is None
    assert grid_words.interaction_text(ragged) == (
        "Whether the learning rate's effect depends on the optimizer could not be tested: its rows hold "
        "different numbers of learning rate values (2, 3), so no position is common to every row."
    )
    one_seed = analyse_grid(grid(), "mnist", runs(seeds=SEEDS[:1]), CHANCE, 0.01, 2000, BASELINE)
    assert "6 of its 6 cells have fewer than 2 finished seeds" in grid_words.interaction_text(
        one_seed
    )


def test_the_ranking_sentence_says_whether_tuning_changed_the_order(analysis):
    same = grid_words.ranking_text(analysis)
    assert (
        "is adam (96.0%), sgd (95.0%); at the chosen cells it is adam (96.0%), sgd (95.0%)" in same
    )
    assert (
        "The order of the means did not change with tuning (means over 2 selection seeds per cell; no "
        "test of the order:" in same
    )
    assert "sgd 0.05, adam 0.001" in same  # the single-setting column
    changed = dataclasses.replace(
        analysis,
        ranking=Ranking(
            ("sgd", "adam"), (0.95, 0.90), (0.95, 0.97), ("sgd", "adam"), ("adam", "sgd")
        ),
    )
    text = grid_words.ranking_text(changed)
    assert (
        "best first, is sgd (95.0%), adam (90.0%); at the chosen cells it is adam (97.0%), sgd"
        in text
    )
    assert "The order of the means changed with tuning (means over 2" in text


def test_the_slope_sentence_names_the_rules_its_interval_holds():
    from study.analyse.grid import Slope

    assert grid_words.slope_text(None, "batch_size", "learning_rate") == ""
    text = grid_words.slope_text(Slope(0.9, 0.05, 4, 0.7, 1.1), "batch_size", "learning_rate")
    assert text.startswith(
        "Slope of log(chosen learning rate) on log(batch size) over 4 levels: 0.90"
    )
    assert (
        "95% CI 0.70 to 1.10): its interval includes the linear scaling rule (1); it excludes "
        in text
    )
    assert text.endswith("the square-root rule (0.5) and no coupling (0).")
    wide = grid_words.slope_text(Slope(0.9, 0.4, 5, -0.05, 1.85), "batch_size", "learning_rate", 2)
    assert (
        "includes the linear scaling rule (1), the square-root rule (0.5) and no coupling (0)."
        in wide
    )
    assert wide.endswith(
        "2 of the 5 chosen values lie at an edge of their row: the best value there "
        "may lie outside the grid, which no interval here accounts for."
    )
    far = grid_words.slope_text(Slope(2.0, 0.05, 4, 1.8, 2.2), "batch_size", "learning_rate")
    assert (
        "it excludes the linear scaling rule (1), the square-root rule (0.5) and no coupling"
        in far
    )


def test_the_protocol_sentence_carries_the_split_the_seeds_and_the_confirmation(analysis):
    text = grid_words.protocol_text(
        analysis, 10_000, (1, 2, 3), (1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 1)
    )
    assert "stratified 20% validation split (2,000 of the 10,000 training images used)" in text
    assert (
        "with seeds 1003–1004" in text and "The test images are never read for the choice." in text
    )
    assert (
        "fresh seeds, none of them a selection seed (seeds 1–3 among the other levels and seeds 1–9 for the "
        in text
    )
    assert "reference level sgd)" in text
    before = grid_words.protocol_text(analysis, 10_000, (1,), (1, 2), None)
    assert (
        "planned before the choice: each optimizer at its single-setting learning rate" in before
    )
    none = grid_words.protocol_text(analysis, None, (), (), (1, 1))
    assert "No confirmation run has finished yet" in none and "(2,000 images)" in none


def test_the_setup_line_lists_every_tuned_value_per_level():
    line = grid_words.tuned_values_text("solver", grid())
    assert line.startswith(
        "solver: each optimizer at its own learning rate values: sgd 0.01, 0.05, 0.2; adam 0.0003, 0.001, 0.003."
    )
    shared = grid_words.tuned_values_text(
        "solver", grid({"sgd": (0.01, 0.1), "adam": (0.01, 0.1)})
    )
    assert "every optimizer (sgd, adam) at learning rate 0.01, 0.1." in shared
    experiment = grid_experiment("solver", grid())
    assert (
        wording.value_settings(experiment) == []
    )  # the cells are the grid line's, not a note each


def test_expected_best_table_stops_at_the_runs_a_level_has(analysis):
    table = render.expected_table(analysis)
    assert table["ks"] == ["1", "2", "5"]  # six runs per level
    adam = next(r for r in table["rows"] if r["level"] == "adam")
    curve = analysis.expected_best["adam"]
    assert adam["values"][0] == f"{curve[0] * 100:.1f}" and adam["all"] == f"{curve[-1] * 100:.1f}"
    assert adam["runs"] == 6
    assert "After one trial adam" in grid_words.expected_best_text(analysis)


def test_the_simulated_rates_are_read_from_the_file_and_missing_is_tolerated(tmp_path):
    assert load_selection_rates(tmp_path / "absent.json") is None
    (tmp_path / "broken.json").write_text("{}")
    assert load_selection_rates(tmp_path / "broken.json") is None
    assert grid_words.selection_rates_text(None) == ""
    estimate = {"rate": 0.05, "se": 0.002}
    raw = {
        "reps": 1000,
        "design": {"alpha": 0.05},
        "scenarios": [
            {
                "key": "null",
                "title": "no true difference",
                "reps": 1000,
                "protocols": {
                    SEPARATE: {"familywise_false_better_or_worse": estimate},
                    SAME: {"familywise_false_better_or_worse": {"rate": 0.12, "se": 0.003}},
                },
            }
        ],
    }
    (tmp_path / "rates.json").write_text(json.dumps(raw))
    rates = load_selection_rates(tmp_path / "rates.json")
    text = grid_words.selection_rates_text(rates)
    assert "5.0% against 12.0% (no true difference)" in text and "1,000 replications" in text
    assert "Rates above 5% exceed the nominal level" in text  # 12% does
    within = json.loads(json.dumps(raw))
    within["scenarios"][0]["protocols"][SAME]["familywise_false_better_or_worse"]["rate"] = 0.04
    (tmp_path / "within.json").write_text(json.dumps(within))
    calm = grid_words.selection_rates_text(load_selection_rates(tmp_path / "within.json"))
    assert "exceed" not in calm
    shipped = load_selection_rates()  # the package's file, where the benchmark has written it
    if shipped is not None:
        quoted = grid_words.selection_rates_text(shipped)
        first = next(
            s for s in shipped.scenarios if SEPARATE in s.familywise and SAME in s.familywise
        )
        assert f"{first.familywise[SEPARATE].rate * 100:.1f}% against" in quoted


# A grid store without training: the synthetic store's writer, with this grid's surface.
GRID_STUDY = Study(
    "grid study",
    Settings(epochs=3, learning_rate=0.05),
    (grid_experiment("solver", grid(), datasets=("mnist",)),),
    seeds=(1, 2, 3),
).with_choices({("solver", "mnist"): (1, 1)})


def _surface(experiment, value, dataset, seed):
    level, _, rate = value.partition(" @ ")
    if not rate:  # a confirmation run: the chosen cell
        return SURFACE[level][1] + 0.003 * np.sin(seed)
    column = [f"{v:g}" for v in RATES[level]].index(rate)
    return SURFACE[level][column] + 0.003 * np.cos(seed * (1 + column))


def _diverges(experiment, value, dataset, seed):
    return value == "sgd @ 0.2" and seed == min(GRID_STUDY.selection_seeds(2))


@pytest.fixture(scope="module")
def grid_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic, "final_accuracy", _surface)
        patch.setattr(synthetic, "diverges", _diverges)
        patch.setattr(synthetic, "collapses", lambda *args: False)
        synthetic.make_store(folder / "s.sqlite", GRID_STUDY, missing=()).close()
    paths = render.build_report(folder / "s.sqlite", folder / "out", pdf=True)
    return paths, paths["html"].read_text()


def test_a_grid_store_renders_its_selection_subsection(grid_report):
    paths, html = grid_report
    assert "Selection on a validation split — MNIST" in html
    section = html[
        html.index("Selection on a validation split") : html.index('table class="numbers verdicts')
    ]
    assert section.count('<img src="data:image/png;base64,') == 2  # the heatmap and the curves
    figures = {p.name for p in paths["figures"].iterdir()}
    assert {"solver_grid-mnist_heatmap.png", "solver_grid-mnist_sensitivity.png"} <= figures
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "at the low edge of its grid" not in text and "inside its grid" in text
    assert "Two-way ANOVA of the logit of the validation error" in text
    assert "The order of the means did not change with tuning" in text
    assert "the 1 cell with a seed that diverged" in text
    assert "Grid — solver: each optimizer at its own learning rate values" in html
    with open(paths["choices"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CHOICE_COLUMNS
    assert [(r["level"], r["chosen"], r["edge"]) for r in rows] == [
        ("sgd", "0.05", ""),
        ("adam", "0.001", ""),
    ]


def test_the_grid_report_typesets_without_stranded_headings(grid_report):
    paths, html = grid_report
    assert paths["pdf"].stat().st_size > 0
    assert layout_problems(paths["pdf"], html) == []


def test_a_report_without_a_grid_writes_an_empty_choices_csv(tmp_path):
    synthetic.make_store(tmp_path / "s.sqlite").close()
    paths = render.build_report(tmp_path / "s.sqlite", tmp_path / "out", pdf=False)
    with open(paths["choices"], newline="") as handle:
        assert next(csv.reader(handle)) == list(CHOICE_COLUMNS)
        assert list(handle) == []
    assert "Selection on a validation split" not in paths["html"].read_text()


def test_hostile_names_are_drawn_literally_and_stay_inside_the_folder(tmp_path):
    hostile = Grid(
        "optimizer",
        "learning_rate",
        (GridRow("sgd", (0.01, 0.1), "<b>$a_1$"), GridRow("adam", (0.001, 0.01), "_x\n")),
    )
    cells = [
        CellRun("../d$", row.label, c, v, seed, 0.9 + 0.01 * c + 0.001 * seed, LEARNED)
        for row in hostile.rows
        for c, v in enumerate(row.tuned)
        for seed in (1, 2)
    ]
    grid_analysis = analyse_grid(hostile, "../d$", cells, CHANCE, 0.01, 100, {}, "../e/$x$")
    path = grid_figures.grid_figure_path(tmp_path, "../e/$x$", "../d$", "heatmap")
    assert path.parent == tmp_path
    grid_figures.heatmap_figure(grid_figures.heatmap_info(grid_analysis), path)
    curves = grid_figures.grid_figure_path(tmp_path, "../e/$x$", "../d$", "sensitivity")
    grid_figures.sensitivity_figure(grid_figures.sensitivity_info(grid_analysis), curves)
    assert path.is_file() and curves.is_file()
