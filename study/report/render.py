"""Render the report: ``output/report.html`` (self-contained) and ``output/report.pdf``, from the store alone.

    build_report("output/study.sqlite", "output", profile="quick")

Statistics come from ``study.analyse.comparisons`` and ``study.analyse.claims``; the Jinja2 templates in
``templates/`` only display (autoescaping on). Never imports TensorFlow.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from study.analyse.comparisons import (Analysis, Block, analyse, diff_with_ci, mde_text, outcome_text, pp, rates_text,
                            verdict_rows)
from study.analyse.claims import Finding, budget_text, check_claims
from study.declare.config import ModelConfig
from study.results.tables import export_table
from study.plan.shapes import conv_output_size, summarize
from study.analyse.stats import ALPHA, CHANCE_MARGIN, RULES, VERDICT_WORDS
from study.results.store import Store

TEMPLATES = Path(__file__).parent / "templates"  # package data: found in a wheel install as in a checkout
TEMPLATE = "report.html.j2"
EXTRA = (("Pooling (per conv layer)", "pooling"), ("Padding", "padding"), ("Weight initialisation", "initializer"),
         ("Dense units", "dense_units"))


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


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def baseline_rows(analysis: Analysis) -> list[dict]:
    """The study's reference table (if it declares one) beside its baseline and what the profile changes."""
    spec, profile = analysis.spec, analysis.spec["profile"]
    baseline = spec["baseline"]
    rows = []
    reference = spec.get("reference") or [[key, key, baseline[key]] for key in ("epochs", "batch_size",
                                                                               "learning_rate", "optimizer")]
    for label, key, original in reference:
        used = baseline[key]
        if key == "epochs" and profile.get("epochs"):
            used = profile["epochs"]
        rows.append({"label": label, "original": _show(original), "study": _show(baseline[key]),
                     "used": _show(used), "deviates": _show(used) != _show(original)})
    for label, key in EXTRA:
        if any(key == r[1] for r in reference):
            continue
        rows.append({"label": label, "original": "(not in the reference)", "study": _show(baseline[key]),
                     "used": _show(baseline[key]), "deviates": False})
    sizes = f"{profile.get('train_size') or 'all'} / {profile.get('test_size') or 'all'}"
    rows.append({"label": "Train / test images", "original": "all", "study": "all", "used": sizes,
                 "deviates": sizes != "all / all"})
    return rows


def theory_rows(analysis: Analysis) -> list[dict]:
    """Every distinct configuration of the study: layer shapes, parameters, MACs (from the shapes module)."""
    rows, seen = [], set()
    plan = analysis.plan.drop_duplicates(["experiment", "value", "dataset"])
    for r in plan.itertuples():
        config = analysis.configs.get(r.trial_key)
        if config is None:
            continue
        model = ModelConfig.from_dict(config["model"])
        if (model, r.dataset) in seen:
            continue
        seen.add((model, r.dataset))
        summary = summarize(model)
        shapes = " → ".join("x".join(str(d) for d in row.output_shape) for row in summary.rows)
        rows.append({"experiment": r.experiment, "value": r.value, "dataset": r.dataset,
                     "input": "x".join(map(str, model.input_shape)), "shapes": shapes,
                     "params": summary.params, "macs": summary.macs, "epochs": config["settings"]["epochs"]})
    return rows


@dataclass
class Section:
    name: str
    group: str
    description: str
    notes: list[str]
    curves: str
    final: str
    tables: list[dict]


def _value_rows(block) -> list[dict]:
    rows = []
    for v in block.values:
        d = v.paired
        dl = v.paired_learned
        rate = v.rates
        rows.append({
            "label": v.label, "baseline": v is block.baseline, "seeds": len(v.seeds),
            "outcomes": outcome_text(v), "points": ", ".join(
                f"{v.final_by_seed[s] * 100:.1f}{'' if o == 'learned' else ' (' + o + ')'}"
                for s, o in v.outcomes.items()),
            "mean": _pct(v.final.mean, 1),
            "ci": "–" if not v.final.defined else f"{v.final.low * 100:.1f}–{v.final.high * 100:.1f}",
            "diff": diff_with_ci(d) if d else "", "p": _p(d.p) if d else "", "p_holm": _p(v.p_holm) if d else "",
            "mde": mde_text(d.mde) if d else "",
            "learned_diff": (diff_with_ci(dl) + f", {v.verdict_learned}") if dl and dl.n else ("no shared learned seed"
                                                                                               if dl else ""),
            "collapse": ("" if rate is None else f"{rate.k}/{rate.n} ({rate.ci[0] * 100:.0f}–{rate.ci[1] * 100:.0f}%)"
                         f" vs {rate.base_k}/{rate.base_n}"
                         + (f", p_Holm {_p(v.p_rate_holm)}" if math.isfinite(v.p_rate_holm) else "")),
            "verdict": v.verdict, "decisive": v.decisive,
            "seconds": "–" if not v.train_seconds.n else f"{v.train_seconds.mean:.1f}",
            "params": f"{v.params:,}" if v.params else "–",
            "failed": v.status.get("failed", 0), "missing": v.status.get("missing", 0),
        })
    return rows


