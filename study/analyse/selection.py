"""A grid's selection phase as the store holds it: one ``CellRun`` per selection trial, and the choices.

Reads only the selection rows of the plan (phase ``selection``) and their trials' validation scores: the
test images never enter a choice (a selection trial is scored on a split held out of its training subset,
``study.plan.data.hold_out``).

    choices = stored_choices(store, study)   # (experiment, dataset) -> the chosen column of each row
    study = study.with_choices(choices)      # what the confirmation phase plans from
"""

from __future__ import annotations

import pandas as pd

from study.analyse.grid import CellRun, cell_scores, choose
from study.declare.spec import Experiment, Study
from study.plan.trials import SELECTION
from study.results.outcomes import ConstantAnswer, TrialSummary
from study.results.store import Store
from study.results.stored import StoredStudy
from study.results.tables import plan_frame, trial_summaries


def selection_rows(plan: pd.DataFrame) -> pd.Series:
    """Which rows of a plan frame are a grid's selection cells (stores before schema 3 have none)."""
    if "phase" not in plan.columns:
        return pd.Series(False, index=plan.index)
    return plan["phase"].fillna("") == SELECTION


def cell_runs(
    experiment: Experiment, plan: pd.DataFrame, summaries: dict[str, TrialSummary]
) -> dict[str, list[CellRun]]:
    """dataset -> one ``CellRun`` per selection row of ``experiment`` (a grid) in ``plan``."""
    grid = experiment.grid
    assert grid is not None
    where = {
        grid.cell_label(row, column): (row.label, column, row.tuned[column])
        for row, column in grid.cells()
    }
    mine = plan[selection_rows(plan) & (plan["experiment"] == experiment.name)]
    runs: dict[str, list[CellRun]] = {}
    for row in mine.itertuples():
        cell = where.get(str(row.value))
        if cell is None:  # a cell of an older declaration of this grid
            continue
        summary = summaries.get(str(row.trial_key))
        outcome = summary.outcome if summary is not None else None
        runs.setdefault(str(row.dataset), []).append(
            CellRun(
                str(row.dataset),
                cell[0],
                cell[1],
                cell[2],
                int(row.seed),
                summary.val_accuracy if summary is not None else None,
                str(outcome) if outcome is not None else None,
            )
        )
    return runs


def held_out_chance(stored: StoredStudy, dataset: str) -> float:
    """What a diverged selection run scores: the best constant answer on a split held out of ``dataset``'s
    training subset (stratified, so its class shares are the training subset's); uniform where the run did
    not record them."""
    facts = stored.datasets.get(dataset)
    counts = facts.train_class_counts if facts is not None else ()
    answer = (
        ConstantAnswer.from_counts(counts)
        if counts and sum(counts)
        else ConstantAnswer.uniform(stored.classes(dataset))
    )
    return answer.accuracy


def stored_choices(
    store: Store, study: Study, profile: str
) -> dict[tuple[str, str], tuple[int, ...]]:
    """(experiment, dataset) -> the chosen column of each row of every grid of ``study`` whose selection
    phase is complete in ``store`` under ``profile`` (``study.analyse.grid.choose``)."""
    grids = [e for e in study.experiments if e.grid is not None]
    if not grids:
        return {}
    stored = store.stored_study(study.name, profile)
    plan = plan_frame(store, study.name, profile)
    summaries = trial_summaries(store)
    choices: dict[tuple[str, str], tuple[int, ...]] = {}
    for experiment in grids:
        assert experiment.grid is not None
        for dataset, runs in cell_runs(experiment, plan, summaries).items():
            chance = held_out_chance(stored, dataset)
            columns = choose(experiment.grid, cell_scores(runs, chance))
            if columns is not None:
                choices[(experiment.name, dataset)] = columns
    return choices
