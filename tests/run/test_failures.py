"""The README's failure promises: a killed Dask worker, a crashing trial, two runs on one store."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from study.declare.spec import Profile
from study.declare.studyfile import load_study_file
from study.results.store import Store
from study.results.tables import plan_frame, trial_listing
from study.run.execution import Execution
from study.run.lock import StoreLock
from study.run.runner import run_study


def _rows(store, sql: str, params: tuple = ()) -> list:
    """Inspect the store file directly (the package reads it only through Store's typed methods)."""
    return list(store.db.execute(sql, params))


pytestmark = pytest.mark.train  # every test here trains or imports TensorFlow

TINY = Path(__file__).parents[1] / "tiny.toml"
PROFILE = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)
BIN = Path(sys.executable).parent


def _numbers(store_path):
    with sqlite3.connect(store_path) as db:
        return sorted(
            db.execute(
                "SELECT trial_key, epoch, loss, accuracy, val_loss, val_accuracy FROM epochs"
            )
        )


def _longer(tmp_path, epochs):
    path = tmp_path / "longer.toml"
    path.write_text(TINY.read_text().replace("epochs = 2", f"epochs = {epochs}"))
    return path


def test_crashing_trial_is_stored_failed_then_retried_and_counted_once(
    data_dir, tmp_path, monkeypatch
):
    import study.train.fastfit

    store_path = tmp_path / "s.sqlite"
    real_fit = study.train.fastfit.fit

    def crash_on_kernel_3_seed_2(config, settings, seed, data, record):
        if config.kernel_size == 3 and seed == 2:
            raise MemoryError("out of memory in a test")
        return real_fit(config, settings, seed, data, record)

    monkeypatch.setattr(study.train.fastfit, "fit", crash_on_kernel_3_seed_2)
    first = run_study(
        load_study_file(TINY),
        PROFILE,
        store_path,
        execution=Execution.build(workers=0, threads=1, progress=False),
        log=lambda line: None,
    )
    assert (first.trained, first.failed) == (6, 1)
    with Store(store_path) as store:
        failed = _rows(store, "SELECT trial_key, error FROM trials WHERE status = 'failed'")
        assert len(failed) == 1 and failed[0]["error"] == "MemoryError: out of memory in a test"
        key = failed[0]["trial_key"]
    monkeypatch.setattr(study.train.fastfit, "fit", real_fit)
    lines = []
    again = run_study(
        load_study_file(TINY),
        PROFILE,
        store_path,
        execution=Execution.build(workers=0, threads=1, progress=False),
        log=lines.append,
    )
    assert (again.stored, again.trained, again.failed) == (5, 1, 0)
    assert "kernel = 3, mnist, seed 2: accuracy" in lines[-1]
    with Store(store_path) as store:
        assert [
            tuple(r) for r in _rows(store, "SELECT status FROM trials WHERE trial_key = ?", (key,))
        ] == [("ok",)]
        assert _rows(store, "SELECT COUNT(*) FROM epochs WHERE trial_key = ?", (key,))[0][0] == 2
        plan = plan_frame(store)
        assert len(plan) == 8 and set(plan["status"]) == {"ok"}
        assert [r.status for r in trial_listing(store)].count("ok") == 6
    assert (
        run_study(
            load_study_file(TINY),
            PROFILE,
            store_path,
            execution=Execution.build(workers=0, progress=False),
            log=lambda line: None,
        ).trained
        == 0
    )


@pytest.mark.slow
def test_second_run_on_the_same_store_refuses_at_once_naming_the_first(data_dir, tmp_path):
    store_path = tmp_path / "s.sqlite"
    args = [
        "run",
        "--study",
        str(TINY),
        "--store",
        str(store_path),
        "--profile",
        "smoke",
        "--workers",
        "0",
        "--no-progress",
    ]
    first = subprocess.Popen(
        [str(BIN / "study"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lock = Path(f"{store_path}.lock")
    deadline = time.time() + 60
    while time.time() < deadline and not (
        lock.exists() and f'"pid": {first.pid}' in lock.read_text()
    ):
        time.sleep(0.1)
    started = time.time()
    second = subprocess.run(
        [str(BIN / "study"), *args], capture_output=True, text=True, timeout=60
    )
    refused_after = time.time() - started
    still_running = first.poll() is None
    first.kill()  # a dead run's lock is released by the kernel: the store is free again at once
    first.communicate(timeout=60)
    assert still_running, "the first run ended before the second started; make it longer"
    assert second.returncode == 2 and refused_after < 20
    assert second.stderr.splitlines() == [
        next(
            line
            for line in second.stderr.splitlines()
            if line.startswith(
                f"error: store {store_path} is in use by "
                f"another `study run` (pid {first.pid} on "
            )
        )
    ]
    with sqlite3.connect(
        store_path
    ) as db:  # the refused run wrote nothing: at most the first run's record
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] <= 1
    StoreLock(store_path).acquire().release()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dask_worker_killed_mid_trial_is_retried_and_numbers_equal_a_local_run(data_dir, tmp_path):
    study_file = _longer(tmp_path, 6)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            **quiet,
        )
    ]
    killed = []

    def kill_the_worker_of_the_first_result(line):
        if killed or not line.startswith("[1/"):
            return
        with sqlite3.connect(remote) as db:  # that worker is training its next trial now
            worker = db.execute("SELECT worker FROM trials").fetchone()[0]
        killed.append(int(worker.rsplit(":", 1)[1]))
        os.kill(killed[0], signal.SIGKILL)

    try:
        time.sleep(1.5)
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    **quiet,
                )
            )
        remote = tmp_path / "remote.sqlite"
        counts = run_study(
            load_study_file(study_file),
            PROFILE,
            remote,
            execution=Execution.build(scheduler=address, threads=1, progress=False),
            log=kill_the_worker_of_the_first_result,
        )
        assert killed and counts.trained == 6 and counts.failed == 0
        with sqlite3.connect(remote) as db:
            workers = [row[0] for row in db.execute("SELECT worker FROM trials ORDER BY rowid")]
        assert (
            sum(w.endswith(f":{killed[0]}") for w in workers) == 1
        )  # its trial in flight finished elsewhere
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    local = tmp_path / "local.sqlite"
    run_study(
        load_study_file(study_file),
        PROFILE,
        local,
        execution=Execution.build(workers=0, threads=1, progress=False),
        log=lambda l: None,  # noqa: E741
    )
    assert _numbers(remote) == _numbers(local)
