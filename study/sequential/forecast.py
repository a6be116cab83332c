"""What a run would train and cost, before running it: the numbers `study plan` prints (as text or JSON).

    seen = forecast(study, profile, "output/study.sqlite", workers=16)
    seen.to_train, seen.estimate.seconds, seen.worst.this_machine.seconds, seen.to_dict()

Counts are trials, images and multiply-accumulates, times are seconds; the sentences are the command's.
It lives beside the sequential driver because the worst case of a design with several looks is the
driver's (``worst_case``), and a time bound sets the trial cap from it (``fit_time``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from study.declare.spec import Profile, Study
from study.plan.data import Dataset
from study.plan.estimate import Calibration, Estimate, calibrate, trial_cost
from study.plan.schedules import steps_per_epoch
from study.run.execution import default_workers
from study.run.runner import RunPlan, load_datasets, plan_run, stored_keys
from study.sequential.driver import fit_time, resume_point, without_idle_cap, worst_case


@dataclass(frozen=True)
class BaselineRecipe:
    """The baseline's budget and training recipe on one dataset."""

    train_images: int  # after subsetting
    epochs: int  # the profile's for this dataset, else the study's baseline's
    batch_size: int
    steps: int  # SGD steps over all epochs (the last batch of an epoch may be smaller)
    learning_rate: float
    schedule: str  # the learning-rate schedule over those steps
    input_scaling: str


@dataclass(frozen=True)
class ExperimentCost:
    """The first look's trials still to train for one experiment on one dataset, and their worker time."""

    experiment: str
    dataset: str
    trials: int  # a trial shared by several experiments counts once, with the first that uses it
    worker_seconds: float  # the sum of their times on one worker (no schedule, no startup)
    phase: str = ""  # "selection": a grid's selection cells (study.plan.trials.SELECTION)


@dataclass(frozen=True)
class WorstCase:
    """The costliest plan the looks can reach (``study.sequential.driver.worst_case``); the first look's plan
    when the design has one look."""

    trials: int
    to_train: int
    estimate: Estimate  # on the forecast's ``workers``
    this_machine: Estimate  # on this machine's workers


