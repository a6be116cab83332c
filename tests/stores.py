"""Stores without training for the budget and plan tests: a tiny study, a calibration that measures
nothing, and made-up results for chosen trials."""

from study.declare.spec import Profile
from study.plan.estimate import Calibration, calibration_path, machine_key, save_calibration
from study.plan.trials import plan_study
from study.records import TrialResult
from study.results.store import Store
from study.run.runner import dataset_infos, study_spec

TINY_STUDY = """name = "tiny"
datasets = ["mnist"]
seeds = [1, 2]
baseline_seeds = 2

[baseline]
epochs = 2
conv_filters = [4, 6]
dense_units = 16

[[experiments]]
name = "kernel"
parameter = "kernel_size"
values = [3, 5]
"""


def calibrated(store_path) -> None:
    """A calibration for this machine beside the store, so no test measures one."""
    save_calibration(
        calibration_path(store_path),
        Calibration(
            macs_per_second=1e10,
            step_seconds=1e-3,
            trial_seconds=0.1,
            trace_seconds=1.0,
            startup_seconds=5.0,
            machine=machine_key(),
        ),
    )


def fill_store(path, study, profile: Profile, keep=lambda index: True) -> dict:
    """Plan ``study`` under ``profile`` into the store at ``path`` and store made-up results for the
    trials ``keep`` selects (by their index in plan order): a store without training. Returns the trials."""
    infos, described = dataset_infos(study, profile)
    trials, rows = plan_study(study, profile, infos)
    with Store(path) as store:
        store.save_plan(
            study.name,
            profile.name,
            study_spec(study, profile, described),
            rows,
            {key: trial.spec for key, trial in trials.items()},
        )
        for index, (key, trial) in enumerate(trials.items()):
            if not keep(index):
                continue
            epochs = [
                {
                    "epoch": e,
                    "loss": 1.0 / e,
                    "accuracy": 0.5 + 0.1 * e,
                    "val_loss": 1.0 / e,
                    "val_accuracy": 0.5 + 0.1 * e + 0.01 * trial.seed,
                    "epoch_seconds": 0.1,
                }
                for e in range(1, trial.settings.epochs + 1)
            ]
            store.save_trial(
                trial.spec,
                TrialResult(
                    key,
                    epochs=epochs,
                    train_seconds=0.1 * len(epochs),
                    wall_seconds=0.2,
                    params=trial.params,
                    worker="test",
                ),
            )
    return trials
