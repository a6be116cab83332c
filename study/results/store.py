"""The results store: SQLite (WAL), one row per trial, one per (trial, epoch), plus the study plan.

Only the driver writes. A trial is written whole in one transaction or not at all, so killing a run
loses at most the trials in flight. The report reads this file alone.

    store = Store("output/study.sqlite")
    store.done_keys()  # keys of trials already trained
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from study.errors import StudyError
from study.plan.trials import TrialSpec
from study.records import TrialResult, TrialStatus
from study.results.stored import DatasetFacts, EpochRow, StoredStudy, StoredTrial

# Bump when the tables below change, and add the step from the previous version to ``ADDED_COLUMNS``.
# Stores written before versions existed have user_version 0 and exactly the version-1 tables.
SCHEMA_VERSION = 4

# Columns each version added to the version before it, (table, column, SQL type), appended in this order
# (SQLite's ALTER TABLE ADD COLUMN appends, so SCHEMA lists them last too). Old rows read NULL.
ADDED_COLUMNS: dict[int, tuple[tuple[str, str, str], ...]] = {
    2: (("trials", "trace_seconds", "REAL"), ("trials", "load_seconds", "REAL")),
    3: (("plan", "phase", "TEXT"),),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    trial_key TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,            -- JSON: settings, model, subset sizes, data seed, fingerprint
    status TEXT NOT NULL,            -- ok, diverged, failed
    diverged_epoch INTEGER,
    error TEXT,
    epochs_run INTEGER NOT NULL,
    train_seconds REAL,
    wall_seconds REAL,
    params INTEGER,
    macs INTEGER,
    worker TEXT,
    finished_at TEXT NOT NULL,
    trace_seconds REAL,              -- building and tracing the graph, 0 when cached, NULL before schema 2
    load_seconds REAL                -- loading the data subset into tensors, NULL before schema 2
);
CREATE TABLE IF NOT EXISTS epochs (
    trial_key TEXT NOT NULL REFERENCES trials(trial_key) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    loss REAL, accuracy REAL, val_loss REAL, val_accuracy REAL, epoch_seconds REAL,
    PRIMARY KEY (trial_key, epoch)
);
CREATE TABLE IF NOT EXISTS plan (
    study TEXT NOT NULL, profile TEXT NOT NULL, experiment TEXT NOT NULL, parameter TEXT NOT NULL,
    value TEXT NOT NULL, value_index INTEGER NOT NULL, dataset TEXT NOT NULL, seed INTEGER NOT NULL,
    trial_key TEXT NOT NULL, is_baseline INTEGER NOT NULL, note TEXT NOT NULL,
    phase TEXT,                      -- 'selection': a grid cell scored on its validation split; NULL before schema 3
    PRIMARY KEY (study, profile, experiment, value, dataset, seed)
);
CREATE TABLE IF NOT EXISTS planned (
    trial_key TEXT PRIMARY KEY,
    config TEXT NOT NULL             -- JSON, as in trials.config: lets the report describe missing trials
);
CREATE TABLE IF NOT EXISTS studies (
    study TEXT NOT NULL, profile TEXT NOT NULL,
    spec TEXT NOT NULL,              -- JSON: baseline, experiments, seeds, profile, datasets
    updated_at TEXT NOT NULL,
    PRIMARY KEY (study, profile)
);
CREATE TABLE IF NOT EXISTS test_sets (
    fingerprint TEXT PRIMARY KEY,    -- the data a trial's config names: its test subset, fixed by the data seed
    dataset TEXT NOT NULL,
    indices BLOB NOT NULL,           -- int64 per test image: its index in the full test split
    labels BLOB NOT NULL             -- uint8 per test image: its class
);
CREATE TABLE IF NOT EXISTS predictions (
    trial_key TEXT PRIMARY KEY REFERENCES trials(trial_key) ON DELETE CASCADE,
    classes BLOB NOT NULL            -- uint8 per test image, in the test set's order: the class after the last epoch
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study TEXT NOT NULL, profile TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    environment TEXT NOT NULL,       -- JSON: versions, CPU, device, threads, workers
    planned INTEGER, trained INTEGER, failed INTEGER, wall_seconds REAL
);
"""


