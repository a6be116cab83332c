"""Costs: median time per epoch over seeds with its range and MACs, ratios to the baseline, old stores' times."""

import math
import sqlite3

import pytest
from synthetic import make_store

from study.analyse.comparisons import analyse
from study.analyse.costs import Cost, CostRatio, cost_ratio, epoch_cost
from study.analyse.overview import ranking
from study.report.figures import time_bars
from study.report.formats import epoch_time, macs_text, times
from study.report.wording import conclude, cost_text


def test_cost_is_the_median_time_per_epoch_over_seeds_with_its_range():
    cost = epoch_cost(
        {1: [0.25, 0.25, 0.25], 2: [0.5, 0.25, 0.75], 3: [1.0, 1.0, 1.0]},
        {1: True, 2: True, 3: True},
        1000,
    )
    assert (cost.median_epoch_s, cost.low, cost.high, cost.macs, cost.seeds) == (
        0.5,
        0.25,
        1.0,
        1000,
        3,
    )
    assert (cost.first_epoch_dropped, cost.may_include_trace) == (0, 0)


def test_a_seed_that_stopped_early_costs_the_same_per_epoch():
    """A diverged seed that ran 2 of 10 epochs is not 5 times cheaper: it is costed per epoch."""
    full = epoch_cost({1: [0.3] * 10, 2: [0.3] * 10}, {1: True, 2: True}, None)
    stopped = epoch_cost({1: [0.3] * 10, 2: [0.3] * 2}, {1: True, 2: True}, None)
    assert stopped == full
    assert stopped.median_epoch_s == pytest.approx(0.3)


def test_trials_stored_before_tracing_was_timed_apart_leave_out_their_first_epoch():
    traced_in_first_epoch = {1: [12.7, 4.0, 4.0], 2: [4.2, 4.0, 4.0]}
    cost = epoch_cost(traced_in_first_epoch, {}, None)  # no trace_seconds stored: schema 1
    assert (cost.median_epoch_s, cost.low, cost.high) == (4.0, 4.0, 4.0)
    assert (cost.first_epoch_dropped, cost.may_include_trace) == (2, 0)
    recorded = epoch_cost(
        {1: [4.3, 4.0, 4.0]}, {1: True}, None
    )  # tracing kept apart: every epoch counts
    assert recorded.median_epoch_s == pytest.approx(12.3 / 3) and recorded.first_epoch_dropped == 0


def test_a_one_epoch_trial_of_an_old_store_is_costed_on_that_epoch_and_flagged():
    cost = epoch_cost({1: [2.5], 2: [0.5]}, {2: True}, None)
    assert (cost.low, cost.high, cost.seeds) == (0.5, 2.5, 2)
    assert (cost.first_epoch_dropped, cost.may_include_trace) == (0, 1)


def test_untimed_epochs_are_skipped_and_no_timed_seed_is_an_unknown_cost():
    assert epoch_cost(
        {1: [None, 0.2, math.nan, 0.4]}, {1: True}, 7
    ).median_epoch_s == pytest.approx(0.3)
    unknown = epoch_cost({1: [None]}, {1: True}, 7)
    assert not unknown.defined and unknown.macs == 7 and math.isnan(unknown.median_epoch_s)
    assert not epoch_cost({}, {}, None).defined


def test_ratio_to_the_baseline_carries_the_min_max_range_of_the_two_arms():
    value = Cost(2.0, 1.8, 2.6, None, 3)
    baseline = Cost(1.0, 0.9, 1.2, None, 9)
    ratio = cost_ratio(value, baseline)
    assert ratio.ratio == pytest.approx(2.0)
    assert (ratio.low, ratio.high) == (pytest.approx(1.8 / 1.2), pytest.approx(2.6 / 0.9))
    assert (
        not cost_ratio(value, Cost.unknown()).defined
        and not cost_ratio(Cost.unknown(), baseline).defined
    )


def test_costs_are_formatted_with_their_ranges():
    assert epoch_time(Cost(0.4123, 0.398, 0.431, None, 3)) == "0.412 s (0.398–0.431)"
    assert epoch_time(Cost(12.34, 12.34, 12.34, None, 1)) == "12.3 s"
    assert epoch_time(Cost.unknown()) == "–"
    assert times(CostRatio(2.1, 1.8, 2.5)) == "2.10x (1.80–2.50)"
    assert times(CostRatio(13.2, 12.04, 14.1)) == "13.2x (12.0–14.1)"
    assert times(CostRatio(1.0, 1.0, 1.0)) == "1.00x"
    assert times(CostRatio(math.nan, math.nan, math.nan)) == "–"
    assert macs_text(2_293_000) == "2.29 M MACs" and macs_text(None) == "–"


