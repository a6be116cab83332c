"""The built-in studies: the default around the baseline that learns, and Table 1 as written."""

import pytest

from study.declare.builtin import BUILTIN_STUDIES, HYPERPARAMETERS, builtin_study
from study.declare.spec import PROFILES
from study.errors import ConfigError
from study.plan.trials import DatasetInfo, plan_study

SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


def _infos(profile):
    return {
        n: DatasetInfo(n, s, 10, "f" * 16, profile.train_size, profile.test_size, 0)
        for n, s in SHAPES.items()
    }


def test_table1_baseline_is_table_1_and_the_default_changes_only_the_training_recipe():
    base = builtin_study("table1").baseline
    assert (
        base.epochs,
        base.batch_size,
        base.val_batch_size,
        base.learning_rate,
        base.optimizer,
    ) == (100, 32, 16, 0.5, "sgd")
    assert (base.activation, base.conv_filters, base.kernel_size, base.stride, base.pool_size) == (
        "relu",
        (20, 50),
        5,
        1,
        2,
    )
    assert (base.schedule, base.input_scaling) == ("constant", "unit")  # Table 1 as written
    import dataclasses

    assert builtin_study("default").baseline == dataclasses.replace(
        base, learning_rate=0.05, schedule="linear", input_scaling="standardize"
    )


def test_default_studies_its_recipe_and_checks_its_budget_on_both_datasets():
    """Each change to Table 1's recipe is a value the report compares, and the budget check is a 3x longer run."""
    study = builtin_study()
    table1 = builtin_study("table1")
    for name, parameter, table1_value in (
        ("schedule", "schedule", "constant"),
        ("input_scaling", "input_scaling", "unit"),
    ):
        exp = study.experiment(name)
        assert exp.datasets == ("mnist", "cifar10") and exp.parameter == parameter
        assert table1_value in [v.label for v in exp.values]
        assert getattr(study.baseline, parameter) in [v.label for v in exp.values]
    check = study.experiment(study.budget_check)
    assert check.parameter == "epochs" and check.datasets == ("mnist", "cifar10")
    profile = PROFILES["quick"]
    trials, rows = plan_study(study, profile, _infos(profile))
    for dataset in ("mnist", "cifar10"):
        epochs = {
            r.is_baseline: trials[r.trial_key].settings.epochs
            for r in rows
            if r.experiment == study.budget_check and r.dataset == dataset
        }
        assert epochs == {True: 3, False: 9}
    assert not table1.budget_check and "schedule" not in {e.name for e in table1.experiments}


def test_table1_runs_every_experiment_on_both_datasets_with_four_seeds():
    study = builtin_study("table1")
    assert study.seeds == (1, 2, 3, 4)
    names = {e.name for e in study.experiments}
    assert {
        "batch_size",
        "solver",
        "learning_rate",
        "initializer",
        "activation",
        "kernel_size",
        "stride",
        "filters",
        "conv_layers",
        "pooling",
    } <= names
    assert all(e.datasets == ("mnist", "cifar10") for e in study.experiments)
    assert [v.label for v in study.experiment("learning_rate_long").values] == [
        "0.5",
        "0.01",
        "0.001",
    ]


def test_default_runs_hyperparameters_on_mnist_and_the_architecture_on_both():
    """As the original report did: its hyperparameter experiments on MNIST, the architecture on both."""
    study = builtin_study()
    for exp in study.experiments:
        expected = ("mnist",) if exp.name in HYPERPARAMETERS else ("mnist", "cifar10")
        assert exp.datasets == expected, exp.name
    assert {"schedule", "input_scaling", "epochs"} <= {e.name for e in study.experiments}
    assert "0.5" in [
        v.label for v in study.experiment("learning_rate").values
    ]  # Table 1's rate is a value
    assert {c.experiment for c in study.claims} <= {e.name for e in study.experiments}
    assert all("learning rate 0.05" in c.scope for c in study.claims)


def test_an_unknown_built_in_study_names_the_accepted_ones():
    with pytest.raises(ConfigError, match="accepted: default, table1"):
        builtin_study("tabel1")


