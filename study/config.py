"""Typed, frozen configurations: every knob the study varies is one field here.

``Settings`` is one point of a study (model and training knobs, as in the original Table 1);
``ModelConfig`` is what the LeNet builder and the shapes module need once the dataset's input
shape is known. Nothing here imports TensorFlow.

    >>> Settings().with_values(kernel_size=3).model_config((28, 28, 1)).kernel_size
    3
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from study.errors import ConfigError

POOLINGS = ("max", "average", "l2", "none")
PADDINGS = ("valid", "same")
ACTIVATIONS = (
    "relu", "softsign", "tanh", "linear", "sigmoid", "elu", "selu", "softplus", "gelu", "swish",
    "leaky_relu", "hard_sigmoid",
)
# Keras initialisers by name, plus the two of the original study that do not learn.
KERAS_INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "random_normal", "random_uniform", "truncated_normal", "orthogonal", "zeros", "ones",
)
STUDY_INITIALIZERS = ("normal_around_1", "all_negative")
INITIALIZERS = KERAS_INITIALIZERS + STUDY_INITIALIZERS
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamax", "nadam", "adagrad", "adadelta")


def check_choice(what: str, value: Any, accepted: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``accepted``; else raise a one-line ConfigError."""
    if not isinstance(value, str) or value not in accepted:
        raise ConfigError(f"unknown {what} {value!r}; accepted: {', '.join(accepted)}")
    return value


def check_int(what: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value}")
    return value


