"""A synthetic results store with known effects, for the report tests (no training)."""

from __future__ import annotations

import numpy as np

from study.config import Settings
from study.runner import study_spec, trial_config
from study.spec import Profile, Study, Value, experiment
from study.store import Store
from study.trials import DatasetInfo, plan_study

PROFILE = Profile("synthetic", seeds=None, epochs=5, train_size=100, test_size=50, description="made up")
SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


def synthetic_study(name: str = "synthetic study") -> Study:
    return Study(name, Settings(epochs=5), (
        # kernel 1 clearly worse, kernel 3 the same as 5 (null), kernel 7 diverges in every seed
        experiment("kernel_size", "kernel_size", [1, 3, 5, 7]),
        # pooling "none" is incomplete: two of four seeds are missing
        experiment("pooling", "pooling", [Value("two max", {"pooling": ("max", "max")}),
                                          Value("none", {"pooling": ("none", "none")})]),
    ), seeds=(1, 2, 3, 4))


def final_accuracy(experiment: str, value: str, dataset: str, seed: int) -> float:
    base = {"mnist": 0.95, "cifar10": 0.55}[dataset]
    noise = 0.002 * ((seed * 7919) % 5 - 2) / 2  # deterministic, tiny, different per seed
    if experiment == "kernel_size" and value == "1":
        return base - 0.20 + noise * 3
    return base + noise


def make_store(path, study: Study | None = None, missing=(("pooling", "none", 3), ("pooling", "none", 4))) -> Store:
    study = study or synthetic_study()
    infos = {d: DatasetInfo(d, s, 10, f"fp-{d}", PROFILE.train_size, PROFILE.test_size, 0) for d, s in SHAPES.items()}
    described = {d: {"name": d, "path": f"/data/{d}", "format": "idx", "train_size": 100, "test_size": 50,
                     "full_train_size": 1000, "full_test_size": 500, "input_shape": list(s),
                     "classes": [str(i) for i in range(10)], "fingerprint": f"fp-{d}"} for d, s in SHAPES.items()}
    trials, rows = plan_study(study, PROFILE, infos)
    store = Store(path)
    store.save_plan(study.name, PROFILE.name, study_spec(study, PROFILE, described), rows,
                    {k: trial_config(t) for k, t in trials.items()})
    store.start_run(study.name, PROFILE.name, {"cpu": "test cpu", "cpu_count": 2, "python": "3.11",
                                                "packages": {"numpy": "x"}, "scheduler": "local", "workers": 2}, len(trials))
    done = set()
    for row in rows:
        if row.trial_key in done or (row.experiment, row.value, row.seed) in missing:
            continue
        done.add(row.trial_key)
        trial = trials[row.trial_key]
        final = final_accuracy(row.experiment, row.value, row.dataset, row.seed)
        epochs = trial.settings.epochs
        result = {"key": row.trial_key, "status": "ok", "diverged_epoch": None, "error": None,
                  "train_seconds": 2.0 + 0.001 * trial.macs / 1e4, "wall_seconds": 3.0, "params": trial.params,
                  "worker": "w", "epochs": []}
        if row.experiment == "kernel_size" and row.value == "7":
            result.update(status="diverged", diverged_epoch=2)
            epochs = 2
        for e in range(1, epochs + 1):
            acc = final * (0.6 + 0.4 * e / epochs)
            loss = float(np.log(1 / acc))
            if result["status"] == "diverged" and e == 2:
                loss = float("nan")
            result["epochs"].append({"epoch": e, "loss": loss, "accuracy": acc, "val_loss": loss,
                                     "val_accuracy": acc, "epoch_seconds": 0.4})
        store.save_trial(trial_config(trial), result, trial.macs)
    return store
