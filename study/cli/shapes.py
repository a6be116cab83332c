"""Which dataset ``study shapes`` shows a study for, so it applies the adaptations ``study run`` does.

choose_dataset(("mnist", "cifar10"), None, (32, 32, 3))
# ('cifar10', (32, 32, 3), "cifar10's adaptations applied (the study's dataset with this input shape)")
"""

from __future__ import annotations

from study.errors import ConfigError

# The input shapes of the known datasets, so ``shapes`` needs no data on disk and no TensorFlow.
KNOWN_INPUT_SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
DEFAULT_SHAPE = (28, 28, 1)


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"32,32,3"`` -> ``(32, 32, 3)``; ConfigError names the value and the form accepted."""
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--input-shape {text!r} is not H,W,C integers, e.g. 28,28,1") from None
    if len(shape) != 3:
        raise ConfigError(f"--input-shape {text!r} must have three numbers H,W,C, e.g. 32,32,3")
    if min(shape) < 1:
        raise ConfigError(f"--input-shape {text!r} must be positive numbers H,W,C, e.g. 32,32,3")
    return shape


def choose_dataset(
    datasets: tuple[str, ...], dataset: str | None, shape: tuple[int, int, int] | None
) -> tuple[str | None, tuple[int, int, int], str]:
    """(dataset whose adaptations apply or None, input shape, a line saying which and why)."""
    if dataset is not None:
        if dataset not in datasets:
            raise ConfigError(
                f"--dataset {dataset!r} is not used here; accepted: {', '.join(datasets)}"
            )
        known = KNOWN_INPUT_SHAPES.get(dataset)
        if shape is None and known is None:
            raise ConfigError(
                f"--dataset {dataset!r} is an image folder: give its --input-shape H,W,C too"
            )
        return dataset, shape or known, f"{dataset}'s adaptations applied"
    shape = shape or DEFAULT_SHAPE
    matching = [name for name in datasets if KNOWN_INPUT_SHAPES.get(name) == shape]
    if matching:
        return (
            matching[0],
            shape,
            f"{matching[0]}'s adaptations applied (the study's dataset with this input shape)",
        )
    return (
        None,
        shape,
        "no dataset of the study has this input shape: no adaptations applied (see --dataset)",
    )
