"""Read the store into tidy tables (pandas): what ``list``, ``export`` and the report consume."""

from __future__ import annotations

import pandas as pd

from study.results.outcomes import outcome
from study.results.store import Store

# The tidy table of the issue, then the profile (one store can hold several profiles of a study).
EXPORT_COLUMNS = ["study", "experiment", "parameter", "value", "dataset", "seed", "epoch", "loss", "accuracy",
                  "val_loss", "val_accuracy", "epoch_seconds", "trial_key", "status", "profile", "outcome"]


def plan_frame(store: Store, study: str | None = None, profile: str | None = None) -> pd.DataFrame:
    """One row per planned (experiment, value, dataset, seed) with its trial's status ('missing' if none)."""
    return store.plan_frame(study, profile)


def epochs_frame(store: Store, keys: list[str] | None = None) -> pd.DataFrame:
    return store.epochs_frame(keys)


def trial_outcomes(store: Store) -> dict[str, str]:
    """learned / collapsed / diverged of every finished trial, by the one rule of ``study.results.outcomes.outcome``
    (the report, ``study list`` and the export all read it from here or from that function)."""
    status = store.trial_statuses()
    classes = {key: config["model"]["num_classes"] for key, config in store.configs().items() if "model" in config}
    out = {}
    for row in store.last_epochs().itertuples():
        kind = outcome(status.get(row.trial_key, "missing"), row.val_accuracy, row.loss,
                       classes.get(row.trial_key, 10))
        if kind is not None:
            out[row.trial_key] = kind
    return out


def export_table(store: Store) -> pd.DataFrame:
    """The tidy per-epoch table: plan rows joined with every stored epoch of their trial and its outcome."""
    plan = plan_frame(store)
    epochs = epochs_frame(store)
    table = plan.merge(epochs, on="trial_key", how="inner")
    table["outcome"] = table["trial_key"].map(trial_outcomes(store))
    return table[EXPORT_COLUMNS].sort_values(
        ["study", "profile", "experiment", "value", "dataset", "seed", "epoch"]).reset_index(drop=True)


def trial_listing(store: Store) -> list[dict]:
    """Every planned trial once, with its status, outcome, last val_accuracy and the experiments using it."""
    plan = plan_frame(store)
    if plan.empty:
        return []
    last = store.last_epochs()
    last_acc = dict(zip(last["trial_key"], last["val_accuracy"]))
    outcomes = trial_outcomes(store)
    rows = []
    for key, group in plan.groupby("trial_key", sort=False):
        first = group.iloc[0]
        acc = last_acc.get(key)
        rows.append({
            "trial_key": key, "status": first["status"], "outcome": outcomes.get(key), "dataset": first["dataset"], "seed": int(first["seed"]),
            "epochs_run": 0 if pd.isna(first["epochs_run"]) else int(first["epochs_run"]),
            "val_accuracy": None if acc is None or pd.isna(acc) else float(acc),
            "uses": ", ".join(sorted({f"{r.experiment}={r.value}" for r in group.itertuples()})),
        })
    return rows
