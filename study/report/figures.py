"""Figures of the report (matplotlib, Agg): PNG files under ``output/figures/``.

One colour per value *index* from the Okabe-Ito palette (colour-blind safe), the same on every
dataset; every axis is labelled with its unit; bands are 95% t-intervals over seeds.

Per experiment three figures: accuracy per epoch (``curves``) and the final accuracy with the training
time (``final``), side by side in the report, and the loss per epoch (``loss``, in the HTML only). Scales
follow the data, not the bands: an accuracy axis spans the plotted means and the chance line (at least
``MIN_SPAN_PP`` wide, so a panel at chance is not blown up), a loss axis stops short of unstable runs when
others stay low (``loss_ceiling``; what runs above is marked). The chance line is labelled, every value
is in the legend (a diverged one says so, its seeds are an x at their epoch), and legends stand below the
axes, never over the data.

Names from a study never become a path or markup unchanged: a figure's file is named by
``study.names.path_name`` (``figure_path``), and every experiment name, value label and dataset name is
drawn literally (``literal``: no mathtext for ``$``, no hidden legend entry for a leading ``_``).
"""

from __future__ import annotations

import contextlib
import math
import re
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import blended_transform_factory

from study.analyse.comparisons import Analysis, Block, Comparison, Standing
from study.analyse.costs import Cost
from study.analyse.per_class import Confusion
from study.analyse.stats import Verdict
from study.files import replacing
from study.names import path_name
from study.plan import schedules

OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DATASET_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
)  # by the dataset's position in the study

# Fonts that draw Chinese, Japanese and Korean names, in order of preference, where one is installed
# (Debian/Ubuntu: fonts-noto-cjk, or fonts-wqy-zenhei); matplotlib falls back along the family list per glyph.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)


def installed_fallbacks() -> list[str]:
    """The CJK fonts of ``CJK_FONTS`` that matplotlib finds on this machine."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in names]


plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "font.size": 9,
        "font.sans-serif": [
            "DejaVu Sans",
            *installed_fallbacks(),
            *plt.rcParams["font.sans-serif"],
        ],
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

_MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")


@contextlib.contextmanager
def missing_glyphs() -> Iterator[set[str]]:
    """Collect the characters no installed font could draw (matplotlib warns once per glyph and figure,
    57 lines for a study of Chinese names) instead of warning; the caller says so once."""
    found: set[str] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    for warning in caught:
        match = _MISSING_GLYPH.search(str(warning.message))
        if match:
            found.add(chr(int(match.group(1))))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def figure_path(out: Path, experiment: str, kind: str) -> Path:
    """The PNG of one experiment's figure ``kind`` (curves, final) under ``out``, whatever the name holds."""
    return out / f"{path_name(experiment)}_{kind}.png"


