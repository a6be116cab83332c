"""The figures' scales and legends (study.report.figures): axes on the data, not on the bands; a panel at chance
not blown up; loss axes not crushed by unstable runs; every value in the legend, diverged ones marked."""

import math

import matplotlib.pyplot as plt
import pytest
from synthetic import make_store

from study.analyse.comparisons import analyse
from study.report import figures


def test_an_accuracy_axis_spans_the_means_and_chance_not_the_bands():
    low, high = figures.accuracy_limits([55.0, 62.0, 70.0], chance=10.0)
    assert (low, high) == (5.0, 75.0)  # a t-band at three seeds reaching 0-100% does not widen it
    assert figures.accuracy_limits([96.0, 99.0], chance=11.4) == (6.4, 100.0)  # kept inside 0-100


def test_a_panel_at_chance_keeps_a_readable_span():
    low, high = figures.accuracy_limits([10.0, 10.1, 10.0], chance=10.0)
    assert high - low >= figures.MIN_SPAN_PP and low <= 10.0 <= high  # not 9.6-10.4%
    low, high = figures.accuracy_limits([1.0], chance=2.0)
    assert low == 0.0 and high - low >= figures.MIN_SPAN_PP


def test_a_loss_axis_stops_short_of_unstable_runs_only_when_others_stay_low():
    top = figures.loss_ceiling([2.3, 2.2, 2.0, 145.0, 90.0], classes=10)
    assert top == pytest.approx(1.5 * math.log(10))  # the sensible curves, with room above them
    assert figures.loss_ceiling([2.3, 0.4], classes=10) is None  # nothing to clip
    assert (
        figures.loss_ceiling([120.0, 300.0], classes=10) is None
    )  # everything unstable: keep the scale


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    with make_store(tmp_path_factory.mktemp("figures") / "s.sqlite") as store:
        return analyse(store)


def _drawn(monkeypatch, draw, *args):
    drawn = []
    monkeypatch.setattr(figures.plt, "close", lambda fig: drawn.append(fig))
    draw(*args)
    fig = drawn[0]
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    plt.close(fig)
    return fig, texts


def test_a_value_whose_seeds_all_diverged_stays_in_the_legend(analysis, tmp_path, monkeypatch):
    assert figures.diverged_epochs(analysis, "kernel_size", "mnist") == {"7": [2, 2, 2, 2]}
    fig, texts = _drawn(monkeypatch, figures.experiment_figure, analysis, "kernel_size", tmp_path)
    assert "7 (diverged)" in texts and "5 (baseline)" in texts
    assert "a seed diverged at that epoch (NaN/inf loss)" in texts
    assert any(t.startswith("chance = best constant answer") for t in texts)
    titles = [ax.get_title() for ax in fig.axes]
    assert "mnist, chance 10.0%" in titles
    fig, texts = _drawn(
        monkeypatch, figures.experiment_figure, analysis, "learning_rate", tmp_path
    )
    assert "0.2 (2 of 8 seeds diverged)" in texts  # seed 2 on each dataset


def test_legends_stand_below_the_axes(analysis, tmp_path, monkeypatch):
    for draw in (figures.experiment_figure, figures.loss_figure, figures.final_figure):
        fig, _ = _drawn(monkeypatch, draw, analysis, "kernel_size", tmp_path)
        fig.canvas.draw()
        legend = fig.legends[0].get_window_extent()
        assert all(legend.y1 <= ax.get_window_extent().y0 for ax in fig.axes), draw.__name__
