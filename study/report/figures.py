"""Figures of the report (matplotlib, Agg): PNG files under ``output/figures/``.

One colour per value *index* from the Okabe-Ito palette (colour-blind safe), the same on every
dataset; every axis is labelled with its unit; bands are 95% t-intervals over seeds.

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
import matplotlib.pyplot as plt  # noqa: E402

from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from study.analyse.answer import Effect, Standing  # noqa: E402
from study.analyse.comparisons import Analysis, Block  # noqa: E402
from study.analyse.costs import Cost  # noqa: E402
from study.analyse.stats import DIRECTIONAL, Verdict  # noqa: E402
from study.names import path_name  # noqa: E402

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DATASET_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")  # by the dataset's position in the study
DATASET_MARKERS = ("o", "s", "^", "D")

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.grid": True,
                     "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})


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


def _clip_percent(ax) -> None:
    """Accuracy axes stay inside 0-100% even where a CI band of two seeds reaches beyond."""
    low, high = ax.get_ylim()
    ax.set_ylim(max(0.0, low), min(100.0, high))


def _curve(ax, block: Block, metric: str, scale: float) -> None:
    for value in block.values:
        points = [(e + 1, iv) for e, iv in enumerate(value.curves.get(metric, [])) if _finite(iv.mean)]
        if not points:
            continue
        epochs = [e for e, _ in points]
        means = [iv.mean * scale for _, iv in points]
        label = literal(f"{value.label}{' (baseline)' if value is block.baseline else ''}")
        ax.plot(epochs, means, color=colour(value.index), marker=MARKERS[value.index % len(MARKERS)],
                markersize=3, linewidth=1.4, label=label)
        lows = [iv.low * scale if _finite(iv.low) else iv.mean * scale for _, iv in points]
        highs = [iv.high * scale if _finite(iv.high) else iv.mean * scale for _, iv in points]
        ax.fill_between(epochs, lows, highs, color=colour(value.index), alpha=0.15, linewidth=0)


def experiment_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Validation accuracy and loss per epoch, one column per dataset, mean over seeds with 95% CI."""
    datasets = [d for d in analysis.datasets if (experiment, d) in analysis.blocks]
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.2 * len(datasets), 5.6), squeeze=False)
    for column, dataset in enumerate(datasets):
        block = analysis.blocks[(experiment, dataset)]
        _curve(axes[0][column], block, "val_accuracy", 100)
        axes[0][column].set_title(literal(f"{dataset}: validation accuracy"))
        axes[0][column].set_ylabel("validation accuracy (%)")
        _clip_percent(axes[0][column])
        _curve(axes[1][column], block, "val_loss", 1)
        axes[1][column].set_title(literal(f"{dataset}: validation loss"))
        axes[1][column].set_ylabel("validation loss (cross-entropy, nats)")
        for row in (0, 1):
            axes[row][column].set_xlabel("epoch")
            axes[row][column].xaxis.get_major_locator().set_params(integer=True)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for column in range(1, len(datasets)):
        more_h, more_l = axes[0][column].get_legend_handles_labels()
        for h, l in zip(more_h, more_l):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=min(6, max(1, len(labels))), frameon=False,
               title=literal(experiment.replace("_", " ")))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    path = figure_path(out, experiment, "curves")
    fig.savefig(path)
    plt.close(fig)
    return path


OUTCOME_STYLE = {"learned": {"fill": True, "marker": "o"}, "collapsed": {"fill": False, "marker": "o"},
                 "diverged": {"fill": True, "marker": "x"}}


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
    return TimeBars(tuple(c.median_epoch_s for c in costs), tuple(c.median_epoch_s - c.low for c in costs),
                    tuple(c.high - c.median_epoch_s for c in costs))


