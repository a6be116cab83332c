"""Custom budgets: flags and [profile] tables, their names, their checks, their trial keys, their reports."""

import pytest
from click.testing import CliRunner
from conftest import write_cifar_batches, write_idx_dataset
from stores import TINY_STUDY, calibrated, fill_store

from study.analyse.comparisons import analyse
from study.cli.main import cli
from study.declare.budget import resolve_budget
from study.declare.builtin import builtin_study
from study.declare.spec import PROFILES, Profile, get_profile
from study.declare.studyfile import load_study_file
from study.errors import ConfigError
from study.plan.trials import plan_study
from study.results.store import Store
from study.run.runner import dataset_infos


def _rows(store, sql: str, params: tuple = ()) -> list:
    """Inspect the store file directly (the package reads it only through Store's typed methods)."""
    return list(store.db.execute(sql, params))


SMOKE_FLAGS = {"epochs": 1, "train_size": 256, "test_size": 128, "seeds": 2}


@pytest.fixture
def smoke_sized_data(tmp_path, monkeypatch):
    """mnist (IDX) and cifar10 (pickled batches) with 300 training and 150 test images: room for smoke's subsets."""
    root = tmp_path / "datasets"
    write_idx_dataset(root / "mnist", train=300, test=150)
    write_cifar_batches(root / "cifar-10-batches-py", per_batch=60, test=150)
    monkeypatch.setenv("STUDY_DATA_DIR", str(root))
    return root


def test_flags_override_the_profile_and_name_the_budget():
    profile, origins = resolve_budget(
        get_profile("quick"), {}, {"epochs": 3, "train_size": 8000, "test_size": 1000, "seeds": 4}
    )
    assert profile.name == "custom-e3-tr8000-te1000-s4"
    assert (profile.epochs, profile.train_size, profile.test_size, profile.seeds) == (
        3,
        8000,
        1000,
        4,
    )
    assert (
        profile.description
        == "custom budget: 4 seeds, 3 epochs, 8,000/1,000 images (fields not set from quick)"
    )
    assert origins == {
        "epochs": "--epochs",
        "train_size": "--train-size",
        "test_size": "--test-size",
        "seeds": "--seeds",
    }


def test_a_flag_that_changes_nothing_keeps_the_profile_and_unset_fields_come_from_it():
    assert (
        resolve_budget(get_profile("smoke"), {}, {"epochs": 1, "seeds": None})[0]
        is PROFILES["smoke"]
    )
    profile, _ = resolve_budget(get_profile("paper"), {}, {"epochs": 3})
    assert profile.name == "custom-e3-trall-teall-s4"


def test_profile_table_names_the_budget_and_flags_override_the_table():
    table = {"name": "overnight", "epochs": 10, "train_size": 2000}
    profile, _ = resolve_budget(get_profile("quick"), table, {}, "my.toml")
    assert (
        profile.name,
        profile.epochs,
        profile.train_size,
        profile.test_size,
        profile.seeds,
    ) == ("overnight", 10, 2000, 1000, 3)
    assert profile.datasets == {}  # a size set by the table holds for every dataset
    profile, origins = resolve_budget(get_profile("quick"), table, {"seeds": 2}, "my.toml")
    assert profile.name == "custom-e10-tr2000-te1000-s2"
    assert origins == {
        "epochs": "my.toml [profile] epochs",
        "train_size": "my.toml [profile] train_size",
        "seeds": "--seeds",
    }


@pytest.mark.parametrize(
    "table, flags, message",
    [
        ({}, {"epochs": 0}, "--epochs must be a positive integer, got 0"),
        ({}, {"seeds": -2}, "--seeds must be a positive integer, got -2"),
        ({"epochs": "3"}, {}, "my.toml [profile] epochs must be a positive integer, got '3'"),
        (
            {"train_size": 2.5},
            {},
            "my.toml [profile] train_size must be a positive integer, got 2.5",
        ),
        (
            {"test_size": True},
            {},
            "my.toml [profile] test_size must be a positive integer, got True",
        ),
        (
            {"epoch": 3},
            {},
            "my.toml [profile]: unknown key 'epoch'; accepted: name, epochs, train_size, test_size, "
            "seeds, max_seeds, max_trials, description",
        ),
        (
            {"name": "smoke", "epochs": 7},
            {},
            "my.toml [profile]: profile name 'smoke' is a built-in profile with "
            "another budget; choose another name",
        ),
        (
            {"name": "my budget"},
            {},
            "my.toml [profile]: profile name must be 1-64 letters, digits or _.+- "
            "(starting with a letter or digit), got 'my budget'",
        ),
    ],
)
def test_bad_budget_values_are_one_line_errors(table, flags, message):
    with pytest.raises(ConfigError) as err:
        resolve_budget(get_profile("quick"), table, flags, "my.toml")
    assert str(err.value) == message


def test_study_file_profile_table_is_checked_with_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY_STUDY + "\n[profile]\nepochs = 0\n")
    with pytest.raises(
        ConfigError, match=r"bad.toml \[profile\] epochs must be a positive integer, got 0$"
    ):
        load_study_file(bad)
    bad.write_text('profile = "smoke"\n' + TINY_STUDY)
    with pytest.raises(
        ConfigError, match=r"bad.toml: profile must be a table \[profile\] with keys name, epochs"
    ):
        load_study_file(bad)


