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
    "relu",
    "softsign",
    "tanh",
    "linear",
    "sigmoid",
    "elu",
    "selu",
    "softplus",
    "gelu",
    "swish",
    "leaky_relu",
    "hard_sigmoid",
)
# Keras initialisers by name, plus the two of the original study that do not learn.
KERAS_INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "orthogonal",
    "zeros",
    "ones",
)
STUDY_INITIALIZERS = ("normal_around_1", "all_negative")
INITIALIZERS = KERAS_INITIALIZERS + STUDY_INITIALIZERS
# Learning-rate schedules over a trial's own SGD steps (epochs x steps per epoch): constant is Table 1 as
# written; linear decays to zero at the end of the budget (Li, Yumer and Ramanan, "Budgeted Training",
# ICLR 2020); cosine is the half cosine to zero (Loshchilov and Hutter, SGDR, without restarts); step divides
# the rate by 10 after half and after three quarters of the steps (the classic ResNet recipe).
SCHEDULES = ("constant", "linear", "cosine", "step")
# Input scaling, with statistics of the training subset only: unit is pixels / 255 (Table 1 as written);
# center subtracts the per-channel mean (DIGITS' "Subtract Mean"); standardize also divides by the SD.
INPUT_SCALINGS = ("unit", "center", "standardize")
OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov",
    "rmsprop",
    "adam",
    "adamax",
    "nadam",
    "adagrad",
    "adadelta",
)


def check_choice(what: str, value: Any, accepted: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``accepted``; else raise a one-line ConfigError."""
    if not isinstance(value, str) or value not in accepted:
        raise ConfigError(f"unknown {what} {value!r}; accepted: {', '.join(accepted)}")
    return value


INT32_MAX = 2**31 - 1  # the largest size, count or dimension TensorFlow takes (int32)


def check_int(what: str, value: Any, minimum: int, maximum: int = INT32_MAX) -> int:
    """``value`` if it is an integer in ``minimum..maximum``; else a one-line ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value}")
    if value > maximum:
        raise ConfigError(
            f"{what} must be an integer from {minimum} to {maximum:,}, got {value:,}"
        )
    return value


