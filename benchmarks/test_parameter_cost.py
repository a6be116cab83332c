"""Cost per parameter: one training step and one validation pass for every value of the built-in study.

    make bench    # pytest-benchmark JSON in output/benchmarks.json; the report shows it as "cost per parameter"

Each value of every experiment is timed on both input shapes (28x28x1 and 32x32x3) at the value's own
batch size, through the project's trainer (``study.train.fastfit``), on synthetic data of the right shape.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from study.declare.builtin import builtin_study
from study.errors import ConfigError
from study.plan.shapes import summarize
from study.train import fastfit

SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
VALIDATION_IMAGES = 512


def _cases():
    study = builtin_study()
    cases = []
    for experiment in study.experiments:
        if experiment.epochs_factor != 1:  # the longer learning-rate run costs the same per step
            continue
        for value in experiment.values:
            for dataset, shape in SHAPES.items():
                settings = study.baseline.with_values(**value.params_for(dataset))
                try:
                    summarize(settings.model_config(shape))
                except ConfigError:
                    continue
                baseline = settings == study.baseline
                cases.append(
                    pytest.param(
                        experiment.name,
                        value.label,
                        dataset,
                        settings,
                        baseline,
                        id=f"{experiment.name}={value.label}-{'x'.join(map(str, shape))}",
                    )
                )
    return cases


def _data(shape, count, seed=0):
    rng = np.random.default_rng(seed)
    return SimpleNamespace(
        x=tf.constant(rng.random((count, *shape), dtype=np.float32)),
        y=tf.constant(rng.integers(0, 10, count).astype(np.int32)),
    )


def _prepare(settings, dataset):
    config = settings.model_config(SHAPES[dataset])
    compiled, _ = fastfit.compiled_for(config, settings)

    def fresh():  # every round starts from the seeded initial weights (no drift towards divergence)
        fastfit.reset(compiled, config, settings, seed=1)

    fresh()
    return compiled, fresh


def _info(benchmark, experiment, value, dataset, settings, baseline, kind):
    benchmark.extra_info.update(
        {
            "experiment": experiment,
            "value": value,
            "input": "x".join(map(str, SHAPES[dataset])),
            "kind": kind,
            "baseline": baseline,
            "batch_size": settings.batch_size,
        }
    )


@pytest.mark.parametrize("experiment,value,dataset,settings,baseline", _cases())
def test_training_step(benchmark, experiment, value, dataset, settings, baseline):
    compiled, fresh = _prepare(settings, dataset)
    data = _data(SHAPES[dataset], settings.batch_size)
    order = tf.range(settings.batch_size, dtype=tf.int32)  # exactly one step
    batch = tf.constant(settings.batch_size)
    rates = tf.constant(
        [settings.learning_rate], tf.float32
    )  # the one step's rate (its schedule's first)

    def setup():  # fresh seeded weights, then one untimed step: the first call after a reset is slow
        fresh()
        compiled.train_epoch(data.x, data.y, order, batch, rates)

    _info(benchmark, experiment, value, dataset, settings, baseline, "step")
    loss, accuracy = benchmark.pedantic(
        lambda: compiled.train_epoch(data.x, data.y, order, batch, rates),
        setup=setup,
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )
    assert math.isfinite(float(loss)) and 0.0 <= float(accuracy) <= 1.0


@pytest.mark.parametrize("experiment,value,dataset,settings,baseline", _cases())
def test_validation_pass(benchmark, experiment, value, dataset, settings, baseline):
    compiled, _ = _prepare(settings, dataset)
    data = _data(SHAPES[dataset], VALIDATION_IMAGES, seed=1)
    val_batch = tf.constant(settings.val_batch_size)
    compiled.evaluate(data.x, data.y, val_batch)
    _info(benchmark, experiment, value, dataset, settings, baseline, "validation")
    loss, accuracy, _ = benchmark.pedantic(
        compiled.evaluate,
        args=(data.x, data.y, val_batch),
        rounds=3,
        iterations=1,
        warmup_rounds=0,
    )
    assert math.isfinite(float(loss)) and 0.0 <= float(accuracy) <= 1.0
