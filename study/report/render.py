"""Render the report: ``report.html`` (self-contained), ``report.pdf``, the CSVs and ``figures/``, from the store alone.

    build_report("output/study.sqlite", "output", profile="quick")

Layout only: the numbers come from ``study.analyse`` (frozen records), the sentences from
``study.report.wording`` (a grid's selection: ``grid_words``), the pixels from ``study.report.figures``
(``grid_figures``); the Jinja2 templates in
``templates/`` display them (autoescaping on). Never imports TensorFlow.

One HTML serves the screen and the PDF: what a reader of the PDF does not need (every seed's value, the
tests, raw p-values, the loss curves, the claims' reasons and evidence) sits in collapsible ``<details>``
or columns that the print style hides, and stays in the CSVs; the print style keeps headings with what
follows and sets the claims on landscape pages (``report.css``; ``tests/pdf_pages.py`` checks the pages).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import math
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from study.analyse.answer import answer_rows, budgets, effects, facts
from study.analyse.budget_check import budget_checks
from study.analyse.claims import Finding, check_claims
from study.analyse.comparisons import Analysis, Block, analyse, last_look, verdict_rows
from study.analyse.grid import CHOICE_COLUMNS, GridAnalysis, choice_rows
from study.analyse.overview import (
    deviations,
    look_summary,
    power_summary,
    profile_agreement,
    ranking,
)
from study.analyse.per_class import PerClass, per_class
from study.analyse.stats import POWER
from study.analyse.test_set import two_source
from study.declare.budget import FLAGS
from study.declare.builtin import BUILTIN_STUDIES
from study.declare.config import Settings
from study.declare.grid import label_of
from study.declare.spec import DEFAULT_MARGIN_PP, PROFILES
from study.files import FileSet, sweep, write_text
from study.plan.shapes import conv_output_size, summarize
from study.records import FINISHED, TrialStatus
from study.report import cells, claim_words, grid_words, wording
from study.report.error_rates import load_error_rates
from study.report.formats import macs_text, mde_text, p_is, pp, signed_pp, times
from study.report.selection_rates import SelectionRates, load_selection_rates
from study.results.benchmarks import parameter_costs
from study.results.outcomes import CHANCE_MARGIN, DIVERGED
from study.results.store import Store
from study.results.tables import export_table

TEMPLATES = (
    Path(__file__).parent / "templates"
)  # package data: found in a wheel install as in a checkout
TEMPLATE = "report.html.j2"


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _pct(x, digits=1) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x * 100:.{digits}f}"


def _p(x) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _ratio(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.2f}x"


def _dof(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.1f}"


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _png_width(path: Path) -> int:
    """A PNG's width in pixels, from its header (the figures of a row share the page in this proportion)."""
    return int.from_bytes(path.read_bytes()[16:20], "big")


def baseline_rows(analysis: Analysis) -> list[dict]:
    """The study's baseline, every setting, beside its reference table (if it declares one; else the
    defaults every study file starts from) and what the profile changes."""
    study, profile = analysis.stored.study, analysis.stored.profile
    baseline = study.baseline
    defaults = Settings()
    declared = {key: (label, value) for label, key, value in study.reference}
    rows = []
    for field in dataclasses.fields(Settings):
        key = field.name
        if key == "validation" and not baseline.validation and key not in declared:
            continue  # a grid's selection cells' split, never the baseline's: said in the grid's section
        label, original = declared.get(key, (key.replace("_", " "), getattr(defaults, key)))
        used = getattr(baseline, key)
        if key == "epochs" and profile.epochs:
            used = profile.epochs
        rows.append(
            {
                "label": label[0].upper() + label[1:],
                "original": _show(original),
                "study": _show(getattr(baseline, key)),
                "used": _show(used),
                "deviates": _show(used) != _show(original),
                "by_profile": _show(used) != _show(getattr(baseline, key)),
                # a study file's setting it did not set: the default it inherited, named as such
                "inherited": key in study.inherited,
            }
        )
    for dataset in analysis.datasets:
        budget = profile.for_dataset(dataset)
        sizes = f"{budget.train_size or 'all'} / {budget.test_size or 'all'}"
        if budget.epochs and budget.epochs != profile.epochs:
            sizes += f", {budget.epochs} epochs"
        rows.append(
            {
                "label": f"Train / test images, {wording.dataset_name(dataset)}",
                "original": "all",
                "study": "all",
                "used": sizes,
                "deviates": sizes != "all / all",
                "by_profile": sizes != "all / all",
            }
        )
    declared_seeds = wording.seeds_used_text(
        {tuple(study.seeds_for(profile.seeds, baseline=False)): 1},
        {tuple(study.seeds_for(profile.seeds, baseline=True)): 1},
    )
    used = wording.seeds_used_text(*seeds_used(analysis))
    rows.append(
        {
            "label": "Seeds",
            "original": "–",
            "study": f"{', '.join(map(str, study.seeds))} ({declared_seeds} under this profile)",
            "used": used,
            "deviates": used != declared_seeds,
            "by_profile": used != declared_seeds,
        }
    )
    return rows


