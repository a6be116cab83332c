"""The figures lay out for any study size (study.report.figures): from one experiment with one compared value
up to a study as long as the built-in one, no two texts overlap, the rows of a forest plot keep their spacing,
and matplotlib warns about nothing (a warning such as "Tight layout not applied" means squashed text)."""

import itertools
import warnings
from dataclasses import replace

import matplotlib.pyplot as plt
import pytest
from drawing import drawn
from matplotlib.text import Text
from synthetic import make_store, synthetic_study

from study.analyse.answer import answer_rows, effects
from study.analyse.comparisons import analyse
from study.declare.config import Settings
from study.declare.spec import Study, experiment
from study.report import figures, wording


def _study(name: str, experiments) -> Study:
    return Study(name, Settings(epochs=5), tuple(experiments), seeds=(1, 2, 3))


STUDIES = {
    # one experiment, one value compared with its baseline (kernel 5)
    "one value": _study("one value", [experiment("kernel", "kernel_size", [3, 5])]),
    # the user's case: two experiments of one value each
    "two experiments": _study(
        "two experiments",
        [
            experiment("batch size", "batch_size", [128, 32]),
            experiment("kernel", "kernel_size", [3, 5]),
        ],
    ),
    "four values": _study("four values", [experiment("kernel", "kernel_size", [1, 2, 3, 5, 7])]),
    # as long as the built-in study: more rows than one column takes, so the plot splits in two
    "large": _study(
        "large",
        [experiment(f"kernel {i}", "kernel_size", [1, 3, 5, 7]) for i in range(12)],
    ),
}


