"""The store's schema version: new stores are stamped, old unversioned ones accepted, others refused."""

import sqlite3

import pytest

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


def test_unversioned_store_of_the_same_layout_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute("INSERT INTO planned VALUES ('k', '{}')")
    with Store(path) as store:
        assert [tuple(r) for r in _rows(store, "SELECT * FROM planned")] == [("k", "{}")]
    assert _version(path) == SCHEMA_VERSION


def test_store_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.execute("CREATE TABLE trials (trial_key TEXT, something_new TEXT)")
    before = path.read_bytes()
    with pytest.raises(StudyError, match=rf"schema version {SCHEMA_VERSION + 1}, written by a newer version"):
        Store(path)
    assert path.read_bytes() == before


def test_store_with_another_layout_names_the_table_and_columns(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE trials (trial_key TEXT PRIMARY KEY, val_acc REAL)")
    with pytest.raises(StudyError, match=r"table 'trials' has columns trial_key, val_acc; .* expects trial_key, "):
        Store(path, create=False)
    assert _version(path) == 0


def test_cli_reports_a_newer_store_in_one_line(tmp_path):
    from click.testing import CliRunner

    from study.cli.main import cli

    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    result = CliRunner().invoke(cli, ["list", "--store", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "newer version of study" in result.stderr
