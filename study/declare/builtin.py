"""The built-in study: the original report's one-at-a-time experiments around its Table 1 LeNet.

Each experiment runs on MNIST and CIFAR-10 with the same four seeds. Where a value is impossible
on a dataset with the original "valid" padding (the feature map would shrink below 1x1), the value
carries a documented adaptation that ``study.plan.shapes`` checks (tests/test_builtin.py).
"""

from __future__ import annotations

import dataclasses

from study.declare.config import Settings
from study.declare.spec import Claim, Study, Value, experiment

TABLE_1 = (  # (label, Settings field, the original Table 1 value)
    ("Epochs", "epochs", 100), ("Batch size train", "batch_size", 32), ("Batch size val", "val_batch_size", 16),
    ("Learning rate", "learning_rate", 0.5), ("Solver", "optimizer", "sgd"), ("Activation", "activation", "relu"),
    ("Conv. filters (1/2)", "conv_filters", (20, 50)), ("Kernel size", "kernel_size", 5), ("Stride", "stride", 1),
    ("Pooling window", "pool_size", 2),
)
HYPER = "MNIST, the original report's values, Table 1 baseline (learning rate 0.5)"
ARCH = "the original report's values, Table 1 baseline"

# The original report's findings (its section 4), each with the test that judges it in the scope it was made in:
# the hyperparameter claims on MNIST with the original's values, the architecture claims on the datasets named.
CLAIMS = (
    Claim("Batch size did not have a significant impact on the final accuracy.", "no_effect", "batch_size",
          ("mnist",), scope=HYPER),
    Claim("The solvers gave no significant difference.", "no_effect", "solver", ("mnist",), scope=HYPER),
    Claim("With a higher learning rate the accuracy rises faster.", "faster_early", "learning_rate", ("mnist",),
          values=("0.5", "0.001"), scope=HYPER),
    Claim("Lower learning rates approach the same accuracy after more epochs.", "catch_up", "learning_rate",
          ("mnist",), values=("0.5", "0.01"), other="learning_rate_long",
          scope=HYPER + "; the longer run trains three times as many epochs"),
    Claim("All-negative and normal-around-1 initialisations do not make the network learn.", "does_not_learn",
          "initializer", ("mnist",), values=("all_negative", "normal_around_1"), scope=HYPER),
    Claim("Activation functions gave no significant difference, even linear.", "no_effect", "activation",
          ("mnist",), values=("softsign", "tanh", "linear"), scope=HYPER + " (relu, softsign, tanh, linear; "
          "elu is ours and left out)"),
    Claim("Only kernel size 1 changed performance on MNIST (worse); 3 and 7 do not differ from 5.", "differs",
          "kernel_size", ("mnist",), values=("1",), direction="worse", equal=("3", "7"), scope="MNIST, " + ARCH),
    Claim("On CIFAR-10 the kernel size has an impact.", "any_differs", "kernel_size", ("cifar10",),
          scope="CIFAR-10, " + ARCH),
    Claim("A larger stride leads to a lower accuracy, on both datasets.", "trend", "stride", ("mnist", "cifar10"),
          values=("1", "2", "3"), direction="decreasing",
          scope="MNIST and CIFAR-10, " + ARCH + "; strides that would shrink the map below 1x1 use 'same' padding"),
    Claim("The number of filters has a larger impact on CIFAR-10 than on MNIST.", "interaction", "filters",
          ("mnist", "cifar10"), scope="MNIST against CIFAR-10, " + ARCH),
    Claim("Performance on CIFAR-10 increases with the number of conv layers.", "trend", "conv_layers",
          ("cifar10",), values=("0", "1", "2"), direction="increasing", scope="CIFAR-10, " + ARCH),
    Claim("On MNIST there is no change between one and two conv layers.", "no_effect", "conv_layers", ("mnist",),
          values=("1",), scope="MNIST, " + ARCH),
    Claim("Pooling variants gave no significant change on either dataset.", "no_effect", "pooling",
          ("mnist", "cifar10"), values=("one max", "none", "two average", "two l2"),
          scope="MNIST and CIFAR-10, " + ARCH + " (the original's 'average (L2-norm)' pooling is tested as both "
          "average and L2 pooling)"),
)

SAME_PADDING_NOTE = ("with valid padding the feature map shrinks below 1x1 on {dataset} "
                     "(Equation 4), so this value uses 'same' padding there")


def _stride(stride: int, same_on: tuple[str, ...]) -> Value:
    note = "; ".join(SAME_PADDING_NOTE.format(dataset=d) for d in same_on)
    return Value(str(stride), {"stride": stride}, adapt={d: {"padding": "same"} for d in same_on}, note=note)


