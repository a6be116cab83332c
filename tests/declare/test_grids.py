"""Grid experiments in study files: both forms parse, every bad grid is one line before training."""

import json

import pytest

from study.declare.grid import SELECTION_SEED_OFFSET, Grid
from study.declare.spec import Study
from study.declare.studyfile import parse_study
from study.errors import ConfigError

FULL = {"optimizer": ["sgd", "adam"], "learning_rate": [0.001, 0.01, 0.1]}
PER_ROW = [
    {"optimizer": "sgd", "learning_rate": [0.01, 0.05, 0.2]},
    {"optimizer": "adam", "learning_rate": [0.0003, 0.001], "label": "Adam"},
]


def _study(grid, **extra) -> Study:
    return parse_study(
        {
            "name": "s",
            "datasets": ["mnist"],
            "experiments": [{"name": "solver x lr", "grid": grid, **extra}],
        }
    )


def test_a_full_grid_crosses_every_level_with_every_tuned_value():
    (exp,) = _study(FULL).experiments
    grid = exp.grid
    assert (grid.compared, grid.tuned, exp.parameter) == (
        "optimizer",
        "learning_rate",
        "optimizer",
    )
    assert [v.label for v in exp.values] == [
        "sgd @ 0.001",
        "sgd @ 0.01",
        "sgd @ 0.1",
        "adam @ 0.001",
        "adam @ 0.01",
        "adam @ 0.1",
    ]
    # a selection cell sets both factors and is scored on the held-out validation split
    assert exp.values[4].params == {"optimizer": "adam", "learning_rate": 0.01, "validation": 0.2}
    assert exp.compared_labels == ("sgd", "adam")


def test_a_per_row_grid_gives_each_level_its_own_values_and_label():
    (exp,) = _study(PER_ROW, selection_seeds=3, validation=0.25).experiments
    assert [(r.label, r.tuned) for r in exp.grid.rows] == [
        ("sgd", (0.01, 0.05, 0.2)),
        ("Adam", (0.0003, 0.001)),
    ]
    assert (exp.grid.selection_seeds, exp.grid.validation) == (3, 0.25)
    assert [v.label for v in exp.values][-1] == "Adam @ 0.001"


def test_tune_names_which_parameter_is_tuned():
    (exp,) = _study(
        {"learning_rate": [0.01, 0.1], "batch_size": [32, 64]}, tune="learning_rate"
    ).experiments
    assert (exp.grid.compared, exp.grid.tuned) == ("batch_size", "learning_rate")
    assert exp.compared_labels == ("32", "64")


@pytest.mark.parametrize(
    "grid,extra,message",
    [
        ({"optimizer": ["sgd", "adam"]}, {}, "got 1 parameter(s): ['optimizer']"),
        ({**FULL, "batch_size": [32]}, {}, "got 3 parameter(s)"),
        (
            {"solver": ["sgd"], "learning_rate": [0.1]},
            {},
            "grid: unknown parameter 'solver'; accepted: epochs",
        ),
        (
            {"optimizer": [], "learning_rate": [0.1]},
            {},
            "grid: optimizer must be a non-empty list",
        ),
        (
            {"optimizer": ["sgd", "adam"], "learning_rate": 0.1},
            {},
            "learning_rate must be a non-empty list",
        ),
        (
            {"optimizer": ["sgd"], "learning_rate": [0.1]},
            {},
            "a grid compares at least two levels of 'optimizer', got 1",
        ),
        (
            {"optimizer": ["sgd", "sgd"], "learning_rate": [0.1]},
            {},
            "grid levels of 'optimizer' repeat",
        ),
        (
            {"optimizer": ["sgd", "adam"], "learning_rate": [0.1, -1]},
            {},
            "cell 'sgd @ -1': learning_rate must be",
        ),
        (
            {"optimizer": ["sgd", "rmsprop2"], "learning_rate": [0.1]},
            {},
            "unknown optimizer 'rmsprop2'",
        ),
        (FULL, {"tune": "epochs"}, "tune = 'epochs' is not a parameter of the grid"),
        (FULL, {"selection_seeds": 0}, "selection_seeds must be an integer from 1 to 100, got 0"),
        (
            FULL,
            {"validation": 0.9},
            "validation must be the share of the training subset held out, from 0.05",
        ),
        (FULL, {"values": [1]}, "unknown key 'values'"),
        ("sgd", {}, "grid must be a table of two parameters with lists of values"),
        (
            [
                {"optimizer": "sgd", "learning_rate": [0.1]},
                {"optimizer": "adam", "batch_size": [32]},
            ],
            {},
            "every row must set the same two parameters as the first (optimizer and a list of learning_rate)",
        ),
        (
            [{"optimizer": "sgd", "learning_rate": 0.1}],
            {},
            "a row sets one level of the compared parameter and a list",
        ),
        (
            [
                {"optimizer": "sgd", "learning_rate": [0.1, 0.1]},
                {"optimizer": "adam", "learning_rate": [1]},
            ],
            {},
            "grid level 'sgd': 'learning_rate' values repeat",
        ),
    ],
)
def test_a_bad_grid_is_one_line_naming_the_value_and_what_is_accepted(grid, extra, message):
    with pytest.raises(ConfigError) as err:
        _study(grid, **extra)
    line = str(err.value)
    assert "\n" not in line and message in line, line
    assert "experiment 'solver x lr'" in line or "experiments[0]" in line


