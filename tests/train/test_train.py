"""Training one trial: determinism, the per-epoch record, divergence as a result."""

import pytest

from study.declare.config import Settings
from study.declare.spec import Profile, Study, experiment
from study.plan.trials import TrialSpec, graph_key, plan_study
from study.run.runner import dataset_infos
from study.train import fastfit
from study.train.worker import train_trial

pytestmark = pytest.mark.train  # every test here trains or imports TensorFlow

PROFILE = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)


def _specs(baseline: Settings, seeds=(1, 2)) -> list[TrialSpec]:
    spec = Study(
        "t",
        baseline,
        (experiment("lr", "learning_rate", [baseline.learning_rate], datasets=("mnist",)),),
        seeds=seeds,
        baseline_seeds=len(seeds),
    )
    infos, _ = dataset_infos(spec, PROFILE)
    trials, _ = plan_study(spec, PROFILE, infos)
    return [t.spec for t in trials.values()]


SMALL = Settings(epochs=2, conv_filters=(4, 6), dense_units=16, learning_rate=0.1)


def _numbers(result):
    return [(e["loss"], e["accuracy"], e["val_loss"], e["val_accuracy"]) for e in result.epochs]


def test_same_trial_twice_gives_identical_per_epoch_numbers(data_dir):
    first, second = _specs(SMALL)
    a, b = train_trial(first, threads=1), train_trial(first, threads=1)
    assert (
        graph_key(first.settings, first.model) in fastfit._CACHE
    )  # the key the estimate counts traces by
    assert a.status == "ok" and len(a.epochs) == 2
    assert _numbers(a) == _numbers(b)
    c = train_trial(second, threads=1)
    assert _numbers(c) != _numbers(a)  # another seed, other numbers
    assert _numbers(train_trial(first, threads=1)) == _numbers(
        a
    )  # a reused graph after another seed


@pytest.mark.parametrize(
    "other",
    [
        SMALL.with_values(
            learning_rate=0.01, batch_size=16
        ),  # graph reused across learning rate and batch size
        SMALL.with_values(initializer="he_normal"),  # and across initialisers
    ],
)
def test_reused_graph_gives_the_numbers_of_a_fresh_process(data_dir, other):
    import json
    import subprocess
    import sys

    first = _specs(SMALL)[0]
    second = _specs(other)[1]
    train_trial(
        second, threads=1
    )  # this process has now traced the graph with other settings and seed
    here = _numbers(train_trial(first, threads=1))
    # the fresh process uses this process's thread counts (1, unless an earlier test in this process ran
    # TensorFlow first and fixed them: thread counts can change the order of float reductions)
    from study.train.worker import init_tensorflow

    threads = init_tensorflow(1)["intra_op_threads"] or None
    code = (
        "import json, sys; from study.train.worker import train_trial; "
        "from study.plan.trials import TrialSpec; "
        f"r = train_trial(TrialSpec.from_dict(json.loads(sys.argv[1])), threads={threads}); "
        "print(json.dumps([(e['loss'], e['accuracy'], e['val_loss'], e['val_accuracy']) for e in r.epochs]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(first.to_dict())], capture_output=True, text=True
    )
    assert [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])] == here


def test_tracing_is_timed_apart_from_the_epochs_and_changes_no_number(data_dir):
    """Two seeds of one graph in one worker: the first pays the tracing, the second finds the graph cached;
    epoch times never include it, and the second seed's numbers and final weights are those it gets when it
    traces the graph itself (a fresh cache)."""
    import numpy as np

    first, second = _specs(SMALL)
    key = graph_key(second.settings, second.model)
    fastfit._CACHE.clear()
    a = train_trial(first, threads=1)
    b = train_trial(second, threads=1)
    reused_weights = fastfit._CACHE[key].model.get_weights()
    assert a.status == b.status == "ok"
    assert a.trace_seconds > 0 and b.trace_seconds == 0.0
    for result in (a, b):
        assert result.train_seconds == sum(e["epoch_seconds"] for e in result.epochs)
        assert result.load_seconds >= 0
        assert (
            result.wall_seconds
            >= result.train_seconds + result.trace_seconds + result.load_seconds
        )

    fastfit._CACHE.clear()
    fresh = train_trial(second, threads=1)
    assert fresh.trace_seconds > 0
    assert _numbers(fresh) == _numbers(b) and fresh.params == b.params
    assert all(
        np.array_equal(x, y)
        for x, y in zip(fastfit._CACHE[key].model.get_weights(), reused_weights)
    )
    # traced once, before the first timed epoch: no epoch traced again
    assert fastfit._CACHE[key].train_epoch.experimental_get_tracing_count() == 1
    assert fastfit._CACHE[key].evaluate.experimental_get_tracing_count() == 1