@pytest.fixture(scope="module", params=list(STUDIES))
def analysis(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "s.sqlite"
    with make_store(path, STUDIES[request.param], missing=()) as store:
        return analyse(store)


@pytest.fixture(scope="module")
def synthetic_analysis(tmp_path_factory):
    with make_store(tmp_path_factory.mktemp("layout") / "s.sqlite", synthetic_study()) as store:
        return analyse(store)


def _drawn(monkeypatch, draw, *args):
    """Draw with every warning recorded; return (what ``draw`` returned, the open figure, the warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returned, fig = drawn(monkeypatch, draw, *args)
        fig.canvas.draw()
    return returned, fig, [str(w.message) for w in caught]


def _tick_labels(axis, coordinate: int) -> list[Text]:
    """The tick labels ``axis`` draws: those of ticks inside its view (the rest are kept but not drawn)."""
    low, high = sorted(axis.get_view_interval())
    return [
        label
        for label in axis.get_ticklabels()
        if low - 1e-9 * (high - low)
        <= label.get_position()[coordinate]
        <= high + 1e-9 * (high - low)
    ]


def _texts(fig) -> list[Text]:
    """Every text drawn on ``fig``: titles, axis labels, tick labels in view, texts, legends."""
    texts: list[Text] = list(fig.texts)
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        texts.append(suptitle)
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += [*ax.texts, *_tick_labels(ax.xaxis, 0), *_tick_labels(ax.yaxis, 1)]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    return [t for t in dict.fromkeys(texts) if t.get_visible() and t.get_text().strip()]


def _overlapping(fig) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer).padded(-0.5)) for t in _texts(fig)]
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


def _forest(analysis, dataset, tmp_path, monkeypatch):
    rows = effects(analysis)[dataset]
    headers = wording.forest_headers(
        answer_rows(analysis)[dataset], wording.knob_names(analysis.stored.study)
    )
    return _drawn(
        monkeypatch,
        figures.forest_figure,
        rows,
        analysis.stored.study.margin(dataset),
        headers,
        wording.STANDING_LABELS,
        f"{dataset}: each value against its baseline",
        tmp_path / f"forest_{dataset}.png",
    )


def test_a_forest_plot_of_any_size_has_no_overlapping_text(analysis, tmp_path, monkeypatch):
    for dataset in analysis.datasets:
        _, fig, caught = _forest(analysis, dataset, tmp_path, monkeypatch)
        assert caught == []
        assert _overlapping(fig) == []
        plt.close(fig)


def test_a_forest_plot_across_the_whole_scale_has_no_overlapping_text(
    synthetic_analysis, tmp_path, monkeypatch
):
    """Differences from -100 to +100 pp on a symmetric-logarithmic axis: its tick labels stay apart."""
    rows = effects(synthetic_analysis)["mnist"]
    wide = [replace(rows[0], diff=-0.9, low=-1.0, high=-0.8), replace(rows[1], diff=0.9, high=1.0)]
    drawn, fig, caught = _drawn(
        monkeypatch,
        figures.forest_figure,
        wide + rows[2:],
        0.01,
        {},
        wording.STANDING_LABELS,
        "mnist",
        tmp_path / "forest.png",
    )
    assert drawn.scale.symlog and (drawn.scale.left, drawn.scale.right) == (-100.0, 100.0)
    assert caught == [] and _overlapping(fig) == []
    plt.close(fig)


def test_a_forest_plot_keeps_its_row_spacing(analysis, tmp_path, monkeypatch):
    """A row is ``FOREST_LINE`` high whatever the study's size: the rows are not squashed by the legend."""
    _, fig, _ = _forest(analysis, "mnist", tmp_path, monkeypatch)
    ax = fig.axes[0]
    low, high = sorted(ax.get_ylim())
    row = ax.get_window_extent().height / (high - low) / fig.dpi
    assert row == pytest.approx(figures.FOREST_LINE, rel=0.1)
    legend = fig.legends[0].get_window_extent()
    assert all(legend.y1 <= a.get_tightbbox().y0 + 1 for a in fig.axes)  # below the axes
    assert fig.get_figwidth() * fig.dpi >= legend.width  # and inside the figure
    plt.close(fig)


DRAWINGS = [figures.experiment_figure, figures.loss_figure, figures.final_figure]


def _experiment_figures_are_clean(analysis, experiments, tmp_path, monkeypatch):
    for name in experiments:
        for draw in DRAWINGS:
            _, fig, caught = _drawn(monkeypatch, draw, analysis, name, tmp_path)
            assert caught == [], (name, draw.__name__)
            assert _overlapping(fig) == [], (name, draw.__name__)
            plt.close(fig)


def test_the_figures_of_an_experiment_have_no_overlapping_text(analysis, tmp_path, monkeypatch):
    experiments = list(dict.fromkeys(e for e, _ in analysis.blocks))[
        :2
    ]  # the large one repeats itself
    _experiment_figures_are_clean(analysis, experiments, tmp_path, monkeypatch)


def test_figures_with_diverged_and_missing_seeds_have_no_overlapping_text(
    synthetic_analysis, tmp_path, monkeypatch
):
    experiments = list(dict.fromkeys(e for e, _ in synthetic_analysis.blocks))
    _experiment_figures_are_clean(synthetic_analysis, experiments, tmp_path, monkeypatch)


def test_a_long_dataset_name_stays_inside_its_panel(tmp_path, monkeypatch):
    """'fashion_mnist: each seed; mean, 95% CI' was wider than its panel and ran into the training-time
    panel's axis label (a user's Fashion-MNIST study of four experiments)."""
    import synthetic

    monkeypatch.setitem(synthetic.SHAPES, "fashion_mnist", (28, 28, 1))
    monkeypatch.setitem(synthetic.LEVEL, "fashion_mnist", 0.7)
    monkeypatch.delitem(synthetic.SHAPES, "mnist")
    monkeypatch.delitem(synthetic.SHAPES, "cifar10")
    study = Study(
        "fashion",
        Settings(epochs=5),
        (
            experiment("lr", "learning_rate", [0.01, 0.5, 2.0], datasets=("fashion_mnist",)),
            experiment("kernel", "kernel_size", [3, 5, 7], datasets=("fashion_mnist",)),
        ),
        seeds=(1, 2, 3),
    )
    with make_store(tmp_path / "s.sqlite", study, missing=()) as store:
        analysis = analyse(store)
    _experiment_figures_are_clean(analysis, ["lr", "kernel"], tmp_path, monkeypatch)