def ranking(analysis: Analysis) -> dict[str, list[dict]]:
    """Per dataset: experiments ordered by their largest decisive effect; undecided ones follow, said as such."""
    ranks: dict[str, list[dict]] = {}
    for (experiment, dataset), block in analysis.blocks.items():
        compared = [v for v in block.comparisons if v.paired and v.paired.n and math.isfinite(v.paired.diff.mean)]
        if not compared:
            continue
        decided = [v for v in compared if v.verdict in ("better", "worse")]
        top = max(decided or compared, key=lambda v: abs(v.paired.diff.mean))
        base_time = block.baseline.train_seconds.mean
        ranks.setdefault(dataset, []).append({
            "experiment": experiment, "value": top.label, "effect": diff_with_ci(top.paired),
            "verdict": top.verdict, "significant": len(decided), "compared": len(block.comparisons),
            "decisive": block.decisive,
            "cost": f"{top.train_seconds.mean / base_time:.2f}x" if top.train_seconds.n and base_time else "–",
            "sort": (0 if decided else 1, -abs(top.paired.diff.mean)),
        })
    for rows in ranks.values():
        rows.sort(key=lambda r: r["sort"])
    return ranks


def answer(analysis: Analysis) -> dict[str, list[str]]:
    """The report's answer first: per dataset, which parameters matter, by how much, at what cost."""
    out: dict[str, list[str]] = {}
    for dataset in analysis.datasets:
        lines = []
        blocks = [b for (e, d), b in analysis.blocks.items() if d == dataset]
        waiting = [b.experiment.replace("_", " ") for b in blocks if b.baseline.finished == 0]
        for block in blocks:
            base = block.baseline
            name = block.experiment.replace("_", " ")
            if base.finished == 0:
                continue
            if base.learned == 0:
                lines.append(f"{name}: not answered - its baseline {base.label} did not learn in any of "
                             f"{base.finished} seeds.")
                continue
            moved = [v for v in block.comparisons if v.verdict in ("better", "worse")]
            same = [v for v in block.comparisons if v.verdict == "equivalent"]
            rates = [v for v in block.comparisons if v.rate_differs]
            time_of = {v.label: v.train_seconds.mean for v in block.values if v.train_seconds.n}
            base_time = time_of.get(base.label)
            parts = []
            for v in sorted(moved, key=lambda v: -abs(v.paired.diff.mean)):
                cost = (f", {time_of[v.label] / base_time:.2f}x the training time" if base_time and v.label in time_of
                        else "")
                parts.append(f"{v.label}: {v.verdict}, {diff_with_ci(v.paired)}{cost}")
            for v in rates:
                parts.append(f"{v.label}: {rates_text(v.rates)}")
            if same:
                parts.append(", ".join(v.label for v in same) + f" equivalent within ±{pp(block.margin, False)}")
            if not parts:
                parts.append(f"no decisive verdict ({len(block.comparisons)} values; smallest detectable difference: "
                             f"{mde_text(block.mde)})" if math.isfinite(block.mde)
                             else f"no decisive verdict ({len(block.comparisons)} values)")
            lines.append(f"{name} (baseline {base.label}): " + "; ".join(parts) + ".")
        if waiting:
            lines.append(f"Not answered yet, the baseline has no finished seed: {', '.join(waiting)}.")
        out[dataset] = lines
    return out