def seeds_used(
    analysis: Analysis,
) -> tuple[dict[tuple[int, ...], int], dict[tuple[int, ...], int]]:
    """The seeds the run finished, from its plan: (seed set -> how many values finished exactly those seeds,
    the same for baselines). A baseline trial set shared by several experiments counts once."""
    plan = analysis.plan[analysis.plan["status"].isin(list(FINISHED))]
    values: dict[tuple[int, ...], int] = {}
    baselines: dict[tuple[int, ...], set] = {}
    for (_, _, _, is_baseline), rows in plan.groupby(
        ["experiment", "dataset", "value", "is_baseline"], sort=False
    ):
        seeds = tuple(sorted(int(s) for s in rows["seed"].unique()))
        if is_baseline:
            baselines.setdefault(seeds, set()).add(frozenset(rows["trial_key"]))
        else:
            values[seeds] = values.get(seeds, 0) + 1
    return values, {seeds: len(sets) for seeds, sets in baselines.items()}


def dataset_rows(analysis: Analysis) -> list[dict]:
    """The datasets table of the setup: each dataset's stored facts, and how the copy read differs from the
    dataset's standard split (a smaller local copy, test classes far from equal shares)."""
    return [
        {
            "name": name,
            "facts": d,
            "source": wording.dataset_source_text(
                name, d.full_train_size, d.full_test_size, d.test_class_counts
            ),
        }
        for name, d in sorted(analysis.stored.datasets.items())
    ]


def regenerate_commands(analysis: Analysis, store_path: str | Path, out: str | Path) -> list[str]:
    """The commands that rebuild this report: the run with this budget (as flags when it is a custom one)
    and the report itself, every path and name shell-quoted. A study read from a file names that file as
    the run gave it (``Study.source``; ``--study FILE`` for a store written before it was recorded)."""
    profile = analysis.stored.profile
    if profile.name in PROFILES and PROFILES[profile.name] == profile:
        budget = f"--profile {profile.name}"
    else:
        budget = " ".join(
            f"{flag} {getattr(profile, key)}"
            for key, flag in FLAGS.items()
            if getattr(profile, key) is not None
        )
    builtin = next(
        (key for key, make in BUILTIN_STUDIES.items() if make().name == analysis.study), None
    )
    source = analysis.stored.study.source
    study = builtin or (shlex.quote(source) if source else "FILE")
    store = shlex.quote(str(store_path))
    return [
        f"study run --study {study} {budget} --store {store}",
        f"study report --study {shlex.quote(analysis.study)} --profile {shlex.quote(profile.name)} "
        f"--store {store} --out {shlex.quote(str(out))}",
    ]


CLASS_COLUMNS = (
    "experiment",
    "dataset",
    "value",
    "is_baseline",
    "class",
    "images",
    "seeds",
    "accuracy_pct",
    "ci_low_pct",
    "ci_high_pct",
    "diff_pp",
    "diff_low_pp",
    "diff_high_pp",
    "p",
    "p_holm",
)


def class_rows(classes: PerClass) -> list[dict]:
    """per_class.csv: each value's accuracy on each class (learned seeds, 95% t-interval) and, for a value
    other than the baseline, its difference to the baseline's with the Welch interval, p and the Holm p of
    the knob's family."""
    effects = {(e.experiment, e.dataset, e.value, e.label): e for e in classes.effects}

    def percent(x: float) -> float | None:
        return round(x * 100, 4) if math.isfinite(x) else None

    rows = []
    for r in classes.rows:
        e = effects.get((r.experiment, r.dataset, r.value, r.label))
        rows.append(
            {
                "experiment": r.experiment,
                "dataset": r.dataset,
                "value": r.value,
                "is_baseline": r.is_baseline,
                "class": r.label,
                "images": r.images,
                "seeds": r.seeds,
                "accuracy_pct": percent(r.mean),
                "ci_low_pct": percent(r.low),
                "ci_high_pct": percent(r.high),
                "diff_pp": percent(e.diff) if e else None,
                "diff_low_pp": percent(e.low) if e else None,
                "diff_high_pp": percent(e.high) if e else None,
                "p": e.p if e and math.isfinite(e.p) else None,
                "p_holm": e.p_holm if e and math.isfinite(e.p_holm) else None,
            }
        )
    return rows


