"""The report's sentences: every word a reader sees, written from the analysis' frozen numbers.

The analysis (``study.analyse``) returns numbers and enums; this module turns them into sentences by
stated rules (never a canned sentence); the renderer (``study.report.render``) and the templates only
lay them out. Plain text, no HTML: the templates escape it.

    conclude(block)            # the paragraph under a block's verdict table
    answer(analysis)           # section 1: per dataset, which parameters moved accuracy, by how much, at what cost
    VERDICT_MEANINGS[Verdict.EQUIVALENT]
"""

from __future__ import annotations

import math

from study.analyse.comparisons import Analysis, Block, ValueSummary
from study.analyse.costs import cost_ratio
from study.analyse.formats import diff_with_ci, epoch_time, macs_text, mde_text, p_is, pp, seconds, times
from study.analyse.noise import MeanComparison
from study.analyse.overview import Deviation, LookSummary
from study.declare.spec import dataset_title as dataset_name
from study.analyse.stats import ALPHA, DIRECTIONAL, Rates, Verdict
from study.results.outcomes import COLLAPSED, DIVERGED

def verdict_meanings(alpha: float = ALPHA) -> dict[Verdict, str]:
    """What each verdict means, at the analysis' level ``alpha`` (0.05, or Pocock's per-look level)."""
    return {
        Verdict.BETTER: f"higher accuracy than the baseline (Holm-adjusted p < {alpha:.3g})",
        Verdict.WORSE: f"lower accuracy than the baseline (Holm-adjusted p < {alpha:.3g})",
        Verdict.EQUIVALENT: f"{(1 - alpha) * 100:.3g}% CI of the difference inside the dataset's equivalence margin; "
                            "marked \"small but real difference\" when that interval also excludes zero",
        Verdict.INCONCLUSIVE: "neither significant nor shown equivalent: the CI is wider than the margin",
        Verdict.UNTESTABLE: "the paired differences have no spread (ties), so no test or interval is possible",
        Verdict.TOO_FEW_SEEDS: "fewer than 2 learned seeds on a side: no accuracy comparison",
        Verdict.DOES_NOT_LEARN: "no seed of the value learned while the baseline did; decisive only when the "
                                "failure-rate test is significant",
        Verdict.NEITHER_LEARNS: "neither the value nor the baseline learned in any seed: nothing to compare",
        Verdict.ONLY_VALUE_LEARNS: "the baseline learned in no seed; the value did in some",
        Verdict.DIVERGED: "every seed of the value diverged (NaN/inf loss)",
        Verdict.REFERENCE: "the baseline itself (the row every value is compared with)",
    }


VERDICT_MEANINGS = verdict_meanings()


def adaptation_text(deviation: Deviation, title: str) -> str:
    """A generated adaptation note: where the baseline departs from the reference table (``title``) and
    how the reference value fared in this run, from the run's own numbers."""
    text = f"{deviation.setting} {deviation.used} instead of {title}'s {deviation.reference}."
    if not deviation.experiment:
        return text + f" No experiment of this study trained {deviation.reference}."
    parts = []
    for dataset, (ref, base) in deviation.datasets.items():
        def fared(arm) -> str:
            mean = f", {arm.mean * 100:.1f}% where it learned" if arm.learned else ""
            return f"learned in {arm.learned} of {arm.finished} seeds{mean}"
        parts.append(f"on {dataset_name(dataset)}, {deviation.reference} {fared(ref)}, the baseline's "
                     f"{deviation.used} {fared(base)}")
    text += f" In this run (experiment '{display_name(deviation.experiment)}'): " + "; ".join(parts) + "."
    if deviation.missing:
        text += (f" {deviation.reference} was not trained on " + ", ".join(dataset_name(d) for d in deviation.missing)
                 + " in this study.")
    return text


