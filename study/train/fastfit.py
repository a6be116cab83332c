"""The project's training loop: whole epochs in one traced TensorFlow function, graphs reused across seeds.

Compared with ``model.fit`` it removes the per-step Python work (one ``tf.function`` call runs every
step of an epoch in a ``tf.while_loop``) and the per-trial tracing: a worker keeps one traced model per
architecture and training setting, and a new trial only copies freshly seeded initial weights into it
and zeroes the optimiser state; the learning rate of every step comes in with the epoch (the schedule
restarts with every trial, ``study.plan.schedules``). The numbers are those of a fresh model built
with the trial's seed: the initial weights are drawn by ``build_model(config, seed)`` with per-layer seeds, and the
shuffling is a NumPy permutation seeded by the trial seed and the epoch.

Per epoch it reports what Keras reports: the sample-weighted mean loss and the accuracy over the
epoch's training batches, then loss and accuracy on the validation split.

Timing: a graph the worker has not traced yet is built, traced and run once on empty inputs (zero steps:
no weight, optimiser or random state changes) before the first epoch's clock starts, so ``epoch_seconds``
is training and validation only; ``fit`` returns the tracing time (0.0 for a cached graph) apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from study.declare.config import ModelConfig, Settings
from study.plan.estimate import GRAPH_CACHE
from study.plan.schedules import epoch_rates, steps_per_epoch
from study.plan.trials import graph_key
from study.train.model import build_model, make_optimizer

_CACHE: dict[str, _Compiled] = {}
_CACHE_LIMIT = (
    GRAPH_CACHE  # traced models kept per worker process (each holds its weights and graphs)
)


@dataclass
class _Compiled:
    model: keras.Model
    optimizer: Any
    train_epoch: Callable
    evaluate: Callable


def _sums(model, x, y, loss_fn, training: bool):
    """A batch's mean loss, its count of right answers and the class predicted for each image."""
    predictions = model(x, training=training)
    loss = loss_fn(y, predictions)
    classes = tf.argmax(predictions, axis=1, output_type=tf.int32)
    hits = tf.reduce_sum(tf.cast(tf.equal(classes, y), tf.float32))
    return loss, hits, classes


def _compile(config: ModelConfig, settings: Settings) -> _Compiled:
    model = build_model(config)
    optimizer = make_optimizer(settings.optimizer, settings.learning_rate)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    variables = model.trainable_variables

    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss, hits, _ = _sums(model, xb, yb, loss_fn, True)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss, hits

    spec_x = tf.TensorSpec([None, *config.input_shape], tf.float32)
    spec_y = tf.TensorSpec([None], tf.int32)

    scalar = tf.TensorSpec([], tf.int32)

    rates_spec = tf.TensorSpec([None], tf.float32)

    @tf.function(
        input_signature=[spec_x, spec_y, tf.TensorSpec([None], tf.int32), scalar, rates_spec],
        reduce_retracing=True,
    )
    def train_epoch(x, y, order, batch, rates):
        count = tf.shape(order)[0]
        steps = (count + batch - 1) // batch
        loss_sum, hit_sum = tf.constant(0.0), tf.constant(0.0)
        for i in tf.range(steps):
            optimizer.learning_rate.assign(
                rates[i]
            )  # the schedule's rate of this step (study.plan.schedules)
            index = order[i * batch : tf.minimum((i + 1) * batch, count)]
            loss, hits = step(tf.gather(x, index), tf.gather(y, index))
            loss_sum += loss * tf.cast(tf.shape(index)[0], tf.float32)
            hit_sum += hits
        total = tf.cast(count, tf.float32)
        return loss_sum / total, hit_sum / total

    @tf.function(input_signature=[spec_x, spec_y, scalar], reduce_retracing=True)
    def evaluate(x, y, val_batch):
        """Loss, accuracy and the predicted class of every image, in order (the pass that measures the
        accuracy keeps its classes: the stored predictions cost no pass of their own)."""
        count = tf.shape(y)[0]
        steps = (count + val_batch - 1) // val_batch
        loss_sum, hit_sum = tf.constant(0.0), tf.constant(0.0)
        found = tf.TensorArray(tf.int32, size=steps, infer_shape=False, element_shape=[None])
        for i in tf.range(steps):
            lo, hi = i * val_batch, tf.minimum((i + 1) * val_batch, count)
            loss, hits, classes = _sums(model, x[lo:hi], y[lo:hi], loss_fn, False)
            loss_sum += loss * tf.cast(hi - lo, tf.float32)
            hit_sum += hits
            found = found.write(i, classes)
        total = tf.cast(count, tf.float32)
        return loss_sum / total, hit_sum / total, found.concat()

    _warm(train_epoch, evaluate, config)
    return _Compiled(model, optimizer, train_epoch, evaluate)


