"""Read the store into tidy tables (pandas): what ``list``, ``export`` and the report consume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from study.records import TrialStatus
from study.results.outcomes import ConstantAnswer, TrialSummary, summarise
from study.results.store import Store

# The tidy table of the issue, then the profile (one store can hold several profiles of a study).
EXPORT_COLUMNS = [
    "study",
    "experiment",
    "parameter",
    "value",
    "dataset",
    "seed",
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "epoch_seconds",
    "trial_key",
    "status",
    "profile",
    "outcome",
    "phase",  # "selection": a grid cell, its val_ columns on the validation split held out of the training images
]


def plan_frame(store: Store, study: str | None = None, profile: str | None = None) -> pd.DataFrame:
    """One row per planned (experiment, value, dataset, seed) with its trial's status ('missing' if none)."""
    return store.plan_frame(study, profile)


def epochs_frame(store: Store, keys: list[str] | None = None) -> pd.DataFrame:
    return store.epochs_frame(keys)


def constant_answers(store: Store, held_out: bool = False) -> dict[str, ConstantAnswer]:
    """The best constant answer of every dataset subset the store's studies recorded, by fingerprint
    (each trial's spec carries the fingerprint of the data it was trained and validated on). With
    ``held_out``: on a validation split held out of the training subset (stratified, so its class shares
    are the training subset's) instead of on the test subset."""
    answers = {}
    for facts in store.dataset_facts():
        counts = facts.train_class_counts if held_out else facts.test_class_counts
        if counts and sum(counts):
            answers[facts.fingerprint] = ConstantAnswer.from_counts(counts)
    return answers


def trial_summaries(store: Store) -> dict[str, TrialSummary]:
    """Every stored trial summarised once (status, outcome by the one rule, last epoch's metrics), by key:
    what ``study list``, the export, the TensorBoard export and the report read."""
    epochs = store.epochs_by_trial()
    answers = constant_answers(store)
    held_out = constant_answers(
        store, held_out=True
    )  # a grid's selection trials score a validation split
    summaries = {}
    for trial in store.stored_trials():
        last = epochs.get(trial.key)
        spec = trial.planned
        classes = spec.model.num_classes if spec is not None else 10
        answer = None
        if spec is not None:
            answer = (held_out if spec.settings.validation else answers).get(spec.fingerprint)
        summaries[trial.key] = summarise(
            trial.key,
            trial.dataset,
            trial.seed,
            trial.status,
            answer or ConstantAnswer.uniform(classes),
            classes,
            trial.epochs_run,
            vars(last[-1]) if last else None,
            trial.train_seconds,
            trial.trace_seconds,
            trial.load_seconds,
        )
    return summaries


def export_table(store: Store) -> pd.DataFrame:
    """The tidy per-epoch table: plan rows joined with every stored epoch of their trial and its outcome."""
    plan = plan_frame(store)
    epochs = epochs_frame(store)
    table = plan.merge(epochs, on="trial_key", how="inner")
    outcomes = {
        key: s.outcome for key, s in trial_summaries(store).items() if s.outcome is not None
    }
    table["outcome"] = table["trial_key"].map(outcomes)
    table["phase"] = table["phase"].fillna("")
    return (
        table[EXPORT_COLUMNS]
        .sort_values(["study", "profile", "experiment", "value", "dataset", "seed", "epoch"])
        .reset_index(drop=True)
    )


PREDICTION_COLUMNS = (
    "trial_key",
    "dataset",
    "seed",
    "position",  # the image's place in the trial's test subset
    "image_index",  # its index in the dataset's full test split (a file of an image folder: its sorted order)
    "label",
    "prediction",
)


def prediction_table(store: Store) -> pd.DataFrame:
    """One row per stored trial and test image: the class the trial predicted after its last epoch beside
    the image's label and its index in the full test split (``PREDICTION_COLUMNS``). Trials stored before
    predictions were kept, and a grid's selection cells (scored on a validation split), have none."""
    sets = store.test_sets()
    predictions = store.predictions()
    frames = []
    for trial in store.stored_trials():
        found = predictions.get(trial.key)
        if found is None or trial.planned is None or trial.planned.fingerprint not in sets:
            continue
        _, indices, labels = sets[trial.planned.fingerprint]
        frames.append(
            pd.DataFrame(
                {
                    "trial_key": trial.key,
                    "dataset": trial.dataset,
                    "seed": trial.seed,
                    "position": np.arange(len(found)),
                    "image_index": indices,
                    "label": labels,
                    "prediction": found,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PREDICTION_COLUMNS)]


@dataclass(frozen=True)
class ListedTrial:
    """One planned trial for ``study list``: its summary (None while missing) and where it is used."""

    key: str
    dataset: str
    seed: int
    status: TrialStatus  # ok, diverged, failed or missing
    summary: TrialSummary | None
    uses: tuple[str, ...]  # "experiment=value", sorted
    held_out: bool = False  # a grid's selection cell: its accuracy is on the validation split, not the test images

    @property
    def shown(self) -> str:
        """What became of it (learned, collapsed, diverged), else its status."""
        return (
            str(self.summary.outcome)
            if self.summary is not None and self.summary.outcome
            else self.status
        )


def trial_listing(store: Store) -> list[ListedTrial]:
    """Every planned trial once, in plan order, with its summary and the experiments using it."""
    plan = plan_frame(store)
    if plan.empty:
        return []
    summaries = trial_summaries(store)
    rows = []
    for key, group in plan.groupby("trial_key", sort=False):
        first = group.iloc[0]
        rows.append(
            ListedTrial(
                key,
                first["dataset"],
                int(first["seed"]),
                TrialStatus(first["status"]),
                summaries.get(key),
                tuple(sorted({f"{r.experiment}={r.value}" for r in group.itertuples()})),
                bool((group["phase"].fillna("") != "").any()),
            )
        )
    return rows
