"""User study files: every mistake is one clear line before any training."""

import re

import pytest

from study.declare.studyfile import load_study_file, parse_study
from study.errors import ConfigError

GOOD = {
    "name": "s",
    "datasets": ["mnist"],
    "experiments": [{"name": "k", "parameter": "kernel_size", "values": [3, 5]}],
}


def test_good_study_parses_with_defaults():
    study = parse_study(GOOD)
    assert study.seeds == (1, 2, 3, 4) and study.baseline.learning_rate == 0.5
    assert [v.label for v in study.experiments[0].values] == ["3", "5"]


def test_value_table_with_label_and_own_learning_rate():
    data = {
        **GOOD,
        "experiments": [
            {
                "name": "solver",
                "parameter": "optimizer",
                "values": [
                    "sgd",
                    {"label": "adam 1e-3", "optimizer": "adam", "learning_rate": 0.001},
                ],
            }
        ],
    }
    values = parse_study(data).experiments[0].values
    assert values[1].label == "adam 1e-3" and values[1].params == {
        "optimizer": "adam",
        "learning_rate": 0.001,
    }


@pytest.mark.parametrize(
    "change,message",
    [
        ({"colour": "red"}, "unknown key 'colour'; accepted: name, description, datasets"),
        (
            {"datasets": ["svhn"]},
            "unknown dataset 'svhn'; accepted: mnist, fashion_mnist, cifar10",
        ),
        ({"seeds": [1, "two"]}, "seeds must be a non-empty list of integers"),
        (
            {"baseline": {"learning_rate": "fast"}},
            "[baseline]: learning_rate must be a number > 0, got 'fast'",
        ),
        (
            {"baseline": {"activation": "relu6"}},
            "unknown activation 'relu6'; accepted: relu, softsign",
        ),
        (
            {"experiments": [{"name": "k", "parameter": "dropout", "values": [0.1]}]},
            "unknown parameter 'dropout'; accepted: epochs, batch_size",
        ),
        (
            {
                "experiments": [
                    {"name": "k", "parameter": "kernel_size", "values": [3], "colour": 1}
                ]
            },
            "unknown key 'colour'; accepted: name, parameter, values",
        ),
        (
            {
                "experiments": [
                    {"name": "lr", "parameter": "learning_rate", "values": [0.1, "0.01x"]}
                ]
            },
            "value 1: learning_rate must be a number > 0, got '0.01x'",
        ),
        (
            {"experiments": [{"name": "k", "parameter": "kernel_size", "values": [2.5]}]},
            "kernel_size must be an integer >= 1, got 2.5",
        ),
        (
            {"experiments": [{"name": "p", "parameter": "pooling", "values": ["max", "median"]}]},
            "unknown pooling[0] 'median'; accepted: max, average, l2, none",
        ),
        ({"experiments": []}, "needs at least one [[experiments]] table"),
    ],
)
def test_each_mistake_is_one_line_naming_the_value_and_what_is_accepted(change, message):
    with pytest.raises(ConfigError) as err:
        parse_study({**GOOD, **change})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("name = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_study_file(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_study_file(tmp_path / "none.toml")


def test_study_file_that_is_not_text_is_one_line(tmp_path):
    path = tmp_path / "random.toml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(
        ConfigError,
        match=r"random.toml is not text: byte 0x80 at offset 128 is not UTF-8; expected",
    ):
        load_study_file(path)


@pytest.mark.parametrize(
    "adapt,message",
    [
        (
            {"imagenet": {"padding": "same"}},
            "adapt names dataset 'imagenet', which this experiment does not use; "
            "accepted: mnist",
        ),
        (
            {"cifar10": {"padding": "same"}},
            "adapt names dataset 'cifar10', which this experiment does not use",
        ),
        ({"mnist": "same"}, "adapt must be a table of dataset = {parameter = value}"),
    ],
)
def test_adaptation_for_a_dataset_the_experiment_does_not_use_is_an_error(adapt, message):
    values = [3, {"kernel_size": 7, "adapt": adapt}]
    data = {**GOOD, "experiments": [{"name": "k", "parameter": "kernel_size", "values": values}]}
    with pytest.raises(ConfigError) as err:
        parse_study(data)
    assert message in str(err.value)


def test_adaptation_for_a_dataset_in_use_is_accepted():
    values = [3, {"kernel_size": 7, "adapt": {"mnist": {"padding": "same"}}}]
    study = parse_study(
        {**GOOD, "experiments": [{"name": "k", "parameter": "kernel_size", "values": values}]}
    )
    assert study.experiments[0].values[1].params_for("mnist")["padding"] == "same"


CLAIM = {
    "text": "Kernel 3 is as good as 5.",
    "test": "no_effect",
    "experiment": "k",
    "datasets": ["mnist"],
    "values": ["3"],
}


def test_a_study_file_declares_its_own_claims():
    study = parse_study({**GOOD, "claims": [CLAIM], "notes": ["kernels only"]})
    assert (
        study.claims[0].test == "no_effect"
        and study.claims[0].values == ("3",)
        and study.notes == ("kernels only",)
    )
    assert parse_study(GOOD).claims == ()  # none declared: the report has no claims section


