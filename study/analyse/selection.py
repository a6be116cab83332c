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
from study.results.tables import constant_answers, plan_frame, trial_summaries


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


def stored_choices(
    store: Store, study: Study, profile: str
) -> dict[tuple[str, str], tuple[int, ...]]:
    """(experiment, dataset) -> the chosen column of each row of every grid of ``study`` whose selection
    phase is complete in ``store`` under ``profile`` (``study.analyse.grid.choose``)."""
    grids = [e for e in study.experiments if e.grid is not None]
    if not grids:
        return {}
    plan = plan_frame(store, study.name, profile)
    summaries = trial_summaries(store)
    specs = store.planned_trials()
    answers = constant_answers(store, held_out=True)
    choices: dict[tuple[str, str], tuple[int, ...]] = {}
    for experiment in grids:
        assert experiment.grid is not None
        for dataset, runs in cell_runs(experiment, plan, summaries).items():
            keys = plan[(plan["experiment"] == experiment.name) & (plan["dataset"] == dataset)]
            spec = next((specs[k] for k in keys["trial_key"] if k in specs), None)
            answer = answers.get(spec.fingerprint) if spec is not None else None
            classes = spec.model.num_classes if spec is not None else 10
            chance = (answer or ConstantAnswer.uniform(classes)).accuracy
            columns = choose(experiment.grid, cell_scores(runs, chance))
            if columns is not None:
                choices[(experiment.name, dataset)] = columns
    return choices
