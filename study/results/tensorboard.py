"""Export the store for TensorBoard: each trial's per-epoch scalars and the HParams plugin's summary.

    study export --format tensorboard --out output/tensorboard
    tensorboard --logdir output/tensorboard

One run folder per trial, ``<dataset>/<experiment=value>/seed<N>-<key>`` (a trial shared by several
experiments, like the baseline, appears once, under its first use). Each run holds the scalars
``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` and ``epoch_seconds`` per epoch and its
hyperparameters (every setting, dataset, seed, uses) and, where the trial kept its predictions, its confusion matrix
as an image (``confusion_matrix``: rows true, columns predicted, dark where a row's share is high); the top folder
holds the HParams experiment
(parameters and final metrics), so the HParams dashboard can sort and filter the whole study.
This module imports TensorFlow (it writes TensorFlow event files); the report never does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from study.errors import StudyError
from study.names import path_name
from study.results.outcomes import TrialSummary
from study.results.store import Store
from study.results.stored import StoredTrial
from study.results.tables import trial_summaries

MARKER = ".study-tensorboard"  # a folder with this file was written here and may be replaced
SCALARS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds")
METRICS = {
    "val_accuracy": "final validation accuracy",
    "val_loss": "final validation loss",
    "accuracy": "final training accuracy",
    "loss": "final training loss",
    "train_seconds": "training seconds",
}


def hparam_value(value: Any) -> bool | int | float | str:
    """TensorBoard takes bool, number or string: lists become text, None 'none'.

    >>> hparam_value([20, 50]), hparam_value(None), hparam_value(0.5)
    ('[20, 50]', 'none', 0.5)
    """
    if isinstance(value, (bool, int, float, str)):
        return value
    return "none" if value is None else json.dumps(value)


def trial_hparams(
    trial: StoredTrial, uses: list[str], summary: TrialSummary | None = None
) -> dict[str, Any]:
    """The flat hyperparameters of one stored trial (its settings, dataset, seed, where it is used) and, from
    its summary, its outcome (learned, collapsed, diverged; "none" for a failed trial)."""
    planned = trial.planned
    values = {
        name: hparam_value(value)
        for name, value in (planned.settings.to_dict() if planned else {}).items()
    }
    values.update(
        dataset=trial.dataset,
        seed=trial.seed,
        uses="; ".join(uses),
        status=str(trial.status),
        outcome=hparam_value(str(summary.outcome) if summary and summary.outcome else None),
        train_size=hparam_value(planned.train_size if planned else None),
    )
    return values


CELL = 12  # pixels per cell of a confusion image


def confusion_image(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A trial's confusion matrix as a greyscale uint8 image, no plotting library (cheap for every trial):
    rows the true class, columns the predicted one, each row as shares of its images, dark where high."""
    classes = int(max(labels.max(initial=0), predicted.max(initial=0))) + 1
    counts = np.zeros((classes, classes))
    np.add.at(counts, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    pixels = np.round(255 * (1 - shares)).astype(np.uint8)
    return np.kron(pixels, np.ones((CELL, CELL), dtype=np.uint8))


def _folder_name(text: str) -> str:
    return path_name(text)  # never "..", a separator or a case twin of another name (study.names)


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise StudyError(
                f"--out {out} is a folder with other files; give a new or empty folder "
                "(a folder written by an earlier tensorboard export is replaced)"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "written by `study export --format tensorboard`; replaced by the next export\n"
    )


def export_tensorboard(store: Store, out: str | Path) -> int:
    """Write every stored trial of ``store`` under ``out``; returns the number of runs written."""
    out = Path(out)
    trials = store.stored_trials()
    uses = {
        key: [f"{experiment}={value}" for experiment, value in found]
        for key, found in store.uses().items()
    }
    epochs = store.epochs_by_trial()
    predictions, test_sets = store.predictions(), store.test_sets()
    summaries = trial_summaries(
        store
    )  # the one outcome per trial that list, export and the report read
    _prepare(out)
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    runs = []
    for trial in trials:
        key = trial.key
        used = uses.get(key, ["unplanned"])
        values = trial_hparams(trial, used, summaries.get(key))
        runs.append(values)
        folder = (
            out
            / _folder_name(trial.dataset)
            / _folder_name(used[0])
            / f"seed{trial.seed}-{key[:8]}"
        )
        writer = tf.summary.create_file_writer(str(folder))
        with writer.as_default():
            hp.hparams(values, trial_id=key)
            for epoch in epochs.get(key, []):
                for name in SCALARS:
                    if (
                        getattr(epoch, name) is not None
                    ):  # a diverged epoch's NaN loss is stored as NULL
                        tf.summary.scalar(name, getattr(epoch, name), step=epoch.epoch)
            if trial.train_seconds is not None and epochs.get(key):
                tf.summary.scalar("train_seconds", trial.train_seconds, step=epochs[key][-1].epoch)
            found = predictions.get(key)
            if found is not None and trial.planned and trial.planned.fingerprint in test_sets:
                image = confusion_image(found, test_sets[trial.planned.fingerprint][2])
                tf.summary.image("confusion_matrix", image[None, ..., None], step=trial.epochs_run)
        writer.close()
    names = sorted({name for values in runs for name in values})
    writer = tf.summary.create_file_writer(str(out))
    with writer.as_default():
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in names],
            metrics=[hp.Metric(tag, display_name=text) for tag, text in METRICS.items()],
        )
    writer.close()
    return len(runs)
