"""A user's own study file end to end on the command line, without training: the checks and words a
Fashion-MNIST study with one kernel and one batch-size experiment met (issue: a user's first study)."""

import pytest
from click.testing import CliRunner
from stores import calibrated

from study.cli.main import cli

USER_STUDY = """name = "fashion"
datasets = ["fashion_mnist"]
seeds = [1, 2]
baseline_seeds = 2
{baseline}
[[experiments]]
name = "batch"
parameter = "batch_size"
values = [32, 128]

[[experiments]]
name = "kernel"
parameter = "kernel_size"
values = {kernels}
"""
TINY_BASELINE = "\n[baseline]\nepochs = 2\nconv_filters = [4, 6]\ndense_units = 16\n"


def _write(tmp_path, baseline=TINY_BASELINE, kernels="[5, 3]"):
    path = tmp_path / "fashion.toml"
    path.write_text(USER_STUDY.format(baseline=baseline, kernels=kernels))
    return path


def _plan(study_file, store, *flags):
    calibrated(store)
    return CliRunner().invoke(
        cli, ["plan", "--study", str(study_file), "--store", str(store), *flags]
    )


def test_an_experiment_of_baseline_values_only_is_refused_in_one_line(tmp_path, data_dir):
    study_file = _write(tmp_path, kernels="[5]")
    store = tmp_path / "s.sqlite"
    for command in ("plan", "run"):
        result = CliRunner().invoke(
            cli, [command, "--study", str(study_file), "--store", str(store)]
        )
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            "error: experiment 'kernel' compares nothing: every value (5) trains the baseline's "
            "settings (kernel_size = 5) on every dataset; accepted: at least one value that differs "
            "from the baseline\n"
        )
    assert not store.exists()


CLAIM = """
[[claims]]
text = "Kernel 3 is no worse than kernel 5."
{keys}
"""
GOOD_CLAIM = (
    'test = "no_effect"\nexperiment = "kernel"\ndatasets = ["fashion_mnist"]\nvalues = ["3"]'
)
KINDS = (
    "no_effect, differs, any_differs, trend, does_not_learn, faster_early, catch_up, interaction, "
    "largest_stable"
)


@pytest.mark.parametrize(
    "keys, line",
    [
        (  # the first round-trip of the issue: no test named
            'experiment = "kernel"\ndatasets = ["fashion_mnist"]',
            f"claims[0]: missing key 'test'; accepted: {KINDS}",
        ),
        (
            'test = "no_effect"\nexperiment = "kernel"',
            "claims[0] (test 'no_effect'): missing key 'datasets'",
        ),
        (  # the accepted kinds once, not twice
            'test = "equivalent"\nexperiment = "kernel"\ndatasets = ["fashion_mnist"]',
            f"claims[0]: unknown test 'equivalent'; accepted: {KINDS}",
        ),
        (
            GOOD_CLAIM + "\nmargin = 2",
            "claims[0] (test 'no_effect'): unknown key 'margin'; accepted: text, test, experiment, "
            "datasets, values, scope",
        ),
        (
            GOOD_CLAIM.replace('"3"', '"5"'),
            "claim 'Kernel 3 is no worse than kernel 5.': value '5' of experiment 'kernel' is the "
            "baseline's own setting, the reference its values are compared with; accepted: the other "
            "values, 3",
        ),
    ],
)
def test_the_claim_mistakes_of_a_first_study_each_end_in_one_line(tmp_path, data_dir, keys, line):
    """The user's study of the issue with the claims its author got wrong on the way to one that runs: each
    mistake is one error line naming the key or value and what is accepted, before anything is written."""
    study_file = _write(tmp_path)
    study_file.write_text(study_file.read_text() + CLAIM.format(keys=keys))
    store = tmp_path / "s.sqlite"
    result = CliRunner().invoke(cli, ["plan", "--study", str(study_file), "--store", str(store)])
    assert result.exit_code == 2, result.output
    where = "" if line.startswith("claim ") else f"{study_file} "
    assert result.stderr == f"error: {where}{line}\n"
    assert not store.exists()


def test_the_claim_written_from_the_readme_plans(tmp_path, data_dir):
    study_file = _write(tmp_path)
    study_file.write_text(study_file.read_text() + CLAIM.format(keys=GOOD_CLAIM))
    result = _plan(study_file, tmp_path / "s.sqlite")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_value_equal_to_the_baseline_beside_another_is_fine(tmp_path, data_dir):
    result = _plan(_write(tmp_path), tmp_path / "s.sqlite")
    assert result.exit_code == 0, result.output


def test_a_study_file_without_baseline_is_told_it_trains_table1(tmp_path, data_dir):
    study_file = _write(tmp_path, baseline="")
    result = _plan(study_file, tmp_path / "s.sqlite", "--epochs", "2")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        f"note: {study_file} has no [baseline]: it trains Table 1 as written (learning rate 0.5, "
        "constant schedule, pixels / 255); the built-in default study's recipe is "
        'learning_rate = 0.05, schedule = "linear", input_scaling = "standardize"'
    ]
    with_baseline = _plan(_write(tmp_path), tmp_path / "s.sqlite")
    assert with_baseline.exit_code == 0 and "note:" not in with_baseline.stderr


def _lines(result):
    return result.stdout.splitlines()


