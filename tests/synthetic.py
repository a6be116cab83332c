"""A synthetic results store with known effects and realistic seed noise, for the report tests (no training).

Scenarios (final validation accuracy = dataset level + effect + noise with SD 1.5 pp per trial):
- kernel_size: 1 is 20 pp worse; 3 has no effect; 7 diverges in every seed.
- pooling: "none" has no effect but two of four seeds are missing (n = 2); on CIFAR-10 it ties the
  baseline exactly in every seed (zero variance of the differences).
- learning_rate: the baseline 0.5 collapses to chance in seeds 1 and 3 on MNIST and in every seed on
  CIFAR-10; 0.05 learns everywhere; 0.01 learns on MNIST, collapses on CIFAR-10; 0.2 diverges in seed 2.
"""

from __future__ import annotations

import numpy as np

from study.declare.claims import AnyDiffers, Differs, LargestStable, NoEffect, Trend
from study.declare.config import Settings
from study.declare.spec import Profile, Study, Value, experiment
from study.plan.trials import DatasetInfo, plan_study
from study.records import TrialResult
from study.results.store import Store
from study.run.runner import study_spec

PROFILE = Profile(
    "synthetic", seeds=None, epochs=5, train_size=100, test_size=50, description="made up"
)
SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
LEVEL = {"mnist": 0.95, "cifar10": 0.55}
NOISE_SD = 0.015
LONGER_RUN_GAIN = {
    "mnist": 0.0,
    "cifar10": 0.08,
}  # what three times the epochs adds (an "epochs" experiment)

CLAIMS = (
    Differs(
        "Kernel 1 is worse on MNIST; 3 equals 5.",
        "kernel_size",
        ("mnist",),
        values=("1",),
        direction="worse",
        equal=("3",),
        scope="MNIST",
    ),
    AnyDiffers(
        "Kernel size matters on CIFAR-10.",
        "kernel_size",
        ("cifar10",),
        scope="CIFAR-10",
    ),
    NoEffect(
        "Learning rate has no effect on CIFAR-10.",
        "learning_rate",
        ("cifar10",),
        scope="CIFAR-10",
    ),
    Trend(
        "Smaller kernels are worse on MNIST.",
        "kernel_size",
        ("mnist",),
        values=("1", "3", "5"),
        direction="increasing",
        scope="MNIST",
    ),
    LargestStable(
        "0.05 is the largest rate that learns everywhere.",
        "learning_rate",
        ("mnist", "cifar10"),
        values=("0.05",),
    ),
    LargestStable(
        "0.2 is the largest rate that learns everywhere.",
        "learning_rate",
        ("mnist", "cifar10"),
        values=("0.2",),
    ),
)


def synthetic_study(name: str = "synthetic study", claims=CLAIMS) -> Study:
    return Study(
        name,
        Settings(epochs=5),
        (
            experiment("kernel_size", "kernel_size", [1, 3, 5, 7]),
            experiment(
                "pooling",
                "pooling",
                [
                    Value("two max", {"pooling": ("max", "max")}),
                    Value("none", {"pooling": ("none", "none")}),
                ],
            ),
            # around its own baseline (batch 64), so that its trials are not the shared baseline trial
            experiment(
                "learning_rate", "learning_rate", [0.5, 0.2, 0.05, 0.01], base={"batch_size": 64}
            ),
        ),
        seeds=(1, 2, 3, 4),
        claims=claims,
        margins={"cifar10": 5.0},
    )


def noise(experiment: str, value: str, dataset: str, seed: int) -> float:
    if experiment == "pooling" and value == "none" and dataset == "cifar10":
        value = "two max"  # an exact tie with the baseline
    if (experiment == "kernel_size" and value == "5") or (
        experiment == "pooling" and value == "two max"
    ):
        experiment, value = (
            "baseline",
            "-",
        )  # the baseline is one trial shared by several experiments
    entropy = [seed, sum(map(ord, experiment)), sum(map(ord, value)) * 31, sum(map(ord, dataset))]
    return float(np.random.default_rng(entropy).normal(0, NOISE_SD))


