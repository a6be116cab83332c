"""The folder tree is the pipeline: import-linter's contracts hold, and a wrong-way import breaks them;
SQL lives in the store only; stored JSON is read through the (de)serialisers only."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "study"
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.argv = ['lint-imports']; lint_imports_command()",
]


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        LINT,
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_import_contracts_hold():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_wrong_way_import_breaks_the_contracts(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "study", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    spec = (
        tmp_path / "study" / "declare" / "spec.py"
    )  # the lowest stage importing the report: upside down
    spec.write_text(spec.read_text() + "\nfrom study.report import render  # noqa\n")
    done = _lint(tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout
    assert "study.declare.spec -> study.report.render" in done.stdout


def test_the_report_stage_importing_tensorflow_breaks_the_contracts(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "study", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    figures = tmp_path / "study" / "report" / "figures.py"
    figures.write_text(figures.read_text() + "\n\ndef _late():\n    import tensorflow  # noqa\n")
    done = _lint(tmp_path)
    assert done.returncode != 0 and "study.report.figures -> tensorflow" in done.stdout


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE FROM|CREATE TABLE|PRAGMA)\b")


def test_sql_text_lives_in_the_store_only():
    offenders = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if p.name != "store.py" and SQL.search(p.read_text())
    ]
    assert offenders == []


STRING_KEY_READ = re.compile(r"\b(spec|payload|config)\[\s*[\"']")


def test_stored_json_is_read_through_the_deserialisers_only():
    # the (de)serialisers: to_dict/from_dict of the records; nothing else indexes a stored dict by a string key
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in PACKAGE.rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if STRING_KEY_READ.search(line)
    ]
    assert offenders == []
