"""The command line: help everywhere, one-line errors, data and shapes output."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from study.cli.main import cli

STUDY_BIN = Path(sys.executable).parent / "study"


def _commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output or command == "data"


def test_console_script_lists_commands():
    out = subprocess.run([str(STUDY_BIN), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("data", "run", "list", "export", "shapes"):
        assert command in out.stdout


def _run(args, env=None):
    import os

    return subprocess.run([str(STUDY_BIN), *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_unknown_profile_is_one_clean_line(tmp_path):
    out = _run(["run", "--profile", "huge", "--store", str(tmp_path / "s.sqlite")])
    assert out.returncode == 2
    assert out.stderr.strip() == "error: unknown profile 'huge'; accepted: smoke, quick, standard, paper"


@pytest.mark.parametrize("args, line", [
    (["run", "--profile", "huge"], "error: unknown profile 'huge'; accepted: smoke, quick, standard, paper"),
    (["shapes", "--input-shape", "28,28"], "error: --input-shape '28,28' must have three numbers H,W,C, e.g. 32,32,3"),
    (["run", "--workers", "-1"], "error: --workers must be >= 0, got -1"),
])
def test_errors_in_process_are_the_exact_line_and_status(tmp_path, args, line):
    result = CliRunner().invoke(cli, [*args, "--store", str(tmp_path / "s.sqlite")] if args[0] == "run" else args)
    assert result.exit_code == 2 and result.stderr == line + "\n" and result.stdout == ""
    assert not (tmp_path / "s.sqlite").exists()


def test_missing_dataset_is_one_clean_line_without_traceback(tmp_path):
    out = _run(["data", "mnist"], env={"STUDY_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: dataset 'mnist' not found; searched ")
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_study_file_is_one_line_and_store_untouched(tmp_path, data_dir):
    bad = tmp_path / "bad.toml"
    bad.write_text('datasets = ["mnist"]\n[[experiments]]\nname = "lr"\nparameter = "learning_rate"\nvalues = ["fast"]\n')
    store = tmp_path / "s.sqlite"
    out = _run(["run", "--study", str(bad), "--store", str(store)], env={"STUDY_DATA_DIR": str(data_dir)})
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "learning_rate must be a number > 0, got 'fast'" in out.stderr
    assert not store.exists()


def test_data_command_reports_location_format_counts_and_fingerprint(data_dir):
    out = _run(["data", "mnist", "cifar10"], env={"STUDY_DATA_DIR": str(data_dir)})
    assert out.returncode == 0, out.stderr
    assert "mnist: " in out.stdout and "(idx)" in out.stdout and "(cifar-pickle)" in out.stdout
    assert "train 60, test 30" in out.stdout and "fingerprint" in out.stdout


def test_shapes_command_prints_the_formula_and_totals():
    out = _run(["shapes", "--input-shape", "28,28,1"])
    assert "floor((28-5+2*0)/1)+1" in out.stdout and "total 431,080 params" in out.stdout


def test_list_and_export_on_missing_store_explain(tmp_path):
    out = _run(["list", "--store", str(tmp_path / "none.sqlite")])
    assert out.returncode == 2 and "does not exist; run `study run" in out.stderr