@pytest.mark.parametrize(
    "change, message",
    [
        ({"test": "bigger"}, "unknown test 'bigger'; accepted: no_effect, differs"),
        ({"values": ["9"]}, "experiment 'k' has no value '9'; accepted: 3, 5"),
        ({"experiment": "stride"}, "unknown experiment 'stride'; accepted: k"),
        ({"datasets": ["cifar10"]}, "experiment 'k' does not run on 'cifar10'; accepted: mnist"),
        ({"colour": "red"}, "unknown key 'colour'; accepted: text, test"),
    ],
)
def test_each_claim_mistake_is_one_line(change, message):
    with pytest.raises(ConfigError) as err:
        parse_study({**GOOD, "claims": [{**CLAIM, **change}]})
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "change,message",
    [
        (
            {"data_seed": -1},
            "s.toml: data_seed must be an integer from 0 to 4294967295 (2**32 - 1, what NumPy and "
            "TensorFlow accept as a seed), got -1",
        ),
        ({"data_seed": 2**32}, "data_seed must be an integer from 0 to 4294967295"),
        ({"seeds": [1, -3]}, "s.toml: seeds[1] must be an integer from 0 to 4294967295"),
        ({"seeds": [2**40]}, "seeds[0] must be an integer from 0 to 4294967295"),
        (
            {"baseline": {"epochs": 2**31}},
            "[baseline]: epochs must be an integer from 1 to 2,147,483,647, got 2,147,483,648",
        ),
        (
            {"baseline": {"conv_filters": [20, 2**63 - 1]}},
            "conv_filters[1] must be an integer from 1 to 2,147,483,647",
        ),
        (
            {"experiments": [{"name": "k", "parameter": "dense_units", "values": [500, 10**12]}]},
            "value 1: dense_units must be an integer from 1 to 2,147,483,647",
        ),
        (
            {"profile": {"train_size": 2**31}},
            "[profile] train_size must be a positive integer up to 2,147,483,647",
        ),
    ],
)
def test_every_integer_is_range_checked_before_training(change, message):
    with pytest.raises(ConfigError) as err:
        parse_study({**GOOD, **change}, "s.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_the_seed_range_ends_are_accepted(seed):
    study = parse_study({**GOOD, "seeds": [seed], "data_seed": seed})
    assert study.seeds == (seed,) and study.data_seed == seed


def test_study_plan_refuses_a_negative_data_seed_in_one_line_before_loading_data(tmp_path):
    from click.testing import CliRunner

    from study.cli.main import cli

    path = tmp_path / "s.toml"
    path.write_text(
        'data_seed = -1\ndatasets = ["mnist"]\n[[experiments]]\nname = "k"\nparameter = "kernel_size"\n'
        "values = [3, 5]\n"
    )
    for command in ("plan", "run"):
        result = CliRunner().invoke(
            cli, [command, "--study", str(path), "--store", str(tmp_path / "s.sqlite")]
        )
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert (
            result.output
            == f"error: {path}: data_seed must be an integer from 0 to 4294967295 (2**32 - 1, what "
            "NumPy and TensorFlow accept as a seed), got -1\n"
        )
    assert not (tmp_path / "s.sqlite").exists()


def test_baseline_seeds_continue_the_declared_seeds_and_margins_are_per_dataset(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'datasets = ["mnist"]\nseeds = [1, 2, 3, 4]\nbaseline_seeds = 12\n[margins]\nmnist = 0.5\n'
        '[[experiments]]\nname = "k"\nparameter = "kernel_size"\nvalues = [3, 5]\n'
    )
    study = load_study_file(path)
    assert study.seeds_for(None, baseline=False) == (1, 2, 3, 4)
    assert study.seeds_for(None, baseline=True) == tuple(range(1, 13))
    assert study.seeds_for(2, baseline=False) == (1, 2) and study.seeds_for(
        2, baseline=True
    ) == tuple(range(1, 13))
    assert study.margin("mnist") == 0.005 and study.to_dict()["margins"] == {"mnist": 0.5}
    default = parse_study(
        {
            "datasets": ["mnist"],
            "seeds": [7, 9],
            "experiments": [{"name": "k", "parameter": "kernel_size", "values": [3, 5]}],
        },
        "d.toml",
    )
    assert default.seeds_for(None, baseline=True) == (
        7,
        9,
        10,
        11,
        12,
        13,
    )  # 3x, continuing past the largest
    assert default.margin("mnist") == 0.01  # the stated default: 1 pp


@pytest.mark.parametrize(
    "text, message",
    [
        ("baseline_seeds = 0\n", "baseline_seeds must be an integer >= 1, got 0"),
        (
            "[margins]\ncifar10 = 1\n",
            "[margins]: 'cifar10' is not a dataset of this study; accepted: mnist",
        ),
        (
            "[margins]\nmnist = -1\n",
            "[margins]: mnist must be a number of percentage points between 0 and 100",
        ),
    ],
)
def test_bad_baseline_seeds_and_margins_end_in_one_line(tmp_path, text, message):
    path = tmp_path / "s.toml"
    path.write_text(
        'datasets = ["mnist"]\n'
        + text.split("[margins]")[0]
        + '[[experiments]]\nname = "k"\nparameter = "kernel_size"\nvalues = [3, 5]\n'
        + ("[margins]" + text.split("[margins]")[1] if "[margins]" in text else "")
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_study_file(path)


@pytest.mark.parametrize("given", ['"35"', "3"])
def test_a_claims_values_must_be_a_list_of_labels(tmp_path, given):
    """A string was read as its characters ("35" -> values 3 and 5) and a number passed silently."""
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "s"\ndatasets = ["mnist"]\n\n[[experiments]]\nname = "kernel"\nparameter = "kernel_size"\n'
        'values = [3, 5]\n\n[[claims]]\ntext = "3 is 5"\ntest = "no_effect"\nexperiment = "kernel"\n'
        f'datasets = ["mnist"]\nvalues = {given}\n'
    )
    with pytest.raises(ConfigError, match=r"claims\[0\]: values must be a list of value labels"):
        load_study_file(path)