def class_views(analysis: Analysis, classes: PerClass, cache, figure_dir: Path) -> list[dict]:
    """Per dataset: the baseline's confusion matrix and, per knob, the classes its values change most."""
    from study.report import figures

    views = []
    for confusion in classes.confusions:
        dataset = confusion.dataset
        path = figures.confusion_path(figure_dir, dataset)
        inputs = (confusion.counts.tolist(), confusion.classes, confusion.value, confusion.seeds)
        knobs = []
        for experiment, d in analysis.blocks:
            if d != dataset:
                continue
            shown = [
                {
                    "value": e.value,
                    "label": e.label,
                    "diff": wording.class_effect_text(e),
                    "p_holm": cells.p_cell(e.p_holm),
                }
                for e in classes.top(experiment, dataset)
            ]
            if shown:
                knobs.append({"experiment": wording.display_name(experiment), "effects": shown})
        views.append(
            {
                "dataset": wording.dataset_name(dataset),
                "figure": _figure(cache, figures.confusion_figure, path, inputs, confusion, path),
                "knobs": knobs,
            }
        )
    return views


def theory_rows(analysis: Analysis) -> list[dict]:
    """Every distinct architecture of the study per dataset: layer shapes, parameters, MACs (from the shapes
    module); the values that only change how a network trains share its row."""
    rows, seen = [], set()
    plan = analysis.plan.drop_duplicates(["experiment", "value", "dataset"])
    for r in plan.itertuples():
        spec = analysis.trials.get(r.trial_key)
        if spec is None:
            continue
        model = spec.model
        if (model, r.dataset) in seen:
            continue
        seen.add((model, r.dataset))
        summary = summarize(model)
        shapes = " → ".join("x".join(str(d) for d in row.output_shape) for row in summary.rows)
        rows.append(
            {
                "experiment": wording.display_name(r.experiment),
                "value": r.value,
                "dataset": r.dataset,
                "input": "x".join(map(str, model.input_shape)),
                "shapes": shapes,
                "params": summary.params,
                "macs": summary.macs,
                "epochs": spec.settings.epochs,
            }
        )
    return rows


@dataclass
class Figure:
    src: str  # a data: URI
    width: int  # pixels: figures side by side share the width in this proportion


@dataclass
class Section:
    name: str
    title: str
    group: str
    description: str
    notes: list[str]
    curves: Figure  # accuracy per epoch
    final: Figure  # final accuracy per seed and training time
    loss: Figure  # loss per epoch: in the HTML only
    tables: list[dict]
    grids: list[dict] = dataclasses.field(default_factory=list)  # a grid's selection, per dataset


def _value_rows(block: Block, looks: int = 1) -> list[dict]:
    """One row per value: the main table's cells (short, one line each where the page allows) and the
    per-seed and test details that only the HTML shows. Every test number is the value's ``Comparison``
    record (the one verdicts.csv holds); the baseline's row describes all its seeds. Where the run took
    ``looks`` > 1 looks, each verdict names the look whose numbers it shows (a comparison that stopped early
    keeps that look's test, p-values included)."""
    rows = []
    for v in block.values:
        r = block.records.get(v.label)
        tested = r is not None and r.test is not None
        row = {
            "label": v.label,
            "baseline": v is block.baseline,
            "seeds": len(v.seeds),
            "learned": f"{v.learned}/{v.finished}",
            "diverged": v.count(DIVERGED),
            "outcomes": wording.outcome_text(v),
            "points": ", ".join(
                f"{v.final_by_seed[s] * 100:.1f}{'' if o == 'learned' else ' (' + o + ')'}"
                for s, o in v.outcomes.items()
            ),
            "mean": cells.pct(v.final_learned.mean),
            "ci": "–"
            if not v.final_learned.defined
            else f"{cells.pct(v.final_learned.low)}–{cells.pct(v.final_learned.high)}",
            "tested_seeds": cells.seeds_text(sorted(v.learned_only())),
            "diff_cell": "",
            "p": "",
            "p_adjusted": "",
            "test": "",
            "mde_cell": "",
            "collapse": "",
            "rate_p_adjusted": "",
            "verdict": str(v.verdict),
            "verdict_class": str(v.verdict),
            "decisive": False,
            "seconds": cells.time_cell(v.cost),
            "macs": macs_text(v.cost.macs),
            "params": f"{v.params:,}" if v.params else "–",
            "failed": v.status.get(TrialStatus.FAILED, 0),
            "missing": v.status.get(TrialStatus.MISSING, 0),
        }
        if r is not None:
            row |= {
                "mean": cells.pct(r.mean_value) if tested else row["mean"],
                "ci": f"vs {cells.pct(r.mean_baseline)}" if tested else row["ci"],
                "tested_seeds": wording.tested_seeds_text(r) if tested else "",
                "diff_cell": cells.diff_cell(r),
                "p": cells.p_cell(r.p) if tested else "",
                "p_adjusted": cells.p_cell(r.p_adjusted) if tested else "",
                "test": wording.record_test_text(r) if tested else "",
                "mde_cell": cells.mde_cell(r.detectable) if tested else "",
                "collapse": wording.collapse_cell(r) if r.finished and r.baseline_finished else "",
                "rate_p_adjusted": cells.p_cell(r.p_rate_adjusted)
                if math.isfinite(r.p_rate_adjusted)
                else "",
                "verdict": wording.record_verdict_text(r)
                + (f" (look {r.look})" if looks > 1 and tested else ""),
                "verdict_class": str(r.verdict),
                "decisive": r.decisive,
            }
        rows.append(row)
    return rows


