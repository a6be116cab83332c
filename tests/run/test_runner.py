"""The runner end to end on tiny data: store contents, resume, kill -9 (Dask cluster: test_failures.py)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from study.declare.spec import Profile, get_profile
from study.declare.studyfile import load_study_file
from study.results.store import Store
from study.results.tables import export_table, plan_frame
from study.run.execution import Execution
from study.run.runner import run_study

TINY = Path(__file__).parents[1] / "tiny.toml"
PROFILE = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)
STUDY_BIN = Path(sys.executable).parent / "study"


def _numbers(store_path):
    with sqlite3.connect(store_path) as db:
        return sorted(
            db.execute(
                "SELECT trial_key, epoch, loss, accuracy, val_loss, val_accuracy FROM epochs"
            )
        )


@pytest.mark.train
def test_run_stores_every_trial_once_and_shares_the_baseline(data_dir, tmp_path):
    store_path = tmp_path / "s.sqlite"
    counts = run_study(
        load_study_file(TINY),
        PROFILE,
        store_path,
        execution=Execution.build(workers=0, threads=1, progress=False),
        log=lambda line: None,
    )
    # kernel {3, 5} and lr {0.1, 0.01} share kernel=5/lr=0.1 (the baseline): 3 configs x 2 seeds
    assert (counts.planned, counts.stored, counts.trained, counts.failed, counts.diverged) == (
        6,
        0,
        6,
        0,
        0,
    )
    assert (
        counts.learned + counts.collapsed == 6 and counts.images == 6 * 2 * 60
    )  # 60 tiny train images
    with Store(store_path) as store:
        plan = plan_frame(store)
        assert len(plan) == 8 and plan["trial_key"].nunique() == 6
        assert set(plan[plan["is_baseline"] == 1]["value"]) == {"5", "0.1"}
        table = export_table(store)
        assert list(table.columns) == [
            "study",
            "experiment",
            "parameter",
            "value",
            "dataset",
            "seed",
            "epoch",
            "loss",
            "accuracy",
            "val_loss",
            "val_accuracy",
            "epoch_seconds",
            "trial_key",
            "status",
            "profile",
            "outcome",
            "phase",
        ]
        assert set(table["outcome"]) <= {"learned", "collapsed", "diverged"}
        assert len(table) == 8 * 2  # plan rows x 2 epochs
        env = store.latest_run("tiny", "test")
        assert env["trained"] == 6 and "tensorflow" in env["environment"]
        assert "CPU, 1 intra-op / 1 inter-op threads" in env["environment"]
    again = run_study(
        load_study_file(TINY),
        PROFILE,
        store_path,
        execution=Execution.build(workers=0, progress=False),
        log=lambda l: None,  # noqa: E741
    )
    assert again.trained == 0 and again.stored == 6


def test_bad_study_file_fails_before_any_training(data_dir, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.read_text().replace("values = [3, 5]", "values = [3, 29]"))
    store_path = tmp_path / "s.sqlite"
    from study.errors import ConfigError

    with pytest.raises(
        ConfigError, match="experiment 'kernel', value '29', dataset 'mnist': conv1: feature map"
    ):
        run_study(
            load_study_file(bad),
            PROFILE,
            store_path,
            execution=Execution.build(workers=0, progress=False),
        )
    assert not store_path.exists() or _numbers(store_path) == []


def _cli(args, env, **kwargs):
    return subprocess.run(
        [str(STUDY_BIN), *args], env=env, capture_output=True, text=True, **kwargs
    )


@pytest.mark.train
@pytest.mark.slow
def test_kill_minus_9_mid_run_loses_only_trials_in_flight(data_dir, tmp_path):
    study_file = tmp_path / "longer.toml"
    study_file.write_text(TINY.read_text().replace("seeds = [1, 2]", "seeds = [1, 2, 3]"))
    store_path = tmp_path / "s.sqlite"
    env = dict(os.environ, STUDY_DATA_DIR=str(data_dir))
    args = [
        "run",
        "--study",
        str(study_file),
        "--store",
        str(store_path),
        "--profile",
        "quick",
        "--workers",
        "0",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        [str(STUDY_BIN), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.2)
        if store_path.exists():
            with sqlite3.connect(store_path) as db:
                try:
                    if db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] >= 2:
                        break
                except sqlite3.OperationalError:
                    pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(store_path) as db:
        stored = db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        epochs = db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
    per_trial = get_profile("quick").epochs  # the tiny baseline's epochs, scaled to quick's
    assert 2 <= stored < 9 and epochs == stored * per_trial  # whole trials only
    finished = _cli(args, env, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"{stored} already stored, {9 - stored} trained" in finished.stdout
    with sqlite3.connect(store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 9
        assert db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 9 * per_trial
