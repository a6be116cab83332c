"""The command line: help everywhere, one-line errors, data and shapes output (in-process through click's
CliRunner; one test runs the installed console script)."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from study.cli.main import cli

STUDY_BIN = Path(sys.executable).parent / "study"


def _commands():
    return sorted(cli.commands)


def _invoke(args, env=None):
    return CliRunner().invoke(cli, args, env=env)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command):
    result = _invoke([command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output or command == "data"


@pytest.mark.train  # starts the installed console script
def test_console_script_lists_commands():
    out = subprocess.run([str(STUDY_BIN), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("data", "run", "list", "export", "shapes"):
        assert command in out.stdout


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["run", "--profile", "huge"],
            "error: unknown profile 'huge'; accepted: smoke, quick, standard, paper",
        ),
        (
            ["shapes", "--input-shape", "28,28"],
            "error: --input-shape '28,28' must have three numbers H,W,C, e.g. 32,32,3",
        ),
        (["run", "--workers", "-1"], "error: --workers must be >= 0, got -1"),
        (
            ["run", "--study", "tabel1"],
            "error: --study 'tabel1' is neither a built-in study nor a file; accepted: "
            "default, table1, or the path of a TOML study file",
        ),
    ],
)
def test_errors_are_the_exact_line_and_status(tmp_path, args, line):
    result = _invoke([*args, "--store", str(tmp_path / "s.sqlite")] if args[0] == "run" else args)
    assert result.exit_code == 2 and result.stderr == line + "\n" and result.stdout == ""
    assert not (tmp_path / "s.sqlite").exists()


def test_missing_dataset_is_one_clean_line_without_traceback(tmp_path):
    result = _invoke(["data", "mnist"], env={"STUDY_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: dataset 'mnist' not found; searched ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_study_file_is_one_line_and_store_untouched(tmp_path, data_dir):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'datasets = ["mnist"]\n[[experiments]]\nname = "lr"\nparameter = "learning_rate"\nvalues = ["fast"]\n'
    )
    store = tmp_path / "s.sqlite"
    result = _invoke(["run", "--study", str(bad), "--store", str(store)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "learning_rate must be a number > 0, got 'fast'" in result.stderr
    assert not store.exists()


def test_data_command_reports_location_format_counts_and_fingerprint(data_dir):
    result = _invoke(["data", "mnist", "cifar10"])
    assert result.exit_code == 0, result.output
    assert (
        "mnist: " in result.stdout
        and "(idx)" in result.stdout
        and "(cifar-pickle)" in result.stdout
    )
    assert "train 60, test 30" in result.stdout and "fingerprint" in result.stdout


def test_a_built_in_study_is_chosen_by_its_key():
    table1 = _invoke(["shapes", "--study", "table1", "--experiment", "learning_rate"])
    default = _invoke(["shapes", "--experiment", "learning_rate_long"])
    assert table1.exit_code == 0 and default.exit_code == 0
    assert "0.001:" in table1.stdout  # Table 1's longer run trains 0.5, 0.01, 0.001
    assert (
        "0.05:" in default.stdout and "0.001:" not in default.stdout
    )  # the default's: 0.5, 0.05, 0.01


def test_shapes_command_prints_the_formula_and_totals():
    result = _invoke(["shapes", "--input-shape", "28,28,1"])
    assert "floor((28-5+2*0)/1)+1" in result.stdout and "total 431,080 params" in result.stdout


def test_list_and_export_on_missing_store_explain(tmp_path):
    result = _invoke(["list", "--store", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "does not exist; run `study run" in result.stderr


@pytest.mark.parametrize(
    "flags, where, workers, threads, progress, estimated",
    [
        ([], "local", 4, 2, True, True),
        (["--workers", "0", "--threads", "1", "--no-progress"], "in-process", 0, 1, False, True),
        (["--workers", "3"], "local", 3, 2, True, True),
        (["--scheduler", "tcp://10.0.0.5:8786"], "cluster", 4, None, True, False),
        (
            ["--scheduler", "tcp://10.0.0.5:8786", "--workers", "16"],
            "cluster",
            16,
            None,
            True,
            True,
        ),
    ],
)
def test_run_builds_one_execution_from_its_flags_and_passes_it_down(
    monkeypatch, tmp_path, flags, where, workers, threads, progress, estimated
):
    """The flags become one Execution, built before anything runs; a cluster of unknown size (no
    --workers) gets no estimate."""
    import study.run.execution
    import study.sequential.driver
    from study.records import RunCounts

    monkeypatch.setattr(study.run.execution.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(study.run.execution, "default_workers", lambda: 4)
    command_line = sys.modules["study.cli.main"]  # study.cli.main is also the name of a function
    monkeypatch.setattr(command_line, "require_tensorflow", lambda: None)
    seen = []

    def run_in_stages(study, profile, store, execution, calibration=None, origins=None):
        seen.append((execution, calibration))
        return RunCounts(planned=0, stored=0)

    monkeypatch.setattr(study.sequential.driver, "run_in_stages", run_in_stages)
    result = _invoke(["run", "--store", str(tmp_path / "s.sqlite"), *flags])
    assert result.exit_code == 0, result.output
    ((execution, calibration),) = seen
    assert str(execution.where) == where
    assert (execution.workers, execution.threads, execution.progress) == (
        workers,
        threads,
        progress,
    )
    assert (calibration is not None) == estimated


def test_run_refuses_a_bad_thread_count_in_one_line(tmp_path):
    result = _invoke(["run", "--threads", "0", "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and result.stderr == "error: --threads must be >= 1, got 0\n"
    assert not (tmp_path / "s.sqlite").exists()


def test_list_filters_by_status_and_counts_every_status(tmp_path):
    """`study list` on a store with one trial of each status: ok (learned), diverged, failed and missing."""
    from conftest import made_up_spec

    from study.plan.trials import PlanRow
    from study.records import TrialResult, TrialStatus
    from study.results.store import Store

    path = tmp_path / "s.sqlite"
    specs = {key: made_up_spec(key) for key in ("a", "b", "c", "d")}
    rows = [
        PlanRow("e", "kernel_size", k, i, "mnist", 1, k, False, "") for i, k in enumerate(specs)
    ]
    with Store(path) as store:
        store.save_plan("s", "p", {}, rows, specs)
        epoch = {"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.2, "val_accuracy": 0.9}
        store.save_trial(specs["a"], TrialResult("a", epochs=[{**epoch, "epoch_seconds": 1.0}]))
        nan = {**epoch, "loss": float("nan"), "epoch_seconds": 1.0}
        store.save_trial(
            specs["b"], TrialResult("b", TrialStatus.DIVERGED, [nan], diverged_epoch=1)
        )
        store.save_trial(specs["c"], TrialResult.failed("c", "MemoryError: a test"))
    everything = _invoke(["list", "--store", str(path)])
    assert everything.exit_code == 0, everything.output
    assert (
        everything.stdout.splitlines()[-1]
        == "4 trials: 1 diverged, 1 failed, 1 learned, 1 missing"
    )
    for status, key in (
        ("ok", "a"),
        ("learned", "a"),
        ("diverged", "b"),
        ("failed", "c"),
        ("missing", "d"),
    ):
        shown = _invoke(["list", "--store", str(path), "--status", status]).stdout.splitlines()
        assert [line.split()[-1] for line in shown[:-1]] == [key], (status, shown)