def choice_table(grid: GridAnalysis) -> list[dict]:
    """The choices table of one grid on one dataset: per level its chosen value, where it sits in its row,
    its mean validation accuracy, how many cells come within the margin of it and how many did not learn."""
    return [
        {
            "level": choice.level,
            "reference": index == grid.reference,
            "chosen": label_of(choice.tuned),
            "position": f"{choice.column + 1} of {choice.cells}",
            "edge": grid_words.edge_text(choice),
            "at_edge": bool(choice.edge),
            "mean": cells.pct(choice.mean),
            "within": f"{choice.within_margin} of {choice.cells}",
            "unlearned": f"{choice.unlearned} of {choice.cells}",
        }
        for index, choice in enumerate(grid.choices)
    ]


def expected_table(grid: GridAnalysis) -> dict:
    """The expected best validation accuracy after k = 1, 2, 5 and all tuning trials, per level (``–`` where
    a level has fewer runs than k)."""
    ks = grid_words.expected_ks(grid)
    return {
        "ks": [str(k) for k in ks],
        "rows": [
            {
                "level": level,
                "values": [cells.pct(curve[k - 1]) if k <= len(curve) else cells.DASH for k in ks],
                "all": cells.pct(curve[-1]) if curve else cells.DASH,
                "runs": len(curve),
            }
            for level, curve in grid.expected_best.items()
        ],
    }


def _finished(block: Block | None, baseline: bool) -> tuple[int, ...]:
    if block is None:
        return ()
    values = [block.baseline] if baseline else block.comparisons
    return tuple(sorted({seed for v in values for seed in v.outcomes}))


def grid_views(
    analysis: Analysis, cache: RenderCache, figure_dir: Path, rates: SelectionRates | None
) -> dict[str, list[dict]]:
    """experiment -> one view per dataset of its grid's selection phase (study.analyse.grid): the protocol
    in words, the heatmap and the sensitivity curves, the choices, the interaction test, the expected best
    score after k trials, the single-setting column against the chosen cells and the scaling slope."""
    from study.report import grid_figures

    experiments = {e.name: e for e in analysis.stored.study.experiments}
    views: dict[str, list[dict]] = {}
    for dataset in analysis.datasets:
        for (name, where), grid in analysis.grids.items():
            if where != dataset or name not in experiments:
                continue
            declared = experiments[name].grid
            block = analysis.blocks.get((name, dataset))
            facts = analysis.stored.datasets.get(dataset)
            heatmap = grid_figures.heatmap_info(grid)
            sensitivity = grid_figures.sensitivity_info(grid)
            paths = {
                kind: grid_figures.grid_figure_path(figure_dir, name, dataset, kind)
                for kind in ("heatmap", "sensitivity")
            }
            views.setdefault(name, []).append(
                {
                    "dataset": wording.dataset_name(dataset),
                    "protocol": grid_words.protocol_text(
                        grid,
                        facts.train_size if facts is not None else None,
                        _finished(block, baseline=False),
                        _finished(block, baseline=True),
                        declared.chosen.get(dataset) if declared is not None else None,
                        label_of(
                            analysis.stored.study.baseline.with_values(**experiments[name].base)
                            .to_dict()
                            .get(grid.grid.tuned, "")
                        ),
                    ),
                    "rates": grid_words.selection_rates_text(rates),
                    "heatmap": _figure(
                        cache,
                        grid_figures.heatmap_figure,
                        paths["heatmap"],
                        heatmap,
                        heatmap,
                        paths["heatmap"],
                    ),
                    "heatmap_caption": grid_words.heatmap_caption(heatmap),
                    "sensitivity": _figure(
                        cache,
                        grid_figures.sensitivity_figure,
                        paths["sensitivity"],
                        sensitivity,
                        sensitivity,
                        paths["sensitivity"],
                    ),
                    "sensitivity_caption": grid_words.sensitivity_caption(sensitivity),
                    "compared": wording.display_name(grid.grid.compared),
                    "tuned": wording.display_name(grid.grid.tuned),
                    "margin": pp(grid.margin, signed=False),
                    "choices": choice_table(grid),
                    "no_choice": "" if grid.choices else grid_words.no_choice_text(grid),
                    "interaction": grid_words.interaction_text(grid),
                    "expected": expected_table(grid),
                    "expected_text": grid_words.expected_best_text(grid),
                    "ranking": grid_words.ranking_text(grid),
                    "slope": grid_words.slope_text(
                        grid.slope,
                        grid.grid.compared,
                        grid.grid.tuned,
                        sum(bool(c.edge) for c in grid.choices),
                    ),
                }
            )
    return views


