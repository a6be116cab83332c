"""The results store: SQLite (WAL), one row per trial, one per (trial, epoch), plus the study plan.

Only the driver writes. A trial is written whole in one transaction or not at all, so killing a run
loses at most the trials in flight. The report reads this file alone.

    store = Store("output/study.sqlite")
    store.done_keys()  # keys of trials already trained
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from study.errors import StudyError

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
    finished_at TEXT NOT NULL
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
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study TEXT NOT NULL, profile TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    environment TEXT NOT NULL,       -- JSON: versions, CPU, device, threads, workers
    planned INTEGER, trained INTEGER, failed INTEGER, wall_seconds REAL
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _real(value: Any) -> float | None:
    """NaN and infinities are stored as NULL (a diverged epoch has no finite loss)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Store:
    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StudyError(f"results store {self.path} does not exist; run `study run --store {self.path}` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise StudyError(f"results store {self.path} is not a usable SQLite file ({err})") from None
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ writing
    def save_plan(self, study: str, profile: str, spec: dict[str, Any], rows: Iterable,
                  configs: dict[str, dict[str, Any]]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO planned VALUES (?, ?)",
                                [(key, json.dumps(config, sort_keys=True)) for key, config in configs.items()])
            self.db.execute("DELETE FROM plan WHERE study = ? AND profile = ?", (study, profile))
            self.db.executemany(
                "INSERT INTO plan VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(study, profile, r.experiment, r.parameter, r.value, r.value_index, r.dataset, r.seed,
                  r.trial_key, int(r.is_baseline), r.note) for r in rows],
            )
            self.db.execute("INSERT OR REPLACE INTO studies VALUES (?,?,?,?)",
                            (study, profile, json.dumps(spec, sort_keys=True), _now()))

    def save_trial(self, trial_config: dict[str, Any], result: dict[str, Any], macs: int | None = None) -> None:
        """Write one finished trial and its epochs atomically (replacing an earlier failed try)."""
        with self.transaction():
            self.db.execute("DELETE FROM trials WHERE trial_key = ?", (result["key"],))
            self.db.execute(
                "INSERT INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (result["key"], trial_config["dataset"], trial_config["seed"],
                 json.dumps(trial_config, sort_keys=True), result["status"], result.get("diverged_epoch"),
                 result.get("error"), len(result["epochs"]), result.get("train_seconds"),
                 result.get("wall_seconds"), result.get("params"), macs, result.get("worker"), _now()),
            )
            self.db.executemany(
                "INSERT INTO epochs VALUES (?,?,?,?,?,?,?)",
                [(result["key"], e["epoch"], _real(e["loss"]), _real(e["accuracy"]), _real(e["val_loss"]),
                  _real(e["val_accuracy"]), e["epoch_seconds"]) for e in result["epochs"]],
            )

    def start_run(self, study: str, profile: str, environment: dict[str, Any], planned: int) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (study, profile, started_at, environment, planned) VALUES (?,?,?,?,?)",
            (study, profile, _now(), json.dumps(environment, sort_keys=True), planned))
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, trained: int, failed: int, wall_seconds: float,
                   environment: dict[str, Any] | None = None) -> None:
        """Close a run; ``environment`` adds what only the workers knew (devices, thread settings)."""
        if environment:
            row = self.db.execute("SELECT environment FROM runs WHERE run_id=?", (run_id,)).fetchone()
            merged = {**json.loads(row[0]), **environment}
            self.db.execute("UPDATE runs SET environment=? WHERE run_id=?", (json.dumps(merged, sort_keys=True), run_id))
        self.db.execute("UPDATE runs SET finished_at=?, trained=?, failed=?, wall_seconds=? WHERE run_id=?",
                        (_now(), trained, failed, wall_seconds, run_id))

    # ------------------------------------------------------------------ reading
    def done_keys(self) -> set[str]:
        """Trials that need no training: ok or diverged (a failed trial is tried again)."""
        return {row[0] for row in self.db.execute("SELECT trial_key FROM trials WHERE status != 'failed'")}

    def studies(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT study, profile, updated_at FROM studies ORDER BY updated_at DESC"))

    def spec(self, study: str, profile: str) -> dict[str, Any]:
        row = self.db.execute("SELECT spec FROM studies WHERE study=? AND profile=?", (study, profile)).fetchone()
        if row is None:
            raise StudyError(f"no study {study!r} with profile {profile!r} in {self.path}")
        return json.loads(row[0])

    def latest_run(self, study: str, profile: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM runs WHERE study=? AND profile=? ORDER BY run_id DESC LIMIT 1",
                               (study, profile)).fetchone()

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params))


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