def can_tell(analysis: Analysis) -> list[dict]:
    """Per dataset: what this run's budget can tell (baseline learning, spread, power, decisive verdicts)."""
    rows = []
    for dataset in analysis.datasets:
        blocks = [b for (e, d), b in analysis.blocks.items() if d == dataset]
        if not blocks:
            continue
        bases: dict[frozenset, Block] = {}
        for b in blocks:  # one entry per baseline trial set, named by the first experiment that uses it
            bases.setdefault(frozenset(b.baseline.keys.values()), b)
        baselines = "; ".join(f"{b.experiment} = {b.baseline.label}: learned {b.baseline.learned} of "
                              f"{b.baseline.finished}" for b in bases.values() if b.baseline.finished) or "none finished"
        mdes = [b.mde for b in blocks if math.isfinite(b.mde)]
        margins = [b.margin for b in blocks if math.isfinite(b.margin)]
        spreads = [b.spread for b in blocks if math.isfinite(b.spread)]
        compared = sum(len(b.comparisons) for b in blocks)
        decisive = sum(b.decisive for b in blocks)
        rows.append({
            "dataset": dataset, "baselines": baselines,
            "spread": pp(statistics.median(spreads), False) if spreads else "–",
            "mde": mde_text(statistics.median(mdes)) if mdes else "–",
            "margin": ", ".join(sorted({pp(m, False) for m in margins})) or "–",
            "decisive": f"{decisive} of {compared}",
            "share": decisive / compared if compared else 0.0,
        })
    return rows


def profile_agreement(store: Store, analysis: Analysis) -> list[dict]:
    """When the store holds other profiles of the same study: do their verdicts agree with this one's?"""
    others = [r["profile"] for r in store.studies() if r["study"] == analysis.study and r["profile"] != analysis.profile]
    if not others:
        return []
    mine = {(r["experiment"], r["dataset"], r["value"]): r["verdict"] for r in verdict_rows(analysis)
            if not r["is_baseline"]}
    rows = []
    for profile in others:
        theirs = {(r["experiment"], r["dataset"], r["value"]): r["verdict"]
                  for r in verdict_rows(analyse(store, analysis.study, profile)) if not r["is_baseline"]}
        shared = mine.keys() & theirs.keys()
        decided = [k for k in shared if mine[k] in ("better", "worse", "equivalent")
                   and theirs[k] in ("better", "worse", "equivalent")]
        rows.append({"profile": profile, "shared": len(shared), "same": sum(mine[k] == theirs[k] for k in shared),
                     "both_decisive": len(decided), "conflicting": sorted(
                         f"{e} = {v} on {d}: {mine[(e, d, v)]} here, {theirs[(e, d, v)]} there"
                         for (e, d, v) in decided if mine[(e, d, v)] != theirs[(e, d, v)])})
    return rows


def missing_rows(analysis: Analysis) -> list[dict]:
    missing = analysis.plan[analysis.plan["status"].isin(["missing", "failed"])]
    return [{"experiment": r.experiment, "value": r.value, "dataset": r.dataset, "seed": r.seed,
             "status": r.status, "key": r.trial_key} for r in missing.itertuples()]