def looks_text(summary: LookSummary) -> str:
    """The sequential design in words: looks, level, and how many comparisons got more seeds and why."""
    if summary.looks <= 1:
        return (f"One look: every value trained its seeds and every comparison is tested once, at "
                f"alpha = {summary.alpha:.3g} within each experiment and dataset (Holm).")
    from collections import Counter

    from study.analyse.sequential import REASONS

    reasons = Counter(row["reason"] for row in summary.added)
    added = ("; ".join(f"{count} because {REASONS.get(reason, reason)}" for reason, count in reasons.items())
             if summary.added else "none was both undecided and decidable")
    cap = f", at most {summary.max_trials} trials in all" if summary.max_trials else ""
    return (f"Seeds in stages ({summary.looks} looks): the first look trained {summary.first_seeds} seeds per value "
            f"and {summary.baseline_seeds} per baseline; after it, each comparison still undecided that more seeds "
            f"could decide got more, up to {summary.max_seeds} per value, cheapest first{cap}. Comparisons that got "
            f"more seeds: {len(summary.added)} ({added}). Every look and every verdict tests at Pocock's level "
            f"alpha = {summary.alpha:.4f} for {summary.looks} looks (within each experiment and dataset, Holm), so "
            f"that looking again does not inflate the error rates (docs/ERROR_RATES.md measures them by simulation).")


def test_text(comparison: MeanComparison) -> str:
    """'Welch t, moderated variances, 4 vs 12 learned seeds, 37.2 df' - what a comparison rests on."""
    seeds = (f"{comparison.n_a} seed pairs" if comparison.test == "paired t"
             else f"{comparison.n_a} vs {comparison.n_b} learned seeds")
    dof = ("variance taken as known (d0 infinite)" if math.isinf(comparison.dof)
           else "df undefined" if math.isnan(comparison.dof) else f"{comparison.dof:.1f} df")
    return f"{comparison.test}, {seeds}, {dof}"


def verdict_text(value: ValueSummary) -> str:
    """The verdict as a table cell shows it, with 'small but real difference' where it applies and the
    failure-rate result where that decides."""
    text = str(value.verdict)
    if value.small_but_real:
        text += " (small but real difference)"
    if value.rate_differs:
        text += "; " + failure_text(value.rates)
    return text


def failure_text(rates: Rates) -> str:
    """'fails to learn more often' (or less) than the baseline, by the two failure rates."""
    return "fails to learn " + ("more" if rates.rate > (rates.base_rate if rates.base_n else 0.0) else "less") + " often"


def display_name(experiment: str) -> str:
    """An experiment's name as prose shows it: ``kernel_size`` -> ``kernel size``."""
    return experiment.replace("_", " ")


def rates_text(rates: Rates) -> str:
    """'failed to learn in 4/4 seeds (95% CI 40-100%) vs the baseline's 0/4 (0-60%)'."""
    low, high = rates.ci
    base = rates.base_ci
    return (f"failed to learn in {rates.k}/{rates.n} seeds (95% CI {low * 100:.0f}-{high * 100:.0f}%) vs the "
            f"baseline's {rates.base_k}/{rates.base_n} ({base[0] * 100:.0f}-{base[1] * 100:.0f}%)")


def outcome_text(value: ValueSummary) -> str:
    """'learned 2 of 4 (collapsed 2)' - every finished seed accounted for."""
    parts = [f"learned {value.learned} of {value.finished}"]
    extra = [f"{value.count(k)} {k}" for k in (COLLAPSED, DIVERGED) if value.count(k)]
    missing = len(value.seeds) - value.finished
    if missing:
        extra.append(f"{missing} not finished")
    return parts[0] + (f" ({', '.join(extra)})" if extra else "")