def ranking_rows(analysis: Analysis) -> dict[str, list[dict]]:
    return {
        dataset: [
            {
                "experiment": wording.display_name(row.experiment),
                "value": row.lead.value,
                "effect": wording.interval_text(row.lead)
                if row.lead.test is not None and not row.lead.rate_differs
                else wording.record_rates_text(row.lead),
                "verdict": wording.record_verdict_text(row.lead),
                "significant": row.significant,
                "compared": row.compared,
                "decisive": row.decisive,
                "cost": times(row.lead.cost),
            }
            for row in rows
        ]
        for dataset, rows in ranking(analysis).items()
    }


def answer_sections(analysis: Analysis, cache: RenderCache, figure_dir: Path) -> list[dict]:
    """Section 1, one entry per dataset: the budget sentence, the answer table (one row per knob, by part of the
    study), the facts with their evidence, and the forest plot."""
    from study.report import figures

    study = analysis.stored.study
    names = wording.knob_names(study)
    rows, found, plan_budgets, forest = (
        answer_rows(analysis),
        facts(analysis),
        budgets(analysis),
        effects(analysis),
    )
    checks = budget_checks(analysis)
    sections = []
    for dataset in analysis.datasets:
        knobs = rows.get(dataset, [])
        table: list[dict] = []
        for knob in knobs:
            if not table or table[-1]["title"] != knob.group:
                table.append({"title": knob.group, "rows": []})
            lead = knob.lead
            table[-1]["rows"].append(
                {
                    "knob": names.get(knob.experiment, wording.display_name(knob.experiment)),
                    "effect": wording.lead_text(knob),
                    "verdict": wording.answer_verdict_text(knob),
                    "verdict_class": str(lead.verdict) if lead else "",
                    "decisive": bool(lead and lead.decisive),
                    "trace": wording.knob_trace_text(knob),
                    "tested": bool(lead and (lead.test or lead.rate_differs)),
                    "failed": wording.failed_text(knob),
                    "cost": wording.ratio_text(lead.cost) if lead else "–",
                }
            )
        fact_groups: list[dict] = []
        for fact in found.get(dataset, []):
            if not fact_groups or fact_groups[-1]["title"] != fact.group:
                fact_groups.append({"title": fact.group, "facts": []})
            fact_groups[-1]["facts"].append(
                {
                    "evidence": str(fact.evidence),
                    "class": fact.evidence.name.lower(),
                    "text": wording.fact_text(fact, names),
                }
            )
        margin = study.margin(dataset)
        headers = wording.forest_headers(knobs, names, grid_words.reference_names(analysis))
        title = f"{wording.dataset_name(dataset)}: each value against its baseline"
        path = figures.forest_path(figure_dir, dataset)
        parts = wording.forest_part_titles(
            list(dict.fromkeys(r.group for r in forest[dataset])), dataset, analysis.datasets
        )
        scale = figures.forest_scale(
            forest[dataset], margin
        )  # what the figure draws, cached or not
        interval = wording.interval_label(forest[dataset])
        sections.append(
            {
                "dataset": dataset,
                "title": wording.dataset_name(dataset),
                "margin": pp(margin, signed=False),
                "budget": (
                    wording.budget_sentence(plan_budgets[dataset], wording.dataset_name(dataset))
                    if dataset in plan_budgets
                    else ""
                ),
                "budget_check": (
                    wording.budget_check_sentence(
                        checks[dataset],
                        wording.dataset_name(dataset),
                        analysis.stored.study.baseline.epochs,
                    )
                    if dataset in checks
                    else ""
                ),
                "groups": table,
                "facts": fact_groups,
                "forest": _figure(
                    cache,
                    figures.forest_figure,
                    path,
                    (forest[dataset], margin, headers, title, interval, parts),
                    forest[dataset],
                    margin,
                    headers,
                    wording.STANDING_LABELS,
                    title,
                    path,
                    interval,
                    parts,
                ).src,
                "forest_scale": wording.forest_scale_text(scale.symlog, scale.linear_within),
            }
        )
    return sections


