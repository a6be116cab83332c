"""Equation 4, the shape table and parameter counts, checked against Keras itself."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from study.declare.config import ModelConfig
from study.errors import ConfigError
from study.plan.shapes import conv_output_size, layer_table, same_output_size, summarize


def test_original_worked_example_28_kernel_5_stride_1_gives_24():
    assert conv_output_size(28, kernel=5, stride=1, padding=0) == 24


def test_formula_floors_like_frameworks():
    assert conv_output_size(28, kernel=5, stride=2) == 12  # (28-5)/2 + 1 = 12.5 -> 12
    assert conv_output_size(32, kernel=3, stride=1, padding=1) == 32
    assert same_output_size(28, 3) == 10


def test_baseline_lenet_table():
    rows = layer_table(ModelConfig())
    assert [r.output_shape for r in rows] == [
        (24, 24, 20),
        (12, 12, 20),
        (8, 8, 50),
        (4, 4, 50),
        (800,),
        (500,),
        (10,),
    ]
    assert summarize(ModelConfig()).params == 431_080
    # MACs: conv1 24*24*20*25, conv2 8*8*50*5*5*20, dense 800*500, output 500*10
    assert summarize(ModelConfig()).macs == 288_000 + 1_600_000 + 400_000 + 5_000


configs = st.builds(
    lambda layers, filters, kernel, stride, padding, pools, pool_size, shape, dense: ModelConfig(
        input_shape=shape,
        conv_filters=tuple(filters[:layers]),
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        pooling=tuple(pools[:layers]),
        pool_size=pool_size,
        dense_units=dense,
    ),
    layers=st.integers(0, 3),
    filters=st.lists(st.integers(1, 12), min_size=3, max_size=3),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
    pools=st.lists(st.sampled_from(["max", "average", "l2", "none"]), min_size=3, max_size=3),
    pool_size=st.integers(1, 3),
    shape=st.sampled_from([(28, 28, 1), (32, 32, 3)]),
    dense=st.integers(1, 40),
)


def _valid(config):
    try:
        layer_table(config)
        return True
    except ConfigError:
        return False


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(configs.filter(_valid))
@pytest.mark.train  # imports Keras
def test_every_layer_shape_and_param_count_match_keras(config):
    from study.train.model import build_model

    model = build_model(config)
    rows = layer_table(config)
    assert [layer.name for layer in model.layers] == [r.name for r in rows]
    for layer, row in zip(model.layers, rows):
        assert tuple(layer.output.shape[1:]) == row.output_shape, row.name
        assert layer.count_params() == row.params, row.name
    assert model.count_params() == summarize(config).params


@settings(max_examples=60, deadline=None)
@given(configs)
@pytest.mark.train  # imports Keras
def test_invalid_configs_are_rejected_before_keras_with_the_numbers(config):
    from study.train.model import build_model

    try:
        rows = layer_table(config)
    except ConfigError as err:
        message = str(err)
        assert message.startswith(("conv", "pool"))  # names the layer
        assert "\n" not in message
        with pytest.raises(ConfigError):
            build_model(config)  # the builder refuses before making any layer
    else:
        assert all(all(d >= 1 for d in r.output_shape) for r in rows)


def test_stride_3_twice_on_28x28_is_rejected_with_layer_input_and_formula():
    with pytest.raises(ConfigError) as err:
        layer_table(ModelConfig(stride=3))
    message = str(err.value)
    assert message.startswith("conv2: feature map shrinks below 1x1: input 4x4")
    assert "floor((4 - 5 + 2*0)/3) + 1" in message


def test_pool_that_shrinks_below_1x1_names_the_pool_layer():
    with pytest.raises(
        ConfigError, match=r"^pool2 \(max\): feature map shrinks below 1x1: input 1x1"
    ):
        layer_table(ModelConfig(stride=2))


def test_stride_larger_than_kernel_is_a_note_with_the_keras_shape():
    rows = layer_table(ModelConfig(kernel_size=1, stride=2, conv_filters=(8,), pooling=("none",)))
    assert rows[0].output_shape == (14, 14, 8)  # floor((28 - 1)/2) + 1, as Keras computes it
    assert (
        rows[0].note
        == "stride 2 > kernel 1: 1 of every 2 rows and columns of the input are never read"
    )
    assert all(row.note == "" for row in layer_table(ModelConfig()))


@pytest.mark.parametrize(
    "field,value,accepted",
    [
        ("activation", "sigmoidal", "relu"),
        ("initializer", "nope", "he_normal"),
        ("padding", "full", "same"),
        ("pooling", ("max", "median"), "l2"),
    ],
)
def test_unknown_names_list_the_accepted_ones(field, value, accepted):
    with pytest.raises(ConfigError) as err:
        ModelConfig(**{field: value})
    assert repr(value if field != "pooling" else "median") in str(err.value)
    assert accepted in str(err.value)


@pytest.mark.train  # a fresh process
def test_shapes_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, study.plan.shapes, study.declare.spec, study.declare.builtin, study.plan.trials; "
        "print('tensorflow' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
        == "False"
    )