def conclude(block: Block) -> str:
    """A paragraph written from the block's numbers by the stated rules (never a canned sentence)."""
    base = block.baseline
    name, dataset = display_name(block.experiment), block.dataset
    if base.finished == 0:
        return (f"On {dataset}, the baseline value {base.label} has no finished seed yet, so no value of "
                f"{name} can be compared; {block.missing} trial(s) are missing.")
    parts = [f"On {dataset}, the baseline {name} = {base.label} {outcome_text(base)} seeds"
             + (f" and reaches {base.final_learned.mean * 100:.1f}% final validation accuracy over its learned seeds."
                if base.learned else ".")]
    if base.learned == 0:
        parts.append(f"The baseline did not learn in any seed, so this budget cannot tell what {name} does on "
                     f"{dataset}: a value can only be seen to learn where the baseline does not.")
    elif base.learned < base.finished:
        parts.append(f"The baseline itself failed to learn in {base.finished - base.learned} of {base.finished} "
                     f"seeds; they count in the failure-rate test, and its accuracy rests on the {base.learned} "
                     f"that learned.")
    groups: dict[Verdict, list[ValueSummary]] = {}
    for value in block.comparisons:
        groups.setdefault(value.verdict, []).append(value)

    def named(v: ValueSummary) -> str:
        return f"{block.experiment} = {v.label}"

    def described(values):
        return ", ".join(f"{named(v)} ({diff_with_ci(v.comparison)}, {test_text(v.comparison)}, "
                         f"{p_is(v.p_holm, 'Holm p')})" for v in values)

    if groups.get(Verdict.BETTER):
        parts.append(f"Higher accuracy than the baseline: {described(groups[Verdict.BETTER])}.")
    if groups.get(Verdict.WORSE):
        parts.append(f"Lower accuracy than the baseline: {described(groups[Verdict.WORSE])}.")
    if groups.get(Verdict.EQUIVALENT):
        parts.append("Equivalent within the margin of ±" + pp(block.margin, signed=False) + ": " + ", ".join(
            f"{named(v)} (the 95% CI excludes effects larger than {pp(v.comparison.rules_out, signed=False)}"
            + ("; it also excludes zero: a small but real difference" if v.small_but_real else "") + ")"
            for v in groups[Verdict.EQUIVALENT]) + ".")
    if groups.get(Verdict.INCONCLUSIVE):
        parts.append("Inconclusive (neither significant nor inside the margin): " + ", ".join(
            f"{named(v)} ({diff_with_ci(v.comparison)}; smallest detectable at 80% power: "
            f"{mde_text(v.decision.detectable)})"
            for v in groups[Verdict.INCONCLUSIVE]) + ".")
    for word in (Verdict.UNTESTABLE, Verdict.TOO_FEW_SEEDS, Verdict.DOES_NOT_LEARN, Verdict.NEITHER_LEARNS,
                 Verdict.ONLY_VALUE_LEARNS, Verdict.DIVERGED):
        if groups.get(word):
            parts.append(f"{word[0].upper()}{word[1:]}: " + ", ".join(named(v) for v in groups[word]) + ".")
    rate_changes = [v for v in block.comparisons if v.rate_differs]
    if rate_changes:
        parts.append("Failure to learn differs from the baseline (Boschloo, Holm-adjusted): " + ", ".join(
            f"{named(v)} {rates_text(v.rates)} ({p_is(v.p_rate_holm, 'Holm p')})"
            for v in rate_changes) + ".")
    unstable = [f"{named(v)} ({outcome_text(v)})" for v in block.comparisons if v.mixed]
    if unstable:
        parts.append("Learned in some seeds only: " + ", ".join(unstable) + ".")
    paired = [v.label for v, pair in zip(block.comparisons, block.paired) if pair]
    r = block.correlation
    if r is not None and math.isfinite(r.r):
        parts.append((f"Paired with the baseline by design (same initial weights per seed): {', '.join(paired)}. "
                      if paired else "No value shares the baseline's initial weights, so none is paired. ")
                     + f"Measured, as a check of that rule (it chooses no test): seed-to-seed correlation with the "
                       f"baseline r = {r.r:.2f} over {r.pairs} seed pairs.")
    if math.isfinite(block.mde):
        reach = (f" and could confirm equivalence within ±{pp(block.confirmable_margin, signed=False)}"
                 if math.isfinite(block.confirmable_margin) else "")
        parts.append(f"With the learned seeds of this block and the dataset's pooled seed SD "
                     f"({pp(block.spread, signed=False)}), a comparison detects differences of about "
                     f"{pp(block.mde, signed=False)} at 80% power{reach} (the margin is ±{pp(block.margin, signed=False)}).")
    elif block.comparisons:
        parts.append("No comparison of this block has two learned seeds on both sides: no detectable difference "
                     "can be stated at this budget.")
    cost = cost_text(block)
    if cost:
        parts.append(cost)
    if block.missing:
        parts.append(f"{block.missing} trial(s) are still missing; the statistics rest on the seeds shown.")
    return " ".join(parts)