def clipped(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters with an ellipsis where it is longer: a name of hundreds of
    characters would push a panel out of its figure (the report's tables keep it whole)."""
    text = str(text)
    return text if len(text) <= chars else text[: chars - 1] + "…"


def literal(text: str) -> str:
    """``text`` as matplotlib draws it literally: every ``$`` escaped (no mathtext, so ``\\``, ``_``, ``^``
    and ``{`` are plain characters too), and a leading ``_`` (which hides a legend entry) behind a space.

    matplotlib reads ``\\$`` as a literal dollar sign and, with no unescaped ``$``, no math at all. Control
    characters (NUL, tabs, newlines), which no font draws, are shown as ``\\x00`` and so on.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def outcome_handles() -> list[Artist]:
    """Legend handles of a seed's outcome: learned (dot), collapsed (open dot), diverged (cross)."""
    return [
        Line2D(
            [],
            [],
            color="#444",
            linestyle="none",
            markersize=4,
            marker=marker,
            markerfacecolor=face,
        )
        for marker, face in (("o", None), ("o", "none"), ("x", None))
    ]


def dataset_colour(analysis: Analysis, dataset: str) -> str:
    return DATASET_COLOURS[analysis.datasets.index(dataset) % len(DATASET_COLOURS)]


def colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


CHANCE_STYLE: dict[str, Any] = {"linewidth": 0.9, "linestyle": ":"}
DIVERGED_MARKER = {"marker": "x", "s": 30, "linewidths": 1.4, "zorder": 5, "clip_on": False}
MIN_SPAN_PP = 20.0  # an accuracy axis spans at least this much: a panel at chance is not blown up to 9.6-10.4%
PAD_PP = (
    5.0  # above and below the plotted means (never the bands: at n = 3 a t-band can span 0-100%)
)
LOSS_CEILING = (
    4.0  # a loss axis stops at this many times the loss of a uniform guess, ln(classes), when some
)
# curves stay below it: unstable runs at 100-300 nats would flatten every other curve to a line at zero


def accuracy_limits(means: list[float], chance: float) -> tuple[float, float]:
    """The y range (percent) of an accuracy panel: the plotted means and the chance line plus a padding, at
    least ``MIN_SPAN_PP`` wide, inside 0-100. The bands are clipped by it, not the other way round."""
    points = [m for m in means if _finite(m)] + [chance]
    low, high = max(0.0, min(points) - PAD_PP), min(100.0, max(points) + PAD_PP)
    if high - low < MIN_SPAN_PP:
        middle = (min(points) + max(points)) / 2
        low = min(max(0.0, middle - MIN_SPAN_PP / 2), 100.0 - MIN_SPAN_PP)
        high = low + MIN_SPAN_PP
    return low, high


def loss_ceiling(means: list[float], classes: int) -> float | None:
    """The top of a loss panel when some curves would crush the rest (None: let it autoscale): curves at
    most ``LOSS_CEILING`` x ln(classes) keep their scale, the others run off it and are marked."""
    limit = LOSS_CEILING * math.log(max(classes, 2))
    finite = [m for m in means if _finite(m)]
    sensible = [m for m in finite if m <= limit]
    if not sensible or len(sensible) == len(finite):
        return None
    return max(max(sensible) * 1.15, math.log(max(classes, 2)) * 1.5)


def diverged_epochs(analysis: Analysis, experiment: str, dataset: str) -> dict[str, list[int]]:
    """value label -> the epoch at which each diverged seed's loss became NaN/inf (from the plan)."""
    plan = analysis.plan
    rows = plan[
        (plan["experiment"] == experiment)
        & (plan["dataset"] == dataset)
        & (plan["status"] == "diverged")
    ]
    out: dict[str, list[int]] = {}
    for value, epoch in zip(rows["value"], rows["diverged_epoch"]):
        out.setdefault(str(value), []).append(int(epoch) if _finite(epoch) else 1)
    return out


def value_steps(analysis: Analysis, block: Block) -> dict[str, int]:
    """Each value's SGD steps per epoch on the block's dataset (its batch size over the training subset)."""
    facts = analysis.stored.datasets.get(block.dataset)
    found = {}
    for value in block.values:
        spec = next(
            (analysis.trials[k] for k in value.keys.values() if k in analysis.trials), None
        )
        if spec is not None and facts is not None and facts.train_size:
            found[value.label] = schedules.steps_per_epoch(
                facts.train_size, spec.settings.batch_size
            )
    return found


def _curve(
    ax, block: Block, metric: str, scale: float, steps: dict[str, int] | None = None
) -> list[float]:
    """Mean over the seeds that did not diverge, with its 95% band, against the epoch, or against the SGD
    steps where ``steps`` gives each value's steps per epoch; returns the plotted means."""
    plotted = []
    for value in block.values:
        per = steps.get(value.label, 1) if steps else 1
        points = [
            ((e + 1) * per, iv)
            for e, iv in enumerate(value.curves.get(metric, []))
            if _finite(iv.mean)
        ]
        if not points:
            continue
        epochs = [e for e, _ in points]
        means = [iv.mean * scale for _, iv in points]
        plotted += means
        ax.plot(
            epochs,
            means,
            color=colour(value.index),
            marker=MARKERS[value.index % len(MARKERS)],
            markersize=3,
            linewidth=1.4,
        )
        lows = [iv.low * scale if _finite(iv.low) else iv.mean * scale for _, iv in points]
        highs = [iv.high * scale if _finite(iv.high) else iv.mean * scale for _, iv in points]
        ax.fill_between(epochs, lows, highs, color=colour(value.index), alpha=0.15, linewidth=0)
    return plotted


def _mark_off_scale(
    ax, block: Block, metric: str, top: float, steps: dict[str, int] | None = None
) -> dict[str, float]:
    """A triangle on the top edge wherever a mean runs above ``top``, at its epoch or, where ``steps`` gives
    each value's steps per epoch, at its SGD step (as ``_curve``); returns value label -> its highest mean."""
    off = {}
    edge = ax.get_xaxis_transform()
    for value in block.values:
        per = steps.get(value.label, 1) if steps else 1
        points = [
            ((e + 1) * per, iv.mean)
            for e, iv in enumerate(value.curves.get(metric, []))
            if _finite(iv.mean)
        ]
        above = [(e, m) for e, m in points if m > top]
        if above:
            off[value.label] = max(m for _, m in above)
            ax.scatter(
                [e for e, _ in above],
                [0.98] * len(above),
                transform=edge,
                marker="^",
                s=22,
                color=colour(value.index),
                clip_on=False,
                zorder=5,
            )
    return off


def _value_labels(
    blocks: list[Block],
    diverged: dict[str, dict[str, list[int]]],
    off_scale: dict[str, float],
    steps: dict[str, dict[str, int]] | None = None,
) -> list[tuple[int, str]]:
    """(index, legend text) of every value of the experiment, whether or not it has a curve: a value whose
    seeds diverged says so, one whose loss runs above the axis says how high; where ``steps`` gives each
    dataset's steps per epoch by value (curves against SGD steps), the value's, one per dataset."""
    seen: dict[str, tuple[int, str]] = {}
    for block in blocks:
        for value in block.values:
            if value.label in seen:
                continue
            seeds = sum(v.finished for b in blocks if (v := b.value(value.label)) is not None)
            gone = sum(len(diverged[b.dataset].get(value.label, [])) for b in blocks)
            text = value.label + (" (baseline)" if value is block.baseline else "")
            if gone and gone == seeds:
                text += " (diverged)"
            elif gone:
                text += f" ({gone} of {seeds} seeds diverged)"
            if value.label in off_scale:
                text += f" (off scale, up to {off_scale[value.label]:.0f})"
            if steps:
                per = [str(found[value.label]) for found in steps.values() if value.label in found]
                text += f" ({'/'.join(per)} steps/epoch)"
            seen[value.label] = (value.index, text)
    return list(seen.values())


def _epoch_figure(analysis: Analysis, experiment: str, out: Path, metric: str, kind: str) -> Path:
    """One panel per dataset of ``metric`` per epoch: the mean over the seeds that did not diverge with its
    95% band; a diverged seed is an x at its epoch (at chance in accuracy, on the top edge in loss) and its
    value stays in the legend, below the axes."""
    datasets = [d for d in analysis.datasets if (experiment, d) in analysis.blocks]
    blocks = [analysis.blocks[(experiment, d)] for d in datasets]
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(2.15 * len(datasets) + 0.25, 2.3), squeeze=False
    )
    diverged = {d: diverged_epochs(analysis, experiment, d) for d in datasets}
    # values of different batch sizes take different numbers of steps per epoch (16 against 256: 16 times
    # as many): their curves are drawn against the SGD steps, each value's steps per epoch in the legend
    steps = {d: value_steps(analysis, b) for d, b in zip(datasets, blocks)}
    by_steps = any(len(set(found.values())) > 1 for found in steps.values())
    off_scale: dict[str, float] = {}
    accuracy = metric == "val_accuracy"
    for ax, dataset, block in zip(axes[0], datasets, blocks):
        along = steps[dataset] if by_steps else None
        if accuracy:
            chance = block.chance * 100
            ax.axhline(chance, color="#666", **CHANCE_STYLE)
            ax.set_ylim(*accuracy_limits(_curve(ax, block, metric, 100, along), chance))
            ax.set_ylabel("validation accuracy (%)")
        else:
            top = loss_ceiling(
                _curve(ax, block, metric, 1, along), analysis.stored.classes(dataset)
            )
            if top is not None:
                ax.set_ylim(0, top)
                for label, highest in _mark_off_scale(ax, block, metric, top, along).items():
                    off_scale[label] = max(highest, off_scale.get(label, 0.0))
            ax.set_ylabel("validation loss (nats)")
        for value in block.values:
            per = along.get(value.label, 1) if along else 1
            epochs = [e * per for e in diverged[dataset].get(value.label, [])]
            if epochs and accuracy:
                ax.scatter(
                    epochs, [chance] * len(epochs), color=colour(value.index), **DIVERGED_MARKER
                )
            elif epochs:
                ax.scatter(
                    epochs,
                    [0.98] * len(epochs),
                    transform=ax.get_xaxis_transform(),
                    color=colour(value.index),
                    **DIVERGED_MARKER,
                )
        ax.set_title(
            literal(f"{dataset}, chance {block.chance * 100:.1f}%" if accuracy else dataset),
            fontsize=9,
        )
        ax.set_xlabel("SGD steps" if by_steps else "epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
    values = _value_labels(blocks, diverged, off_scale, steps if by_steps else None)
    handles = [
        Line2D(
            [],
            [],
            color=colour(index),
            marker=MARKERS[index % len(MARKERS)],
            markersize=3,
            linewidth=1.4,
        )
        for index, _ in values
    ]
    labels = [literal(text) for _, text in values]
    if accuracy:
        handles.append(Line2D([], [], color="#666", **CHANCE_STYLE))
        labels.append("chance = best constant answer")
    if any(diverged.values()):
        handles.append(Line2D([], [], color="#444", marker="x", linestyle="none", markersize=5))
        labels.append("a seed diverged at that epoch" + (" (NaN/inf loss)" if accuracy else ""))
    if off_scale:
        handles.append(Line2D([], [], color="#444", marker="^", linestyle="none", markersize=4))
        labels.append("mean above the axis (clipped)")
    _legend_below(fig, handles, labels, 3 if len(datasets) > 1 else 2)
    path = figure_path(out, experiment, kind)
    return saved(fig, path)


def saved(fig: Figure, path: Path, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` whole or not at all (``study.files.replacing``), close it, return ``path``.
    ``tight``: cropped to what is drawn, legends hung below the axes included."""
    with replacing(path) as part:
        if tight:
            fig.savefig(part, bbox_inches="tight", pad_inches=0.04)
        else:
            fig.savefig(part)
    plt.close(fig)
    return path


def _legend_below(fig, handles, labels, columns: int, title: str | None = None) -> None:
    """The legend under the axes, never over the data: hung below the laid-out figure, which is saved with a
    tight bounding box that takes it in."""
    fig.tight_layout(w_pad=0.8)
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=columns,
        frameon=False,
        fontsize=7.5,
        title=title,
        title_fontsize=7.5,
        handlelength=1.8,
        columnspacing=1.0,
    )


def _renderer(fig: Figure) -> RendererAgg:
    """The renderer that measures ``fig``'s texts (the Agg backend is chosen above, at import)."""
    return cast(FigureCanvasAgg, fig.canvas).get_renderer()


def _fitting_legend(fig: Figure, handles: list[Artist], columns: int, **style: Any) -> Legend:
    """``fig.legend`` in at most ``columns`` columns, as many as fit the figure's width (a legend of a narrow
    figure, one column of a small study, would otherwise run off its sides)."""
    renderer = _renderer(fig)
    for ncol in range(columns, 1, -1):
        legend = fig.legend(handles=handles, ncol=ncol, **style)
        if legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
    return fig.legend(handles=handles, ncol=1, **style)


LAYOUT_PAD = 1.08  # tight_layout's padding, in font sizes


def _fit_height(fig: Figure, body: float, legend: Legend, title: Text | None = None) -> None:
    """Size ``fig``'s height to its content, then lay it out: its axes ``body`` inches high, the decorations
    above and below them as drawn (titles, tick and axis labels), the figure's ``title`` and ``legend`` at the
    bottom.

    A height fixed in advance leaves too little room for the axes of a small study (tight_layout gives up,
    and the rows and headings of a forest plot land on one line); this one is measured, so tight_layout
    always has room, and then corrected once so that the axes come out exactly ``body`` high."""
    renderer = _renderer(fig)
    pad = LAYOUT_PAD * plt.rcParams["font.size"] / 72
    above = below = 0.0
    for ax in fig.axes:
        frame, drawn = ax.get_window_extent(renderer), ax.get_tightbbox(renderer)
        if drawn is None:  # an axes not in the layout
            continue
        above = max(above, (drawn.y1 - frame.y1) / fig.dpi)
        below = max(below, (frame.y0 - drawn.y0) / fig.dpi)
    if title is not None:
        above += title.get_window_extent(renderer).height / fig.dpi + pad
    legend_height = legend.get_window_extent(renderer).height / fig.dpi + pad / 2
    height = body + above + below + legend_height + 3 * pad
    fig.set_figheight(height)
    fig.tight_layout(rect=(0, legend_height / height, 1, 1))
    # the margins tight_layout keeps do not depend on the height, so one correction is exact
    height += body - max(a.get_position().height for a in fig.axes) * height
    fig.set_figheight(height)
    fig.tight_layout(rect=(0, legend_height / height, 1, 1))


def experiment_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Validation accuracy per epoch, one panel per dataset (mean over seeds with its 95% band)."""
    return _epoch_figure(analysis, experiment, out, "val_accuracy", "curves")


def loss_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Validation loss per epoch, one panel per dataset; runs far above a uniform guess's loss go off scale."""
    return _epoch_figure(analysis, experiment, out, "val_loss", "loss")


OUTCOME_STYLE = {
    "learned": {"fill": True, "marker": "o"},
    "collapsed": {"fill": False, "marker": "o"},
    "diverged": {"fill": True, "marker": "x"},
}


@dataclass(frozen=True)
class TimeBars:
    """The time panel of one block, one entry per value in order: bar heights (median seconds per epoch) and
    error bars down to the fastest and up to the slowest seed (seconds; 0 for an untimed value)."""

    heights: tuple[float, ...]
    below: tuple[float, ...]
    above: tuple[float, ...]


def time_bars(block: Block) -> TimeBars:
    """What the time panel of ``final_figure`` draws for ``block`` (``ValueSummary.cost``)."""
    costs = [v.cost if v.cost.defined else Cost(0.0, 0.0, 0.0, None) for v in block.values]
    return TimeBars(
        tuple(c.median_epoch_s for c in costs),
        tuple(c.median_epoch_s - c.low for c in costs),
        tuple(c.high - c.median_epoch_s for c in costs),
    )


FINAL_MIN_SPAN_PP = (
    2.0  # a final-accuracy axis spans at least this much: a 1 pp effect stays visible
)
FINAL_PAD_PP = 0.5  # at least this much room above and below the learned seeds


@dataclass(frozen=True)
class AccuracyAxis:
    """The accuracy axis of one dataset's panel in ``final_figure`` (percent): its range, set by the seeds that
    learned and their means; the seeds drawn on an edge because they lie beyond it ((value label, seed), a
    collapsed or diverged seed at chance below a panel of learned seeds), and whether the chance line is on it."""

    low: float
    high: float
    below: tuple[tuple[str, int], ...]
    above: tuple[tuple[str, int], ...]
    chance: float
    chance_shown: bool


def padded_limits(points: list[float]) -> tuple[float, float]:
    """A y range (pp) around ``points`` with a padding, at least ``FINAL_MIN_SPAN_PP`` wide, inside [0, 100]."""
    bottom, top = min(points), max(points)
    pad = max(FINAL_PAD_PP, 0.15 * (top - bottom))
    low, high = max(0.0, bottom - pad), min(100.0, top + pad)
    if high - low < FINAL_MIN_SPAN_PP:
        middle = (bottom + top) / 2
        low = min(max(0.0, middle - FINAL_MIN_SPAN_PP / 2), 100.0 - FINAL_MIN_SPAN_PP)
        high = low + FINAL_MIN_SPAN_PP
    return low, high


def final_accuracy_axis(block: Block) -> AccuracyAxis:
    """The y range of a block's final-accuracy panel: the learned seeds and their means with a padding, at
    least ``FINAL_MIN_SPAN_PP`` wide, so that differences of 1-2 pp are visible; seeds that did not learn sit
    on the edge they lie beyond. A block where no seed learned spans its seeds and chance (``accuracy_limits``)."""
    chance = block.chance * 100
    learned = [a * 100 for v in block.values for a in v.learned_only().values() if _finite(a)]
    means = [v.final_learned.mean * 100 for v in block.values if _finite(v.final_learned.mean)]
    if learned:
        low, high = padded_limits(learned + means)
    else:
        low, high = accuracy_limits(
            [a * 100 for v in block.values for a in v.final_by_seed.values()], chance
        )
    seeds = [(v.label, s, a * 100) for v in block.values for s, a in v.final_by_seed.items()]
    return AccuracyAxis(
        low,
        high,
        tuple((label, seed) for label, seed, a in seeds if a < low),
        tuple((label, seed) for label, seed, a in seeds if a > high),
        chance,
        low <= chance <= high,
    )


def _tick_style(labels: list[str]) -> dict[str, Any]:
    """Value names under a per-value axis: slanted when short, upright when any is longer than 6
    characters (slanted long names overlap each other and the axis label)."""
    if max((len(label) for label in labels), default=0) > 6:
        return {"rotation": 90, "ha": "center", "fontsize": 7}
    return {"rotation": 20, "ha": "right"}


def final_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Per dataset a panel of every seed's final accuracy (marked by outcome) beside the mean and 95% CI of the
    learned seeds, on an axis scaled to the learned seeds (``final_accuracy_axis``: a seed that did not learn
    sits on the edge it lies beyond, and a chance line off the axis is named in the legend); then per value its
    training time per epoch (median over seeds, error bars from the fastest to the slowest seed). One colour
    per dataset; the legend below the axes."""
    datasets = [d for d in analysis.datasets if (experiment, d) in analysis.blocks]
    labels_of = [v.label for d in datasets for v in analysis.blocks[(experiment, d)].values]
    count = max(len(analysis.blocks[(experiment, d)].values) for d in datasets)
    # long value names stand upright, so that no tick label runs into its neighbour or the axis label
    tick = _tick_style(labels_of)
    panel = max(2.3, 0.42 * count)
    fig, axes = plt.subplots(
        1, len(datasets) + 1, figsize=(panel * len(datasets) + max(2.6, panel), 2.3), squeeze=False
    )
    accuracy_axes, time_ax = axes[0][:-1], axes[0][-1]
    width = 0.8 / max(1, len(datasets))
    chance_labels, beyond = [], False
    for offset, (ax, dataset) in enumerate(zip(accuracy_axes, datasets)):
        block = analysis.blocks[(experiment, dataset)]
        colour_ = dataset_colour(analysis, dataset)
        axis = final_accuracy_axis(block)
        off = {(label, seed): 0.0 for label, seed in axis.below}
        off |= {(label, seed): 1.0 for label, seed in axis.above}
        beyond = beyond or bool(off)
        edge = ax.get_xaxis_transform()
        for value in block.values:
            seeds = list(value.outcomes.items())
            for j, (seed, kind) in enumerate(seeds):
                jitter = (j - (len(seeds) - 1) / 2) * 0.05
                style = OUTCOME_STYLE[kind]
                paint = (
                    {"color": colour_}
                    if style["marker"] == "x"
                    else {
                        "facecolors": colour_ if style["fill"] else "none",
                        "edgecolors": colour_,
                    }
                )
                x = value.index - 0.15 + jitter
                if (
                    value.label,
                    seed,
                ) in off:  # beyond the axis: on its edge, as the curves mark theirs
                    ax.scatter(
                        x,
                        off[(value.label, seed)],
                        transform=edge,
                        s=12,
                        marker=style["marker"],
                        linewidths=1,
                        clip_on=False,
                        zorder=5,
                        **paint,
                    )
                    continue
                ax.scatter(
                    x,
                    value.final_by_seed[seed] * 100,
                    s=12,
                    marker=style["marker"],
                    linewidths=1,
                    **paint,
                )
            interval = value.final_learned
            if _finite(interval.mean):
                low = interval.mean - interval.low if interval.defined else 0
                high = interval.high - interval.mean if interval.defined else 0
                ax.errorbar(
                    [value.index + 0.15],
                    [interval.mean * 100],
                    yerr=[[low * 100], [high * 100]],
                    fmt="_",
                    color=colour_,
                    capsize=3,
                    markersize=9,
                )
        if axis.chance_shown:
            ax.axhline(axis.chance, color=colour_, alpha=0.8, **CHANCE_STYLE)
        chance_labels.append(
            (
                colour_,
                f"chance {dataset} {axis.chance:.1f}%"
                + ("" if axis.chance_shown else " (off the axis)"),
                axis.chance_shown,
            )
        )
        ax.set_ylim(axis.low, axis.high)
        ax.set_xlim(-0.6, len(block.values) - 0.4)
        ax.set_xticks([v.index for v in block.values])
        ax.set_xticklabels([literal(v.label) for v in block.values], **tick)
        ax.set_xlabel(literal(experiment.replace("_", " ")))
        # on two lines: one is wider than a narrow panel and ran into the next panel's axis label
        ax.set_title(literal(f"{dataset}:") + "\neach seed; mean, 95% CI", fontsize=8)
        bars = time_bars(block)
        shift = (offset - (len(datasets) - 1) / 2) * width
        time_ax.bar(
            [v.index + shift for v in block.values],
            bars.heights,
            width=width,
            color=colour_,
            label=literal(dataset),
            yerr=[bars.below, bars.above],
            capsize=2,
            ecolor="#333",
            error_kw={"linewidth": 0.8},
        )
    accuracy_axes[0].set_ylabel("final validation accuracy (%)")
    handles: list[Artist] = [Patch(color=dataset_colour(analysis, d)) for d in datasets]
    labels = [literal(d) for d in datasets]
    handles += [
        *outcome_handles(),
        Line2D([], [], color="#444", marker="_", linestyle="none", markersize=8),
    ]
    labels += ["learned", "collapsed", "diverged (at chance)", "mean of the learned seeds, 95% CI"]
    if beyond:
        handles.append(Line2D([], [], color="none", marker="none", linestyle="none"))
        labels.append("on the edge: a seed beyond the axis")
    for colour_, text, shown in chance_labels:  # chance = the best constant answer
        handles.append(
            Line2D([], [], color=colour_, linewidth=0.9, linestyle=":" if shown else "none")
        )
        labels.append(literal(text))
    first = analysis.blocks[(experiment, datasets[0])]
    time_ax.set_xticks(range(len(first.values)))
    time_ax.set_xticklabels([literal(v.label) for v in first.values], **tick)
    time_ax.set_xlabel(literal(experiment.replace("_", " ")))
    time_ax.set_ylabel("training time per epoch (s)")
    time_ax.set_title("median; bars: seed range", fontsize=9)
    _legend_below(fig, handles, labels, 4)
    path = figure_path(out, experiment, "final")
    return saved(fig, path)


VERDICT_COLOURS = {
    Verdict.BETTER: "#009E73",
    Verdict.WORSE: "#D55E00",
    Verdict.EQUIVALENT: "#0072B2",
}
FOREST_LINE = 0.15  # inches per row (a value or a knob's header), whatever the number of rows
FOREST_SPLIT = 40  # a single part of the study with more rows than this is drawn in two columns


def forest_path(out: Path, dataset: str) -> Path:
    return out / f"forest_{path_name(dataset)}.png"


def _forest_columns(rows: list[Comparison]) -> list[list[list[Comparison]]]:
    """Columns of knobs (each a list of its rows): one per part of the study; a single long part is split
    in two at a knob boundary."""
    groups: dict[str, dict[str, list[Comparison]]] = {}
    for row in rows:
        groups.setdefault(row.group, {}).setdefault(row.experiment, []).append(row)
    columns = [list(knobs.values()) for knobs in groups.values()]
    if len(columns) == 1 and sum(1 + len(k) for k in columns[0]) > FOREST_SPLIT:
        knobs, total, running = columns[0], sum(1 + len(k) for k in columns[0]), 0
        for cut, knob in enumerate(knobs):
            running += 1 + len(knob)
            if running >= total / 2:
                columns = [knobs[: cut + 1], knobs[cut + 1 :]]
                break
    return [c for c in columns if c]


def _forest_limits(rows: list[Comparison], margin: float) -> tuple[float, float]:
    points = [x * 100 for r in rows for x in (r.diff, r.low, r.high) if _finite(x)]
    points += [-margin * 100, margin * 100] if _finite(margin) else []
    low, high = (min(points), max(points)) if points else (-10.0, 10.0)
    pad = max(2.0, 0.08 * (high - low))
    return max(-100.0, low - pad), min(100.0, high + pad)


SYMLOG_SPAN = (
    40  # the forest axis turns symmetric-logarithmic when it spans more than this many margins
)


@dataclass(frozen=True)
class ForestScale:
    """The x axis of a forest plot (percentage points): its limits, and whether it is symmetric-logarithmic
    beyond ``linear_within`` (linear inside; NaN when the whole axis is linear)."""

    left: float
    right: float
    symlog: bool
    linear_within: float


def forest_scale(rows: list[Comparison], margin: float) -> ForestScale:
    """The scale ``forest_figure`` draws ``rows`` on: linear, or, when the differences span more than
    ``SYMLOG_SPAN`` times the margin, symmetric-logarithmic beyond twice the margin (so that small effects
    stay visible beside large ones). Computed apart from the drawing, so a caption can say which it is."""
    left, right = _forest_limits(rows, margin)
    symlog = _finite(margin) and margin > 0 and right - left > SYMLOG_SPAN * margin * 100
    return ForestScale(left, right, symlog, 2 * margin * 100 if symlog else math.nan)


@dataclass(frozen=True)
class ForestFigure:
    """What ``forest_figure`` drew: the PNG, the x scale of every panel, and each panel's title."""

    path: Path
    scale: ForestScale
    panel_titles: tuple[str, ...]


UNDECIDED_FAILURES = "#555555"  # a failure count the failure-rate test does not decide
NO_FAILURES = "#999999"


def failure_colour(row) -> str:
    """The colour of a row's 'k/n failed' count: the verdict colours only where the failure-rate test is
    significant (worse where the value fails more often, better where less), dark grey for failures the test
    does not decide, light grey for none."""
    if row.rate_differs:
        value_rate = row.failed / row.finished if row.finished else 0.0
        base_rate = row.baseline_failed / row.baseline_finished if row.baseline_finished else 0.0
        return VERDICT_COLOURS[Verdict.WORSE if value_rate > base_rate else Verdict.BETTER]
    return UNDECIDED_FAILURES if row.failed else NO_FAILURES


def forest_figure(
    rows: list[Comparison],
    margin: float,
    headers: dict[str, str],
    side_labels: dict[Standing, str],
    title: str,
    path: Path,
    interval: str = "95% CI",
    part_titles: dict[str, str] | None = None,
) -> ForestFigure:
    """Every value's difference to its baseline with the CI its verdict uses (``interval``: its label), one row
    per value, grouped by
    knob (``headers``: a header line per experiment), one column per part of the study; the equivalence band
    +-``margin`` shaded, zero marked; filled markers for decisive verdicts. Each row's failed-to-learn count
    stands at the right margin; a value without a difference is marked at the left edge with its reason
    (``side_labels``), never dropped; the count is in a verdict colour only where the failure-rate test is
    significant (``failure_colour``). When the differences span far more than the margin, the axis is
    symmetric-logarithmic (linear within twice the margin), so that small effects stay visible beside large ones
    (``forest_scale``; the returned record says which). ``part_titles`` names each part of the study (its
    ``group``) as this figure's panel shows it (default: the group itself)."""
    columns = _forest_columns(rows)
    scale = forest_scale(rows, margin)
    panel_titles = []
    lines = max((sum(1 + len(k) for k in column) for column in columns), default=1)
    fig, axes = plt.subplots(
        1,
        max(1, len(columns)),
        figsize=(3.9 * max(1, len(columns)), 2.5 + FOREST_LINE * lines),  # _fit_height sets it
        squeeze=False,
        sharex=True,
    )
    left, right = scale.left, scale.right
    for ax, column in zip(axes[0], columns or [[]]):
        side = blended_transform_factory(ax.transAxes, ax.transData)
        ticks, labels, y = [], [], 0
        for knob in column:
            ax.text(
                0.01,
                y,
                literal(clipped(headers.get(knob[0].experiment, knob[0].experiment), 64)),
                transform=side,
                fontsize=7,
                fontweight="bold",
                va="center",
                ha="left",
                zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4, "alpha": 0.85},
            )
            for row in knob:
                y += 1
                ticks.append(y)
                labels.append(literal(clipped(row.value, 36)))
                colour_ = VERDICT_COLOURS.get(row.verdict, "#555555")
                face = colour_ if row.decisive else "white"
                if row.standing == Standing.INTERVAL:
                    ax.errorbar(
                        [row.diff * 100],
                        [y],
                        xerr=[[(row.diff - row.low) * 100], [(row.high - row.diff) * 100]],
                        fmt="o",
                        color=colour_,
                        markerfacecolor=face,
                        markersize=3.5,
                        capsize=1.5,
                        linewidth=1,
                        zorder=3,
                    )
                elif row.standing == Standing.POINT:
                    ax.plot(
                        [row.diff * 100],
                        [y],
                        marker="D",
                        color=colour_,
                        markerfacecolor=face,
                        markersize=3,
                        linestyle="none",
                        zorder=3,
                    )
                    ax.annotate(
                        side_labels.get(row.standing, ""),
                        (row.diff * 100, y),
                        xytext=(4, 0),
                        textcoords="offset points",
                        fontsize=6,
                        color="#555555",
                        va="center",
                    )
                else:
                    ax.plot(
                        [left],
                        [y],
                        marker="x" if row.standing == Standing.DID_NOT_LEARN else "|",
                        color=failure_colour(row) if row.rate_differs else UNDECIDED_FAILURES,
                        markersize=4,
                        linestyle="none",
                        clip_on=False,
                        zorder=3,
                    )
                    ax.text(
                        left,
                        y,
                        "  " + side_labels.get(row.standing, str(row.standing)),
                        fontsize=6,
                        color="#555555",
                        va="center",
                        ha="left",
                        style="italic",
                    )
                ax.text(
                    1.02,
                    y,
                    f"{row.failed}/{row.finished} failed" if row.finished else "not run",
                    transform=side,
                    fontsize=6,
                    va="center",
                    ha="left",
                    color=failure_colour(row),
                )
            y += 1
        if _finite(margin):
            ax.axvspan(
                -margin * 100, margin * 100, color="#0072B2", alpha=0.13, linewidth=0, zorder=1
            )
        ax.axvline(0, color="#444444", linewidth=0.8, zorder=2)
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=6.5)
        ax.set_ylim(lines - 0.5, -0.6)  # the same spacing in every column: lines + 0.1 rows
        if scale.symlog:
            ax.set_xscale("symlog", linthresh=scale.linear_within, linscale=0.8)
        ax.set_xlim(left, right)  # after the scale: setting a scale resets the limits
        if ax.get_xscale() == "symlog":  # plain numbers, not powers of ten
            outer = (10, 100) if max(-left, right) >= 100 else (10, 50)  # 50 and 100 would touch
            ticks = [
                t
                for t in (-100, -50, -20, -10, -5, -2, 0, 2, 5, 10, 20, 50, 100)
                if left <= t <= right and (abs(t) <= 2 * margin * 100 or abs(t) in outer)
            ]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="x", labelsize=6.5)
        scale_note = f"; log beyond ±{2 * margin * 100:g}" if ax.get_xscale() == "symlog" else ""
        ax.set_xlabel(f"Δ to baseline, pp ({interval}{scale_note})", fontsize=7)
        if column and column[0][0].group:
            shown = (part_titles or {}).get(column[0][0].group, column[0][0].group)
            panel_titles.append(shown)
            ax.set_title("\n".join(literal(line) for line in textwrap.wrap(shown, 52)), fontsize=7)
    handles: list[Artist] = [
        Line2D(
            [],
            [],
            marker="o",
            color="#555555",
            markerfacecolor="#555555",
            linestyle="none",
            markersize=4,
            label="decisive",
        ),
        Line2D(
            [],
            [],
            marker="o",
            color="#555555",
            markerfacecolor="white",
            linestyle="none",
            markersize=4,
            label="not decided",
        ),
        Line2D(
            [],
            [],
            marker="o",
            color=VERDICT_COLOURS[Verdict.BETTER],
            linestyle="none",
            markersize=4,
            label="better",
        ),
        Line2D(
            [],
            [],
            marker="o",
            color=VERDICT_COLOURS[Verdict.WORSE],
            linestyle="none",
            markersize=4,
            label="worse",
        ),
        Line2D(
            [],
            [],
            marker="o",
            color=VERDICT_COLOURS[Verdict.EQUIVALENT],
            linestyle="none",
            markersize=4,
            label="equivalent",
        ),
    ]
    if _finite(margin):
        handles.append(
            Patch(
                facecolor="#0072B2", alpha=0.13, label=f"equivalence margin ±{margin * 100:g} pp"
            )
        )
    legend = _fitting_legend(
        fig,
        handles,
        len(handles) if len(columns) > 1 else 3,
        loc="lower center",
        frameon=False,
        fontsize=6.5,
    )
    _fit_height(
        fig, FOREST_LINE * (lines + 0.1), legend, fig.suptitle(literal(title), fontsize=8.5)
    )
    saved(fig, path, tight=False)
    return ForestFigure(path, scale, tuple(panel_titles))


def confusion_path(out: Path, dataset: str) -> Path:
    return out / f"confusion_{path_name(dataset)}.png"


def confusion_figure(confusion: Confusion, path: Path) -> Path:
    """A dataset baseline's confusion matrix over its learned seeds: rows the true class, columns the
    predicted one, each row as shares of its images (the test subset's classes need not be balanced), the
    share in each cell where there is room, class names on both axes."""
    shares = confusion.by_row
    size = len(confusion.classes)
    side = min(6.5, max(3.0, 0.42 * size + 1.4))
    fig, ax = plt.subplots(figsize=(side + 0.9, side))
    image = ax.imshow(shares * 100, cmap="Blues", vmin=0, vmax=100)
    names = [literal(clipped(name, 14)) for name in confusion.classes]
    ax.set_xticks(range(size), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(range(size), names)
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    if size <= 12:
        for (row, column), share in np.ndenumerate(shares):
            if share >= 0.005:
                ax.text(
                    column,
                    row,
                    f"{share * 100:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if share > 0.6 else "#222222",
                )
    seeds = f"{confusion.seeds} learned seed{'s' * (confusion.seeds != 1)}"
    ax.set_title(
        literal(f"{confusion.dataset}, the baseline: {seeds}"),
        fontsize=8,
        loc="left",
    )
    colour_bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    colour_bar.set_label("% of the true class's images", fontsize=7)
    colour_bar.ax.tick_params(labelsize=6)
    fig.tight_layout()
    return saved(fig, path)
