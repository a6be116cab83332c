"""The store's schema version: new stores are stamped, old unversioned ones accepted, others refused."""

import json
import sqlite3

import pytest
from conftest import made_up_spec

from study.errors import StudyError
from study.results.store import SCHEMA, SCHEMA_VERSION, Store


def _rows(store, sql: str, params: tuple = ()) -> list:
    """Inspect the store file directly (the package reads it only through Store's typed methods)."""
    return list(store.db.execute(sql, params))


def _version(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_new_store_is_stamped_with_the_schema_version(tmp_path):
    Store(tmp_path / "s.sqlite").close()
    assert _version(tmp_path / "s.sqlite") == SCHEMA_VERSION


# The trials table as schema version 1 (and unversioned stores) had it, written out as it was.
TRIALS_V1 = """
CREATE TABLE trials (
    trial_key TEXT PRIMARY KEY, dataset TEXT NOT NULL, seed INTEGER NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, diverged_epoch INTEGER, error TEXT, epochs_run INTEGER NOT NULL, train_seconds REAL,
    wall_seconds REAL, params INTEGER, macs INTEGER, worker TEXT, finished_at TEXT NOT NULL
);
"""
# The plan table as schema versions 1 and 2 had it (version 3 added ``phase``).
PLAN_V1 = """
CREATE TABLE plan (
    study TEXT NOT NULL, profile TEXT NOT NULL, experiment TEXT NOT NULL, parameter TEXT NOT NULL,
    value TEXT NOT NULL, value_index INTEGER NOT NULL, dataset TEXT NOT NULL, seed INTEGER NOT NULL,
    trial_key TEXT NOT NULL, is_baseline INTEGER NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (study, profile, experiment, value, dataset, seed)
);
"""


def _old_store(path, version: int):
    """A store as study wrote it at schema ``version`` (0 or 1), with one trained trial of two epochs."""
    config = json.dumps(made_up_spec("old").to_dict(), sort_keys=True)
    with sqlite3.connect(path) as db:
        db.executescript(
            TRIALS_V1 + PLAN_V1 + SCHEMA
        )  # SCHEMA creates only the tables not there yet
        db.execute("INSERT INTO planned VALUES ('old', ?)", (config,))
        db.execute(
            "INSERT INTO plan VALUES ('s', 'p', 'e', 'kernel_size', '3', 0, 'mnist', 1, 'old', 0, '')"
        )
        db.execute(
            "INSERT INTO trials VALUES ('old', 'mnist', 1, ?, 'ok', NULL, NULL, 2, 3.5, 9.0, 10, 20, 'w', 't')",
            (config,),
        )
        db.executemany(
            "INSERT INTO epochs VALUES ('old', ?, 0.5, 0.8, 0.4, 0.9, ?)", [(1, 2.5), (2, 1.0)]
        )
        db.execute(f"PRAGMA user_version = {version}")


def _table_columns(path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_unversioned_store_of_the_same_layout_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    _old_store(path, 0)
    with Store(path) as store:
        assert [r[0] for r in _rows(store, "SELECT trial_key FROM planned")] == ["old"]
    assert _version(path) == SCHEMA_VERSION


@pytest.mark.parametrize("version", [0, 1])
def test_old_store_gains_trace_and_load_columns_with_null_in_old_rows(tmp_path, version):
    from study.records import TrialResult

    path, fresh = tmp_path / "old.sqlite", tmp_path / "fresh.sqlite"
    _old_store(path, version)
    Store(fresh).close()
    with Store(path) as store:
        (old,) = store.stored_trials()
        assert (old.key, old.train_seconds, old.trace_seconds, old.load_seconds) == (
            "old",
            3.5,
            None,
            None,
        )
        store.save_trial(
            made_up_spec("new"),
            TrialResult("new", epochs=[], train_seconds=1.0, trace_seconds=0.0, load_seconds=0.25),
        )
        new = next(t for t in store.stored_trials() if t.key == "new")
        assert (new.trace_seconds, new.load_seconds) == (0.0, 0.25)
    assert _table_columns(path) == _table_columns(
        fresh
    )  # the same columns in the same order as a new store
    assert _version(path) == SCHEMA_VERSION
    with Store(path) as store:  # opened again: nothing left to migrate, the rows kept
        assert {t.key for t in store.stored_trials()} == {"old", "new"}
        plan = store.plan_frame()
    # the old plan row reads no phase: a comparison's row, never a grid's selection cell
    assert list(plan["trial_key"]) == ["old"] and plan["phase"].isna().all()
    from study.analyse.selection import selection_rows

    assert not selection_rows(plan).any()


def test_old_store_with_a_new_column_already_is_refused_untouched(tmp_path):
    path = tmp_path / "half.sqlite"
    _old_store(path, 1)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE trials ADD COLUMN trace_seconds REAL")
    before = path.read_bytes()
    with pytest.raises(
        StudyError, match=r"schema version 1 and its table 'trials' has columns .*trace_seconds"
    ):
        Store(path)
    assert path.read_bytes() == before


def test_store_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("CREATE TABLE trials (trial_key TEXT, something_new TEXT)")
    before = path.read_bytes()
    with pytest.raises(
        StudyError, match=rf"schema version {SCHEMA_VERSION + 1}, written by a newer version"
    ):
        Store(path)
    assert path.read_bytes() == before


def test_store_with_another_layout_names_the_table_and_columns(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE trials (trial_key TEXT PRIMARY KEY, val_acc REAL)")
    with pytest.raises(
        StudyError, match=r"table 'trials' has columns trial_key, val_acc; .* expects trial_key, "
    ):
        Store(path, create=False)
    assert _version(path) == 0


def test_cli_reports_a_newer_store_in_one_line(tmp_path):
    from click.testing import CliRunner

    from study.cli.main import cli

    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    result = CliRunner().invoke(cli, ["list", "--store", str(path)])
    assert (
        result.exit_code == 2
        and result.stderr.startswith("error: ")
        and "newer version of study" in result.stderr
    )


def test_trial_status_round_trips_through_the_store_as_its_plain_value(tmp_path):
    """Each status a trainer returns is written as its value ('ok', ...) and read back as the TrialStatus
    member; a planned trial without a row reads 'missing'; a failed one is trained again."""
    from study.plan.trials import PlanRow
    from study.records import TrialResult, TrialStatus
    from study.results.tables import trial_listing, trial_summaries

    specs = {
        key: made_up_spec(key, seed=i + 1) for i, key in enumerate(("ok", "div", "fail", "none"))
    }
    rows = [
        PlanRow("e", "kernel_size", "3", 0, "mnist", s.seed, k, False, "")
        for k, s in specs.items()
    ]
    epoch = {"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.2, "val_accuracy": 0.9}
    with Store(tmp_path / "s.sqlite") as store:
        store.save_plan("s", "p", {}, rows, specs)
        store.save_trial(specs["ok"], TrialResult("ok", "ok", [{**epoch, "epoch_seconds": 1.0}]))
        store.save_trial(
            specs["div"], TrialResult("div", TrialStatus.DIVERGED, [], diverged_epoch=1)
        )
        store.save_trial(specs["fail"], TrialResult.failed("fail", "MemoryError: a test"))
        written = dict(_rows(store, "SELECT trial_key, status FROM trials"))
        stored = {t.key: t.status for t in store.stored_trials()}
        listed = {t.key: t.status for t in trial_listing(store)}
        summaries = trial_summaries(store)
        done = store.done_keys()
        frame = store.plan_frame()
    assert written == {"ok": "ok", "div": "diverged", "fail": "failed"}
    assert all(type(v) is str for v in written.values())  # the column holds plain text
    assert stored == {
        "ok": TrialStatus.OK,
        "div": TrialStatus.DIVERGED,
        "fail": TrialStatus.FAILED,
    }
    assert all(type(s) is TrialStatus for s in [*stored.values(), *listed.values()])
    assert listed == {**stored, "none": TrialStatus.MISSING}
    assert {k: s.status for k, s in summaries.items()} == stored
    assert (summaries["ok"].outcome, summaries["div"].outcome, summaries["fail"].outcome) == (
        "learned",
        "diverged",
        None,
    )
    assert done == {"ok", "div"}
    assert dict(zip(frame["trial_key"], frame["status"])) == {
        "ok": "ok",
        "div": "diverged",
        "fail": "failed",
        "none": "missing",
    }


def test_a_trainer_status_outside_the_enum_is_refused():
    from study.records import TrialResult, TrialStatus

    assert TrialResult("k", "diverged").status is TrialStatus.DIVERGED
    with pytest.raises(ValueError, match="status 'missing' is not one of ok, diverged, failed"):
        TrialResult("k", "missing")  # a store's word for no result, never a trainer's
    with pytest.raises(ValueError, match="status 'finished' is not one of"):
        TrialResult("k", "finished")


# The ``stages`` of a study spec as study.sequential.driver wrote them before Stage existed: JSON objects.
OLD_STAGES = [
    {
        "look": 2,
        "experiment": "kernel_size",
        "value": "3",
        "dataset": "mnist",
        "seeds": 6,
        "reason": "difference",
    },
    {
        "look": 3,
        "experiment": "learning_rate",
        "value": "0.01",
        "dataset": "cifar10",
        "seeds": 9,
        "reason": "equivalence",
    },
]


def _spec_with(stages) -> dict:
    from study.declare.builtin import builtin_study
    from study.declare.spec import get_profile
    from study.run.runner import study_spec

    spec = study_spec(builtin_study(), get_profile("quick"), {})
    return spec if stages is None else {**spec, "stages": stages}


def test_stages_of_an_old_store_load_as_stage_records(tmp_path):
    from study.results.stored import Stage

    path = tmp_path / "old.sqlite"
    spec = _spec_with(OLD_STAGES)
    with Store(path) as store:
        store.save_plan("LeNet", "quick", spec, [], {})
    with sqlite3.connect(path) as db:  # the JSON as stored, field for field
        (text,) = db.execute("SELECT spec FROM studies").fetchone()
    assert json.loads(text)["stages"] == OLD_STAGES
    with Store(path, create=False) as store:
        stored = store.stored_study("LeNet", "quick")
    assert stored.stages == (
        Stage(2, "kernel_size", "3", "mnist", 6, "difference"),
        Stage(3, "learning_rate", "0.01", "cifar10", 9, "equivalence"),
    )
    assert [stage.to_dict() for stage in stored.stages] == OLD_STAGES  # written back the same
    assert stored.to_dict()["stages"] == OLD_STAGES


@pytest.mark.parametrize("stages", [None, []])
def test_a_store_without_stages_loads_none(tmp_path, stages):
    """Stores written before seeds in stages existed have no ``stages`` key; one look writes an empty list."""
    with Store(tmp_path / "s.sqlite") as store:
        store.save_plan("LeNet", "quick", _spec_with(stages), [], {})
        assert store.stored_study("LeNet", "quick").stages == ()
