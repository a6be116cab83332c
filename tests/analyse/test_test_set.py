"""Seeds and test images as two sources: a two-level bootstrap over made-up predictions whose answers are
known (no training)."""

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


def test_seeds_only_is_the_verdicts_interval_and_the_images_widen_it(analysis):
    """The seeds part is the verdict's own interval; the images add their bootstrap variance, at the verdict's
    level and degrees of freedom, so it only widens the verdict's (a referee found a percentile bootstrap over
    three seeds narrower than the verdict's 99% interval: the range of the seeds)."""
    from scipy import stats

    lead = _lead(analysis)
    predictions, sets = _predictions(analysis, {lead.value: 30}, seed_noise=True)
    (found,) = two_source(analysis, predictions, sets, [lead])
    assert (found.seeds_low, found.seeds_high, found.diff) == (lead.low, lead.high, lead.diff)
    assert found.low < lead.low and found.high > lead.high
    assert 0 < found.image_share < 1 and found.images == IMAGES
    half = (lead.high - lead.low) / 2
    seed_var = (half / stats.t.ppf((1 + lead.level) / 2, lead.dof)) ** 2
    image_var = found.image_share / (1 - found.image_share) * seed_var
    spread = stats.t.ppf((1 + lead.level) / 2, lead.dof) * (seed_var + image_var) ** 0.5
    assert found.high - found.diff == pytest.approx(min(spread, 1 - found.diff))
    assert two_source(analysis, predictions, sets, [lead]) == [found]  # the same numbers again


def test_the_images_variance_is_the_bootstrap_of_the_per_image_difference(analysis):
    lead = _lead(analysis)
    predictions, sets = _predictions(analysis, {lead.value: 30}, seed_noise=False)
    (found,) = two_source(analysis, predictions, sets, [lead])
    # every seed alike: per image the difference is -1 on the 20 images only the baseline gets right, else 0
    per_image = np.zeros(IMAGES)
    per_image[10:30] = -1
    expected = per_image.var() / IMAGES  # the variance of a mean of resampled images
    half = (lead.high - lead.low) / 2
    from scipy import stats

    seed_var = (half / stats.t.ppf((1 + lead.level) / 2, lead.dof)) ** 2
    image_var = found.image_share / (1 - found.image_share) * seed_var
    assert image_var == pytest.approx(expected, rel=0.1)


def test_a_comparison_without_predictions_is_left_out(analysis):
    assert two_source(analysis, {}, {}, [_lead(analysis)]) == []


def test_the_paired_sign_test_counts_each_image_once(analysis):
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
    assert (found.value_images, found.baseline_images) == (0, 20)  # images, not image-pair cases
    assert found.pairs == len(lead.seeds_value)
    assert found.sign_p == pytest.approx(stats.binomtest(0, 20, 0.5).pvalue)
