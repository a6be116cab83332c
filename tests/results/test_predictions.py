"""Per-image predictions: every trial keeps the class it predicted for each test image after its last epoch,
one byte per image, with the test subset's image indices and labels once per dataset; `study export --format
predictions` gives one row per trial and test image, and rebuilds every stored accuracy exactly."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from study.cli.main import cli
from study.results.store import Store

TINY = Path(__file__).parents[1] / "tiny.toml"


@pytest.mark.train
def test_the_exported_predictions_rebuild_every_stored_accuracy_exactly(data_dir, tmp_path):
    store = tmp_path / "s.sqlite"
    run = CliRunner().invoke(
        cli,
        [
            "run",
            "--study",
            str(TINY),
            "--store",
            str(store),
            "--workers",
            "0",
            "--profile",
            "smoke",
        ],
    )
    assert run.exit_code == 0, run.output
    out = tmp_path / "predictions.parquet"
    exported = CliRunner().invoke(
        cli, ["export", "--format", "predictions", "--store", str(store), "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    table = pd.read_parquet(out)
    with Store(store, create=False) as db:
        finals = {
            key: (accuracy, json.loads(config))
            for key, accuracy, config in db.db.execute(
                "SELECT t.trial_key, e.val_accuracy, t.config FROM trials t JOIN epochs e "
                "ON e.trial_key = t.trial_key AND e.epoch = t.epochs_run"
            )
        }
    assert set(table["trial_key"]) == set(finals) and len(finals) == 6
    from study.plan.data import load_dataset

    full = load_dataset("mnist")  # the whole test split: an image index maps back to its label
    for key, rows in table.groupby("trial_key"):
        accuracy, config = finals[key]
        assert len(rows) == (config["test_size"] or len(full.y_test)) == rows["position"].max() + 1
        hits = np.float32((rows["label"] == rows["prediction"]).sum())
        assert hits / np.float32(len(rows)) == np.float32(
            accuracy
        )  # exactly what the trainer measured
        assert (full.y_test[rows["image_index"].to_numpy()] == rows["label"].to_numpy()).all()
    assert exported.output == f"{len(table)} rows -> {out}\n"


def test_a_store_without_predictions_exports_an_empty_table(tmp_path):
    import synthetic

    store = tmp_path / "s.sqlite"
    synthetic.make_store(store).close()
    result = CliRunner().invoke(cli, ["export", "--format", "predictions", "--store", str(store)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "predictions.csv")
    assert table.empty and list(table.columns) == [
        "trial_key",
        "dataset",
        "seed",
        "position",
        "image_index",
        "label",
        "prediction",
    ]


def test_the_report_shows_per_class_results_from_the_predictions(tmp_path):
    """A synthetic store given made-up predictions for every learned MNIST trial (no training): the report
    draws each dataset's confusion matrix, lists the classes a knob changes and writes per_class.csv."""
    import synthetic

    from study.analyse.comparisons import analyse

    store = tmp_path / "s.sqlite"
    synthetic.make_store(store).close()
    labels = np.arange(50, dtype=np.uint8) % 10
    with Store(store) as db:
        analysis = analyse(db)
        keys = {
            key
            for (experiment, dataset), block in analysis.blocks.items()
            if dataset == "mnist"
            for value in block.values
            for seed, key in value.keys.items()
            if seed in value.outcomes  # finished: stored
        }
        for key in keys:
            spec = analysis.trials[key]
            db.save_test_set(spec.fingerprint, "mnist", np.arange(50), labels)
            found = labels.copy()
            found[: spec.seed] = (found[: spec.seed] + 1) % 10  # a seed's own few mistakes
            db.db.execute(
                "INSERT OR REPLACE INTO predictions VALUES (?, ?)", (key, found.tobytes())
            )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        cli, ["report", "--store", str(store), "--out", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    import html as entities

    html = entities.unescape((out / "report.html").read_text())
    assert "MNIST: the baseline's confusion matrix" in html
    assert "MNIST: the classes each knob changes most" in html
    assert (out / "figures" / "confusion_mnist.png").is_file()
    classes = pd.read_csv(out / "per_class.csv")
    assert set(classes["dataset"]) == {"mnist"} and (classes["images"] == 5).all()
    assert classes["accuracy_pct"].between(0, 100).all()
    assert "learned trials were stored before predictions were kept" in html  # CIFAR-10's


def test_a_predictions_file_of_another_kind_is_refused_in_one_line(tmp_path):
    import synthetic

    store = tmp_path / "s.sqlite"
    synthetic.make_store(store).close()
    out = tmp_path / "p.xlsx"
    result = CliRunner().invoke(
        cli, ["export", "--format", "predictions", "--store", str(store), "--out", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr == (
        f"error: --out {out}: the predictions are written as CSV or Parquet by the file's extension; "
        "accepted: a name ending in .csv or .parquet\n"
    )