def cost_rows(bench_path: Path) -> list[dict] | None:
    """The 'cost per parameter' rows from a pytest-benchmark JSON (``make bench``), when present."""
    if not bench_path.is_file():
        return None
    try:
        data = json.loads(bench_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    rows = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if "experiment" not in info:
            continue
        key = (info["experiment"], info["value"], info["input"])
        rows.setdefault(key, {"experiment": info["experiment"], "value": info["value"], "input": info["input"],
                              "baseline": info.get("baseline", False)})
        rows[key][info.get("kind", "step")] = bench["stats"]["median"] * 1000
    base = {(r["experiment"], r["input"]): r.get("step") for r in rows.values() if r["baseline"]}
    out = []
    for r in rows.values():
        reference = base.get((r["experiment"], r["input"]))
        r["relative"] = f"{r['step'] / reference:.2f}x" if reference and r.get("step") else "–"
        r["step"] = f"{r['step']:.2f}" if r.get("step") else "–"
        r["validation"] = f"{r['validation']:.1f}" if r.get("validation") else "–"
        out.append(r)
    return sorted(out, key=lambda r: (r["experiment"], r["input"], r["value"]))


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
        self.path.write_text(json.dumps(self.entries, sort_keys=True, indent=1))


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """The drawing code itself: a change to the figures module redraws every figure."""
    from study.report import figures

    return hashlib.sha256(Path(figures.__file__).read_bytes()).hexdigest()


def _figure(cache: RenderCache, draw, target: Path, inputs, *args) -> str:
    digest = _digest(draw.__name__, _code_digest(), inputs)
    if not cache.fresh(target, digest):
        draw(*args)
        cache.remember(target, digest)
    return _embed(target)


def build_report(store_path: str | Path, out_dir: str | Path, study: str | None = None, profile: str | None = None,
                 pdf: bool = True, commands: list[str] | None = None) -> dict[str, Path]:
    """Write report.html, report.pdf, figures/ and results.csv under ``out_dir``; return their paths."""
    from study.report import figures

    started = time.perf_counter()
    out = Path(out_dir)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    cache = RenderCache(figure_dir / ".render-cache.json")
    with Store(store_path, create=False) as store:
        analysis = analyse(store, study, profile)
        table = export_table(store)
        agreement = profile_agreement(store, analysis)
    table = table[(table["study"] == analysis.study) & (table["profile"] == analysis.profile)]
    table.to_csv(out / "results.csv", index=False)
    pd.DataFrame(verdict_rows(analysis)).to_csv(out / "verdicts.csv", index=False)
    findings = check_claims(analysis)
    pd.DataFrame([asdict(f) for f in findings], columns=[f.name for f in fields(Finding)]).to_csv(
        out / "findings.csv", index=False)

    sections = []
    for experiment in analysis.spec["experiments"]:
        name = experiment["name"]
        if not any((name, d) in analysis.blocks for d in analysis.datasets):
            continue
        notes = [f"{v['label']}: {v['note']}" for v in experiment["values"] if v.get("note")]
        tables = [{"dataset": d, "rows": _value_rows(analysis.blocks[(name, d)]),
                   "margin": pp(analysis.blocks[(name, d)].margin, signed=False),
                   "conclusion": analysis.blocks[(name, d)].conclusion}
                  for d in analysis.datasets if (name, d) in analysis.blocks]
        inputs = [analysis.blocks[(name, d)] for d in analysis.datasets if (name, d) in analysis.blocks]
        sections.append(Section(
            name=name, group=experiment.get("group", ""), description=experiment.get("description", ""), notes=notes,
            curves=_figure(cache, figures.experiment_figure, figures.figure_path(figure_dir, name, "curves"), inputs,
                           analysis, name, figure_dir),
            final=_figure(cache, figures.final_figure, figures.figure_path(figure_dir, name, "final"), inputs,
                          analysis, name, figure_dir),
            tables=tables,
        ))
    cost_figure = _figure(cache, figures.cost_figure, figure_dir / "accuracy_vs_time.png",
                          list(analysis.blocks.values()), analysis, figure_dir)
    profile_name = analysis.profile
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template(TEMPLATE).render(
        analysis=analysis, spec=analysis.spec, profile=analysis.spec["profile"], rules=RULES,
        verdict_words={k: v.format(alpha=ALPHA) for k, v in VERDICT_WORDS.items()}, chance_margin=CHANCE_MARGIN,
        answer=answer(analysis), can_tell=can_tell(analysis), agreement=agreement, budget=budget_text(analysis),
        baseline_rows=baseline_rows(analysis), theory_rows=theory_rows(analysis),
        worked=conv_output_size(28, kernel=5, stride=1, padding=0), sections=sections,
        findings=findings, ranking=ranking(analysis), cost_figure=cost_figure,
        missing=missing_rows(analysis), costs=cost_rows(out / "benchmarks.json"),
        environment=analysis.environment, run=analysis.run,
        trials=int(analysis.plan["trial_key"].nunique()),
        status_counts=analysis.plan.drop_duplicates("trial_key")["status"].value_counts().to_dict(),
        commands=commands or [f"make report PROFILE={profile_name}",
                              f"study run --profile {profile_name} --store {store_path}",
                              f"study report --profile {profile_name} --store {store_path}"],
    )
    paths = {"html": out / "report.html", "csv": out / "results.csv", "verdicts": out / "verdicts.csv",
             "findings": out / "findings.csv", "figures": figure_dir}
    paths["html"].write_text(html)
    if pdf:
        paths["pdf"] = out / "report.pdf"
        digest = _digest("pdf", html)
        if not cache.fresh(paths["pdf"], digest):
            from weasyprint import HTML

            HTML(string=html, base_url=str(out)).write_pdf(paths["pdf"])
            cache.remember(paths["pdf"], digest)
    paths["seconds"] = time.perf_counter() - started
    return paths