def _columns(db: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {
        t: [row[1] for row in db.execute(f"PRAGMA table_info({t})")]
        for t in tables
        if t != "sqlite_sequence"
    }


def _expected_columns(version: int = SCHEMA_VERSION) -> dict[str, list[str]]:
    """Each table's columns, in order, as schema ``version`` (1 or later) has them."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    columns = _columns(db)
    for later in range(version + 1, SCHEMA_VERSION + 1):
        for table, column, _ in ADDED_COLUMNS.get(later, ()):
            columns[table].remove(column)
    return columns


def _create_statements() -> dict[str, str]:
    """Each table's CREATE TABLE statement as SCHEMA writes it, by table name."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    return {
        name: sql
        for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
        if name != "sqlite_sequence"
    }


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables of a new store, bring an older one up to ``SCHEMA_VERSION``, refuse the rest.

    An unversioned store (user_version 0) is read as version 1. Its tables must have exactly the columns
    of its version; then the missing tables are created and ``ADDED_COLUMNS`` of each later version added
    (their values NULL in old rows), in one transaction. A store from a newer ``study`` (higher
    ``PRAGMA user_version``) or with tables of another layout ends in one StudyError naming the versions;
    nothing is written to it.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StudyError(
            f"results store {path} has schema version {version}, written by a newer version of study; "
            f"this one reads version {SCHEMA_VERSION}: upgrade study, or use another --store"
        )
    if version == SCHEMA_VERSION:
        return
    found = _columns(db)
    if not found:  # a new store
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return
    expected = _expected_columns(max(version, 1))
    for table, columns in expected.items():
        if table in found and found[table] != columns:
            raise StudyError(
                f"results store {path} has schema version {version} and its table {table!r} has columns "
                f"{', '.join(found[table])}; this version of study (schema {SCHEMA_VERSION}) expects "
                f"{', '.join(columns)}: move the store aside (its results cannot be read) or use another --store"
            )
    db.execute("BEGIN IMMEDIATE")
    try:
        for later in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
            for table, column, kind in ADDED_COLUMNS.get(later, ()):
                if table in found:  # a table created below already has it
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        for table, create in _create_statements().items():  # the tables the old store lacks
            if table not in found:
                db.execute(create)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _real(value: Any) -> float | None:
    """NaN and infinities are stored as NULL (a diverged epoch has no finite loss)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


APPLICATION_ID = (
    0x53545544  # "STUD" in SQLite's header (PRAGMA application_id): a store this project wrote
)
NOT_A_STORE = "accepted: a store `study run` wrote, or the path of a new file"


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write ``path``; ``immutable`` where its folder cannot hold SQLite's shared
    memory file either (a read-only mount: nothing else writes it then)."""
    uri = path.resolve().as_uri()
    mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
    return sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30, isolation_level=None)


def inspect(path: Path) -> int:
    """Check, through a read-only connection, that the existing file at ``path`` is a store this project
    wrote and that it is intact; return its schema version (0: a store from before versions). One
    StudyError otherwise, and nothing is written to the file: another program's SQLite file (tables study
    never writes, or another application id), a file that is not SQLite, a damaged one (SQLite's
    ``quick_check``)."""
    try:
        db = _read_only(path)
    except sqlite3.Error as err:
        raise StudyError(f"results store {path} cannot be opened ({err}); {NOT_A_STORE}") from None
    try:
        application = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = set(_columns(db))
        checked = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as err:
        if "malformed" in str(err):
            raise StudyError(_damaged(path, str(err))) from None
        raise StudyError(
            f"results store {path} is not a SQLite file ({err}); {NOT_A_STORE}"
        ) from None
    finally:
        db.close()
    foreign = sorted(tables - set(_expected_columns()))
    if application not in (0, APPLICATION_ID) or foreign:
        what = (
            f"its tables {', '.join(foreign[:4])}{' ...' if len(foreign) > 4 else ''} are not study's"
            if foreign
            else f"its application id is {application:#x}, study's is {APPLICATION_ID:#x}"
        )
        raise StudyError(
            f"{path} is not a study results store: {what} (another program's SQLite file?); nothing was "
            f"written to it; {NOT_A_STORE}"
        )
    if checked != ["ok"]:
        raise StudyError(_damaged(path, " ".join(checked)))
    return version


