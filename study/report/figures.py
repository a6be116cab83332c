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

import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from study.analyse.answer import Effect, Standing
from study.analyse.comparisons import Analysis, Block
from study.analyse.costs import Cost
from study.analyse.stats import Verdict
from study.names import path_name

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

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def figure_path(out: Path, experiment: str, kind: str) -> Path:
    """The PNG of one experiment's figure ``kind`` (curves, final) under ``out``, whatever the name holds."""
    return out / f"{path_name(experiment)}_{kind}.png"


def literal(text: str) -> str:
    """``text`` as matplotlib draws it literally: every ``$`` escaped (no mathtext, so ``\\``, ``_``, ``^``
    and ``{`` are plain characters too), and a leading ``_`` (which hides a legend entry) behind a space.

    matplotlib reads ``\\$`` as a literal dollar sign and, with no unescaped ``$``, no math at all. Control
    characters (NUL, tabs, newlines), which no font draws, are shown as ``\\x00`` and so on.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def dataset_colour(analysis: Analysis, dataset: str) -> str:
    return DATASET_COLOURS[analysis.datasets.index(dataset) % len(DATASET_COLOURS)]


def colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


CHANCE_STYLE = {"linewidth": 0.9, "linestyle": ":"}
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


def _curve(ax, block: Block, metric: str, scale: float) -> list[float]:
    """Mean over the seeds that did not diverge, with its 95% band; returns the plotted means."""
    plotted = []
    for value in block.values:
        points = [
            (e + 1, iv) for e, iv in enumerate(value.curves.get(metric, [])) if _finite(iv.mean)
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


def _mark_off_scale(ax, block: Block, metric: str, top: float) -> dict[str, float]:
    """A triangle on the top edge wherever a mean runs above ``top``; returns value label -> its highest mean."""
    off = {}
    edge = ax.get_xaxis_transform()
    for value in block.values:
        points = [
            (e + 1, iv.mean)
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
    blocks: list[Block], diverged: dict[str, dict[str, list[int]]], off_scale: dict[str, float]
) -> list[tuple[int, str]]:
    """(index, legend text) of every value of the experiment, whether or not it has a curve: a value whose
    seeds diverged says so, one whose loss runs above the axis says how high."""
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
    off_scale: dict[str, float] = {}
    accuracy = metric == "val_accuracy"
    for ax, dataset, block in zip(axes[0], datasets, blocks):
        if accuracy:
            chance = block.chance * 100
            ax.axhline(chance, color="#666", **CHANCE_STYLE)
            ax.set_ylim(*accuracy_limits(_curve(ax, block, metric, 100), chance))
            ax.set_ylabel("validation accuracy (%)")
        else:
            top = loss_ceiling(_curve(ax, block, metric, 1), analysis.stored.classes(dataset))
            if top is not None:
                ax.set_ylim(0, top)
                for label, highest in _mark_off_scale(ax, block, metric, top).items():
                    off_scale[label] = max(highest, off_scale.get(label, 0.0))
            ax.set_ylabel("validation loss (nats)")
        for value in block.values:
            epochs = diverged[dataset].get(value.label, [])
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
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
    values = _value_labels(blocks, diverged, off_scale)
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
    fig.savefig(path, bbox_inches="tight", pad_inches=0.04)
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


def final_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Every seed's final accuracy (marked by outcome) beside the mean and 95% CI; per value its training time
    per epoch (median over seeds, error bars from the fastest to the slowest seed). One colour per dataset;
    each dataset's chance line labelled; the legend below the axes."""
    datasets = [d for d in analysis.datasets if (experiment, d) in analysis.blocks]
    fig, axes = plt.subplots(1, 2, figsize=(4.9, 2.3))
    width = 0.8 / max(1, len(datasets))
    for offset, dataset in enumerate(datasets):
        block = analysis.blocks[(experiment, dataset)]
        colour_ = dataset_colour(analysis, dataset)
        shift = (offset - (len(datasets) - 1) / 2) * width
        for value in block.values:
            x = value.index + shift
            seeds = list(value.outcomes.items())
            for j, (seed, kind) in enumerate(seeds):
                jitter = (j - (len(seeds) - 1) / 2) * width * 0.12
                style = OUTCOME_STYLE[kind]
                paint = (
                    {"color": colour_}
                    if style["marker"] == "x"
                    else {
                        "facecolors": colour_ if style["fill"] else "none",
                        "edgecolors": colour_,
                    }
                )
                axes[0].scatter(
                    x - width * 0.18 + jitter,
                    value.final_by_seed[seed] * 100,
                    s=12,
                    marker=style["marker"],
                    linewidths=1,
                    **paint,
                )
            if _finite(value.final.mean):
                low = value.final.mean - value.final.low if value.final.defined else 0
                high = value.final.high - value.final.mean if value.final.defined else 0
                axes[0].errorbar(
                    [x + width * 0.18],
                    [value.final.mean * 100],
                    yerr=[[low * 100], [high * 100]],
                    fmt="_",
                    color=colour_,
                    capsize=3,
                    markersize=9,
                )
        axes[0].axhline(block.chance * 100, color=colour_, alpha=0.8, **CHANCE_STYLE)
        bars = time_bars(block)
        axes[1].bar(
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
    handles = [Patch(color=dataset_colour(analysis, d)) for d in datasets]
    labels = [literal(d) for d in datasets]
    handles += [
        Line2D([], [], color="#444", marker="o", linestyle="none", markersize=4),
        Line2D(
            [],
            [],
            color="#444",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            markersize=4,
        ),
        Line2D([], [], color="#444", marker="x", linestyle="none", markersize=4),
    ]
    labels += ["learned", "collapsed", "diverged (at chance)"]
    for (
        dataset
    ) in datasets:  # chance = the best constant answer (the legend of the accuracy curves says so)
        handles.append(Line2D([], [], color=dataset_colour(analysis, dataset), **CHANCE_STYLE))
        labels.append(
            literal(f"chance {dataset} {analysis.blocks[(experiment, dataset)].chance * 100:.1f}%")
        )
    labels_x = [literal(v.label) for v in analysis.blocks[(experiment, datasets[0])].values]
    for ax in axes:
        ax.set_xticks(range(len(labels_x)))
        ax.set_xticklabels(labels_x, rotation=20, ha="right")
        ax.set_xlabel(literal(experiment.replace("_", " ")))
    axes[0].set_ylabel("final validation accuracy (%)")
    axes[0].set_ylim(0, 100)
    axes[0].set_title("each seed; mean, 95% CI", fontsize=9)
    axes[1].set_ylabel("training time per epoch (s)")
    axes[1].set_title("median; bars: seed range", fontsize=9)
    _legend_below(fig, handles, labels, 4)
    path = figure_path(out, experiment, "final")
    fig.savefig(path, bbox_inches="tight", pad_inches=0.04)
    plt.close(fig)
    return path


VERDICT_COLOURS = {
    Verdict.BETTER: "#009E73",
    Verdict.WORSE: "#D55E00",
    Verdict.EQUIVALENT: "#0072B2",
}
FOREST_LINE = 0.15  # inches per row (a value or a knob's header)
FOREST_SPLIT = 40  # a single part of the study with more rows than this is drawn in two columns


def forest_path(out: Path, dataset: str) -> Path:
    return out / f"forest_{path_name(dataset)}.png"


def _forest_columns(rows: list[Effect]) -> list[list[list[Effect]]]:
    """Columns of knobs (each a list of its rows): one per part of the study; a single long part is split
    in two at a knob boundary."""
    groups: dict[str, dict[str, list[Effect]]] = {}
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


def _forest_limits(rows: list[Effect], margin: float) -> tuple[float, float]:
    points = [x * 100 for r in rows for x in (r.diff, r.low, r.high) if _finite(x)]
    points += [-margin * 100, margin * 100] if _finite(margin) else []
    low, high = (min(points), max(points)) if points else (-10.0, 10.0)
    pad = max(2.0, 0.08 * (high - low))
    return max(-100.0, low - pad), min(100.0, high + pad)


def forest_figure(
    rows: list[Effect],
    margin: float,
    headers: dict[str, str],
    side_labels: dict[Standing, str],
    title: str,
    path: Path,
    confidence: float = 0.95,
) -> Path:
    """Every value's difference to its baseline with the CI its verdict uses (``confidence``: its level), one row
    per value, grouped by
    knob (``headers``: a header line per experiment), one column per part of the study; the equivalence band
    +-``margin`` shaded, zero marked; filled markers for decisive verdicts. Each row's failed-to-learn count
    stands at the right margin; a value without a difference is marked at the left edge with its reason
    (``side_labels``), never dropped. When the differences span far more than the margin, the axis is
    symmetric-logarithmic (linear within twice the margin), so that small effects stay visible beside large ones."""
    columns = _forest_columns(rows)
    lines = max((sum(1 + len(k) for k in column) for column in columns), default=1)
    fig, axes = plt.subplots(
        1,
        max(1, len(columns)),
        figsize=(3.9 * max(1, len(columns)), 1.2 + FOREST_LINE * lines),
        squeeze=False,
        sharex=True,
    )
    left, right = _forest_limits(rows, margin)
    for ax, column in zip(axes[0], columns or [[]]):
        side = blended_transform_factory(ax.transAxes, ax.transData)
        ticks, labels, y = [], [], 0
        for knob in column:
            ax.text(
                0.01,
                y,
                literal(headers.get(knob[0].experiment, knob[0].experiment)),
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
                labels.append(literal(row.value))
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
                        color=VERDICT_COLOURS[Verdict.WORSE] if row.rate_differs else "#555555",
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
                    color="#b34700" if row.failed else "#999999",
                )
            y += 1
        if _finite(margin):
            ax.axvspan(
                -margin * 100, margin * 100, color="#0072B2", alpha=0.13, linewidth=0, zorder=1
            )
        ax.axvline(0, color="#444444", linewidth=0.8, zorder=2)
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=6.5)
        ax.set_ylim(lines - 0.5, -0.6)  # the same spacing in every column
        if _finite(margin) and right - left > 40 * margin * 100:
            ax.set_xscale("symlog", linthresh=2 * margin * 100, linscale=0.8)
        ax.set_xlim(left, right)  # after the scale: setting a scale resets the limits
        if ax.get_xscale() == "symlog":  # plain numbers, not powers of ten
            ticks = [
                t
                for t in (-100, -50, -20, -10, -5, -2, 0, 2, 5, 10, 20, 50, 100)
                if left <= t <= right and (abs(t) <= 2 * margin * 100 or abs(t) in (10, 50, 100))
            ]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="x", labelsize=6.5)
        scale = f"; log beyond ±{2 * margin * 100:g}" if ax.get_xscale() == "symlog" else ""
        ax.set_xlabel(f"Δ to baseline, pp ({confidence * 100:.3g}% CI{scale})", fontsize=7)
        if column and column[0][0].group:
            ax.set_title(
                "\n".join(literal(line) for line in textwrap.wrap(column[0][0].group, 52)),
                fontsize=7,
            )
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            color="#555555",
            markerfacecolor="#555555",
            linestyle="none",
            markersize=4,
            label="decisive (Holm)",
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
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles) if len(columns) > 1 else 3,
        frameon=False,
        fontsize=6.5,
    )
    fig.suptitle(literal(title), fontsize=8.5)
    fig.tight_layout(
        rect=(0, (0.5 if len(columns) > 1 else 0.9) / (1.2 + FOREST_LINE * lines), 1, 1)
    )
    fig.savefig(path)
    plt.close(fig)
    return path
