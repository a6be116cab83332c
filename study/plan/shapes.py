"""The output-size formula and layer-by-layer shape, parameter and MAC tables, without TensorFlow.

The original study's Equation 4 is ``out = (in - kernel + 2*padding) / stride + 1``; frameworks
floor the division ("valid" padding). With "same" padding Keras pads so that ``out = ceil(in / stride)``.

    >>> conv_output_size(28, kernel=5, stride=1, padding=0)
    24
    >>> [row.output_shape for row in layer_table(ModelConfig())][:2]
    [(24, 24, 20), (12, 12, 20)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from study.declare.config import ModelConfig
from study.errors import ConfigError


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Equation 4 with the floor frameworks apply: ``floor((in - kernel + 2*padding) / stride) + 1``.

    Returns a value < 1 when the window does not fit (the caller decides whether that is an error).
    """
    span = size - kernel + 2 * padding
    if span < 0:
        return 0
    return span // stride + 1


def same_output_size(size: int, stride: int) -> int:
    """Keras "same" padding: ``ceil(in / stride)``."""
    return math.ceil(size / stride)


@dataclass(frozen=True)
class LayerRow:
    name: str  # the Keras layer name the builder gives this layer
    kind: str  # conv, pool, flatten, dense
    output_shape: tuple[int, ...]
    params: int
    macs: int  # multiply-accumulates per image in the forward pass
    formula: str  # how output_shape was computed, for the report
    note: str = (
        ""  # something a reader should know that is not an error (e.g. skipped input pixels)
    )


@dataclass(frozen=True)
class ShapeSummary:
    rows: tuple[LayerRow, ...]

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)


def _spatial(size: int, kernel: int, stride: int, padding: str) -> tuple[int, str]:
    if padding == "same":
        return same_output_size(size, stride), f"ceil({size}/{stride})"
    out = conv_output_size(size, kernel, stride, 0)
    return out, f"floor(({size}-{kernel}+2*0)/{stride})+1"


def layer_table(config: ModelConfig) -> tuple[LayerRow, ...]:
    """Every layer's output shape, parameters and MACs; raises ConfigError for an impossible net."""
    height, width, channels = config.input_shape
    in_desc = f"input {height}x{width}x{channels}"
    rows: list[LayerRow] = []
    for index, filters in enumerate(config.conv_filters, start=1):
        name = f"conv{index}"
        kernel, stride = config.kernel_size, config.stride
        # Legal in Keras and common (1x1 convolutions with stride 2 in residual shortcuts): a note, not an error.
        note = (
            (
                f"stride {stride} > kernel {kernel}: {stride - kernel} of every {stride} rows and columns "
                "of the input are never read"
            )
            if stride > kernel
            else ""
        )
        if config.padding == "valid" and (kernel > height or kernel > width):
            raise ConfigError(
                f"{name}: feature map shrinks below 1x1: input {height}x{width}, "
                f"out = floor(({min(height, width)} - {kernel} + 2*0)/{stride}) + 1 < 1; "
                "use a smaller kernel, fewer layers or padding 'same'"
            )
        new_h, formula = _spatial(height, kernel, stride, config.padding)
        new_w, _ = _spatial(width, kernel, stride, config.padding)
        params = kernel * kernel * channels * filters + filters
        macs = new_h * new_w * filters * kernel * kernel * channels
        rows.append(LayerRow(name, "conv", (new_h, new_w, filters), params, macs, formula, note))
        height, width, channels = new_h, new_w, filters
        kind = config.pooling[index - 1]
        if kind != "none":
            pool = config.pool_size
            pool_name = f"pool{index}"
            out_h = conv_output_size(height, pool, pool)
            out_w = conv_output_size(width, pool, pool)
            if out_h < 1 or out_w < 1:
                raise ConfigError(
                    f"{pool_name} ({kind}): feature map shrinks below 1x1: input {height}x{width}, "
                    f"out = floor(({min(height, width)} - {pool} + 2*0)/{pool}) + 1 = 0 ({in_desc}); "
                    "use a smaller pooling window, fewer pooling layers or padding 'same'"
                )
            rows.append(
                LayerRow(
                    pool_name,
                    kind,
                    (out_h, out_w, channels),
                    0,
                    0,
                    f"floor(({height}-{pool})/{pool})+1",
                )
            )
            height, width = out_h, out_w
    flat = height * width * channels
    rows.append(LayerRow("flatten", "flatten", (flat,), 0, 0, f"{height}*{width}*{channels}"))
    rows.append(
        LayerRow(
            "dense",
            "dense",
            (config.dense_units,),
            flat * config.dense_units + config.dense_units,
            flat * config.dense_units,
            f"{flat}->{config.dense_units}",
        )
    )
    rows.append(
        LayerRow(
            "output",
            "dense",
            (config.num_classes,),
            config.dense_units * config.num_classes + config.num_classes,
            config.dense_units * config.num_classes,
            f"{config.dense_units}->{config.num_classes}",
        )
    )
    return tuple(rows)


def summarize(config: ModelConfig) -> ShapeSummary:
    return ShapeSummary(layer_table(config))


def validate(config: ModelConfig) -> ModelConfig:
    """Raise ConfigError if ``config`` cannot be built; return it unchanged otherwise."""
    layer_table(config)
    return config
