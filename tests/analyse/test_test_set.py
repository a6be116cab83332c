"""Seeds and test images as two sources: a two-level bootstrap over made-up predictions whose answers are
known (no training)."""

import math

import numpy as np
import pytest
from synthetic import make_store, synthetic_study

from study.analyse.answer import answer_rows
from study.analyse.comparisons import analyse
from study.analyse.test_set import two_source

IMAGES = 200
LABELS = np.arange(IMAGES, dtype=np.uint8) % 10


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    with make_store(tmp_path_factory.mktemp("ts") / "s.sqlite", synthetic_study()) as store:
        return analyse(store)


def _predictions(analysis, wrong: dict[str, int], seed_noise: bool):
    """Each trial of kernel_size on MNIST gets every image right but the first ``wrong[label]`` (plus its
    seed number's worth more where ``seed_noise``)."""
    block = analysis.blocks[("kernel_size", "mnist")]
    predictions = {}
    for value in block.values:
        for seed, key in value.keys.items():
            found = LABELS.copy()
            missed = wrong.get(value.label, 10) + (seed if seed_noise else 0)
            found[:missed] = (found[:missed] + 1) % 10
            predictions[key] = found
    sets = {
        analysis.trials[k].fingerprint: ("mnist", np.arange(IMAGES), LABELS) for k in predictions
    }
    return predictions, sets


def _lead(analysis):
    return next(
        k.lead for k in answer_rows(analysis)["mnist"] if k.experiment == "kernel_size" and k.lead
    )


def test_without_seed_noise_the_spread_is_the_test_images(analysis):
    lead = _lead(analysis)
    predictions, sets = _predictions(analysis, {lead.value: 30}, seed_noise=False)
    (found,) = two_source(analysis, predictions, sets, [lead])
    assert found.diff == pytest.approx((10 - 30) / IMAGES)
    assert found.seeds_low == found.seeds_high == pytest.approx(found.diff)  # every seed alike
    assert found.low < found.diff < found.high  # the images alone still spread it
    assert found.image_share == pytest.approx(1.0) and found.images == IMAGES
    assert two_source(analysis, predictions, sets, [lead]) == [found]  # the same numbers again


def test_seed_noise_widens_the_seeds_only_interval_and_both_bound_it(analysis):
    lead = _lead(analysis)
    predictions, sets = _predictions(analysis, {lead.value: 30}, seed_noise=True)
    (found,) = two_source(analysis, predictions, sets, [lead])
    assert found.seeds_low < found.seeds_high
    assert found.high - found.low >= 0.95 * (
        found.seeds_high - found.seeds_low
    )  # two sources, wider
    assert 0 < found.image_share < 1 and math.isfinite(found.high - found.low)


def test_a_comparison_without_predictions_is_left_out(analysis):
    assert two_source(analysis, {}, {}, [_lead(analysis)]) == []


def test_mcnemar_counts_the_images_a_paired_comparison_disagrees_on(analysis):
    from scipy import stats

    paired = [
        k.lead
        for k in answer_rows(analysis)["mnist"]
        if k.lead is not None and k.lead.paired and len(k.lead.seeds_value) >= 2
    ]
    if not paired:
        pytest.skip("the synthetic study has no paired lead with two seeds")
    lead = paired[0]
    block = analysis.blocks[(lead.experiment, "mnist")]
    predictions = {}
    for value in block.values:
        for key in value.keys.values():
            found = LABELS.copy()
            if value.label == lead.value:
                found[:20] = (found[:20] + 1) % 10  # 20 images wrong that the baseline gets right
            predictions[key] = found
    sets = {
        analysis.trials[k].fingerprint: ("mnist", np.arange(IMAGES), LABELS) for k in predictions
    }
    (found,) = two_source(analysis, predictions, sets, [lead])
    pairs = len(lead.seeds_value)
    assert (found.value_only, found.baseline_only) == (0, 20 * pairs)
    assert found.mcnemar_p == pytest.approx(stats.binomtest(0, 20 * pairs, 0.5).pvalue)
