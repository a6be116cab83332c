"""The LeNet builder: ``ModelConfig`` -> ``keras.Sequential``.

The baseline is the original study's network: conv 20@5x5 -> 2x2 max pool -> conv 50@5x5 ->
2x2 max pool -> dense 500 -> dense 10 softmax, ReLU. The config is validated by ``study.plan.shapes``
before any Keras object is made, so an impossible network never reaches TensorFlow.

    model = build_model(ModelConfig(input_shape=(32, 32, 3)))
"""

from __future__ import annotations

import inspect

import keras
from keras import layers

from study.declare.config import ModelConfig
from study.plan.shapes import validate


@keras.saving.register_keras_serializable(package="study")
class L2Pooling2D(layers.Layer):
    """L2 pooling: the square root of the average of squares over each window."""

    def __init__(self, pool_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self._average = layers.AveragePooling2D(pool_size=pool_size)

    def call(self, inputs):
        return keras.ops.sqrt(self._average(keras.ops.square(inputs)) + 1e-12)

    def compute_output_shape(self, input_shape):
        return self._average.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


def make_initializer(name: str, seed: int | None = None):
    """A Keras initialiser by name, or one of the original study's two that do not learn.

    With ``seed`` the draw depends on nothing else: not on Python's global ``random``, which other
    threads of a Dask worker also consume (that made initial weights differ between runs).
    """
    if name == "normal_around_1":
        return keras.initializers.RandomNormal(mean=1.0, stddev=0.1, seed=seed)
    if name == "all_negative":
        return keras.initializers.RandomUniform(minval=-0.1, maxval=0.0, seed=seed)
    initializer = keras.initializers.get(name)
    if seed is not None and "seed" in inspect.signature(type(initializer)).parameters:
        return type(initializer)(seed=seed)
    return initializer


def make_optimizer(name: str, learning_rate: float):
    """The study's solvers; ``momentum`` and ``nesterov`` are SGD with momentum 0.9."""
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    if name == "nesterov":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    classes = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "adamax": keras.optimizers.Adamax,
        "nadam": keras.optimizers.Nadam,
        "adagrad": keras.optimizers.Adagrad,
        "adadelta": keras.optimizers.Adadelta,
    }
    return classes[name](learning_rate=learning_rate)


def _pooling_layer(kind: str, pool_size: int, name: str):
    if kind == "max":
        return layers.MaxPooling2D(pool_size=pool_size, name=name)
    if kind == "average":
        return layers.AveragePooling2D(pool_size=pool_size, name=name)
    return L2Pooling2D(pool_size=pool_size, name=name)


def build_model(config: ModelConfig, seed: int | None = None) -> keras.Sequential:
    """Build (not compile) the network; raises ConfigError before Keras for an impossible config.

    ``seed`` fixes every layer's initial weights (layer i draws with seed ``seed * 1000 + i``).
    """
    validate(config)
    seeds = (
        iter(range(seed * 1000, seed * 1000 + 1000)) if seed is not None else iter(lambda: None, 0)
    )
    model_layers: list = [keras.Input(shape=config.input_shape)]
    for index, filters in enumerate(config.conv_filters, start=1):
        model_layers.append(
            layers.Conv2D(
                filters,
                config.kernel_size,
                strides=config.stride,
                padding=config.padding,
                activation=config.activation,
                kernel_initializer=make_initializer(config.initializer, next(seeds)),
                name=f"conv{index}",
            )
        )
        kind = config.pooling[index - 1]
        if kind != "none":
            model_layers.append(_pooling_layer(kind, config.pool_size, f"pool{index}"))
    model_layers += [
        layers.Flatten(name="flatten"),
        layers.Dense(
            config.dense_units,
            activation=config.activation,
            kernel_initializer=make_initializer(config.initializer, next(seeds)),
            name="dense",
        ),
        layers.Dense(
            config.num_classes,
            activation="softmax",
            kernel_initializer=make_initializer(config.initializer, next(seeds)),
            name="output",
        ),
    ]
    return keras.Sequential(model_layers, name="lenet")