def test_warming_up_a_new_graph_changes_no_number(data_dir, monkeypatch):
    """The numbers of a trial whose graph traces inside its first epoch (as before tracing was timed apart)."""
    spec = _specs(SMALL)[1]
    fastfit._CACHE.clear()
    warmed = train_trial(spec, threads=1)
    fastfit._CACHE.clear()
    monkeypatch.setattr(fastfit, "_warm", lambda *args: None)
    cold = train_trial(spec, threads=1)
    assert (
        fastfit._CACHE[
            graph_key(spec.settings, spec.model)
        ].train_epoch.experimental_get_tracing_count()
        == 1
    )
    assert _numbers(cold) == _numbers(warmed)


def test_a_new_graph_is_traced_before_any_epoch_is_timed():
    """``compiled_for`` leaves nothing to trace for the first epoch, and warming it up moves no weight."""
    import numpy as np

    from study.train.model import build_model

    settings = SMALL.with_values(conv_filters=(3, 5))  # a graph no other test traces
    config = settings.model_config((28, 28, 1), 10)
    fastfit._CACHE.clear()
    compiled, seconds = fastfit.compiled_for(config, settings)
    assert seconds > 0
    assert compiled.train_epoch.experimental_get_tracing_count() == 1
    assert compiled.evaluate.experimental_get_tracing_count() == 1
    assert int(compiled.optimizer.iterations.numpy()) == 0  # the warm-up took no step
    fastfit.reset(compiled, config, settings, seed=5)
    expected = build_model(config, seed=5).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(compiled.model.get_weights(), expected))
    again, cached = fastfit.compiled_for(config, settings)
    assert again is compiled and cached == 0.0


def test_record_has_every_metric_and_timing(data_dir):
    result = train_trial(_specs(SMALL)[0], threads=1)
    assert result.params > 0 and result.train_seconds > 0
    for row in result.epochs:
        assert set(row) == {
            "epoch",
            "loss",
            "accuracy",
            "val_loss",
            "val_accuracy",
            "epoch_seconds",
        }
        assert 0 <= row["val_accuracy"] <= 1 and row["epoch_seconds"] > 0


def test_nan_loss_is_a_diverged_result_with_its_epoch(data_dir):
    exploding = Settings(
        epochs=3,
        conv_filters=(4,),
        pooling=("max",),
        dense_units=16,
        learning_rate=1e12,
        activation="linear",
        initializer="ones",
    )
    result = train_trial(_specs(exploding, seeds=(1,))[0], threads=1)
    assert result.status == "diverged"
    assert result.diverged_epoch == 1 and len(result.epochs) == 1


def test_a_broken_trial_is_failed_not_raised(data_dir):
    import dataclasses

    result = train_trial(dataclasses.replace(_specs(SMALL)[0], fingerprint="0" * 16), threads=1)
    assert result.status == "failed" and "fingerprint" in result.error


def test_initial_weights_depend_on_the_seed_alone():
    """Other threads (a Dask worker's event loop) may consume Python's global random between seeding and
    building; the seeded builder must not care."""
    import random

    import numpy as np

    from study.declare.config import ModelConfig
    from study.train.model import build_model

    config = ModelConfig(conv_filters=(4,), pooling=("max",), dense_units=8)
    first = build_model(config, seed=3).get_weights()
    random.random()
    np.random.random()
    again = build_model(config, seed=3).get_weights()
    other = build_model(config, seed=4).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("optimizer, rate", [("sgd", 0.05), ("adam", 0.001)])
def test_one_epoch_of_the_trainer_matches_keras_fit_on_the_same_weights_and_batch_order(
    optimizer, rate
):
    """The project trainer is `model.fit` without the per-step Python: same numbers to float tolerance."""
    from types import SimpleNamespace

    import keras
    import numpy as np

    from study.train import fastfit
    from study.train.model import build_model, make_optimizer

    settings = SMALL.with_values(
        epochs=1, optimizer=optimizer, learning_rate=rate, batch_size=16, val_batch_size=8
    )
    config = settings.model_config((28, 28, 1), 10)
    rng = np.random.default_rng(0)
    data = SimpleNamespace(
        x_train=rng.random((100, 28, 28, 1), dtype=np.float32),
        y_train=rng.integers(0, 10, 100).astype(np.int32),
        x_test=rng.random((40, 28, 28, 1), dtype=np.float32),
        y_test=rng.integers(0, 10, 40).astype(np.int32),
    )
    seed, rows = 3, []
    fastfit.fit(config, settings, seed, data, lambda row: rows.append(row) or True)

    keras.utils.set_random_seed(seed)
    model = build_model(config, seed=seed)
    model.compile(
        optimizer=make_optimizer(optimizer, rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    order = np.random.default_rng(seed).permutation(100)  # the trainer's first-epoch batch order
    history = model.fit(
        data.x_train[order],
        data.y_train[order],
        batch_size=16,
        epochs=1,
        shuffle=False,
        validation_data=(data.x_test, data.y_test),
        validation_batch_size=8,
        verbose=0,
    ).history
    ours = rows[0]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ours[key] == pytest.approx(history[key][0], rel=1e-4, abs=1e-5), key
