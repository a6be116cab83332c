"""The figures' scales and legends (study.report.figures): axes on the data, not on the bands; a panel at chance
not blown up; loss axes not crushed by unstable runs; every value in the legend, diverged ones marked."""

import math

import matplotlib.pyplot as plt
import pytest
from drawing import drawn
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
    _, fig = drawn(monkeypatch, draw, *args)
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


def test_curves_of_different_batch_sizes_are_drawn_against_sgd_steps(tmp_path, monkeypatch):
    """Batch 128 and 32 take 4 times fewer and more steps per epoch: the curves are against SGD steps, each
    value's steps per epoch in the legend; an experiment of one batch size keeps the epoch axis."""
    from study.declare.config import Settings
    from study.declare.spec import Study, experiment

    study = Study(
        "batches",
        Settings(epochs=5),
        (
            experiment("batch size", "batch_size", [128, 32], datasets=("mnist",)),
            experiment("kernel", "kernel_size", [3, 5], datasets=("mnist",)),
        ),
        seeds=(1, 2, 3),
    )
    with make_store(tmp_path / "s.sqlite", study, missing=()) as store:
        found = analyse(store)
    train = found.stored.datasets["mnist"].train_size
    block = found.blocks[("batch size", "mnist")]
    steps = figures.value_steps(found, block)
    assert steps == {"32": -(-train // 32), "128": -(-train // 128)}
    fig, texts = _drawn(monkeypatch, figures.experiment_figure, found, "batch size", tmp_path)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "SGD steps"
    curves = [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "")]
    ends = sorted(max(line.get_xdata()) for line in curves)
    assert ends == sorted(5 * n for n in steps.values())
    assert f"128 ({steps['128']} steps/epoch)" in texts
    assert f"32 (baseline) ({steps['32']} steps/epoch)" in texts
    fig, texts = _drawn(monkeypatch, figures.experiment_figure, found, "kernel", tmp_path)
    assert fig.axes[0].get_xlabel() == "epoch" and not any("steps/epoch" in t for t in texts)


def test_loss_means_above_the_axis_are_marked_at_their_sgd_step_when_curves_are(tmp_path):
    """The off-scale triangles stand where the curve's points do: at (epoch x steps per epoch) on a steps axis."""
    from study.declare.config import Settings
    from study.declare.spec import Study, experiment

    study = Study(
        "batches",
        Settings(epochs=3),
        (experiment("batch size", "batch_size", [128, 32], datasets=("mnist",)),),
        seeds=(1, 2),
    )
    with make_store(tmp_path / "s.sqlite", study, missing=()) as store:
        found = analyse(store)
    block = found.blocks[("batch size", "mnist")]
    steps = figures.value_steps(found, block)
    for along, per in ((steps, steps), (None, {label: 1 for label in steps})):
        fig, ax = plt.subplots()
        off = figures._mark_off_scale(ax, block, "val_loss", -1.0, along)  # every mean above
        assert set(off) == set(steps)
        marked = sorted(x for c in ax.collections for x, _ in c.get_offsets())
        epochs = {v.label: len(v.curves["val_loss"]) for v in block.values}
        assert marked == sorted(
            (e + 1) * per[label] for label, count in epochs.items() for e in range(count)
        )
        plt.close(fig)