def test_claims_name_a_grid_by_its_levels_not_its_cells():
    data = {
        "name": "s",
        "datasets": ["mnist"],
        "experiments": [{"name": "g", "grid": FULL}],
        "claims": [
            {
                "text": "adam equals sgd",
                "test": "no_effect",
                "experiment": "g",
                "datasets": ["mnist"],
                "values": ["adam"],
            }
        ],
    }
    assert parse_study(data).claims[0].labels == ("adam",)
    data["claims"][0]["values"] = ["adam @ 0.01"]
    with pytest.raises(ConfigError, match=r"has no value 'adam @ 0.01'; accepted: sgd, adam"):
        parse_study(data)


def test_a_grid_and_its_choices_survive_the_stored_spec():
    study = _study(PER_ROW).with_choices({("solver x lr", "mnist"): (2, 0)})
    again = Study.from_dict(json.loads(json.dumps(study.to_dict())))
    assert again == study and again.experiments[0].grid.chosen == {"mnist": (2, 0)}
    with pytest.raises(ConfigError, match="does not fit the grid"):
        Grid.from_dict({**study.experiments[0].grid.to_dict(), "chosen": {"mnist": [3, 0]}})


def test_selection_seeds_never_meet_a_seed_a_comparison_can_use():
    study = _study(FULL)
    selection = set(study.selection_seeds(5))
    assert min(selection) == max(study.seeds) + SELECTION_SEED_OFFSET + 1
    assert not selection & set(study.seed_list(SELECTION_SEED_OFFSET))


def test_the_single_setting_column_is_the_baselines_value_in_a_full_grid_and_the_middle_per_row():
    baseline = {"optimizer": "sgd", "learning_rate": 0.01}
    assert _study(FULL).experiments[0].grid.usual(baseline) == (1, 1)
    assert _study(FULL).experiments[0].grid.usual({"learning_rate": 0.5}) == (
        1,
        1,
    )  # absent: the middle
    rows = [
        {"optimizer": "sgd", "learning_rate": [0.005, 0.05, 0.5]},
        {"optimizer": "momentum", "learning_rate": [0.0005, 0.005, 0.05]},
    ]
    # per row, each level's own usual value sits in the middle, even where a row holds the baseline's rate
    assert _study(rows).experiments[0].grid.usual({"learning_rate": 0.05}) == (1, 1)


GOODISH = {"experiments": [{"name": "k", "parameter": "kernel_size", "values": [3]}]}


@pytest.mark.parametrize(
    "data",
    [
        {"baseline": {"validation": 0.2}},
        {"experiments": [{"name": "v", "parameter": "validation", "values": [0.1, 0.2]}]},
        {
            "experiments": [
                {
                    "name": "v",
                    "parameter": "kernel_size",
                    "values": [{"kernel_size": 3, "validation": 0.2}],
                }
            ]
        },
        {
            "experiments": [
                {"name": "v", "grid": {"validation": [0.1, 0.2], "learning_rate": [0.1]}}
            ]
        },
    ],
)
def test_the_validation_share_is_a_grids_own_key_never_a_parameter(data):
    with pytest.raises(ConfigError, match="'validation' is not a parameter a study file sets"):
        parse_study({"name": "s", "datasets": ["mnist"], **GOODISH, **data})


def test_a_misspelt_grid_key_names_both_forms_of_experiment():
    with pytest.raises(ConfigError) as err:
        parse_study(
            {"name": "s", "datasets": ["mnist"], "experiments": [{"name": "g", "grids": FULL}]}
        )
    assert "unknown key 'grids'" in str(
        err.value
    ) and "for a two-factor experiment name, grid, tune" in str(err.value)