def check_float(what: str, value: Any, minimum_exclusive: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number > {minimum_exclusive:g}, got {value!r}")
    if not math.isfinite(value) or value <= minimum_exclusive:
        raise ConfigError(f"{what} must be a finite number > {minimum_exclusive:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Parameter:
    """One study parameter: its type, what it accepts, and a line of help (the README lists these)."""

    name: str
    kind: str  # int, float, fraction (0 to minimum), choice, ints and choices (one per conv layer)
    help: str
    minimum: float = 1
    accepted: tuple[str, ...] = ()

    def check(self, value: Any, where: str | None = None) -> Any:
        """``value`` if acceptable (tuples for the per-layer kinds), else a one-line ConfigError."""
        where = where or self.name
        if self.kind == "fraction":
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= self.minimum
            ):
                raise ConfigError(
                    f"{where} must be a number from 0 to {self.minimum:g}, got {value!r}"
                )
            return float(value)
        if self.kind == "int":
            return check_int(where, value, int(self.minimum))
        if self.kind == "float":
            return check_float(where, value, self.minimum)
        if self.kind == "choice":
            return check_choice(where, value, self.accepted)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(
                f"{where} must be a list with one entry per conv layer, got {value!r}"
            )
        single = Parameter(
            self.name,
            "int" if self.kind == "ints" else "choice",
            self.help,
            self.minimum,
            self.accepted,
        )
        return tuple(single.check(item, f"{where}[{i}]") for i, item in enumerate(value))

    @property
    def accepts(self) -> str:
        """What is accepted, in words."""
        if self.kind in ("choice", "choices"):
            return ("one per conv layer of: " if self.kind == "choices" else "") + ", ".join(
                self.accepted
            )
        if self.kind == "float":
            return f"a number > {self.minimum:g}"
        if self.kind == "fraction":
            return f"a number from 0 to {self.minimum:g}"
        return (
            "one per conv layer, each " if self.kind == "ints" else ""
        ) + f"an integer >= {self.minimum:g}"


# The study's vocabulary, stated once: Settings, ModelConfig, apply_values, study files and the README use it.
PARAMETER_TABLE = (
    Parameter("epochs", "int", "training epochs (Table 1: 100; a profile scales it)"),
    Parameter("batch_size", "int", "training batch size (Table 1: 32)"),
    Parameter("val_batch_size", "int", "validation batch size (Table 1: 16)"),
    Parameter("learning_rate", "float", "solver learning rate (Table 1: 0.5)", minimum=0.0),
    Parameter("optimizer", "choice", "solver (Table 1: sgd)", accepted=OPTIMIZERS),
    Parameter(
        "schedule",
        "choice",
        "learning-rate schedule over the trial's steps (Table 1: constant)",
        accepted=SCHEDULES,
    ),
    Parameter(
        "input_scaling",
        "choice",
        "pixel scaling, statistics from the training subset (Table 1: unit, " "pixels / 255)",
        accepted=INPUT_SCALINGS,
    ),
    Parameter(
        "validation",
        "fraction",
        "share of the training subset held out and scored instead of the test images (0: none; "
        "a grid's selection phase sets it)",
        minimum=0.5,
    ),
    Parameter(
        "activation",
        "choice",
        "activation of every conv and hidden dense layer (Table 1: relu)",
        accepted=ACTIVATIONS,
    ),
    Parameter("conv_filters", "ints", "filters per conv layer (Table 1: 20, 50)"),
    Parameter("kernel_size", "int", "square kernel of every conv layer (Table 1: 5)"),
    Parameter("stride", "int", "stride of every conv layer (Table 1: 1)"),
    Parameter("pool_size", "int", "pooling window and stride (Table 1: 2)"),
    Parameter(
        "pooling", "choices", "pooling after each conv layer (LeNet: max, max)", accepted=POOLINGS
    ),
    Parameter(
        "padding",
        "choice",
        "conv padding (Equation 4 of the original report with zero padding: valid)",
        accepted=PADDINGS,
    ),
    Parameter(
        "initializer",
        "choice",
        "initialiser of every conv and dense kernel (Keras default: glorot_uniform)",
        accepted=INITIALIZERS,
    ),
    Parameter("dense_units", "int", "units of the hidden dense layer (LeNet: 500)"),
    Parameter(
        "conv_layers",
        "int",
        "number of conv layers, each with its pooling (Table 1: 2)",
        minimum=0,
    ),
)
PARAMETER = {p.name: p for p in PARAMETER_TABLE}


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
            raise ConfigError(
                f"input_shape must be (height, width, channels), got {self.input_shape!r}"
            )
        for i, size in enumerate(self.input_shape):
            check_int(f"input_shape[{i}]", size, 1)
        check_int("num_classes", self.num_classes, 2)
        for name in (
            "conv_filters",
            "kernel_size",
            "stride",
            "padding",
            "pooling",
            "pool_size",
            "activation",
            "initializer",
            "dense_units",
        ):
            PARAMETER[name].check(getattr(self, name))
        if len(self.pooling) != len(self.conv_filters):
            raise ConfigError(
                f"pooling has {len(self.pooling)} entries for {len(self.conv_filters)} conv layers; "
                "give one of max, average, l2, none per conv layer"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
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
    schedule: str = "constant"  # Table 1: a constant rate (SCHEDULES)
    input_scaling: str = "unit"  # Table 1: pixels / 255 (INPUT_SCALINGS)
    # share of the training subset held out as the validation split the trial is scored on instead of the
    # test images: 0 (no hold-out) except in a grid's selection phase (study.declare.grid)
    validation: float = 0.0
    activation: str = "relu"  # Table 1
    conv_filters: tuple[int, ...] = (20, 50)  # Table 1: conv. 1 and conv. 2 filters
    kernel_size: int = 5  # Table 1
    stride: int = 1  # Table 1
    pool_size: int = 2  # Table 1: pooling window
    pooling: tuple[str, ...] = ("max", "max")  # LeNet: max pooling after each conv layer
    padding: str = "valid"  # Equation 4 of the original report with zero padding 0
    initializer: str = "glorot_uniform"  # the Keras default
    dense_units: int = 500  # LeNet

    def __post_init__(self) -> None:
        for name in (
            "epochs",
            "batch_size",
            "val_batch_size",
            "learning_rate",
            "optimizer",
            "schedule",
            "input_scaling",
            "validation",
        ):
            PARAMETER[name].check(getattr(self, name))
        if not isinstance(self.conv_filters, tuple) or not isinstance(self.pooling, tuple):
            raise ConfigError("conv_filters and pooling must be tuples")
        # The model fields are validated by ModelConfig itself.
        self.model_config((32, 32, 3))

    def model_config(
        self, input_shape: tuple[int, int, int], num_classes: int = 10
    ) -> ModelConfig:
        return ModelConfig(
            input_shape=(input_shape[0], input_shape[1], input_shape[2]),
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

    def with_values(self, **values: Any) -> Settings:
        """A copy with study parameters replaced (see ``PARAMETERS`` for the vocabulary)."""
        return apply_values(self, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        return apply_values(cls(), data)


SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(Settings))
# The study vocabulary: every Settings field plus "conv_layers" (the number of conv layers).
PARAMETERS = tuple(p.name for p in PARAMETER_TABLE)
assert set(PARAMETERS) == set(SETTING_FIELDS) | {
    "conv_layers"
}, "PARAMETER_TABLE and Settings disagree"


def _as_tuple(value: Any, length: int) -> Any:
    """A single per-layer value broadcast to every conv layer; lists become tuples (checked by the caller)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * length


def apply_values(settings: Settings, values: dict[str, Any]) -> Settings:
    """Replace parameters of ``settings``; raise one ConfigError line for a bad name or value."""
    changes: dict[str, Any] = {}
    values = dict(values)
    layers = values.pop("conv_layers", None)
    if layers is not None:
        PARAMETER["conv_layers"].check(layers)
        base_filters = values.get("conv_filters", settings.conv_filters) or (20,)
        base_pooling = values.get("pooling", settings.pooling) or ("max",)
        if isinstance(base_filters, int):
            base_filters = (base_filters,)
        if isinstance(base_pooling, str):
            base_pooling = (base_pooling,)
        changes["conv_filters"] = tuple(
            base_filters[min(i, len(base_filters) - 1)] for i in range(layers)
        )
        changes["pooling"] = tuple(
            base_pooling[min(i, len(base_pooling) - 1)] for i in range(layers)
        )
        values.pop("conv_filters", None)
        values.pop("pooling", None)
    for name, value in values.items():
        if name not in SETTING_FIELDS:
            raise ConfigError(f"unknown parameter {name!r}; accepted: {', '.join(PARAMETERS)}")
        if name == "conv_filters":
            value = PARAMETER[name].check(_as_tuple(value, len(settings.conv_filters)))
        elif name == "pooling":
            value = PARAMETER[name].check(
                _as_tuple(value, len(changes.get("conv_filters", settings.conv_filters)))
            )
        else:
            value = PARAMETER[name].check(value)
            value = float(value) if name in ("learning_rate", "validation") else value
        changes[name] = value
    if "conv_filters" in changes and "pooling" not in changes:
        n = len(changes["conv_filters"])
        old = settings.pooling or ("max",)
        changes["pooling"] = tuple(old[min(i, len(old) - 1)] for i in range(n))
    return dataclasses.replace(settings, **changes)