def _warm(train_epoch, evaluate, config: ModelConfig) -> None:
    """Trace both functions and run each once on zero images, so that graph building, tracing and the
    runtime's first instantiation of the graph happen here, not in the first timed epoch. With no image
    the loops take zero steps: no weight, optimiser slot, iteration count or random state changes (the
    returned 0/0 is discarded)."""
    x = tf.zeros([0, *config.input_shape], tf.float32)
    y = tf.zeros([0], tf.int32)
    one = tf.constant(1)
    train_epoch(x, y, tf.zeros([0], tf.int32), one, tf.zeros([0], tf.float32))
    # one image: its classes need a batch to concatenate; evaluating changes no weight or state
    evaluate(tf.zeros([1, *config.input_shape], tf.float32), tf.zeros([1], tf.int32), one)


def compiled_for(config: ModelConfig, settings: Settings) -> tuple[_Compiled, float]:
    """This worker's traced model for ``graph_key(settings, config)`` and the seconds spent building and
    tracing it now (0.0 when the cache already held it). At most ``_CACHE_LIMIT`` graphs are kept, the
    oldest dropped first (the FIFO that ``study.plan.estimate`` simulates)."""
    key = graph_key(settings, config)
    if key in _CACHE:
        return _CACHE[key], 0.0
    started = time.perf_counter()
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = _compile(config, settings)
    return _CACHE[key], time.perf_counter() - started


def reset(compiled: _Compiled, config: ModelConfig, settings: Settings, seed: int) -> None:
    """Give the cached model the initial weights a fresh model seeded with ``seed`` would have,
    a zero optimiser state and the trial's learning rate."""
    keras.utils.set_random_seed(seed)
    fresh = build_model(config, seed=seed)
    compiled.model.set_weights(fresh.get_weights())
    for (
        variable
    ) in compiled.optimizer.variables:  # iteration count and slots; the learning rate stays
        if "learning_rate" not in variable.path:
            variable.assign(tf.zeros_like(variable))
    compiled.optimizer.learning_rate = settings.learning_rate


@dataclass(frozen=True)
class Fitted:
    """What ``fit`` measured besides the epochs: the network's size and the seconds spent outside them.

    ``trace_seconds``: building and tracing this trial's graph (0.0 when the worker had it cached);
    ``tensor_seconds``: copying the trial's arrays into tensors (part of its data loading)."""

    params: int
    trace_seconds: float
    tensor_seconds: float
    predictions: np.ndarray | None = (
        None  # uint8: each test image's class after the last epoch run
    )


def fit(
    config: ModelConfig, settings: Settings, seed: int, data, on_epoch: Callable[[dict], bool]
) -> Fitted:
    """Train on ``data`` (``x_train``, ``y_train``, ``x_test``, ``y_test`` arrays: images NHWC float32, scaled as
    ``settings.input_scaling`` says (``study.plan.data.scale_inputs``), labels int32) at the rates of
    ``settings.schedule`` over the trial's own steps; ``on_epoch(row)`` gets each epoch's record
    (keys ``study.records.EPOCH_FIELDS``;
    ``epoch_seconds`` is that epoch's training and validation, no tracing) and returns False to stop."""
    compiled, trace_seconds = compiled_for(config, settings)
    reset(compiled, config, settings, seed)
    started = time.perf_counter()
    batch, val_batch = tf.constant(settings.batch_size), tf.constant(settings.val_batch_size)
    x_train, y_train = tf.constant(data.x_train), tf.constant(data.y_train)
    x_test, y_test = tf.constant(data.x_test), tf.constant(data.y_test)
    tensor_seconds = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    steps = steps_per_epoch(len(data.y_train), settings.batch_size)
    for epoch in range(1, settings.epochs + 1):
        started = time.perf_counter()
        order = tf.constant(rng.permutation(len(data.y_train)).astype(np.int32))
        rates = tf.constant(
            epoch_rates(
                settings.schedule,
                settings.learning_rate,
                settings.epochs * steps,
                (epoch - 1) * steps,
                steps,
            )
        )
        loss, accuracy = compiled.train_epoch(x_train, y_train, order, batch, rates)
        val_loss, val_accuracy, predicted = compiled.evaluate(x_test, y_test, val_batch)
        row = {
            "epoch": epoch,
            "loss": float(loss),
            "accuracy": float(accuracy),
            "val_loss": float(val_loss),
            "val_accuracy": float(val_accuracy),
            "epoch_seconds": time.perf_counter() - started,
        }
        if not on_epoch(row):
            break
    # the last epoch's classes, one byte per image
    kept = predicted.numpy().astype(np.uint8) if config.num_classes <= 256 else None
    return Fitted(int(compiled.model.count_params()), trace_seconds, tensor_seconds, kept)
