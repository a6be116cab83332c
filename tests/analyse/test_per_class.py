"""Per-class accuracy, the classes a knob changes and the baseline's confusion matrix, from predictions made
up for a synthetic store: every number checked against a count by hand."""

import math

import numpy as np
import pytest
from synthetic import make_store, synthetic_study

from study.analyse.comparisons import analyse
from study.analyse.per_class import per_class
from study.analyse.stats import holm
from study.results.outcomes import LEARNED

LABELS = np.arange(50, dtype=np.uint8) % 10  # five test images per class


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    with make_store(tmp_path_factory.mktemp("pc") / "s.sqlite", synthetic_study()) as store:
        return analyse(store)


def _made_up(analysis, wrong_on_3: dict[str, int]):
    """Every learned trial predicts every label right except, for the kernel value named in
    ``wrong_on_3``, that many of class 3's five images (as class 5); seed 1 of kernel 3 misses one more."""
    predictions = {}
    block = analysis.blocks[("kernel_size", "mnist")]
    for value in block.values:
        for seed, key in value.keys.items():
            found = LABELS.copy()
            missed = wrong_on_3.get(value.label, 0) + (value.label == "3" and seed == 1)
            found[np.flatnonzero(LABELS == 3)[:missed]] = 5
            predictions[key] = found
    sets = {analysis.trials[k].fingerprint: ("mnist", np.arange(50), LABELS) for k in predictions}
    return predictions, sets


def test_per_class_accuracy_and_the_class_a_knob_changes(analysis):
    predictions, sets = _made_up(analysis, {"3": 3})
    found = per_class(analysis, predictions, sets)
    block = analysis.blocks[("kernel_size", "mnist")]
    three = block.value("3")
    learned = [s for s, o in three.outcomes.items() if o == LEARNED]
    row = next(
        r
        for r in found.rows
        if (r.experiment, r.dataset, r.value, r.label) == ("kernel_size", "mnist", "3", "3")
    )
    by_seed = [(5 - 3 - (s == 1)) / 5 for s in learned]
    assert row.images == 5 and row.seeds == len(learned)
    assert row.mean == pytest.approx(np.mean(by_seed))
    top = found.top("kernel_size", "mnist")[0]
    assert (top.value, top.label) == ("3", "3")
    assert top.diff == pytest.approx(np.mean(by_seed) - 1.0)
    family = [e for e in found.effects if (e.experiment, e.dataset) == ("kernel_size", "mnist")]
    assert [e.p_holm for e in family] == pytest.approx(holm([e.p for e in family]), nan_ok=True)
    assert top.p_holm < 0.05 and math.isfinite(top.low) and top.high < 0
    # a class no value changes has no spread: no test, no interval
    untouched = next(e for e in family if e.label == "7")
    assert untouched.diff == 0 and math.isnan(untouched.p)


def test_the_baseline_confusion_matrix_counts_every_learned_seeds_images(analysis):
    predictions, sets = _made_up(analysis, {"5": 2})
    found = per_class(analysis, predictions, sets)
    (mnist,) = [c for c in found.confusions if c.dataset == "mnist"]
    baseline = analysis.blocks[("kernel_size", "mnist")].baseline
    seeds = sum(1 for o in baseline.outcomes.values() if o == LEARNED)
    assert mnist.seeds == seeds and mnist.counts.sum() == 50 * seeds
    assert mnist.counts[3, 5] == 2 * seeds and mnist.counts[3, 3] == 3 * seeds
    assert mnist.by_row[3, 5] == pytest.approx(0.4)
    assert found.without > 0  # cifar10's trials and the other experiments have no predictions here


def test_a_store_without_predictions_has_no_per_class_results(analysis):
    found = per_class(analysis, {}, {})
    assert found.empty and found.confusions == () and found.without > 0
