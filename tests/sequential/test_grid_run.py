"""A grid study end to end on tiny data: selection on the validation split, confirmation, report files."""

import csv
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import write_idx
from stores import TINY_STUDY

from study.analyse.comparisons import analyse
from study.analyse.selection import stored_choices
from study.declare.spec import Profile
from study.declare.studyfile import parse_study
from study.results.store import Store
from study.run.execution import Execution
from study.sequential.driver import run_in_stages

pytestmark = pytest.mark.train

PROFILE = Profile("test", seeds=2, epochs=None, train_size=None, test_size=None)
# the tiny study of tests/stores.py with a grid for its experiment
GRID_TOML = (
    TINY_STUDY.split("[[experiments]]")[0].replace('"tiny"', '"tiny grid"')
    + "learning_rate = 0.1\n\n"
    + """[[experiments]]
name = "solver"
validation = 0.25
grid = [
  { optimizer = "sgd", learning_rate = [0.01, 0.1, 0.5] },
  { optimizer = "adam", learning_rate = [0.001, 0.01] },
]
"""
)
GRID_STUDY = tomllib.loads(GRID_TOML)


def _run(store_path: Path) -> list[str]:
    from study.plan.data import load_dataset, load_scaled

    load_dataset.cache_clear(), load_scaled.cache_clear()  # read the files as they are now
    lines: list[str] = []
    run_in_stages(
        parse_study(GRID_STUDY),
        PROFILE,
        store_path,
        Execution.build(workers=0, threads=1, progress=False),
        log=lines.append,
    )
    return lines


def _permute_test_labels(root: Path) -> None:
    """Rewrite the tiny MNIST's test labels in another order (its test images unchanged)."""
    from study.plan.data import read_idx

    path = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels = read_idx(path)
    write_idx(path, np.random.default_rng(7).permutation(labels).astype(np.uint8))


def test_the_choice_never_reads_the_test_images(data_dir, tmp_path):
    _run(tmp_path / "a.sqlite")
    _permute_test_labels(data_dir)
    _run(tmp_path / "b.sqlite")
    study = parse_study(GRID_STUDY)
    with Store(tmp_path / "a.sqlite") as a, Store(tmp_path / "b.sqlite") as b:
        first, second = analyse(a), analyse(b)
        assert stored_choices(a, study, "test") == stored_choices(b, study, "test")
    grid_a, grid_b = first.grids[("solver", "mnist")], second.grids[("solver", "mnist")]
    # the same validation scores, cell by cell and seed by seed, with the test labels permuted
    assert {k: c.scores for k, c in grid_a.cells.items()} == {
        k: c.scores for k, c in grid_b.cells.items()
    }
    # ... though every trial ran on data whose fingerprint (test labels included) differs
    assert not {c.keys[1] for c in first.blocks[("solver", "mnist")].values} & {
        c.keys[1] for c in second.blocks[("solver", "mnist")].values
    }


def test_a_grid_study_runs_both_phases_and_reports_them(data_dir, tmp_path):
    from study.report.render import build_report

    store_path = tmp_path / "s.sqlite"
    lines = _run(store_path)
    again = _run(store_path)  # resumed: both phases stored, nothing trains twice
    planned = [line for line in again if "to train" in line]
    assert len(planned) == 2 and all(", 0 to train" in line for line in planned), planned
    assert any("learning_rate chosen on the validation split: sgd" in line for line in lines)
    with Store(store_path) as store:
        analysis = analyse(store)
        plan = store.plan_frame()
    chosen = analysis.stored.study.experiment("solver").grid.chosen["mnist"]
    grid = analysis.grids[("solver", "mnist")]
    assert tuple(c.column for c in grid.choices) == chosen
    block = analysis.blocks[("solver", "mnist")]
    assert [v.label for v in block.values] == ["sgd", "adam"] and block.baseline.label == "sgd"
    assert (plan["phase"] == "selection").sum() == 5 * 2
    out = tmp_path / "report"
    build_report(store_path, out, pdf=False)
    with open(out / "verdicts.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["experiment"] == "solver"]
    assert [(r["value"], r["is_baseline"]) for r in rows] == [("sgd", "True"), ("adam", "False")]
    # the comparison rests on the confirmation seeds (those that learned, listed), none of the selection's
    assert rows[1]["n_seeds"] == "2" and set(rows[1]["seeds_value"].split()) <= {"1", "2"}
    confirmation = plan[(plan["experiment"] == "solver") & (plan["phase"] != "selection")]
    assert set(confirmation["seed"]) == {1, 2}
    with open(out / "choices.csv", newline="") as handle:
        choices = list(csv.DictReader(handle))
    assert [c["level"] for c in choices] == ["sgd", "adam"]
    assert all(c["edge"] in ("low", "high", "") for c in choices)
    from click.testing import CliRunner

    from study.cli.main import cli

    listed = CliRunner().invoke(cli, ["list", "--store", str(store_path)]).output
    assert (
        "solver=sgd @ 0.5" in listed and "held-out 0." in listed
    )  # a cell's score: the validation split
    (tmp_path / "grid.toml").write_text(GRID_TOML)
    planned = (
        CliRunner()
        .invoke(
            cli,
            [
                "plan",
                "--study",
                str(tmp_path / "grid.toml"),
                "--store",
                str(tmp_path / "p.sqlite"),
            ],
        )
        .output
    )
    assert "solver (selection)" in planned and "   10 trials" in planned, planned
    html = (out / "report.html").read_text()
    assert "Selection on a validation split" in html
    # the interaction test, or why it could not be tested (this grid's rows differ in length)
    assert "could not be tested: its rows hold different numbers of learning rate values" in html
    figures = {path.name for path in (out / "figures").iterdir()}
    assert any(name.endswith("_heatmap.png") for name in figures)
    assert any(name.endswith("_sensitivity.png") for name in figures)