@dataclass(frozen=True)
class Forecast:
    """A run's plan and cost before it starts: its first look, the worst case of its looks, the baseline's
    recipe per dataset, the cost by experiment and the calibration the times come from."""

    study: str  # the study's name
    profile: Profile  # the budget, with the trial cap a time bound set
    trials: int  # the look's trials (the first look's, unless the store holds looks of this study)
    stored: int  # of those, in the store already
    to_train: int
    baselines: dict[str, BaselineRecipe]  # by dataset
    workers: int  # the workers the estimate is for (asked for, else this machine's)
    here: int  # this machine's workers (``default_workers``)
    estimate: Estimate  # the trials to train, on ``workers`` workers
    this_machine: Estimate  # the same on ``here`` workers
    worst: WorstCase
    experiments: tuple[ExperimentCost, ...]  # in plan order
    calibration: Calibration
    look: int = 1  # the look a run trains next, after those the store holds (``resume_point``)
    complete: bool = False  # the store holds every look the results call for: a run trains nothing

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `study plan --json` (seconds rounded to 0.1)."""
        return {
            "study": self.study,
            "profile": self.profile.name,
            "trials": self.trials,
            "stored": self.stored,
            "baselines": {dataset: asdict(r) for dataset, r in self.baselines.items()},
            "to_train": self.to_train,
            "workers": self.estimate.workers,
            "images": self.estimate.images,
            "macs": self.estimate.macs,
            "estimated_seconds": round(self.estimate.seconds, 1),
            "this_machine": {
                "workers": self.here,
                "estimated_seconds": round(self.this_machine.seconds, 1),
            },
            "looks": self.profile.looks,
            "look": self.look,
            "complete": self.complete,
            "worst_case": {
                "trials": self.worst.trials,
                "to_train": self.worst.to_train,
                "images": self.worst.estimate.images,
                "estimated_seconds": round(self.worst.estimate.seconds, 1),
                "this_machine_seconds": round(self.worst.this_machine.seconds, 1),
            },
            "experiments": [
                {
                    "experiment": e.experiment,
                    "dataset": e.dataset,
                    "trials": e.trials,
                    "worker_seconds": round(e.worker_seconds, 1),
                    "phase": e.phase,
                }
                for e in self.experiments
            ],
            "calibration": self.calibration.to_dict(),
        }


def forecast(
    study: Study,
    profile: Profile,
    store_path: str | Path,
    workers: int | None = None,
    origins: dict[str, str] | None = None,
    seconds: float | None = None,
    recalibrate: bool = False,
) -> Forecast:
    """The forecast of running ``study`` under ``profile`` into the store at ``store_path`` (trials it has
    are not trained again) on ``workers`` workers (None: this machine's). ``origins``: what set each budget
    field, checked as ``plan_run`` checks them; ``seconds``: a wall-time bound that sets the trial cap
    (``fit_time``); ``recalibrate``: measure this machine again instead of reading the cached calibration
    (once, and only when something is to train or the time bound needs it). Raises StudyError (ConfigError,
    DataError) for a budget beyond the study, a data set not found, or a time shorter than the first look."""
    here = default_workers()
    workers = workers or here
    measure = _once(lambda: calibrate(store_path, refresh=recalibrate))
    loaded = load_datasets(study, profile)
    done = stored_keys(store_path)
    if seconds is not None:
        profile = fit_time(study, profile, seconds, workers, measure(), loaded)
    else:  # a cap this study cannot reach is not part of its budget (as a run drops it)
        profile = without_idle_cap(study, profile, loaded, origins)
    resume = resume_point(study, profile, store_path, loaded)
    study = resume.study
    planned = plan_run(
        study, profile, done, workers, measure, origins, seeds=resume.seeds, loaded=loaded
    )
    calibration = planned.calibration or measure()  # shown even when nothing is to train
    worst = (
        worst_case(study, profile, loaded, done)
        if profile.looks > 1 and not resume.complete
        else planned
    )
    return Forecast(
        study.name,
        profile,
        len(planned.trials),
        planned.stored,
        len(planned.pending),
        baseline_recipes(study, profile, loaded),
        workers,
        here,
        planned.estimate_for(workers, calibration),
        planned.estimate_for(here, calibration),
        WorstCase(
            len(worst.trials),
            len(worst.pending),
            worst.estimate_for(workers, calibration),
            worst.estimate_for(here, calibration),
        ),
        experiment_costs(planned, calibration),
        calibration,
        resume.look,
        resume.complete,
    )


def _once(measure: Callable[[], Calibration]) -> Callable[[], Calibration]:
    """``measure``, called at most once: a second call returns the first one's calibration."""
    found: list[Calibration] = []

    def cached() -> Calibration:
        if not found:
            found.append(measure())
        return found[0]

    return cached


def baseline_recipes(
    study: Study, profile: Profile, loaded: dict[str, Dataset]
) -> dict[str, BaselineRecipe]:
    """Per dataset of ``loaded`` (subsets as ``profile`` gives them), the baseline's budget and recipe."""
    base = study.baseline
    out = {}
    for dataset, data in loaded.items():
        epochs = profile.for_dataset(dataset).epochs or base.epochs  # as scaled_epochs gives it
        images = len(data.y_train)
        out[dataset] = BaselineRecipe(
            images,
            epochs,
            base.batch_size,
            epochs * steps_per_epoch(images, base.batch_size),
            base.learning_rate,
            base.schedule,
            base.input_scaling,
        )
    return out


def experiment_costs(plan: RunPlan, calibration: Calibration) -> tuple[ExperimentCost, ...]:
    """The plan's trials still to train at ``calibration``, by (experiment, dataset) in plan order; a trial
    shared by several experiments counts once, with the first that uses it."""
    pending = {trial.key for trial in plan.pending}
    out: dict[tuple[str, str, str], tuple[int, float]] = {}
    for row in plan.rows:
        if row.trial_key not in pending:
            continue
        pending.discard(row.trial_key)
        count, seconds = out.get((row.experiment, row.dataset, row.phase), (0, 0.0))
        cost = trial_cost(plan.trials[row.trial_key], plan.sizes).seconds(calibration)
        out[(row.experiment, row.dataset, row.phase)] = (count + 1, seconds + cost)
    return tuple(
        ExperimentCost(experiment, dataset, count, seconds, phase)
        for (experiment, dataset, phase), (count, seconds) in out.items()
    )
