"""What a study file leaves to the defaults is recorded on the Study (``inherited``), with the file it came
from (``source``), and both survive the stored spec."""

from study.declare.builtin import builtin_study
from study.declare.config import SETTING_FIELDS
from study.declare.spec import Study
from study.declare.studyfile import load_study_file

EXPERIMENT = '\n[[experiments]]\nname = "kernel"\nparameter = "kernel_size"\nvalues = [3, 5]\n'


def test_a_file_without_baseline_inherits_every_setting(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('datasets = ["mnist"]\n' + EXPERIMENT)
    study = load_study_file(path)
    assert study.inherited == SETTING_FIELDS and study.has_no_baseline_table
    assert study.source == str(path)
    again = Study.from_dict(study.to_dict())
    assert again.inherited == study.inherited and again.source == study.source


def test_a_baseline_table_records_what_it_set(tmp_path):
    path = tmp_path / "set.toml"
    path.write_text('datasets = ["mnist"]\n[baseline]\nlearning_rate = 0.1\n' + EXPERIMENT)
    study = load_study_file(path)
    assert "learning_rate" not in study.inherited and "schedule" in study.inherited
    assert not study.has_no_baseline_table


def test_a_builtin_study_inherits_nothing_and_keeps_its_stored_form():
    study = builtin_study("default")
    assert study.inherited == () and study.source == "" and not study.has_no_baseline_table
    assert "inherited" not in study.to_dict() and "source" not in study.to_dict()


def test_the_setup_tags_what_a_study_file_inherited(data_dir, tmp_path):
    from stores import TINY_STUDY, fill_store

    from study.analyse.comparisons import analyse
    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file
    from study.report.render import baseline_rows
    from study.results.store import Store

    path = tmp_path / "tiny.toml"
    path.write_text(TINY_STUDY)
    study = load_study_file(path)
    store_path = tmp_path / "s.sqlite"
    fill_store(
        store_path,
        study,
        Profile("test", seeds=None, epochs=None, train_size=None, test_size=None),
    )
    with Store(store_path) as store:
        rows = {row["label"]: row for row in baseline_rows(analyse(store))}
    # the tiny study sets epochs, conv_filters and dense_units; the learning rate is Table 1's, inherited
    assert rows["Learning rate"]["inherited"] and not rows["Epochs"]["inherited"]


def _kernel_study(claim: dict):
    from study.declare.studyfile import parse_study

    return parse_study(
        {
            "name": "k",
            "datasets": ["fashion_mnist"],
            "baseline": {"kernel_size": 5},
            "experiments": [{"name": "kernel", "parameter": "kernel_size", "values": [3, 5, 7]}],
            "claims": [
                {"text": "c", "experiment": "kernel", "datasets": ["fashion_mnist"], **claim}
            ],
        }
    )


def test_a_claim_against_the_baseline_cannot_name_the_baselines_own_value():
    import pytest

    from study.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        _kernel_study({"test": "differs", "values": ["3"], "equal": ["5"]})
    line = str(err.value)
    assert "value '5' of experiment 'kernel' is the baseline's own setting" in line
    assert line.endswith("; accepted: the other values, 3, 7") and "\n" not in line
    _kernel_study({"test": "differs", "values": ["3"], "equal": ["7"]})  # fine
    _kernel_study(
        {"test": "trend", "values": ["3", "5", "7"], "direction": "increasing"}
    )  # an order