def check_float(what: str, value: Any, minimum_exclusive: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number > {minimum_exclusive:g}, got {value!r}")
    if not math.isfinite(value) or value <= minimum_exclusive:
        raise ConfigError(f"{what} must be a finite number > {minimum_exclusive:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ModelConfig:
    """A LeNet-style network: N x (conv -> optional pool), flatten, dense, softmax."""

    input_shape: tuple[int, int, int] = (28, 28, 1)  # H, W, C of the dataset
    num_classes: int = 10
    conv_filters: tuple[int, ...] = (20, 50)  # one entry per conv layer; () = no conv layer
    kernel_size: int = 5  # square kernels, the same in every conv layer
    stride: int = 1  # conv stride, the same in every conv layer
    padding: str = "valid"  # "valid" (no zero padding, as in the original) or "same"
    pooling: tuple[str, ...] = ("max", "max")  # one per conv layer: max, average, l2 or none
    pool_size: int = 2  # pooling window, stride = window (non-overlapping, Keras default)
    activation: str = "relu"
    initializer: str = "glorot_uniform"  # Keras default for Conv2D and Dense kernels
    dense_units: int = 500

    def __post_init__(self) -> None:
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (height, width, channels), got {self.input_shape!r}")
        for i, size in enumerate(self.input_shape):
            check_int(f"input_shape[{i}]", size, 1)
        check_int("num_classes", self.num_classes, 2)
        for i, filters in enumerate(self.conv_filters):
            check_int(f"conv_filters[{i}]", filters, 1)
        check_int("kernel_size", self.kernel_size, 1)
        check_int("stride", self.stride, 1)
        check_choice("padding", self.padding, PADDINGS)
        if len(self.pooling) != len(self.conv_filters):
            raise ConfigError(
                f"pooling has {len(self.pooling)} entries for {len(self.conv_filters)} conv layers; "
                "give one of max, average, l2, none per conv layer"
            )
        for kind in self.pooling:
            check_choice("pooling", kind, POOLINGS)
        check_int("pool_size", self.pool_size, 1)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initializer", self.initializer, INITIALIZERS)
        check_int("dense_units", self.dense_units, 1)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        data = dict(data)
        for key in ("input_shape", "conv_filters", "pooling"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass(frozen=True)
class Settings:
    """One point of a study: the original Table 1 by default (model and training knobs)."""

    epochs: int = 100  # Table 1
    batch_size: int = 32  # Table 1: batch size train
    val_batch_size: int = 16  # Table 1: batch size val
    learning_rate: float = 0.5  # Table 1
    optimizer: str = "sgd"  # Table 1: solver
    activation: str = "relu"  # Table 1
    conv_filters: tuple[int, ...] = (20, 50)  # Table 1: conv. 1 and conv. 2 filters
    kernel_size: int = 5  # Table 1
    stride: int = 1  # Table 1
    pool_size: int = 2  # Table 1: pooling window
    pooling: tuple[str, ...] = ("max", "max")  # LeNet: max pooling after each conv layer
    padding: str = "valid"  # Equation 4 with zero padding 0
    initializer: str = "glorot_uniform"  # the Keras default
    dense_units: int = 500  # LeNet

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("val_batch_size", self.val_batch_size, 1)
        check_float("learning_rate", self.learning_rate)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if not isinstance(self.conv_filters, tuple) or not isinstance(self.pooling, tuple):
            raise ConfigError("conv_filters and pooling must be tuples")
        # The model fields are validated by ModelConfig itself.
        self.model_config((32, 32, 3))

    def model_config(self, input_shape: tuple[int, int, int], num_classes: int = 10) -> ModelConfig:
        return ModelConfig(
            input_shape=tuple(input_shape),
            num_classes=num_classes,
            conv_filters=self.conv_filters,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            pooling=self.pooling,
            pool_size=self.pool_size,
            activation=self.activation,
            initializer=self.initializer,
            dense_units=self.dense_units,
        )

    def with_values(self, **values: Any) -> "Settings":
        """A copy with study parameters replaced (see ``PARAMETERS`` for the vocabulary)."""
        return apply_values(self, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        return apply_values(cls(), data)


SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(Settings))
# The study vocabulary: every Settings field plus "conv_layers" (the number of conv layers).
PARAMETERS = SETTING_FIELDS + ("conv_layers",)


def _as_tuple(name: str, value: Any, length: int, item_check) -> tuple:
    if isinstance(value, (list, tuple)):
        items = tuple(value)
    else:
        items = (value,) * length
    return tuple(item_check(f"{name}[{i}]", item) for i, item in enumerate(items))


def apply_values(settings: Settings, values: dict[str, Any]) -> Settings:
    """Replace parameters of ``settings``; raise one ConfigError line for a bad name or value."""
    changes: dict[str, Any] = {}
    values = dict(values)
    layers = values.pop("conv_layers", None)
    if layers is not None:
        check_int("conv_layers", layers, 0)
        base_filters = values.get("conv_filters", settings.conv_filters) or (20,)
        base_pooling = values.get("pooling", settings.pooling) or ("max",)
        if isinstance(base_filters, int):
            base_filters = (base_filters,)
        if isinstance(base_pooling, str):
            base_pooling = (base_pooling,)
        changes["conv_filters"] = tuple(base_filters[min(i, len(base_filters) - 1)] for i in range(layers))
        changes["pooling"] = tuple(base_pooling[min(i, len(base_pooling) - 1)] for i in range(layers))
        values.pop("conv_filters", None)
        values.pop("pooling", None)
    for name, value in values.items():
        if name not in SETTING_FIELDS:
            raise ConfigError(f"unknown parameter {name!r}; accepted: {', '.join(PARAMETERS)}")
        if name == "conv_filters":
            value = _as_tuple(name, value, len(settings.conv_filters), lambda w, v: check_int(w, v, 1))
        elif name == "pooling":
            n = len(changes.get("conv_filters", settings.conv_filters))
            value = _as_tuple(name, value, n, lambda w, v: check_choice(w, v, POOLINGS))
        elif name == "learning_rate":
            value = check_float(name, value)
        elif name in ("optimizer", "activation", "initializer", "padding"):
            accepted = {"optimizer": OPTIMIZERS, "activation": ACTIVATIONS,
                        "initializer": INITIALIZERS, "padding": PADDINGS}[name]
            value = check_choice(name, value, accepted)
        else:
            value = check_int(name, value, 1)
        changes[name] = value
    if "conv_filters" in changes and "pooling" not in changes:
        n = len(changes["conv_filters"])
        old = settings.pooling or ("max",)
        changes["pooling"] = tuple(old[min(i, len(old) - 1)] for i in range(n))
    return dataclasses.replace(settings, **changes)
