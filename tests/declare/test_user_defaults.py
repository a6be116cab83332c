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