def power_rows(analysis: Analysis) -> list[dict]:
    return [
        {
            "dataset": s.dataset,
            "group": s.group,
            "baselines": "; ".join(
                f"{wording.display_name(e)} = {label}: learned {learned} of {finished}"
                for e, label, learned, finished in s.baselines
            )
            or "none finished",
            "spread": (
                f"{pp(s.spread, False)} (d0 = {_dof(s.prior_dof)}, {s.configurations} configurations)"
                if math.isfinite(s.spread)
                else "–"
            ),
            "paired": wording.paired_model_text(s.paired),
            "mde": mde_text(s.mde) if math.isfinite(s.mde) else "–",
            "margin": ", ".join(sorted({pp(m, False) for m in s.margins})) or "–",
            "decisive": f"{s.decisive} of {s.compared}",
        }
        for s in power_summary(analysis)
    ]


def agreement_rows(store: Store, analysis: Analysis) -> list[dict]:
    return [
        {
            "profile": a.profile,
            "shared": a.shared,
            "same": a.same,
            "both_decisive": a.both_decisive,
            "conflicting": [
                f"{e} = {v} on {d}: {mine} here, {theirs} there"
                for e, v, d, mine, theirs in a.conflicting
            ],
        }
        for a in profile_agreement(store, analysis)
    ]


def claim_rows(analysis: Analysis, findings: list[Finding], sections: list[Section]) -> list[dict]:
    """Each finding in words (``claim_words``, as findings.csv holds it) with the numbers behind its verdict
    (one short line per test: difference, interval, df, p) and the section that shows its experiment ('3.12'),
    so that the PDF can give a claim its lines and point to its numbers; in the order of the study's claims."""
    number = {s.name: f"3.{i}" for i, s in enumerate(sections, start=1)}
    return [
        {
            **row,
            "section": number.get(f.claim.experiment, ""),
            "experiment": wording.display_name(f.claim.experiment),
            "judged_text": wording.judged_text(
                f.judged_at, row["measured"], f.testable, row["at_budget"]
            ),
            "numbers": claim_words.numbers(f),
        }
        for f, row in zip(findings, claim_words.finding_rows(analysis, findings))
    ]


def missing_rows(analysis: Analysis) -> list[dict]:
    missing = analysis.plan[
        analysis.plan["status"].isin([TrialStatus.MISSING, TrialStatus.FAILED])
    ]
    return [
        {
            "experiment": wording.display_name(r.experiment),
            "value": r.value,
            "dataset": r.dataset,
            "seed": r.seed,
            "status": r.status,
            "key": r.trial_key,
        }
        for r in missing.itertuples()
    ]


def cost_rows(bench_path: Path) -> list[dict] | None:
    """The 'cost per parameter' table from ``make bench``'s JSON, when present."""
    costs = parameter_costs(bench_path)
    if costs is None:
        return None
    return [
        {
            "experiment": c.experiment,
            "value": c.value,
            "input": c.input,
            "baseline": c.baseline,
            "step": f"{c.step_ms:.2f}" if math.isfinite(c.step_ms) else "–",
            "relative": _ratio(c.relative),
            "validation": f"{c.validation_ms:.1f}" if math.isfinite(c.validation_ms) else "–",
        }
        for c in costs
    ]