# The adaptation: Table 1's learning rate 0.5 collapses to chance in about half the MNIST seeds and in every
# CIFAR-10 seed at the budgets we measured (issue 10: 2 of 4 MNIST seeds at 8.9%/9.6% on 8,000 images, CIFAR-10
# at 10.0% in all four), so the architecture experiments are repeated around a baseline that learns. The rule:
# the largest learning rate of the study's own learning-rate experiment that learned in every seed on both
# datasets. Measured: 0.1 learned in all MNIST seeds, 0.05 in all CIFAR-10 seeds (45%); the claim
# "largest_stable" below re-checks the rule on every run's data and the report shows the verdict.
ADAPTED_RATE = 0.05
ADAPTED_SUFFIX = "_at_lr_0.05"
TABLE_1_GROUP = "Table 1 as written (learning rate 0.5)"
ADAPTED_GROUP = f"Around a baseline that learns (learning rate {ADAPTED_RATE:g}, an adaptation of Table 1)"
ADAPTED_EXPERIMENTS = ("batch_size", "initializer", "activation", "kernel_size", "stride", "filters", "conv_layers",
                       "pooling")
ADAPTED_SCOPE = f"adapted baseline (learning rate {ADAPTED_RATE:g})"
ADAPTATION_NOTE = (
    f"Adaptation of Table 1: learning rate {ADAPTED_RATE:g} instead of 0.5 for the experiments marked "
    f"'at lr {ADAPTED_RATE:g}'. Table 1's rate 0.5 collapsed to chance in 2 of 4 MNIST seeds (8.9% and 9.6% on all "
    f"8,000 local images, 3 epochs) and in every CIFAR-10 seed (10.0%, 10,000 images), so around it the CIFAR-10 "
    f"half of the study cannot say anything. Rule: the largest learning rate of the study's own learning-rate "
    f"experiment that learned in every seed on both datasets; in those measurements 0.1 learned in every MNIST seed "
    f"and 0.05 in every CIFAR-10 seed (45%). The claim 'the adapted learning rate follows the rule' re-checks it on "
    f"this run's data.")


# Equivalence margins, declared here before any run (never fitted to a run's accuracies): a knob whose effect
# stays within them is not worth turning on that dataset at these budgets.
MARGINS_PP = {"mnist": 1.0, "cifar10": 2.0}
MARGIN_NOTE = ("Equivalence margins, declared by the study before any run: 1 percentage point on MNIST (a tenth of "
               "the error a LeNet leaves at about 90% accuracy), 2 points on CIFAR-10 (about the same share of what "
               "is left to learn at the 40-60% these budgets reach).")


def _adapted(exp):
    return dataclasses.replace(exp, name=exp.name + ADAPTED_SUFFIX, base={"learning_rate": ADAPTED_RATE},
                               group=ADAPTED_GROUP)


def _adapted_claims(experiments) -> tuple[Claim, ...]:
    names = {e.name for e in experiments}
    rule = Claim(f"The adapted learning rate {ADAPTED_RATE:g} follows the rule: the largest rate of the "
                 f"learning-rate experiment that learned in every seed on both datasets.", "largest_stable",
                 "learning_rate", ("mnist", "cifar10"), values=(f"{ADAPTED_RATE:g}",),
                 scope="the learning-rate experiment of this run (Table 1 baseline otherwise)")
    again = tuple(dataclasses.replace(c, experiment=c.experiment + ADAPTED_SUFFIX,
                                      scope=c.scope.replace("Table 1 baseline (learning rate 0.5)", ADAPTED_SCOPE)
                                      .replace("Table 1 baseline", ADAPTED_SCOPE))
                  for c in CLAIMS if c.experiment + ADAPTED_SUFFIX in names and not c.other)
    return (rule, *again)


def builtin_study() -> Study:
    table_1 = tuple(dataclasses.replace(e, group=TABLE_1_GROUP) for e in _table_1_experiments())
    experiments = table_1 + tuple(_adapted(e) for e in table_1 if e.name in ADAPTED_EXPERIMENTS)
    return Study(
        name="LeNet parameter study",
        description="One parameter at a time around the LeNet baseline of Table 1, on MNIST and CIFAR-10, and the "
                    "same experiments around a baseline that learns on both datasets.",
        baseline=Settings(),
        claims=CLAIMS + _adapted_claims(experiments), reference=TABLE_1,
        reference_title="Table 1 of the original report", notes=(ADAPTATION_NOTE, MARGIN_NOTE), experiments=experiments,
        margins=MARGINS_PP)


def _table_1_experiments():
    return (
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
    )
