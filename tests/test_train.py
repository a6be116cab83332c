"""Training one trial: determinism, the per-epoch record, divergence as a result."""

import pytest

from study.config import Settings
from study.spec import Profile, Study, experiment
from study.runner import dataset_infos
from study.train import train_trial
from study.trials import plan_study

PROFILE = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)


def _payloads(baseline: Settings, seeds=(1, 2)):
    spec = Study("t", baseline, (experiment("lr", "learning_rate", [baseline.learning_rate], datasets=("mnist",)),),
                 seeds=seeds)
    infos, _ = dataset_infos(spec, PROFILE)
    trials, _ = plan_study(spec, PROFILE, infos)
    return [t.payload() for t in trials.values()]


SMALL = Settings(epochs=2, conv_filters=(4, 6), dense_units=16, learning_rate=0.1)


def _numbers(result):
    return [(e["loss"], e["accuracy"], e["val_loss"], e["val_accuracy"]) for e in result["epochs"]]


def test_same_trial_twice_gives_identical_per_epoch_numbers(data_dir):
    first, second = _payloads(SMALL)
    a, b = train_trial(first, threads=1), train_trial(first, threads=1)
    assert a["status"] == "ok" and len(a["epochs"]) == 2
    assert _numbers(a) == _numbers(b)
    assert _numbers(train_trial(second, threads=1)) != _numbers(a)  # another seed, other numbers


def test_record_has_every_metric_and_timing(data_dir):
    result = train_trial(_payloads(SMALL)[0], threads=1)
    assert result["params"] > 0 and result["train_seconds"] > 0
    for row in result["epochs"]:
        assert set(row) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"}
        assert 0 <= row["val_accuracy"] <= 1 and row["epoch_seconds"] > 0


def test_nan_loss_is_a_diverged_result_with_its_epoch(data_dir):
    exploding = Settings(epochs=3, conv_filters=(4,), pooling=("max",), dense_units=16, learning_rate=1e12,
                         activation="linear", initializer="ones")
    result = train_trial(_payloads(exploding, seeds=(1,))[0], threads=1)
    assert result["status"] == "diverged"
    assert result["diverged_epoch"] == 1 and len(result["epochs"]) == 1


def test_a_broken_trial_is_failed_not_raised(data_dir):
    payload = dict(_payloads(SMALL)[0], fingerprint="0" * 16)
    result = train_trial(payload, threads=1)
    assert result["status"] == "failed" and "fingerprint" in result["error"]