def test_a_cap_the_study_cannot_reach_is_left_out_of_the_budget_and_its_words(tmp_path, data_dir):
    """quick's cap of 310 trials, inherited by a custom budget on a small study, cannot bind: neither the
    budget's name nor `study plan` mentions it."""
    flags = ("--epochs", "2", "--train-size", "50", "--test-size", "20")
    result = _plan(_write(tmp_path), tmp_path / "s.sqlite", *flags)
    assert result.exit_code == 0, result.output
    assert _lines(result)[0].startswith("fashion [custom-e2-tr50-te20-s3-ms6]: 6 trials")
    assert "310" not in result.stdout and "trials in all" not in result.stdout
    capped = _plan(_write(tmp_path), tmp_path / "s.sqlite", *flags, "--max-trials", "10")
    assert capped.exit_code == 0, capped.output
    assert _lines(capped)[0].startswith("fashion [custom-e2-tr50-te20-s3-ms6-mt10]: 6 trials")
    assert "up to 6 per value and 10 trials in all" in capped.stdout


def test_the_look_line_counts_in_words():
    from study.analyse.sequential import Addition, Reason
    from study.sequential.driver import look_line

    def add(value, reason):
        return Addition("kernel", value, "fashion_mnist", 6, reason, 1.0)

    assert look_line(1, 2, [], 0, None, 6) == (
        "look 1 of 2: no undecided comparison can use more seeds; 6 trials in all"
    )
    assert look_line(1, 2, [], 2, 8, 6) == (
        "look 1 of 2: no undecided comparison can use more seeds; 2 would pass the cap of 8 trials; "
        "6 trials in all"
    )
    assert look_line(1, 2, [add("3", Reason.EQUIVALENCE)], 0, None, 9) == (
        "look 1 of 2: 1 undecided comparison gets more seeds (because the interval could fit inside "
        "the margin); 9 trials in all"
    )
    two = [add("3", Reason.EQUIVALENCE), add("7", Reason.DIFFERENCE)]
    assert look_line(2, 3, two, 1, 20, 12) == (
        "look 2 of 3: 2 undecided comparisons get more seeds (1 because the difference could become "
        "significant, 1 because the interval could fit inside the margin); 1 more would pass the cap "
        "of 20 trials; 12 trials in all"
    )


@pytest.fixture
def filled(tmp_path, data_dir):
    """The user's study from a file whose name needs quoting, stored (made-up results) in out/study.sqlite."""
    from stores import fill_store

    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file

    folder = tmp_path / "my studies"
    folder.mkdir()
    study_file = _write(folder)
    study_file = study_file.rename(folder / "fashion's.toml")
    profile = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)
    store = tmp_path / "out" / "study.sqlite"
    store.parent.mkdir()
    fill_store(store, load_study_file(study_file), profile)
    return study_file, store, profile


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_without_out_writes_beside_the_store(filled, tmp_path, fmt, monkeypatch):
    _, store, _ = filled
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(cli, ["export", "--format", fmt, "--store", str(store)])
    assert result.exit_code == 0, result.output
    written = store.parent / f"results.{fmt}"
    assert written.is_file() and result.stdout.endswith(f" -> {written}\n")
    assert not (elsewhere / "output").exists()


def test_the_regenerate_command_names_the_study_file_quoted(filled):
    import shlex

    from study.analyse.comparisons import analyse
    from study.report.render import regenerate_commands
    from study.results.store import Store

    study_file, store, profile = filled
    with Store(store, create=False) as db:
        analysis = analyse(db, "fashion", profile.name)
    run, report = regenerate_commands(analysis, store, store.parent / "report dir")
    assert run.startswith(f"study run --study {shlex.quote(str(study_file))} ")
    assert shlex.split(run)[3] == str(study_file) and "FILE" not in run
    assert shlex.split(report)[-1] == str(store.parent / "report dir")


def test_a_data_dir_that_is_one_datasets_own_folder(tmp_path, monkeypatch):
    from conftest import write_idx_dataset

    from study.plan.data import load_dataset, locate

    own = write_idx_dataset(tmp_path / "fashion-mnist")
    monkeypatch.setenv("STUDY_DATA_DIR", str(own))
    assert locate("fashion_mnist").path == str(own.resolve())
    assert len(load_dataset("fashion_mnist").y_train) == 60
    result = CliRunner().invoke(cli, ["data", "mnist"])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: dataset 'mnist' not found; searched ")
    assert result.stderr.rstrip().endswith(
        f"; STUDY_DATA_DIR folder {own} holds one dataset's files itself: set "
        f"STUDY_DATA_DIR={tmp_path.resolve()} instead, the folder that holds mnist/, fashion-mnist/ "
        "and cifar-10-batches-py/"
    )


def test_study_example_writes_a_study_that_plans(tmp_path, data_dir):
    pytest.importorskip("study.declare.example")
    path = tmp_path / "my study.toml"
    result = CliRunner().invoke(cli, ["example", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"example study written to {path}",
        f"next: study plan --study '{path}'",
    ]
    from study.declare.studyfile import load_study_file

    assert load_study_file(path).experiments  # a valid study file
    again = CliRunner().invoke(cli, ["example", str(path)])
    assert again.exit_code == 2 and len(again.stderr.splitlines()) == 1
    assert again.stderr.startswith(f"error: {path} already exists")