@pytest.mark.parametrize("name", list(BUILTIN_STUDIES))
@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_value_is_a_valid_network_and_each_experiment_has_its_baseline(name, profile):
    study = builtin_study(name)
    trials, rows = plan_study(study, PROFILES[profile], _infos(PROFILES[profile]))
    for exp in study.experiments:
        for dataset in exp.datasets:
            assert (
                sum(
                    r.is_baseline
                    for r in rows
                    if r.experiment == exp.name and r.dataset == dataset
                )
                > 0
            )
    # the baseline trial shared by the experiments is one trial per (dataset, seed)
    baseline_keys = {
        r.trial_key for r in rows if r.is_baseline and r.experiment != "learning_rate_long"
    }
    seeds = len(study.seeds_for(PROFILES[profile].seeds, baseline=True))
    assert seeds == 3 * (
        PROFILES[profile].seeds or 4
    )  # the baseline serves every comparison: three times the seeds
    assert len(baseline_keys) == seeds * 2  # one baseline per dataset and seed


def test_stride_adaptations_are_needed_and_sufficient():
    study = builtin_study()
    stride = study.experiment("stride")
    for value in stride.values:
        for dataset, shape in SHAPES.items():
            plain = study.baseline.with_values(**value.params).model_config(shape)
            adapted = study.baseline.with_values(**value.params_for(dataset)).model_config(shape)
            from study.plan.shapes import layer_table

            layer_table(adapted)  # the adapted value is valid
            if dataset in value.adapt:  # and the adaptation was necessary
                with pytest.raises(ConfigError):
                    layer_table(plain)


@pytest.mark.parametrize("name", list(BUILTIN_STUDIES))
def test_profiles_change_budget_only(name):
    """Across profiles, every (experiment, value, dataset) trains the same network with the same settings;
    only the epochs (by one ratio per profile), the seeds and the data subsets differ."""

    def science(profile):
        trials, rows = plan_study(builtin_study(name), profile, _infos(profile))
        out = {}
        for row in rows:
            trial = trials[row.trial_key]
            settings = trial.settings.to_dict()
            epochs = settings.pop("epochs")
            out[(row.experiment, row.value, row.dataset)] = (
                settings,
                trial.model.to_dict(),
                epochs,
            )
        # a grid's selection seeds are the grid's own (selection_seeds), the same under every profile
        return out, {r.seed for r in rows if not r.is_baseline and not r.phase}

    paper, paper_seeds = science(PROFILES["paper"])
    assert {e for _, _, e in paper.values()} == {100, 300}
    for profile in PROFILES.values():
        mine, seeds = science(profile)
        assert mine.keys() == paper.keys(), profile.name
        ratios = set()
        for key, (settings, model, epochs) in mine.items():
            assert (settings, model) == paper[key][:2], (profile.name, key)
            ratios.add(round(epochs / paper[key][2], 6) if profile.epochs else 1.0)
        assert len(ratios) == 1 or profile.epochs == 1, (
            profile.name,
            ratios,
        )  # one scale (1 epoch floors)
        assert seeds <= paper_seeds and len(seeds) == (profile.seeds or len(paper_seeds))


@pytest.mark.parametrize("name", list(BUILTIN_STUDIES))
def test_the_study_carries_its_claims_and_reference_and_round_trips(name):
    study = builtin_study(name)
    assert len(study.claims) >= 12 and study.reference_title.startswith("Table 1")
    import json

    from study.declare.spec import Study

    stored = json.loads(json.dumps(study.to_dict()))
    again = Study.from_dict(stored)
    assert again.claims == study.claims and again.baseline == study.baseline
    assert json.loads(json.dumps(again.to_dict())) == stored


def test_the_report_knows_no_built_in_study_by_name():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = sorted((root / "study" / "analyse").glob("*.py")) + sorted(
        (root / "study" / "report").glob("*.py")
    )
    sources += sorted((root / "study" / "report" / "templates").glob("*.j2"))
    from study.declare.config import PARAMETERS

    study = builtin_study("table1")

    # experiment names that are also generic parameter names (e.g. "pooling") may appear as parameters
    names = ({e.name for e in study.experiments} - set(PARAMETERS)) | {
        "Table 1",
        "mnist",
        "cifar10",
    }
    names |= {c.text for c in study.claims}
    for source in sources:
        text = source.read_text()
        found = [
            n for n in names if f'"{n}"' in text or f"'{n}'" in text or (" " in n and n in text)
        ]
        assert not found, (source.name, found)
