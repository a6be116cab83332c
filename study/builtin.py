"""The built-in study: the original report's one-at-a-time experiments around its Table 1 LeNet.

Each experiment runs on MNIST and CIFAR-10 with the same four seeds. Where a value is impossible
on a dataset with the original "valid" padding (the feature map would shrink below 1x1), the value
carries a documented adaptation that ``study.shapes`` checks (tests/test_builtin.py).
"""

from __future__ import annotations

from study.config import Settings
from study.spec import Study, Value, experiment

SAME_PADDING_NOTE = ("with valid padding the feature map shrinks below 1x1 on {dataset} "
                     "(Equation 4), so this value uses 'same' padding there")


def _stride(stride: int, same_on: tuple[str, ...]) -> Value:
    note = "; ".join(SAME_PADDING_NOTE.format(dataset=d) for d in same_on)
    return Value(str(stride), {"stride": stride}, adapt={d: {"padding": "same"} for d in same_on}, note=note)


def builtin_study() -> Study:
    return Study(
        name="LeNet parameter study",
        description="One parameter at a time around the LeNet baseline of Table 1, on MNIST and CIFAR-10.",
        baseline=Settings(),
        experiments=(
            experiment("batch_size", "batch_size", [16, 32, 64, 128, 256],
                       description="Training batch size (validation batch stays 16)."),
            experiment("solver", "optimizer", [
                Value("sgd", {"optimizer": "sgd", "learning_rate": 0.5}),
                Value("sgd+momentum", {"optimizer": "momentum", "learning_rate": 0.05},
                      note="momentum 0.9 with learning rate 0.05: the same effective step as SGD at 0.5"),
                Value("rmsprop", {"optimizer": "rmsprop", "learning_rate": 0.001}),
                Value("adam", {"optimizer": "adam", "learning_rate": 0.001}),
                Value("adagrad", {"optimizer": "adagrad", "learning_rate": 0.01}),
            ], description="Solver, each with a learning rate of its usual range."),
            experiment("learning_rate", "learning_rate", [0.5, 0.1, 0.05, 0.01, 0.001],
                       description="SGD learning rate."),
            experiment("learning_rate_long", "learning_rate", [0.5, 0.01, 0.001], epochs_factor=3,
                       description="SGD learning rate trained three times as long "
                                   "(the report's second learning-rate figure)."),
            experiment("initializer", "initializer",
                       ["glorot_uniform", "he_normal", "lecun_normal", "normal_around_1", "all_negative"],
                       description="Weight initialisation of every conv and dense kernel "
                                   "(glorot_uniform is the Keras default)."),
            experiment("activation", "activation", ["relu", "softsign", "tanh", "linear", "elu"],
                       description="Activation of every conv and hidden dense layer."),
            experiment("kernel_size", "kernel_size", [1, 3, 5, 7], description="Square kernel of both conv layers."),
            experiment("stride", "stride", [
                _stride(1, ()), _stride(2, ("mnist",)), _stride(3, ("mnist", "cifar10")),
            ], description="Stride of both conv layers."),
            experiment("filters", "conv_filters", [(5, 12), (10, 25), (20, 50), (40, 100)],
                       description="Filters of conv layer 1 / conv layer 2."),
            experiment("conv_layers", "conv_layers", [0, 1, 2],
                       description="Number of conv layers (each followed by 2x2 max pooling)."),
            experiment("pooling", "pooling", [
                Value("two max", {"pooling": ("max", "max")}),
                Value("one max", {"pooling": ("max", "none")}),
                Value("none", {"pooling": ("none", "none")}),
                Value("two average", {"pooling": ("average", "average")}),
                Value("two l2", {"pooling": ("l2", "l2")}),
            ], description="Pooling after conv layer 1 / conv layer 2."),
        ),
    )