def final_figure(analysis: Analysis, experiment: str, out: Path) -> Path:
    """Every seed's final accuracy (marked by outcome) beside the mean and 95% CI; per value its training time
    per epoch (median over seeds, error bars from the fastest to the slowest seed)."""
    datasets = [d for d in analysis.datasets if (experiment, d) in analysis.blocks]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
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
                paint = ({"color": colour_} if style["marker"] == "x"
                         else {"facecolors": colour_ if style["fill"] else "none", "edgecolors": colour_})
                axes[0].scatter(x - width * 0.18 + jitter, value.final_by_seed[seed] * 100, s=16,
                                marker=style["marker"], linewidths=1, **paint)
            if _finite(value.final.mean):
                low = value.final.mean - value.final.low if value.final.defined else 0
                high = value.final.high - value.final.mean if value.final.defined else 0
                axes[0].errorbar([x + width * 0.18], [value.final.mean * 100], yerr=[[low * 100], [high * 100]],
                                 fmt="_", color=colour_, capsize=3, markersize=9)
        axes[0].axhline(block.chance * 100, color="#999", linewidth=0.8, linestyle=":")
        axes[0].scatter([], [], color=colour_, s=16, label=literal(dataset))
        bars = time_bars(block)
        axes[1].bar([v.index + shift for v in block.values], bars.heights, width=width, color=colour_,
                    label=literal(dataset), yerr=[bars.below, bars.above], capsize=2, ecolor="#333",
                    error_kw={"linewidth": 0.8})
    axes[0].scatter([], [], facecolors="none", edgecolors="#444", s=16, label="collapsed")
    axes[0].scatter([], [], marker="x", color="#444", s=16, label="diverged (at chance)")
    labels = [literal(v.label) for v in analysis.blocks[(experiment, datasets[0])].values]
    for ax in axes:
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=20, ha="right")
        ax.set_xlabel(literal(experiment.replace("_", " ")))
    axes[0].legend(frameon=False, fontsize=7)
    axes[1].legend(frameon=False)
    axes[0].set_ylabel("final validation accuracy (%)")
    axes[0].set_ylim(0, 100)
    axes[0].set_title("every seed (left) and mean with 95% CI (right)")
    axes[1].set_ylabel("training time per epoch (s)")
    axes[1].set_title("median over seeds, bars: seed range")
    fig.tight_layout()
    path = figure_path(out, experiment, "final")
    fig.savefig(path)
    plt.close(fig)
    return path


