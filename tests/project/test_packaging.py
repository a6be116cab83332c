"""A plain (non-editable) install from the wheel ships the report templates: `study report` runs anywhere."""

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.train
@pytest.mark.slow
def test_report_renders_from_a_wheel_install_in_another_directory(tmp_path):
    from synthetic import make_store

    source = tmp_path / "src"  # a copy, so the build leaves nothing in the working tree
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "study", source / "study", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("study-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"study/report/templates/report.html.j2", "study/report/templates/report.css"} <= set(
        names
    )

    # A fresh environment: the wheel unpacked into its site-packages, the dependencies from this one
    # (by a .pth line, which does not run this environment's editable-install hook).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    zipfile.ZipFile(wheel).extractall(site)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    make_store(tmp_path / "s.sqlite").close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys, study, study.report; from study.cli import main; "
        "print(study.__file__, study.report.__file__); sys.argv = ['study'] + sys.argv[1:]; main()"
    )
    done = subprocess.run(
        [
            str(python),
            "-c",
            code,
            "report",
            "--store",
            str(tmp_path / "s.sqlite"),
            "--out",
            str(tmp_path / "out"),
            "--no-pdf",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == [
        str(site / "study" / "__init__.py"),
        str(site / "study" / "report" / "__init__.py"),
    ]
    assert (
        "report written" in done.stdout
        and (tmp_path / "out" / "report.html").stat().st_size > 10_000
    )