def test_sizes_and_seeds_beyond_the_study_are_refused_before_anything_runs(tmp_path, data_dir):
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(TINY_STUDY)
    store = tmp_path / "s.sqlite"
    runner = CliRunner()
    cases = [
        (
            ["--train-size", "61"],
            "--train-size 61 is larger than mnist's 60 training images; accepted: 1 to "
            "60, or leave it unset for all",
        ),
        (
            ["--test-size", "31"],
            "--test-size 31 is larger than mnist's 30 test images; accepted: 1 to 30, "
            "or leave it unset for all",
        ),
        (
            ["--seeds", "3"],
            "--seeds 3 is more than the study's 2 seeds; accepted: 1 to 2, or leave it unset "
            "for all",
        ),
    ]
    for flags, message in cases:
        for command in ("run", "plan"):
            result = runner.invoke(
                cli, [command, "--study", str(study_file), "--store", str(store), *flags]
            )
            assert result.exit_code == 2 and result.stderr == f"error: {message}\n"
    assert not store.exists()
    study_file.write_text(TINY_STUDY + "\n[profile]\ntrain_size = 100\n")
    result = runner.invoke(cli, ["plan", "--study", str(study_file), "--store", str(store)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {study_file} [profile] train_size 100 is larger than mnist's 60"
    )


def test_the_smoke_budget_as_flags_gives_the_smoke_trial_keys(smoke_sized_data):
    study = builtin_study()
    custom, _ = resolve_budget(get_profile("quick"), {}, SMOKE_FLAGS)
    assert custom.name == "custom-e1-tr256-te128-s2"

    def keys(profile):
        return set(plan_study(study, profile, dataset_infos(study, profile)[0])[0])

    assert keys(custom) == keys(get_profile("smoke"))
    assert keys(custom) != keys(resolve_budget(get_profile("smoke"), {}, {"epochs": 2})[0])


def test_a_subset_as_large_as_the_dataset_is_keyed_as_all_of_it(tmp_path, data_dir):
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(TINY_STUDY)
    study = load_study_file(study_file)
    everything = Profile("everything", seeds=None, epochs=None, train_size=None, test_size=None)
    exact = Profile("exact", seeds=None, epochs=None, train_size=60, test_size=30)
    fewer = Profile("fewer", seeds=None, epochs=None, train_size=59, test_size=30)

    def keys(profile):
        return set(plan_study(study, profile, dataset_infos(study, profile)[0])[0])

    assert keys(exact) == keys(everything) and keys(fewer).isdisjoint(keys(everything))


def test_a_custom_budget_reuses_stored_trials_is_stored_under_its_name_and_reported(
    tmp_path, smoke_sized_data
):
    """`study run` with the smoke budget as flags finds smoke's trials stored, trains nothing, and the
    report's analysis reads the budget by its name."""
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(
        TINY_STUDY.replace('datasets = ["mnist"]', 'datasets = ["mnist", "cifar10"]')
    )
    store = tmp_path / "s.sqlite"
    study = load_study_file(study_file)
    trials = fill_store(store, study, get_profile("smoke"))
    calibrated(store)
    runner = CliRunner()
    flags = ["--epochs", "1", "--train-size", "256", "--test-size", "128", "--seeds", "2"]
    result = runner.invoke(
        cli, ["run", "--study", str(study_file), "--store", str(store), "--no-progress", *flags]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"tiny [custom-e1-tr256-te128-s2]: {len(trials)} trials, {len(trials)} stored, 0 to train"
    )
    with Store(store) as db:
        plans = {
            (row["profile"], row["trial_key"])
            for row in _rows(db, "SELECT profile, trial_key FROM plan")
        }
        assert {key for profile, key in plans if profile == "custom-e1-tr256-te128-s2"} == set(
            trials
        )
        assert db.stored_study("tiny", "custom-e1-tr256-te128-s2").profile.epochs == 1
    with Store(
        store
    ) as db:  # what `study report --profile custom-e1-tr256-te128-s2` renders (minus drawing)
        analysis = analyse(db, profile="custom-e1-tr256-te128-s2")
    assert (analysis.study, analysis.profile) == ("tiny", "custom-e1-tr256-te128-s2")
    assert analysis.stored.profile.name == "custom-e1-tr256-te128-s2"
    assert all(v.status.get("ok") == 2 for block in analysis.blocks.values() for v in block.values)


def test_a_profile_sets_budgets_per_dataset_and_a_flag_overrides_them_everywhere():
    quick = get_profile("quick")
    assert (
        quick.for_dataset("cifar10").train_size == 10000
        and quick.for_dataset("mnist").train_size == 4000
    )
    assert (
        quick.for_dataset("fashion_mnist").train_size == 4000
    )  # a dataset not named takes the profile's
    profile, _ = resolve_budget(quick, {}, {"seeds": 4})
    assert (
        profile.for_dataset("cifar10").train_size == 10000
    )  # untouched fields keep their per-dataset values
    assert profile.name == "custom-e3-tr4000-te1000-s4-cifar10-tr10000"  # --seeds alone: one look
    profile, _ = resolve_budget(quick, {}, {"train_size": 500})
    assert profile.for_dataset("cifar10").train_size == 500 and profile.datasets == {}


def test_looks_count_the_first_look_and_each_step_to_the_cap():
    from study.declare.spec import Profile

    def looks(seeds, max_seeds, step=None):
        return Profile(
            "p",
            seeds=seeds,
            epochs=1,
            train_size=1,
            test_size=1,
            max_seeds=max_seeds,
            seed_step=step,
        ).looks

    assert looks(3, None) == 1 and looks(3, 3) == 1 and looks(3, 6) == 2 and looks(3, 7) == 3
    assert looks(2, 8, 2) == 4 and looks(None, 8) == 1
    assert get_profile("quick").looks == 2 and get_profile("smoke").looks == 1