def _timed_store(path, traced: bool):
    """The synthetic store with epoch times that grow with the MACs, the epoch and the seed:
    macs / 1e8 + 0.01 x epoch + 0.001 x seed seconds; ``traced``: trace_seconds recorded (schema 2)."""
    make_store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE trials SET trace_seconds = ?", (0.0 if traced else None,))
        db.execute(
            "UPDATE epochs SET epoch_seconds = (SELECT t.macs / 1e8 + 0.001 * t.seed FROM trials t "
            "WHERE t.trial_key = epochs.trial_key) + 0.01 * epoch"
        )
    from study.results.store import Store

    return Store(path)


@pytest.mark.parametrize("traced", [True, False])
def test_analysis_costs_each_value_from_its_stored_epochs(tmp_path, traced):
    with _timed_store(tmp_path / "s.sqlite", traced) as store:
        analysis = analyse(store)
    block = analysis.blocks[("kernel_size", "mnist")]
    for value in block.values:
        finished = sorted(value.outcomes)

        def per_epoch(seed):  # the mean over the epochs counted: all of them, or all but the first
            epochs = 2 if value.label == "7" else 5  # kernel 7 diverges at epoch 2  # noqa: B023
            counted = range(1, epochs + 1) if traced else range(2, epochs + 1)
            return value.macs / 1e8 + 0.001 * seed + 0.01 * sum(counted) / len(counted)  # noqa: B023

        times_ = sorted(per_epoch(s) for s in finished)
        cost = value.cost
        assert cost.macs == value.macs and cost.seeds == len(finished)
        assert cost.median_epoch_s == pytest.approx(
            (times_[(len(times_) - 1) // 2] + times_[len(times_) // 2]) / 2
        )
        assert (cost.low, cost.high) == (pytest.approx(times_[0]), pytest.approx(times_[-1]))
        assert cost.first_epoch_dropped == (0 if traced else len(finished))


def test_ranking_and_figure_use_the_per_epoch_cost(tmp_path):
    with _timed_store(tmp_path / "s.sqlite", True) as store:
        analysis = analyse(store)
    block = analysis.blocks[("kernel_size", "mnist")]
    row = next(r for r in ranking(analysis)["mnist"] if r.experiment == "kernel_size")
    assert row.lead.cost == cost_ratio(block.value(row.lead.value).cost, block.baseline.cost)
    bars = time_bars(block)
    for value, height, below, above in zip(block.values, bars.heights, bars.below, bars.above):
        assert height == value.cost.median_epoch_s
        assert (height - below, height + above) == (
            pytest.approx(value.cost.low),
            pytest.approx(value.cost.high),
        )


def test_block_conclusion_names_the_cheapest_and_dearest_value_per_epoch(tmp_path):
    with _timed_store(tmp_path / "s.sqlite", True) as store:
        block = analyse(store).blocks[("kernel_size", "mnist")]
    text = cost_text(block)
    cheapest = min(block.values, key=lambda v: v.cost.median_epoch_s)
    dearest = max(block.values, key=lambda v: v.cost.median_epoch_s)
    assert (
        f"Training costs from {epoch_time(cheapest.cost)} per epoch (kernel size = {cheapest.label}, "
        in text
    )
    assert (
        f"to {epoch_time(dearest.cost)} (kernel size = {dearest.label}, {macs_text(dearest.cost.macs)})"
        in text
    )
    other = (
        dearest if dearest is not block.baseline else cheapest
    )  # the extreme that is not the baseline
    assert (
        f"= {other.label} takes {times(cost_ratio(other.cost, block.baseline.cost))} the baseline's"
        in text
    )
    assert "before graph tracing was timed apart" not in text
    assert text in conclude(block)


def test_block_conclusion_says_how_an_old_stores_times_were_read(tmp_path):
    with _timed_store(tmp_path / "s.sqlite", False) as store:
        block = analyse(store).blocks[("kernel_size", "mnist")]
    seeds = sum(v.cost.seeds for v in block.values)
    assert (
        f"{seeds} seed(s) were stored before graph tracing was timed apart: each is costed on its epochs "
        "after the first"
    ) in cost_text(block)