def cost_text(block: Block) -> str:
    """The block's training cost: its cheapest and dearest value per epoch (median over seeds, the range
    over seeds in brackets, MACs per image), the dearer one against the baseline, and how times stored
    before tracing was timed apart were read. '' when fewer than two values are timed."""
    timed = [v for v in block.values if v.cost.defined]
    if len(timed) < 2:
        return ""
    name = display_name(block.experiment)
    fastest = min(timed, key=lambda v: v.cost.median_epoch_s)
    slowest = max(timed, key=lambda v: v.cost.median_epoch_s)
    if seconds(fastest.cost.median_epoch_s) == seconds(slowest.cost.median_epoch_s):
        parts = [f"Every value costs about {seconds(fastest.cost.median_epoch_s)} s per epoch (median over seeds)."]
    else:
        parts = [f"Training costs from {epoch_time(fastest.cost)} per epoch ({name} = {fastest.label}, "
                 f"{macs_text(fastest.cost.macs)} per image) to {epoch_time(slowest.cost)} ({name} = {slowest.label}, "
                 f"{macs_text(slowest.cost.macs)}): median over seeds, fastest to slowest seed in brackets."]
        extreme = slowest if slowest is not block.baseline else fastest
        ratio = cost_ratio(extreme.cost, block.baseline.cost)
        if ratio.defined:
            parts.append(f"{name} = {extreme.label} takes {times(ratio)} the baseline's time per epoch "
                         f"(range: any seed against any baseline seed).")
    dropped = sum(v.cost.first_epoch_dropped for v in timed)
    single = sum(v.cost.may_include_trace for v in timed)
    if dropped:
        parts.append(f"{dropped} seed(s) were stored before graph tracing was timed apart: each is costed on its "
                     f"epochs after the first, which may include tracing.")
    if single:
        parts.append(f"{single} one-epoch seed(s) stored before graph tracing was timed apart are costed on that "
                     f"epoch, which may include tracing.")
    return " ".join(parts)


def answer(analysis: Analysis) -> dict[str, list[str]]:
    """The report's answer first: per dataset, which parameters matter, by how much, at what cost."""
    out: dict[str, list[str]] = {}
    for dataset in analysis.datasets:
        lines = []
        blocks = [b for (e, d), b in analysis.blocks.items() if d == dataset]
        waiting = [display_name(b.experiment) for b in blocks if b.baseline.finished == 0]
        for block in blocks:
            base = block.baseline
            name = display_name(block.experiment)
            if base.finished == 0:
                continue
            if base.learned == 0:
                rescued = [v for v in block.comparisons if v.rate_differs]
                lines.append(f"{name}: accuracy not answered - its baseline {base.label} did not learn in any of "
                             f"{base.finished} seeds" + ("; " + "; ".join(
                                 f"{v.label} learns where it does not: {rates_text(v.rates)} "
                                 f"({p_is(v.p_rate_holm, 'Holm p')})" for v in rescued) if rescued else "") + ".")
                continue
            moved = [v for v in block.comparisons if v.verdict in DIRECTIONAL]
            same = [v for v in block.comparisons if v.verdict == Verdict.EQUIVALENT]
            rates = [v for v in block.comparisons if v.rate_differs]
            time_of = {v.label: v.train_seconds.mean for v in block.values if v.train_seconds.n}
            base_time = time_of.get(base.label)
            parts = []
            for v in sorted(moved, key=lambda v: -abs(v.comparison.diff)):
                cost = (f", {time_of[v.label] / base_time:.2f}x the training time" if base_time and v.label in time_of
                        else "")
                parts.append(f"{v.label}: {v.verdict}, {diff_with_ci(v.comparison)}{cost}")
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
