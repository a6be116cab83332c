"""Stores, output folders and study files from the wild (issue: nothing half-written, nothing written where it
does not belong, one line for every failure). Real failures where the machine allows them: a read-only bind
mount and a full tmpfs need root and mount(2) (CI runs as root; elsewhere they skip with the reason), a damaged
page is written into a copy of a store, a report is killed with SIGKILL while it writes its PDF."""

from __future__ import annotations

import hashlib
import os
import shlex
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import synthetic
from click.testing import CliRunner

from study.cli.main import cli

STUDY_FILE = Path(__file__).parents[1] / "tiny.toml"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "store" / "s.sqlite"
    path.parent.mkdir()
    synthetic.make_store(path).close()
    return path


def _mount(kind: str, where: Path, *options: str, source: str = "tmpfs") -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", kind, *options, source, str(where)] if kind else ["mount", *options],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount here ({done.stderr.strip() or 'not root'}): needs root and mount(2)"
        )


def _fill(disk: Path) -> None:
    """Fill ``disk`` to its last block with a file ``filler``."""
    handle = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(handle, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(handle)


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _bind_read_only(source: Path, where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for command in (
        ["mount", "--bind", str(source), str(where)],
        ["mount", "-o", "remount,bind,ro", str(where)],
    ):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            _umount(where)
            pytest.skip(
                f"cannot bind-mount read-only here ({done.stderr.strip() or 'not root'}): "
                "needs root and mount(2)"
            )
    probe = where / ".probe"
    try:
        probe.write_text("")
    except OSError:
        return
    probe.unlink()
    _umount(where)
    pytest.skip("a read-only bind mount is writable here")


@pytest.fixture
def ro_store(tmp_path, store):
    where = tmp_path / "ro"
    _bind_read_only(store.parent, where)
    yield where / store.name
    _umount(where)


def test_a_store_in_a_read_only_folder_is_read_and_a_run_refused_in_one_line(
    ro_store, tmp_path, data_dir
):
    before = _digest(ro_store)
    for args in (
        ["list", "--store", str(ro_store)],
        ["export", "--store", str(ro_store), "--out", str(tmp_path / "e.csv")],
        ["report", "--store", str(ro_store), "--out", str(tmp_path / "rep"), "--no-pdf"],
    ):
        result = _invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    result = _invoke("run", "--study", str(STUDY_FILE), "--store", str(ro_store), "--workers", "0")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {ro_store}.lock (Read-only file system)")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert _digest(ro_store) == before


def test_a_report_or_export_into_a_read_only_folder_is_one_line(ro_store, store):
    for args, place in (
        (["report", "--out", str(ro_store.parent / "rep"), "--no-pdf"], ro_store.parent / "rep"),
        (["export", "--out", str(ro_store.parent / "e.csv")], ro_store.parent),
    ):
        result = _invoke(*args, "--store", str(store))
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"error: cannot write {place} (Read-only file system); files already there are left whole; "
            "accepted: a folder this user can write (--out for reports and exports, --store for the store)\n"
        )


def test_a_full_disk_leaves_the_previous_report_whole(store, tmp_path):
    disk = tmp_path / "small"
    _mount("tmpfs", disk, "-o", "size=4m")
    try:
        out = disk / "report"
        assert (
            _invoke("report", "--store", str(store), "--out", str(out), "--no-pdf").exit_code == 0
        )
        before = {p.name: _digest(p) for p in out.iterdir() if p.is_file()}
        _fill(disk)
        # a different report: every figure and table changes, and none fits
        other = tmp_path / "other.sqlite"
        synthetic.make_store(other, synthetic.synthetic_study("another study")).close()
        result = _invoke("report", "--store", str(other), "--out", str(out), "--no-pdf")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: cannot write ")
        assert "(No space left on device)" in result.stderr and result.stderr.count("\n") == 1
        after = {p.name: _digest(p) for p in out.iterdir() if p.is_file()}
        assert after == before  # the old report, whole; no temporary left
    finally:
        _umount(disk)


def _foreign(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    db.execute("INSERT INTO photos (path) VALUES ('a.jpg')")
    db.commit()
    db.close()
    return path


def test_another_programs_sqlite_file_is_refused_and_never_written(tmp_path, data_dir):
    path = _foreign(tmp_path / "photos.db")
    before = _digest(path)
    for args in (
        ["list"],
        ["export", "--out", str(tmp_path / "e.csv")],
        ["report", "--out", str(tmp_path / "rep")],
        ["run", "--study", str(STUDY_FILE), "--workers", "0"],
        ["plan", "--study", str(STUDY_FILE)],
    ):
        result = _invoke(*args, "--store", str(path))
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == (
            f"error: {path} is not a study results store: its tables photos are not study's (another "
            "program's SQLite file?); nothing was written to it; accepted: a store `study run` wrote, or the "
            "path of a new file\n"
        ), args
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "datasets",
        "photos.db",
    ]  # no lock, no -wal
    version = sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("PRAGMA user_version")
    assert version.fetchone()[0] == 0


def test_a_sqlite_file_of_another_application_id_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 1234")
    db.execute("CREATE TABLE trials (x)")
    db.commit()
    db.close()
    result = _invoke("list", "--store", str(path))
    assert result.exit_code == 2
    assert "its application id is 0x4d2, study's is 0x53545544" in result.stderr


def test_a_store_with_a_damaged_page_is_refused_and_kept(store, tmp_path):
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(store.read_bytes())
    page = sqlite3.connect(damaged).execute("PRAGMA page_size").fetchone()[0]
    with open(damaged, "r+b") as handle:  # page 2: the first table's root, its header overwritten
        handle.seek(page)
        handle.write(b"\x0d" + b"\xff" * 7)
    before = _digest(damaged)
    for args in (["list"], ["report", "--out", str(tmp_path / "rep")]):
        result = _invoke(*args, "--store", str(damaged))
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: results store {damaged} is damaged (SQLite: ")
        assert result.stderr.endswith(
            "nothing was written to it: restore a copy, or use another --store\n"
        )
    assert _digest(damaged) == before


def test_a_store_this_project_wrote_carries_its_application_id(store):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    assert db.execute("PRAGMA application_id").fetchone()[0] == 0x53545544


KILLED_WHILE_TYPESETTING = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import weasyprint
    from study.report.render import build_report

    def write_pdf(self, target=None, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"%PDF-1.7 half a file")
            handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    weasyprint.HTML.write_pdf = write_pdf
    build_report({store!r}, {out!r})
    """
)


def test_a_report_killed_while_writing_its_pdf_leaves_the_previous_report(store, tmp_path):
    out = tmp_path / "out"
    assert _invoke("report", "--store", str(store), "--out", str(out)).exit_code == 0
    before = {p.name: _digest(p) for p in out.iterdir() if p.is_file()}
    other = tmp_path / "other.sqlite"
    synthetic.make_store(other, synthetic.synthetic_study("another study")).close()
    script = KILLED_WHILE_TYPESETTING.format(
        tests=str(Path(__file__).parents[1]), store=str(other), out=str(out)
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    after = {p.name: _digest(p) for p in out.iterdir() if p.is_file() and ".part" not in p.name}
    assert after == before  # one run's files: the HTML, PDF and CSVs of the first report
    assert any(".part" in p.name for p in out.iterdir())  # the killed run's temporaries ...
    assert _invoke("report", "--store", str(other), "--out", str(out)).exit_code == 0
    assert not any(".part" in p.name for p in out.rglob("*"))  # ... swept by the next render
    assert "another study" in (out / "report.html").read_text()


def test_a_study_file_with_a_utf8_byte_order_mark_is_read(tmp_path, data_dir):
    """A Windows editor's BOM (tomli#304) is a signature, CRLF line ends are fine; UTF-16 is named."""
    text = STUDY_FILE.read_text().replace("\n", "\r\n")
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    store = tmp_path / "s.sqlite"
    synthetic_calibration(store)
    result = _invoke("plan", "--study", str(bom), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("tiny [")
    utf16 = tmp_path / "utf16.toml"
    utf16.write_text(STUDY_FILE.read_text(), encoding="utf-16")
    result = _invoke("plan", "--study", str(utf16))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: study file {utf16} is UTF-16 (it starts with UTF-16's byte-order mark); accepted: UTF-8, "
        "e.g. Notepad's 'Save as' with encoding UTF-8\n"
    )


def synthetic_calibration(store: Path) -> None:
    from stores import calibrated

    calibrated(store)


CJK = "卷积核"


def test_chinese_names_draw_with_a_cjk_font_or_warn_once(tmp_path, monkeypatch):
    """PaddleOCR#1620, WeasyPrint#314: no 57 'Glyph missing' lines; one warning line when no installed font
    draws the names, none when one does; the regenerate commands paste into a shell as they are."""
    from study.declare.config import Settings
    from study.declare.spec import Study, Value, experiment
    from study.report import figures

    study = Study(
        f"{CJK} 研究",
        Settings(epochs=2),
        (
            experiment(
                CJK,
                "kernel_size",
                [Value("三", {"kernel_size": 3}), Value("五", {"kernel_size": 5})],
                datasets=("mnist",),
            ),
        ),
        seeds=(1, 2),
        claims=(),
    )
    monkeypatch.delitem(synthetic.SHAPES, "cifar10")
    folder = tmp_path / "my results"
    store = folder / "s.sqlite"
    folder.mkdir()
    synthetic.make_store(store, study, missing=()).close()
    result = _invoke("report", "--store", str(store), "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert "Glyph" not in result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    if figures.installed_fallbacks():
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith("warning: no installed font draws ")
        assert "apt install fonts-noto-cjk" in warnings[0]
    html = (folder / "report.html").read_text()
    commands = html.split("<pre>", 1)[1].split("</pre>", 1)[0]
    import html as entities

    for command in entities.unescape(commands).strip().splitlines():
        words = shlex.split(command)  # pastes into a shell: the quoting is the shell's
        assert words[0] == "study" and str(store) in words
    report_line = entities.unescape(commands).strip().splitlines()[-1]
    assert f"{CJK} 研究" in shlex.split(report_line)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_every_written_file_keeps_the_usual_mode(store, tmp_path):
    out = tmp_path / "out"
    assert _invoke("report", "--store", str(store), "--out", str(out), "--no-pdf").exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    for path in (out / "report.html", out / "results.csv", *(out / "figures").glob("*.png")):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path


def _made_up_trainer(spec, threads=None):
    from study.records import TrialResult

    epoch = {"loss": 0.5, "accuracy": 0.6, "val_loss": 0.5, "val_accuracy": 0.6 + spec.seed / 1000}
    return TrialResult(spec.key, epochs=[{"epoch": 1, **epoch, "epoch_seconds": 0.01}])


def test_a_disk_that_fills_during_a_run_keeps_the_stored_trials(tmp_path, data_dir, monkeypatch):
    """The store's disk fills up between two runs: the second ends in one line, and the trials of the first
    are all there, in a store SQLite finds intact (a made-up trainer: no training)."""
    from stores import calibrated

    import study.train.worker

    monkeypatch.setattr(study.train.worker, "train_trial", _made_up_trainer)
    disk = tmp_path / "small"
    _mount("tmpfs", disk, "-o", "size=2m")
    try:
        store = disk / "s.sqlite"
        calibrated(store)
        first = _invoke("run", "--study", str(STUDY_FILE), "--store", str(store), "--workers", "0")
        assert first.exit_code == 0, first.output
        listed = _invoke("list", "--store", str(store)).stdout
        _fill(disk)
        more = _invoke(
            "run", "--study", str(STUDY_FILE), "--store", str(store), "--workers", "0",
            "--seeds", "2", "--max-seeds", "2", "--epochs", "3",
        )  # fmt: skip
        assert more.exit_code == 2, more.output
        assert more.stderr.count("\n") == 1 and "Traceback" not in more.output
        assert more.stderr.startswith(
            f"error: cannot write {store}.lock (No space left on device)"
        )
        (disk / "filler").unlink()
        checked = sqlite3.connect(f"file:{store}?mode=ro", uri=True).execute("PRAGMA quick_check")
        assert checked.fetchall() == [("ok",)]
        assert _invoke("list", "--store", str(store)).stdout == listed
    finally:
        _umount(disk)


def test_a_disk_that_fills_while_trials_train_keeps_those_stored(tmp_path, data_dir, monkeypatch):
    """The disk fills while the second run trains (its trainer fills it): the trial that cannot be written
    ends the run in one line; every trial stored before it is kept, in an intact store."""
    from stores import calibrated

    import study.train.worker

    disk = tmp_path / "small"
    _mount("tmpfs", disk, "-o", "size=2m")
    filled = []

    def filling_trainer(spec, threads=None):
        if not filled:
            filled.append(spec.key)
            _fill(disk)
        return _made_up_trainer(spec, threads)

    try:
        store = disk / "s.sqlite"
        calibrated(store)
        monkeypatch.setattr(study.train.worker, "train_trial", _made_up_trainer)
        first = _invoke("run", "--study", str(STUDY_FILE), "--store", str(store), "--workers", "0")
        assert first.exit_code == 0, first.output
        listed = _invoke("list", "--store", str(store)).stdout
        monkeypatch.setattr(study.train.worker, "train_trial", filling_trainer)
        more = _invoke(
            "run", "--study", str(STUDY_FILE), "--store", str(store), "--workers", "0",
            "--epochs", "1",
        )  # fmt: skip
        assert filled and more.exit_code == 2, more.output
        assert more.stderr.splitlines()[-1] == (
            "error: the results store could not be written (database or disk is full); the trials stored "
            "before are kept (each is written whole or not at all): free space, or rerun with a --store "
            "that can be written"
        )
        assert "Traceback" not in more.output
        (disk / "filler").unlink()
        checked = sqlite3.connect(f"file:{store}?mode=ro", uri=True).execute("PRAGMA quick_check")
        assert checked.fetchall() == [("ok",)]
        assert set(listed.splitlines()[:-1]) <= set(
            _invoke("list", "--store", str(store)).stdout.splitlines()
        )
    finally:
        _umount(disk)