def cost_figure(analysis: Analysis, out: Path) -> Path:
    """Accuracy against training time per epoch (median over seeds, bars fastest to slowest seed) for every
    configuration of the study."""
    fig, ax = plt.subplots(figsize=(8.4, 4.2))
    seen = set()
    for (experiment, dataset), block in analysis.blocks.items():
        for value in block.values:
            cost = value.cost
            if not (_finite(value.final.mean) and cost.defined):
                continue
            label = literal(dataset) if dataset not in seen else None
            seen.add(dataset)
            colour_ = dataset_colour(analysis, dataset)
            ax.errorbar([cost.median_epoch_s], [value.final.mean * 100],
                        xerr=[[cost.median_epoch_s - cost.low], [cost.high - cost.median_epoch_s]], fmt="none",
                        ecolor=colour_, alpha=0.5, linewidth=0.8)
            ax.scatter(cost.median_epoch_s, value.final.mean * 100, s=22, alpha=0.8, color=colour_,
                       marker=DATASET_MARKERS[analysis.datasets.index(dataset) % len(DATASET_MARKERS)], label=label)
            if not value.is_baseline and value.verdict in DIRECTIONAL:
                ax.annotate(literal(f"{experiment}={value.label}"), (cost.median_epoch_s, value.final.mean * 100),
                            fontsize=6, alpha=0.8, xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("training time per epoch (s, log scale)")
    ax.set_ylabel("final validation accuracy (%)")
    ax.set_title("accuracy (mean over seeds) against time per epoch (median, bars: seed range)")
    ax.legend(frameon=False)
    fig.tight_layout()
    path = out / "accuracy_vs_time.png"
    fig.savefig(path)
    plt.close(fig)
    return path


VERDICT_COLOURS = {Verdict.BETTER: "#009E73", Verdict.WORSE: "#D55E00", Verdict.EQUIVALENT: "#0072B2"}
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
                columns = [knobs[:cut + 1], knobs[cut + 1:]]
                break
    return [c for c in columns if c]


def _forest_limits(rows: list[Effect], margin: float) -> tuple[float, float]:
    points = [x * 100 for r in rows for x in (r.diff, r.low, r.high) if _finite(x)]
    points += [-margin * 100, margin * 100] if _finite(margin) else []
    low, high = (min(points), max(points)) if points else (-10.0, 10.0)
    pad = max(2.0, 0.08 * (high - low))
    return max(-100.0, low - pad), min(100.0, high + pad)


def forest_figure(rows: list[Effect], margin: float, headers: dict[str, str], side_labels: dict[Standing, str],
                  title: str, path: Path) -> Path:
    """Every value's difference to its baseline with the 95% CI its verdict uses, one row per value, grouped by
    knob (``headers``: a header line per experiment), one column per part of the study; the equivalence band
    +-``margin`` shaded, zero marked; filled markers for decisive verdicts. Each row's failed-to-learn count
    stands at the right margin; a value without a difference is marked at the left edge with its reason
    (``side_labels``), never dropped."""
    columns = _forest_columns(rows)
    lines = max((sum(1 + len(k) for k in column) for column in columns), default=1)
    fig, axes = plt.subplots(1, max(1, len(columns)), figsize=(3.9 * max(1, len(columns)), 1.2 + FOREST_LINE * lines),
                             squeeze=False, sharex=True)
    left, right = _forest_limits(rows, margin)
    for ax, column in zip(axes[0], columns or [[]]):
        side = blended_transform_factory(ax.transAxes, ax.transData)
        ticks, labels, y = [], [], 0
        for knob in column:
            ax.text(0.01, y, literal(headers.get(knob[0].experiment, knob[0].experiment)), transform=side,
                    fontsize=7, fontweight="bold", va="center", ha="left", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4, "alpha": 0.85})
            for row in knob:
                y += 1
                ticks.append(y)
                labels.append(literal(row.value))
                colour_ = VERDICT_COLOURS.get(row.verdict, "#555555")
                face = colour_ if row.decisive else "white"
                if row.standing == Standing.INTERVAL:
                    ax.errorbar([row.diff * 100], [y], xerr=[[(row.diff - row.low) * 100], [(row.high - row.diff) * 100]],
                                fmt="o", color=colour_, markerfacecolor=face, markersize=3.5, capsize=1.5,
                                linewidth=1, zorder=3)
                elif row.standing == Standing.POINT:
                    ax.plot([row.diff * 100], [y], marker="D", color=colour_, markerfacecolor=face, markersize=3,
                            linestyle="none", zorder=3)
                    ax.annotate(side_labels.get(row.standing, ""), (row.diff * 100, y), xytext=(4, 0),
                                textcoords="offset points", fontsize=6, color="#555555", va="center")
                else:
                    ax.plot([left], [y], marker="x" if row.standing == Standing.DID_NOT_LEARN else "|",
                            color=VERDICT_COLOURS[Verdict.WORSE] if row.rate_differs else "#555555",
                            markersize=4, linestyle="none", clip_on=False, zorder=3)
                    ax.text(left, y, "  " + side_labels.get(row.standing, str(row.standing)), fontsize=6,
                            color="#555555", va="center", ha="left", style="italic")
                ax.text(1.02, y, f"{row.failed}/{row.finished} failed" if row.finished else "not run",
                        transform=side, fontsize=6, va="center", ha="left",
                        color="#b34700" if row.failed else "#999999")
            y += 1
        if _finite(margin):
            ax.axvspan(-margin * 100, margin * 100, color="#0072B2", alpha=0.13, linewidth=0, zorder=1)
        ax.axvline(0, color="#444444", linewidth=0.8, zorder=2)
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=6.5)
        ax.set_ylim(lines - 0.5, -0.6)  # the same spacing in every column
        ax.set_xlim(left, right)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_xlabel("difference to the baseline (pp; 95% CI)", fontsize=7)
        if column and column[0][0].group:
            ax.set_title("\n".join(literal(line) for line in textwrap.wrap(column[0][0].group, 52)), fontsize=7)
    handles = [Line2D([], [], marker="o", color="#555555", markerfacecolor="#555555", linestyle="none", markersize=4,
                      label="decisive (Holm)"),
               Line2D([], [], marker="o", color="#555555", markerfacecolor="white", linestyle="none", markersize=4,
                      label="not decided"),
               Line2D([], [], marker="o", color=VERDICT_COLOURS[Verdict.BETTER], linestyle="none", markersize=4,
                      label="better"),
               Line2D([], [], marker="o", color=VERDICT_COLOURS[Verdict.WORSE], linestyle="none", markersize=4,
                      label="worse"),
               Line2D([], [], marker="o", color=VERDICT_COLOURS[Verdict.EQUIVALENT], linestyle="none", markersize=4,
                      label="equivalent")]
    if _finite(margin):
        handles.append(Patch(facecolor="#0072B2", alpha=0.13, label=f"equivalence margin ±{margin * 100:g} pp"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=6.5)
    fig.suptitle(literal(title), fontsize=8.5)
    fig.tight_layout(rect=(0, 0.5 / (1.2 + FOREST_LINE * lines), 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path
