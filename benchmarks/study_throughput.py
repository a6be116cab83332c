"""Whole-study throughput: the runner's default parallelism vs a sequential loop of plain ``model.fit``.

    STUDY_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/study_throughput.py [--seeds 1]

Takes a slice of the built-in study under the ``quick`` profile (the learning-rate and kernel-size
experiments on both datasets), trains it (1) as a sequential loop of plain Keras ``model.fit`` calls in
one process with TensorFlow's default threads, and (2) with ``study run``'s default local Dask cluster
into a fresh store, and prints trials per hour of each and their ratio (JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def plain_loop(trials) -> float:
    """Seconds for a Keras user's loop: seed, build, compile, fit with validation, per trial."""
    import keras

    from study.plan.data import load_dataset
    from study.train.model import build_model, make_optimizer

    started = time.perf_counter()
    for trial in trials:
        info, settings = trial.dataset, trial.settings
        data = load_dataset(info.name, info.train_size, info.test_size, info.data_seed)
        keras.utils.set_random_seed(trial.seed)
        model = build_model(trial.model)
        model.compile(
            optimizer=make_optimizer(settings.optimizer, settings.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=settings.batch_size,
            epochs=settings.epochs,
            validation_data=(data.x_test, data.y_test),
            validation_batch_size=settings.val_batch_size,
            verbose=0,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="seeds per configuration")
    parser.add_argument("--experiments", nargs="+", default=["learning_rate", "kernel_size"])
    parser.add_argument("--json", default="output/study_throughput.json")
    args = parser.parse_args()

    from study.declare.builtin import builtin_study
    from study.declare.spec import Study, get_profile
    from study.plan.trials import plan_study
    from study.run.execution import Execution
    from study.run.runner import dataset_infos, run_study

    full = builtin_study()
    study = Study(
        full.name + " (throughput slice)",
        full.baseline,
        tuple(full.experiment(name) for name in args.experiments),
        seeds=full.seeds[: args.seeds],
    )
    profile = get_profile("quick")
    infos, _ = dataset_infos(study, profile)
    trials, _ = plan_study(study, profile, infos)
    trials = list(trials.values())

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        counts = run_study(
            study,
            profile,
            os.path.join(folder, "bench.sqlite"),
            Execution.build(progress=False),
            log=lambda line: None,
        )
        ours = time.perf_counter() - started
    assert counts.trained == len(trials), counts

    from study.train.worker import init_tensorflow

    init_tensorflow(None)  # the plain loop gets TensorFlow's default threads
    plain = plain_loop(trials)
    report = {
        "trials": len(trials),
        "profile": profile.name,
        "experiments": args.experiments,
        "runner_seconds": ours,
        "plain_seconds": plain,
        "workers": os.cpu_count(),
        "runner_trials_per_hour": len(trials) / ours * 3600,
        "plain_trials_per_hour": len(trials) / plain * 3600,
        "ratio": plain / ours,
    }
    print(f"{len(trials)} quick-profile trials ({', '.join(args.experiments)}; both datasets)")
    print(
        f"sequential plain model.fit: {plain:7.1f} s  {report['plain_trials_per_hour']:7.0f} trials/hour"
    )
    print(
        f"study run (default local Dask): {ours:7.1f} s  {report['runner_trials_per_hour']:7.0f} trials/hour"
    )
    print(f"ratio: {plain / ours:.2f}x")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