def collapses(experiment: str, value: str, dataset: str, seed: int) -> bool:
    if experiment != "learning_rate":
        return False
    if value == "0.5":
        return dataset == "cifar10" or seed in (1, 3)
    return value == "0.01" and dataset == "cifar10"


def final_accuracy(experiment: str, value: str, dataset: str, seed: int) -> float:
    if collapses(experiment, value, dataset, seed):
        return 0.1 + 0.002 * (seed % 3)  # chance, with the small wobble a collapsed run shows
    effect = -0.20 if experiment == "kernel_size" and value == "1" else 0.0
    if (
        experiment == "epochs" and value == "3x"
    ):  # a budget check: the longer run gains on CIFAR-10 only
        effect = LONGER_RUN_GAIN[dataset]
    return LEVEL[dataset] + effect + noise(experiment, value, dataset, seed)


def diverges(experiment: str, value: str, dataset: str, seed: int) -> bool:
    return (experiment == "kernel_size" and value == "7") or (
        experiment == "learning_rate" and value == "0.2" and seed == 2
    )


def make_store(
    path,
    study: Study | None = None,
    missing=(("pooling", "none", 3), ("pooling", "none", 4)),
    profile: Profile = PROFILE,
    seeds: dict | None = None,
    stages: tuple[dict, ...] = (),
) -> Store:
    """A store of ``study`` under ``profile`` with made-up results; ``seeds`` and ``stages`` as a staged run
    (``study.sequential``) plans and records them."""
    study = study or synthetic_study()
    infos = {
        d: DatasetInfo(d, s, 10, f"fp-{d}", profile.train_size, profile.test_size, 0)
        for d, s in SHAPES.items()
    }
    described = {
        d: {
            "name": d,
            "path": f"/data/{d}",
            "format": "idx",
            "train_size": 100,
            "test_size": 50,
            "full_train_size": 1000,
            "full_test_size": 500,
            "input_shape": list(s),
            "channel_mean": [0.5] * s[2],
            "channel_std": [0.25] * s[2],
            "classes": [str(i) for i in range(10)],
            "fingerprint": f"fp-{d}",
        }
        for d, s in SHAPES.items()
    }
    trials, rows = plan_study(study, profile, infos, seeds)
    store = Store(path)
    store.save_plan(
        study.name,
        profile.name,
        {**study_spec(study, profile, described), "stages": list(stages)},
        rows,
        {k: t.spec for k, t in trials.items()},
    )
    store.start_run(
        study.name,
        profile.name,
        {
            "cpu": "test cpu",
            "cpu_count": 2,
            "python": "3.11",
            "packages": {"numpy": "x"},
            "scheduler": "local",
            "workers": 2,
        },
        len(trials),
    )
    done = set()
    for row in rows:
        if row.trial_key in done or (row.experiment, row.value, row.seed) in missing:
            continue
        done.add(row.trial_key)
        trial = trials[row.trial_key]
        final = final_accuracy(row.experiment, row.value, row.dataset, row.seed)
        collapsed = collapses(row.experiment, row.value, row.dataset, row.seed)
        epochs = trial.settings.epochs
        result = TrialResult(
            row.trial_key,
            train_seconds=2.0 + 0.001 * trial.macs / 1e4,
            wall_seconds=3.0,
            params=trial.params,
            worker="w",
        )
        if diverges(row.experiment, row.value, row.dataset, row.seed):
            result.status, result.diverged_epoch = "diverged", 2
            epochs = 2
        for e in range(1, epochs + 1):
            acc = final if collapsed else final * (0.6 + 0.4 * e / epochs)
            loss = float(np.log(10)) if collapsed else float(np.log(1 / acc))
            if result.status == "diverged" and e == 2:
                loss = float("nan")
            result.epochs.append(
                {
                    "epoch": e,
                    "loss": loss,
                    "accuracy": acc,
                    "val_loss": loss,
                    "val_accuracy": acc,
                    "epoch_seconds": 0.4,
                }
            )
        store.save_trial(trial.spec, result)
    return store