def _damaged(path: Path, report: str) -> str:
    found = " ".join(report.replace("*** in database main ***", "").split())
    return (
        f"results store {path} is damaged (SQLite: {found}); nothing was written to it: restore a copy, "
        "or use another --store"
    )


class Store:
    def __init__(self, path: str | Path, create: bool = True):
        """Open the store at ``path``: for writing, created if absent (``create``), else read-only, never
        created (every reader: plan, report, list, export). An existing file is checked first (``inspect``)
        through a read-only connection; an older schema is brought up to date (which writes)."""
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StudyError(
                f"results store {self.path} does not exist; run `study run --store {self.path}` first"
            )
        exists = self.path.is_file() and self.path.stat().st_size > 0
        version = inspect(self.path) if exists else 0
        if exists and not create and version == SCHEMA_VERSION:
            self.db = _read_only(self.path)
            self.db.row_factory = sqlite3.Row
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            _migrate(self.db, self.path)  # first: a refused store is left byte for byte as it was
            if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as err:
            self.db.close()
            if "full" in str(err) or "readonly" in str(err):
                raise StudyError(
                    f"results store {self.path} cannot be written ({err}); its stored trials are kept: free "
                    "space, or use another --store"
                ) from None
            raise StudyError(
                f"results store {self.path} is not a usable SQLite file ({err})"
            ) from None
        except StudyError:
            self.db.close()
            raise
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ writing
    def save_plan(
        self,
        study: str,
        profile: str,
        spec: dict[str, Any],
        rows: Iterable,
        configs: dict[str, TrialSpec],
    ) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO planned VALUES (?, ?)",
                [
                    (key, json.dumps(trial.to_dict(), sort_keys=True))
                    for key, trial in configs.items()
                ],
            )
            self.db.execute("DELETE FROM plan WHERE study = ? AND profile = ?", (study, profile))
            self.db.executemany(
                "INSERT INTO plan VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        study,
                        profile,
                        r.experiment,
                        r.parameter,
                        r.value,
                        r.value_index,
                        r.dataset,
                        r.seed,
                        r.trial_key,
                        int(r.is_baseline),
                        r.note,
                        r.phase,
                    )
                    for r in rows
                ],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO studies VALUES (?,?,?,?)",
                (study, profile, json.dumps(spec, sort_keys=True), _now()),
            )

    def save_test_set(
        self, fingerprint: str, dataset: str, indices: np.ndarray, labels: np.ndarray
    ) -> None:
        """Record a test subset (each image's index in the full test split, and its class) under the
        fingerprint its trials name, so that their predictions map back to images and labels; a subset
        with more than 256 classes or no indices (a held-out split) is not recorded."""
        if not len(indices) or (len(labels) and int(labels.max()) > 255):
            return
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO test_sets VALUES (?, ?, ?, ?)",
                (
                    fingerprint,
                    dataset,
                    np.asarray(indices, np.int64).tobytes(),
                    np.asarray(labels, np.uint8).tobytes(),
                ),
            )

    def test_sets(self) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
        """fingerprint -> (dataset, image indices, labels) of every recorded test subset."""
        return {
            row[0]: (
                row[1],
                np.frombuffer(row[2], np.int64),
                np.frombuffer(row[3], np.uint8),
            )
            for row in self.db.execute(
                "SELECT fingerprint, dataset, indices, labels FROM test_sets"
            )
        }

    def predictions(self) -> dict[str, np.ndarray]:
        """trial key -> the uint8 class predicted for each test image of its test set, in order."""
        return {
            row[0]: np.frombuffer(row[1], np.uint8)
            for row in self.db.execute("SELECT trial_key, classes FROM predictions")
        }

    def save_trial(self, spec: TrialSpec, result: TrialResult) -> None:
        """Write one finished trial of ``spec`` and its epochs atomically (replacing an earlier failed try)."""
        with self.transaction():
            self.db.execute("DELETE FROM trials WHERE trial_key = ?", (result.key,))
            self.db.execute(
                "INSERT INTO trials (trial_key, dataset, seed, config, status, diverged_epoch, error, epochs_run, "
                "train_seconds, wall_seconds, params, macs, worker, finished_at, trace_seconds, load_seconds) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    result.key,
                    spec.dataset,
                    spec.seed,
                    json.dumps(spec.to_dict(), sort_keys=True),
                    result.status,
                    result.diverged_epoch,
                    result.error,
                    len(result.epochs),
                    result.train_seconds,
                    result.wall_seconds,
                    result.params,
                    spec.macs,
                    result.worker,
                    _now(),
                    result.trace_seconds,
                    result.load_seconds,
                ),
            )
            if result.predictions is not None:
                self.db.execute(
                    "INSERT INTO predictions VALUES (?, ?)", (result.key, result.predictions)
                )
            self.db.executemany(
                "INSERT INTO epochs VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        result.key,
                        e["epoch"],
                        _real(e["loss"]),
                        _real(e["accuracy"]),
                        _real(e["val_loss"]),
                        _real(e["val_accuracy"]),
                        e["epoch_seconds"],
                    )
                    for e in result.epochs
                ],
            )

    def start_run(
        self, study: str, profile: str, environment: dict[str, Any], planned: int
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (study, profile, started_at, environment, planned) VALUES (?,?,?,?,?)",
            (study, profile, _now(), json.dumps(environment, sort_keys=True), planned),
        )
        assert cursor.lastrowid is not None  # an INSERT always sets it
        return int(cursor.lastrowid)

    def finish_run(
        self,
        run_id: int,
        trained: int,
        failed: int,
        wall_seconds: float,
        environment: dict[str, Any] | None = None,
    ) -> None:
        """Close a run; ``environment`` adds what only the workers knew (devices, thread settings)."""
        if environment:
            row = self.db.execute(
                "SELECT environment FROM runs WHERE run_id=?", (run_id,)
            ).fetchone()
            merged = {**json.loads(row[0]), **environment}
            self.db.execute(
                "UPDATE runs SET environment=? WHERE run_id=?",
                (json.dumps(merged, sort_keys=True), run_id),
            )
        self.db.execute(
            "UPDATE runs SET finished_at=?, trained=?, failed=?, wall_seconds=? WHERE run_id=?",
            (_now(), trained, failed, wall_seconds, run_id),
        )

    # ------------------------------------------------------------------ reading
    def done_keys(self) -> set[str]:
        """Trials that need no training: ok or diverged (a failed trial is tried again)."""
        return {
            row[0]
            for row in self.db.execute(
                "SELECT trial_key FROM trials WHERE status != ?", (TrialStatus.FAILED,)
            )
        }

    def studies(self) -> list[sqlite3.Row]:
        return list(
            self.db.execute(
                "SELECT study, profile, updated_at FROM studies ORDER BY updated_at DESC"
            )
        )

    def stored_study(self, study: str, profile: str) -> StoredStudy:
        """The study as its run stored it (declaration, budget, dataset facts); a StudyError if absent."""
        row = self.db.execute(
            "SELECT spec FROM studies WHERE study=? AND profile=?", (study, profile)
        ).fetchone()
        if row is None:
            raise StudyError(f"no study {study!r} with profile {profile!r} in {self.path}")
        return StoredStudy.from_dict(json.loads(row[0]))

    def latest_run(self, study: str, profile: str) -> sqlite3.Row | None:
        """The latest run record, with ``estimated_seconds`` (kept in its environment JSON; None if the run
        had no estimate): the wall time estimated at its start, comparable with ``wall_seconds``."""
        return self.db.execute(
            "SELECT *, json_extract(environment, '$.estimated_seconds') AS estimated_seconds "
            "FROM runs WHERE study=? AND profile=? ORDER BY run_id DESC LIMIT 1",
            (study, profile),
        ).fetchone()

    def runs(self, study: str, profile: str) -> list[dict[str, Any]]:
        """Every run record of (study, profile), oldest first, as ``latest_run`` gives each (a sequential
        design records one run per look that trained something)."""
        rows = self.db.execute(
            "SELECT run_id, started_at, planned, trained, failed, wall_seconds, "
            "json_extract(environment, '$.estimated_seconds') AS estimated_seconds "
            "FROM runs WHERE study=? AND profile=? ORDER BY run_id",
            (study, profile),
        )
        return [dict(row) for row in rows]

    def dataset_facts(self) -> list[DatasetFacts]:
        """The facts of every dataset subset any stored study recorded (a spec without them adds none)."""
        facts = []
        for (spec,) in self.db.execute("SELECT spec FROM studies"):
            for data in (json.loads(spec).get("datasets") or {}).values():
                facts.append(DatasetFacts.from_dict(data))
        return facts

    def planned_trials(self) -> dict[str, TrialSpec]:
        """Every planned trial's spec (settings, model, dataset, subset, seed), by trial key."""
        return {
            key: TrialSpec.from_dict(json.loads(config))
            for key, config in self.db.execute("SELECT trial_key, config FROM planned")
        }

    def stored_trials(self) -> list[StoredTrial]:
        """Every stored trial, by dataset then key, with its plan (None where the store has no plan entry)."""
        planned = self.planned_trials()
        return [
            StoredTrial(
                key,
                dataset,
                int(seed),
                TrialStatus(status),
                int(epochs_run or 0),
                train_seconds,
                planned.get(key),
                trace_seconds,
                load_seconds,
            )
            for key, dataset, seed, status, epochs_run, train_seconds, trace_seconds, load_seconds in self.db.execute(
                "SELECT trial_key, dataset, seed, status, epochs_run, train_seconds, trace_seconds, "
                "load_seconds FROM trials ORDER BY dataset, trial_key"
            )
        ]

    def uses(self) -> dict[str, list[tuple[str, str]]]:
        """Every planned trial's (experiment, value) uses over all studies and profiles, by trial key."""
        uses: dict[str, list[tuple[str, str]]] = {}
        for key, experiment, value in self.db.execute(
            "SELECT DISTINCT trial_key, experiment, value FROM plan ORDER BY experiment, value_index"
        ):
            uses.setdefault(key, []).append((experiment, value))
        return uses

    def epochs_by_trial(self) -> dict[str, list[EpochRow]]:
        """Every stored epoch, grouped by trial key, in epoch order."""
        epochs: dict[str, list[EpochRow]] = {}
        for key, *row in self.db.execute(
            "SELECT trial_key, epoch, loss, accuracy, val_loss, val_accuracy, "
            "epoch_seconds FROM epochs ORDER BY trial_key, epoch"
        ):
            epochs.setdefault(key, []).append(EpochRow(*row))
        return epochs

    def plan_frame(self, study: str | None = None, profile: str | None = None):
        """One row per planned (experiment, value, dataset, seed) with its trial's status ('missing' if none),
        outcome columns and times in seconds (``trace_seconds`` and ``load_seconds`` NaN for trials stored
        before schema 2), ``params`` and forward ``macs`` per image."""
        import pandas as pd

        where, params = [], [str(TrialStatus.MISSING)]
        for column, value in (("study", study), ("profile", profile)):
            if value is not None:
                where.append(f"p.{column} = ?")
                params.append(value)
        sql = (
            "SELECT p.*, COALESCE(t.status, ?) AS status, t.diverged_epoch, t.error, t.epochs_run, "
            "t.train_seconds, t.trace_seconds, t.load_seconds, t.params, t.macs "
            "FROM plan p LEFT JOIN trials t ON t.trial_key = p.trial_key"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY p.study, p.profile, p.experiment, p.value_index, p.dataset, p.seed"
        )
        return pd.read_sql_query(sql, self.db, params=params)

    def epochs_frame(self, keys: list[str] | None = None):
        """Every stored epoch (of the trials ``keys`` only, when given), ordered by trial and epoch."""
        import pandas as pd

        frame = pd.read_sql_query("SELECT * FROM epochs ORDER BY trial_key, epoch", self.db)
        if keys is not None:
            frame = frame[frame["trial_key"].isin(set(keys))].reset_index(drop=True)
        return frame


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
