"""Render the report: ``output/report.html`` (self-contained) and ``output/report.pdf``, from the store alone.

    build_report("output/study.sqlite", "output", profile="quick")

Statistics come from ``study.analysis`` and ``study.findings``; the Jinja2 templates in
``report_templates/`` only display (autoescaping on). Never imports TensorFlow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from study.analysis import Analysis, analyse
from study.config import ModelConfig
from study.findings import check_findings
from study.results import export_table
from study.shapes import conv_output_size, summarize
from study.stats import RULES
from study.store import Store

TEMPLATES = Path(__file__).resolve().parent.parent / "report_templates"
TEMPLATE = "report.html.j2"
TABLE_1 = (  # (label, Settings field, the original Table 1 value)
    ("Epochs", "epochs", 100), ("Batch size train", "batch_size", 32), ("Batch size val", "val_batch_size", 16),
    ("Learning rate", "learning_rate", 0.5), ("Solver", "optimizer", "sgd"), ("Activation", "activation", "relu"),
    ("Conv. filters (1/2)", "conv_filters", (20, 50)), ("Kernel size", "kernel_size", 5), ("Stride", "stride", 1),
    ("Pooling window", "pool_size", 2),
)
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


def _signed_pp(x) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x * 100:+.1f}"


def _p(x) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def baseline_rows(analysis: Analysis) -> list[dict]:
    """Table 1 beside the study's baseline and what the profile changes (epochs, data)."""
    spec, profile = analysis.spec, analysis.spec["profile"]
    baseline = spec["baseline"]
    rows = []
    for label, key, original in TABLE_1:
        used = baseline[key]
        if key == "epochs" and profile.get("epochs"):
            used = profile["epochs"]
        rows.append({"label": label, "original": _show(original), "study": _show(baseline[key]),
                     "used": _show(used), "deviates": _show(used) != _show(original)})
    for label, key in EXTRA:
        rows.append({"label": label, "original": "(not in Table 1)", "study": _show(baseline[key]),
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
    description: str
    notes: list[str]
    curves: str
    final: str
    tables: list[dict]


def _value_rows(block) -> list[dict]:
    rows = []
    for v in block.values:
        d = v.paired.diff if v.paired else None
        rows.append({
            "label": v.label, "baseline": v is block.baseline, "n": v.final.n, "seeds": len(v.seeds),
            "mean": _pct(v.final.mean, 2),
            "ci": "–" if not math.isfinite(v.final.half_width) else f"± {v.final.half_width * 100:.2f}",
            "diff": _signed_pp(d.mean) if d else "", "diff_ci": (f"{_signed_pp(d.low)} to {_signed_pp(d.high)}"
                                                               if d and math.isfinite(d.low) else ""),
            "p": _p(v.paired.p) if v.paired else "", "p_holm": _p(v.p_holm) if v.paired else "",
            "verdict": v.verdict, "seconds": "–" if not v.train_seconds.n else f"{v.train_seconds.mean:.1f}",
            "params": f"{v.params:,}" if v.params else "–",
            "diverged": v.status.get("diverged", 0), "failed": v.status.get("failed", 0),
            "missing": v.status.get("missing", 0),
        })
    return rows


def ranking(analysis: Analysis) -> dict[str, list[dict]]:
    """Per dataset: experiments ordered by their largest significant-or-not effect against the baseline."""
    ranks: dict[str, list[dict]] = {}
    for (experiment, dataset), block in analysis.blocks.items():
        effects = [(abs(v.paired.diff.mean), v) for v in block.values
                   if v is not block.baseline and v.paired and v.paired.n and math.isfinite(v.paired.diff.mean)]
        if not effects:
            continue
        size, top = max(effects, key=lambda e: e[0])
        significant = sum(v.verdict in ("better", "worse") for _, v in effects)
        ranks.setdefault(dataset, []).append({
            "experiment": experiment, "effect": f"{size * 100:.1f}", "value": top.label,
            "direction": "higher" if top.paired.diff.mean > 0 else "lower", "significant": significant,
            "compared": len(effects), "sort": size,
        })
    for rows in ranks.values():
        rows.sort(key=lambda r: -r["sort"])
    return ranks


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


def _figure(cache: RenderCache, draw, target: Path, inputs, *args) -> str:
    digest = _digest(draw.__name__, inputs)
    if not cache.fresh(target, digest):
        draw(*args)
        cache.remember(target, digest)
    return _embed(target)


def build_report(store_path: str | Path, out_dir: str | Path, study: str | None = None, profile: str | None = None,
                 pdf: bool = True, commands: list[str] | None = None) -> dict[str, Path]:
    """Write report.html, report.pdf, figures/ and results.csv under ``out_dir``; return their paths."""
    from study import figures

    started = time.perf_counter()
    out = Path(out_dir)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    cache = RenderCache(figure_dir / ".render-cache.json")
    with Store(store_path, create=False) as store:
        analysis = analyse(store, study, profile)
        table = export_table(store)
    table = table[(table["study"] == analysis.study) & (table["profile"] == analysis.profile)]
    table.to_csv(out / "results.csv", index=False)

    sections = []
    for experiment in analysis.spec["experiments"]:
        name = experiment["name"]
        if not any((name, d) in analysis.blocks for d in analysis.datasets):
            continue
        notes = [f"{v['label']}: {v['note']}" for v in experiment["values"] if v.get("note")]
        tables = [{"dataset": d, "rows": _value_rows(analysis.blocks[(name, d)]),
                   "conclusion": analysis.blocks[(name, d)].conclusion}
                  for d in analysis.datasets if (name, d) in analysis.blocks]
        inputs = [analysis.blocks[(name, d)] for d in analysis.datasets if (name, d) in analysis.blocks]
        sections.append(Section(
            name=name, description=experiment.get("description", ""), notes=notes,
            curves=_figure(cache, figures.experiment_figure, figure_dir / f"{name}_curves.png", inputs,
                           analysis, name, figure_dir),
            final=_figure(cache, figures.final_figure, figure_dir / f"{name}_final.png", inputs,
                          analysis, name, figure_dir),
            tables=tables,
        ))
    cost_figure = _figure(cache, figures.cost_figure, figure_dir / "accuracy_vs_time.png",
                          list(analysis.blocks.values()), analysis, figure_dir)
    profile_name = analysis.profile
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template(TEMPLATE).render(
        analysis=analysis, spec=analysis.spec, profile=analysis.spec["profile"], rules=RULES,
        baseline_rows=baseline_rows(analysis), theory_rows=theory_rows(analysis),
        worked=conv_output_size(28, kernel=5, stride=1, padding=0), sections=sections,
        findings=check_findings(analysis), ranking=ranking(analysis), cost_figure=cost_figure,
        missing=missing_rows(analysis), costs=cost_rows(out / "benchmarks.json"),
        environment=analysis.environment, run=analysis.run,
        trials=int(analysis.plan["trial_key"].nunique()),
        status_counts=analysis.plan.drop_duplicates("trial_key")["status"].value_counts().to_dict(),
        commands=commands or [f"make report PROFILE={profile_name}",
                              f"study run --profile {profile_name} --store {store_path}",
                              f"study report --profile {profile_name} --store {store_path}"],
    )
    paths = {"html": out / "report.html", "csv": out / "results.csv", "figures": figure_dir}
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
