"""What `study run` prints: readable per-trial lines, a closing summary, library logs in a file."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import made_up_spec

from study.records import RunCounts, TrialResult
from study.results.outcomes import ConstantAnswer
from study.run.console import RunLog, describe_uses, final_outcome, summary_line, trial_line

TINY = Path(__file__).parents[1] / "tiny.toml"
STUDY_BIN = Path(sys.executable).parent / "study"


def _result(status="ok", accuracy=0.9, loss=0.3, **extra):
    epochs = [{"epoch": 1, "loss": loss, "val_accuracy": accuracy, "val_loss": loss}]
    return TrialResult("k", status=status, epochs=epochs, train_seconds=4.25, **extra)


def test_trial_line_names_experiment_value_dataset_seed_accuracy_and_seconds():
    line = trial_line(
        "kernel = 3", "mnist", 2, _result(), "learned", done=3, total=10, eta_seconds=90
    )
    assert line == "[3/10, eta 90 s] kernel = 3, mnist, seed 2: accuracy 0.9000, 4.2 s"


def test_trial_line_marks_collapsed_diverged_and_failed():
    collapsed = trial_line("lr = 5", "cifar10", 1, _result(accuracy=0.1), "collapsed", 10, 10, 0)
    assert collapsed == "[10/10, done] lr = 5, cifar10, seed 1: accuracy 0.1000 (collapsed), 4.2 s"
    diverged = _result(status="diverged", diverged_epoch=2)
    assert "seed 1: diverged at epoch 2," in trial_line(
        "lr = 5", "mnist", 1, diverged, "diverged", 1, 2, 5
    )
    failed = _result(status="failed", error="KilledWorker: trial-x")
    assert "seed 1: FAILED: KilledWorker: trial-x," in trial_line(
        "lr = 5", "mnist", 1, failed, None, 1, 2, 5
    )


def test_shared_baseline_lists_its_uses():
    assert describe_uses([("kernel", "3", False)]) == "kernel = 3"
    uses = [(name, "x", True) for name in ("a", "b", "c", "d", "e")]
    assert describe_uses(uses) == "baseline (a = x, b = x, c = x and 2 more)"


def test_outcome_counts_a_trial_near_chance_as_collapsed():
    ten = ConstantAnswer.uniform(10)
    assert final_outcome(_result(accuracy=0.12, loss=2.3), ten) == "collapsed"
    assert final_outcome(_result(accuracy=0.95, loss=0.2), ten) == "learned"
    assert final_outcome(_result(status="failed"), ten) is None


def test_summary_counts_outcomes_wall_time_throughput_and_names_the_log():
    counts = RunCounts(
        planned=12,
        stored=2,
        trained=10,
        learned=6,
        collapsed=2,
        diverged=1,
        failed=1,
        seconds=150.0,
        images=300_000,
        log="output/study-run.log",
    )
    assert summary_line(counts, "output/study.sqlite") == (
        "12 trials: 2 already stored, 10 trained (6 learned, 2 collapsed, 1 diverged, 1 failed) in 2.5 min, "
        "2,000 images/s -> output/study.sqlite; worker and TensorFlow logs: output/study-run.log"
    )


def test_run_log_takes_library_logging_off_the_console_and_restores_it(
    tmp_path, capsys, monkeypatch
):
    """TensorFlow's C++ logs are quieted unless the user chose a level (TF_CPP_MIN_LOG_LEVEL=2 is a common
    export: the test passes whatever the environment holds, and checks both cases)."""
    path = tmp_path / "study-run.log"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with RunLog(path):
        logging.getLogger("distributed.worker").error(
            "Failed to communicate with scheduler during heartbeat"
        )
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with RunLog(tmp_path / "again.log"):
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert "heartbeat" in path.read_text() and "heartbeat" not in capsys.readouterr().err
    assert not any(
        isinstance(h, logging.FileHandler) for h in logging.getLogger("distributed").handlers
    )


@pytest.mark.train
@pytest.mark.slow
def test_local_cluster_run_prints_progress_and_summary_only(data_dir, tmp_path):
    store = tmp_path / "s.sqlite"
    done = subprocess.run(
        [
            str(STUDY_BIN),
            "run",
            "--study",
            str(TINY),
            "--store",
            str(store),
            "--profile",
            "smoke",
            "--workers",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("tiny [smoke]: 6 trials, 0 stored, 6 to train")
    progress = lines[1:]
    assert len(progress) == 6, done.stderr  # no TensorFlow, absl or Dask line in between or after
    assert all(line.startswith("[") and ", mnist, seed " in line for line in progress)
    assert sum("baseline (kernel = 5, lr = 0.1), mnist" in line for line in progress) == 2
    assert done.stdout.startswith("6 trials: 0 already stored, 6 trained (")
    assert done.stdout.rstrip().endswith(
        f"worker and TensorFlow logs: {tmp_path / 'study-run.log'}"
    )


def test_study_list_shows_the_trial_first_and_its_key_last(tmp_path):
    from click.testing import CliRunner

    from study.cli.main import cli
    from study.plan.trials import PlanRow
    from study.records import TrialResult
    from study.results.store import Store

    with Store(tmp_path / "s.sqlite") as store:
        store.save_plan(
            "s",
            "smoke",
            {},
            [PlanRow("kernel", "kernel_size", "3", 0, "mnist", 2, "abc123", False, "")],
            {"abc123": made_up_spec("abc123", seed=2)},
        )
        store.save_trial(
            made_up_spec("abc123", seed=2),
            TrialResult(
                "abc123",
                epochs=[
                    {
                        "epoch": 1,
                        "loss": 0.5,
                        "accuracy": 0.9,
                        "val_loss": 0.4,
                        "val_accuracy": 0.9125,
                        "epoch_seconds": 1.0,
                    }
                ],
            ),
        )
    result = CliRunner().invoke(cli, ["list", "--store", str(tmp_path / "s.sqlite")])
    first = result.output.splitlines()[0]
    assert first.split() == [
        "kernel=3",
        "mnist",
        "seed",
        "2",
        "learned",
        "1",
        "ep",
        "accuracy",
        "0.9125",
        "abc123",
    ]


def test_the_eta_weighs_the_trials_left_by_their_cost():
    """The longest trials run first: after one trial of cost 10 in 20 s, nine left of cost 1 each take
    about 18 s more, not nine times 20 s (what counting trials said: 387 minutes for a 17-minute run)."""
    from study.run.runner import eta_seconds

    assert eta_seconds(20.0, 10.0, 19.0, 1, 9) == pytest.approx(18.0)
    assert eta_seconds(20.0, 0.0, 0.0, 1, 9) == pytest.approx(180.0)  # no costs: by counts
    assert eta_seconds(20.0, 19.0, 19.0, 10, 0) == 0.0


def test_the_eta_of_a_short_run_leans_on_the_plan_until_trials_have_run():
    """A 25-second run's first trial ends after the 7-second startup: elapsed time over one trial of
    fifteen said 1.8 minutes. The startup is taken off, and the plan's estimate weighs as much as the
    share of the cost still to train."""
    from study.run.runner import eta_seconds

    # 1 of 15 equal trials done 8.5 s in, 7 s of it startup; the plan expected 21 s of training
    first = eta_seconds(8.5, 1.0, 15.0, 1, 14, planned=21.0, startup=7.0)
    assert first == pytest.approx(1 / 15 * 1.5 * 14 + 14 / 15 * 21.0 * 14 / 15)
    assert 15 < first < 25
    # most of the cost trained: the observed rate decides
    late = eta_seconds(37.0, 14.0, 15.0, 14, 1, planned=21.0, startup=7.0)
    assert late == pytest.approx(14 / 15 * 30 / 14 + 1 / 15 * 21.0 / 15)
    # a run slower than planned shows it as its trials end
    slow = eta_seconds(67.0, 10.0, 15.0, 10, 5, planned=21.0, startup=7.0)
    assert slow > 21.0 * 5 / 15 * 2


def test_counts_read_singular_for_one():
    from study.words import counted

    assert (counted(1, "trial"), counted(0, "trial"), counted(1200, "image")) == (
        "1 trial",
        "0 trials",
        "1,200 images",
    )
    assert counted(2, "look", "looks") == "2 looks"