class RenderCache:
    """Skip re-drawing a figure or re-typesetting the PDF whose inputs are unchanged since the last render.

    Keys are digests of exactly what a figure draws (or of the whole HTML for the PDF), so any new
    number redraws it; a second ``make report`` with nothing new only re-checks digests.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            self.entries = {}

    def fresh(self, target: Path, digest: str) -> bool:
        return target.is_file() and self.entries.get(target.name) == digest

    def remember(self, target: Path, digest: str) -> None:
        self.entries[target.name] = digest
        write_text(self.path, json.dumps(self.entries, sort_keys=True, indent=1))


COUNT_COLUMNS = (
    "n_value",
    "n_baseline",
    "family",
    "look",
)  # verdicts.csv's counts, blank on a baseline row


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """The drawing code itself: a change to a figures module redraws every figure."""
    from study.report import figures, grid_figures

    drawing = Path(figures.__file__).read_bytes() + Path(grid_figures.__file__).read_bytes()
    return hashlib.sha256(drawing).hexdigest()


def _figure(cache: RenderCache, draw, target: Path, inputs, *args) -> Figure:
    digest = _digest(draw.__name__, _code_digest(), inputs)
    if not cache.fresh(target, digest):
        draw(*args)
        cache.remember(target, digest)
    return Figure(_embed(target), _png_width(target))


@contextlib.contextmanager
def _quiet_typesetting():
    """WeasyPrint and fontTools log font-subsetting notes as warnings on every PDF; keep them off the console
    (real errors still show)."""
    loggers = [logging.getLogger(name) for name in ("weasyprint", "fontTools")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def build_report(
    store_path: str | Path,
    out_dir: str | Path,
    study: str | None = None,
    profile: str | None = None,
    pdf: bool = True,
    commands: list[str] | None = None,
) -> dict[str, Path]:
    """Write report.html, report.pdf, figures/, results.csv, verdicts.csv, findings.csv and choices.csv (a
    grid's choice per level) under ``out_dir``; return their paths (and ``seconds``, the time it took). A
    StudyError when the store holds no such study. The files a reader reads together (the HTML, the PDF, the
    CSVs) replace the previous ones together, once all are written (``study.files``); a write that fails
    names ``out_dir`` where its writer did not name a file. ``missing_glyphs``: the characters of the study's
    names that no installed font draws in the figures (drawn as boxes)."""
    from study.report import figures

    with _folder_named(out_dir), figures.missing_glyphs() as missing:
        started = time.perf_counter()
        out = Path(out_dir)
        figure_dir = out / "figures"
        with Store(store_path, create=False) as store:
            analysis = analyse(store, study, profile)
            table = export_table(store)
            agreement = agreement_rows(store, analysis)
            predictions, test_sets = store.predictions(), store.test_sets()
            classes = per_class(analysis, predictions, test_sets)
            leads = [k.lead for rows in answer_rows(analysis).values() for k in rows if k.lead]
            sources = two_source(analysis, predictions, test_sets, leads)
        figure_dir.mkdir(parents=True, exist_ok=True)
        sweep(out)  # what a killed render left
        sweep(figure_dir)
        cache = RenderCache(figure_dir / ".render-cache.json")
        # every file a reader reads together lands together: written to temporaries, renamed at the end
        with FileSet() as staged:
            table = table[
                (table["study"] == analysis.study) & (table["profile"] == analysis.profile)
            ]
            table.to_csv(staged.path(out / "results.csv"), index=False)
            verdicts = pd.DataFrame(verdict_rows(analysis))
            counts = [c for c in COUNT_COLUMNS if c in verdicts]
            verdicts[counts] = verdicts[counts].astype(
                "Int64"
            )  # '3', not '3.0', beside a baseline's blank
            verdicts.to_csv(staged.path(out / "verdicts.csv"), index=False)
            pd.DataFrame(
                choice_rows(list(analysis.grids.values())), columns=list(CHOICE_COLUMNS)
            ).to_csv(staged.path(out / "choices.csv"), index=False)
            pd.DataFrame(class_rows(classes), columns=list(CLASS_COLUMNS)).to_csv(
                staged.path(out / "per_class.csv"), index=False
            )
            findings = check_claims(analysis)
            pd.DataFrame(
                claim_words.finding_rows(analysis, findings),
                columns=list(claim_words.FINDING_COLUMNS),
            ).to_csv(staged.path(out / "findings.csv"), index=False)

            stored = analysis.stored
            grids = grid_views(analysis, cache, figure_dir, load_selection_rates())
            sections = []
            for experiment in stored.study.experiments:
                name = experiment.name
                blocks = [
                    analysis.blocks[(name, d)]
                    for d in analysis.datasets
                    if (name, d) in analysis.blocks
                ]
                if not blocks:
                    continue
                notes = wording.value_settings(experiment) + [
                    f"{v.label}: {v.note}" for v in experiment.values if v.note
                ]
                if (
                    experiment.grid is not None
                ):  # its compared values' notes: the chosen cell, an edge pick
                    notes += [
                        f"{wording.dataset_name(b.dataset)}, {v.label}: {v.note}"
                        for b in blocks
                        for v in b.values
                        if v.note
                    ]
                tables = [
                    {
                        "dataset": wording.dataset_name(b.dataset),
                        "rows": _value_rows(b, last_look(analysis.stored)),
                        "margin": pp(b.margin, signed=False),
                        "level": wording.levels_text(b),
                        "conclusion": wording.conclude(b),
                    }
                    for b in blocks
                ]

                def drawn(draw, kind: str, name: str = name, blocks: list = blocks) -> Figure:
                    path = figures.figure_path(figure_dir, name, kind)
                    return _figure(cache, draw, path, blocks, analysis, name, figure_dir)

                sections.append(
                    Section(
                        name=name,
                        title=wording.display_name(name),
                        group=experiment.group,
                        description=experiment.description,
                        notes=notes,
                        curves=drawn(figures.experiment_figure, "curves"),
                        final=drawn(figures.final_figure, "final"),
                        loss=drawn(figures.loss_figure, "loss"),
                        tables=tables,
                        grids=grids.get(name, []),
                    )
                )
            env = Environment(
                loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"])
            )
            html = env.get_template(TEMPLATE).render(
                analysis=analysis,
                study=stored.study,
                profile=stored.profile,
                datasets=stored.datasets,
                thresholds={
                    "alpha": f"{analysis.alpha:.3g}",
                    "confidence": f"{(1 - analysis.alpha) * 100:.3g}",
                    "power": POWER,
                    "chance_margin": CHANCE_MARGIN,
                    "default_margin_pp": DEFAULT_MARGIN_PP,
                    "levels": wording.study_levels_text(analysis),
                },
                simulated=wording.simulated_text(load_error_rates()),
                verdict_words=wording.verdict_meanings(analysis.alpha),
                adaptations=[
                    wording.adaptation_text(d, stored.study.reference_title or "the reference")
                    for d in deviations(analysis)
                ],
                looks=wording.looks_text(look_summary(analysis)),
                answers=answer_sections(analysis, cache, figure_dir),
                can_tell=power_rows(analysis),
                agreement=agreement,
                budget=claim_words.budget_text(analysis),
                baseline_rows=baseline_rows(analysis),
                dataset_rows=dataset_rows(analysis),
                value_settings=[
                    (wording.display_name(e.name), " ".join(wording.value_settings(e)))
                    for e in stored.study.experiments
                    if wording.value_settings(e)
                ],
                grid_values=[
                    grid_words.tuned_values_text(e.name, e.grid)
                    for e in stored.study.experiments
                    if e.grid is not None
                ],
                theory_rows=theory_rows(analysis),
                per_class=class_views(analysis, classes, cache, figure_dir),
                two_sources=[
                    {
                        "dataset": wording.dataset_name(t.dataset),
                        "experiment": wording.display_name(t.experiment),
                        "value": t.value,
                        "diff": pp(t.diff),
                        "level": f"{t.level * 100:.3g}%",
                        "seeds": f"[{signed_pp(t.seeds_low)}, {signed_pp(t.seeds_high)}]",
                        "both": (
                            f"[{signed_pp(t.low)}, {signed_pp(t.high)}]"
                            if math.isfinite(t.low)
                            else "–"
                        ),
                        "share": f"{t.image_share * 100:.0f}%"
                        if math.isfinite(t.image_share)
                        else "–",
                        "images": f"{t.images:,}",
                        "sign": (
                            f"{t.value_images} vs {t.baseline_images} images over {t.pairs} pairs, "
                            f"{p_is(t.sign_p)}"
                            if math.isfinite(t.sign_p)
                            else "–"
                        ),
                    }
                    for t in sources
                ],
                without_predictions=classes.without,
                worked=conv_output_size(28, kernel=5, stride=1, padding=0),
                sections=sections,
                findings=claim_rows(analysis, findings, sections),
                budget_checks=[
                    wording.budget_check_short(c, wording.dataset_name(d))
                    for d, c in budget_checks(analysis).items()
                ],
                ranking=ranking_rows(analysis),
                missing=missing_rows(analysis),
                costs=cost_rows(out / "benchmarks.json"),
                environment=analysis.environment,
                run=analysis.run,
                trials=len(analysis.every_trial),
                status_counts=analysis.every_trial["status"].value_counts().to_dict(),
                commands=commands or regenerate_commands(analysis, store_path, out),
            )
            paths: dict[str, Any] = {
                "html": out / "report.html",
                "csv": out / "results.csv",
                "verdicts": out / "verdicts.csv",
                "findings": out / "findings.csv",
                "choices": out / "choices.csv",
                "per_class": out / "per_class.csv",
                "figures": figure_dir,
            }
            staged.path(paths["html"]).write_text(html)
            typeset = None
            if pdf:
                paths["pdf"] = out / "report.pdf"
                typeset = _digest("pdf", html)
                if not cache.fresh(paths["pdf"], typeset):
                    from weasyprint import HTML

                    with _quiet_typesetting():
                        HTML(string=html, base_url=str(out)).write_pdf(staged.path(paths["pdf"]))
                else:
                    typeset = None
        if typeset is not None:  # after the PDF is in place
            cache.remember(paths["pdf"], typeset)
        paths["seconds"] = time.perf_counter() - started
    paths["missing_glyphs"] = "".join(sorted(missing))
    return paths


@contextlib.contextmanager
def _folder_named(folder: str | Path):
    """A write that fails inside names ``folder`` where its writer named no file (matplotlib, WeasyPrint)."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(folder)) from err
        raise
