"""The report's sentences: every word a reader sees, written from the analysis' frozen numbers.

The analysis (``study.analyse``) returns numbers and enums; this module turns them into sentences by
stated rules (never a canned sentence); the renderer (``study.report.render``) and the templates only
lay them out. Plain text, no HTML: the templates escape it.

    conclude(block)            # the paragraph under a block's verdict table
    lead_text(knob_answer)     # section 1: a knob's largest effect, 'value: -3.2 pp [-4.1, -2.3]'
    fact_text(fact, names)     # section 1: one thing the run shows, as a sentence
    verdict_meanings(analysis.alpha)[Verdict.EQUIVALENT]
"""

from __future__ import annotations

import math

from study.analyse.answer import Budget, Fact, FactKind, KnobAnswer
from study.analyse.budget_check import BudgetCheck
from study.analyse.comparisons import Analysis, Block, Comparison, Standing, ValueSummary
from study.analyse.costs import CostRatio, cost_ratio
from study.analyse.noise import Prior
from study.analyse.overview import Deviation, LookSummary
from study.analyse.per_class import ClassEffect
from study.analyse.sequential import Reason
from study.analyse.stats import ALPHA, Rates, Verdict
from study.declare.spec import STANDARD_SPLITS, Study
from study.declare.spec import dataset_title as dataset_name
from study.report import cells
from study.report.error_rates import ErrorRates
from study.report.formats import (
    diff_with_ci,
    epoch_time,
    macs_text,
    mde_text,
    p_is,
    pp,
    seconds,
    signed_pp,
    times,
)
from study.results.outcomes import COLLAPSED, DIVERGED
from study.words import counted

# How the report names a p-value adjusted for its family (the block's comparisons; study.analyse.decide).
ADJUSTED = "adjusted p"

# Why a look gave a comparison more seeds (study.analyse.sequential.Reason), as the report and the run's log
# say it.
REASON_WORDS: dict[str, str] = {
    Reason.DIFFERENCE: "the difference could become significant",
    Reason.EQUIVALENCE: "the interval could fit inside the margin",
    Reason.FAILURE_RATE: "the failure rate could differ significantly",
    Reason.TOO_FEW_LEARNED: "too few seeds learned to compare accuracy",
}


def verdict_meanings(alpha: float = ALPHA) -> dict[Verdict, str]:
    """What each verdict means, at the analysis' level ``alpha`` (0.05, or Pocock's per-look level)."""
    return {
        Verdict.BETTER: f"higher accuracy than the baseline: its 1 - {alpha:.3g}/m interval excludes zero "
        f'(Bonferroni-adjusted p < {alpha:.3g}); marked "small but real difference" when that interval also '
        "lies inside the equivalence margin",
        Verdict.WORSE: f"lower accuracy than the baseline: its 1 - {alpha:.3g}/m interval excludes zero "
        f'(Bonferroni-adjusted p < {alpha:.3g}); marked "small but real difference" as for better',
        Verdict.EQUIVALENT: f"the same 1 - {alpha:.3g}/m interval of the difference, containing zero, inside "
        "the dataset's equivalence margin",
        Verdict.INCONCLUSIVE: "neither significant nor shown equivalent: the CI is wider than the margin",
        Verdict.UNTESTABLE: "the paired differences have no spread (ties) and no paired noise model could be "
        "fitted to moderate them, so no test or interval is possible",
        Verdict.TOO_FEW_SEEDS: "fewer than 2 learned seeds on a side: no accuracy comparison",
        Verdict.DOES_NOT_LEARN: "no seed of the value learned while the baseline did; decisive only when the "
        "failure-rate test is significant",
        Verdict.NEITHER_LEARNS: "neither the value nor the baseline learned in any seed: nothing to compare",
        Verdict.ONLY_VALUE_LEARNS: "the baseline learned in no seed; the value did in some",
        Verdict.DIVERGED: "every seed of the value diverged (NaN/inf loss)",
        Verdict.REFERENCE: "the baseline itself (the row every value is compared with)",
    }


def adaptation_text(deviation: Deviation, title: str) -> str:
    """A generated adaptation note: where the baseline departs from the reference table (``title``) and
    how the reference value fared in this run, in every experiment that trained it, from the run's numbers."""
    text = f"{deviation.setting} {deviation.used} instead of {title}'s {deviation.reference}."
    if not deviation.runs:
        return text + f" No experiment of this study trained {deviation.reference}."

    def fared(arm) -> str:
        mean = f", {arm.mean * 100:.1f}% where it learned" if arm.learned else ""
        seeds = f" ({seed_range(arm.seeds)}{failures_text(arm)})" if arm.seeds else ""
        return f"learned in {arm.learned} of {arm.finished} seeds{seeds}{mean}"

    for run in deviation.runs:
        longer = f", {run.epochs_factor:g} times the epochs" if run.epochs_factor != 1 else ""
        if longer and run.schedule and run.schedule != "constant":
            longer += (
                " (trials of their own: the rate decays over each trial's own steps, so even their first "
                "epochs are not the shorter run's)"
            )
        parts = [
            f"on {dataset_name(dataset)}, {deviation.reference} {fared(ref)}, the baseline's {deviation.used} "
            f"{fared(base)}"
            for dataset, (ref, base) in run.datasets.items()
        ]
        text += (
            f" In this run's experiment '{display_name(run.experiment)}'{longer}: "
            + "; ".join(parts)
            + "."
        )
    if deviation.missing:
        text += (
            f" {deviation.reference} was not trained on "
            + ", ".join(dataset_name(d) for d in deviation.missing)
            + " in this study."
        )
    return text


def seed_range(seeds: tuple[int, ...]) -> str:
    """'seeds 1-6' for consecutive seeds, else 'seeds 1, 3, 8'."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)


def looks_text(summary: LookSummary) -> str:
    """The sequential design in words: looks, level, and how many comparisons got more seeds and why."""
    if summary.looks <= 1:
        return (
            f"One look: every value trained its seeds and every comparison is tested once, at "
            f"alpha = {summary.alpha:.3g} within each experiment and dataset (Bonferroni over its m values)."
        )
    from collections import Counter

    reasons = Counter(stage.reason for stage in summary.added)
    added = (
        "; ".join(
            f"{count} because {REASON_WORDS.get(reason, reason)}"
            for reason, count in reasons.items()
        )
        if summary.added
        else "none was both undecided and decidable"
    )
    cap = f", at most {summary.max_trials} trials in all" if summary.max_trials else ""
    return (
        f"Seeds in stages ({summary.looks} looks): the first look trained {summary.first_seeds} seeds per value "
        f"and {summary.baseline_seeds} per baseline; after it, each comparison still undecided that more seeds "
        f"could decide got more, up to {summary.max_seeds} per value, cheapest first{cap}. Comparisons that got "
        f"more seeds: {len(summary.added)} ({added}). Every look and every verdict tests at Pocock's level "
        f"alpha = {summary.alpha:.4f} for {summary.looks} looks (within each experiment and dataset, "
        f"Bonferroni over its m values), so "
        f"that looking again does not inflate the error rates (docs/ERROR_RATES.md of the study source "
        "measures them by simulation)."
    )


def display_name(experiment: str) -> str:
    """An experiment's (or a parameter's) name as prose shows it: ``kernel_size`` -> ``kernel size``."""
    return experiment.replace("_", " ")


def value_name(block: Block, value: ValueSummary) -> str:
    """A value as prose names it, by the parameter it sets: 'kernel size = 3' (in the section of
    ``kernel_size_at_lr_0.05`` too, whose heading already says around which baseline)."""
    return f"{display_name(block.parameter)} = {value.label}"


def rates_text(rates: Rates) -> str:
    """'failed to learn in 4/4 seeds (95% CI 40-100%) vs the baseline's 0/4 (0-60%)'."""
    low, high = rates.ci
    base = rates.base_ci
    return (
        f"failed to learn in {rates.k}/{rates.n} seeds (95% CI {low * 100:.0f}-{high * 100:.0f}%) vs the "
        f"baseline's {rates.base_k}/{rates.base_n} ({base[0] * 100:.0f}-{base[1] * 100:.0f}%)"
    )


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
        return (
            f"On {dataset}, the baseline value {base.label} has no finished seed yet, so no value of "
            f"{name} can be compared; {block.missing} trial(s) are missing."
        )
    parts = [
        f"On {dataset}, the baseline {value_name(block, base)} {outcome_text(base)} seeds"
        + (
            f" and reaches {base.final_learned.mean * 100:.1f}% final validation accuracy over its learned seeds."
            if base.learned
            else "."
        )
    ]
    if base.learned == 0:
        parts.append(
            f"The baseline did not learn in any seed, so this budget cannot tell what {name} does on "
            f"{dataset}: a value can only be seen to learn where the baseline does not."
        )
    elif base.learned < base.finished:
        parts.append(
            f"The baseline itself failed to learn in {base.finished - base.learned} of {base.finished} "
            f"seeds; they count in the failure-rate test, and its accuracy rests on the {base.learned} "
            f"that learned."
        )
    groups: dict[Verdict, list[Comparison]] = {}
    for record in block.compared:
        groups.setdefault(record.verdict, []).append(record)

    def named(r: Comparison) -> str:
        return value_name(block, block.value(r.value) or base)

    def described(records: list[Comparison]) -> str:
        return ", ".join(
            f"{named(r)} ({interval_text(r)}, {record_test_text(r)}, seeds {tested_seeds_text(r)}, "
            f"{p_is(r.p_adjusted, ADJUSTED)})"
            for r in records
        )

    if groups.get(Verdict.BETTER):
        parts.append(f"Higher accuracy than the baseline: {described(groups[Verdict.BETTER])}.")
    if groups.get(Verdict.WORSE):
        parts.append(f"Lower accuracy than the baseline: {described(groups[Verdict.WORSE])}.")
    if groups.get(Verdict.EQUIVALENT):
        parts.append(
            "Equivalent within the margin of ±"
            + pp(block.margin, signed=False)
            + ": "
            + ", ".join(
                f"{named(r)} (the {cells.level_text(r.level)} CI excludes effects larger than "
                f"{pp(max(abs(r.low), abs(r.high)), signed=False)}" + ")"
                for r in groups[Verdict.EQUIVALENT]
            )
            + "."
        )
    if groups.get(Verdict.INCONCLUSIVE):
        parts.append(
            "Inconclusive (neither significant nor inside the margin): "
            + ", ".join(
                f"{named(r)} ({interval_text(r)}, {cells.level_text(r.level)} CI; smallest detectable "
                f"at 80% power: {mde_text(r.detectable)})"
                for r in groups[Verdict.INCONCLUSIVE]
            )
            + "."
        )
    for word in (
        Verdict.UNTESTABLE,
        Verdict.TOO_FEW_SEEDS,
        Verdict.DOES_NOT_LEARN,
        Verdict.NEITHER_LEARNS,
        Verdict.ONLY_VALUE_LEARNS,
        Verdict.DIVERGED,
    ):
        if groups.get(word):
            parts.append(
                f"{word[0].upper()}{word[1:]}: " + ", ".join(named(r) for r in groups[word]) + "."
            )
    rate_changes = [r for r in block.compared if r.rate_differs]
    if rate_changes:
        parts.append(
            "Failure to learn differs from the baseline (Boschloo, adjusted within the experiment): "
            + ", ".join(
                f"{named(r)} {record_rates_text(r)} ({p_is(r.p_rate_adjusted, ADJUSTED)})"
                for r in rate_changes
            )
            + "."
        )
    unstable = [
        f"{value_name(block, v)} ({outcome_text(v)})" for v in block.comparisons if v.mixed
    ]
    if unstable:
        parts.append("Learned in some seeds only: " + ", ".join(unstable) + ".")
    paired = [v.label for v, pair in zip(block.comparisons, block.paired) if pair]
    r = block.correlation
    if r is not None and math.isfinite(r.r):
        parts.append(
            (
                f"Paired with the baseline by design (same initial weights per seed): {', '.join(paired)}. "
                if paired
                else "No value shares the baseline's initial weights, so none is paired. "
            )
            + f"Measured, as a check of that rule (it chooses no test): seed-to-seed correlation with the "
            f"baseline r = {r.r:.2f} over {r.pairs} seed pairs."
        )
    elif paired:
        parts.append(
            f"Paired with the baseline by design (same initial weights per seed): {', '.join(paired)}."
        )
    if math.isfinite(block.mde):
        # one number only where the comparisons agree: a value that keeps its own larger variance (or has more
        # seeds) detects less (or more) than the others, and a median of two would be neither's
        low, high = (
            pp(min(block.detectables), signed=False),
            pp(max(block.detectables), signed=False),
        )
        detects = (
            f"a comparison detects differences of about {low}"
            if low == high
            else f"its comparisons detect differences of {low} to {high} (median "
            f"{pp(block.mde, signed=False)}; each one's in the MDE column)"
        )
        reach = (
            f" and{' at the median' if low != high else ''} could confirm equivalence within "
            f"±{pp(block.confirmable_margin, signed=False)}"
            if math.isfinite(block.confirmable_margin)
            else ""
        )
        parts.append(
            f"With the learned seeds of this block and the variances its tests use (the dataset's pooled seed "
            f"SD is {pp(block.spread, signed=False)}), {detects} at 80% power{reach} (the margin is "
            f"±{pp(block.margin, signed=False)})."
        )
    elif block.comparisons:
        parts.append(
            "No comparison of this block has two learned seeds on both sides: no detectable difference "
            "can be stated at this budget."
        )
    cost = cost_text(block)
    if cost:
        parts.append(cost)
    if block.missing:
        parts.append(
            f"{block.missing} trial(s) are still missing; the statistics rest on the seeds shown."
        )
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
        parts = [
            f"Every value costs about {seconds(fastest.cost.median_epoch_s)} s per epoch (median over seeds)."
        ]
    else:
        parts = [
            f"Training costs from {epoch_time(fastest.cost)} per epoch ({name} = {fastest.label}, "
            f"{macs_text(fastest.cost.macs)} per image) to {epoch_time(slowest.cost)} ({name} = {slowest.label}, "
            f"{macs_text(slowest.cost.macs)}): median over seeds, fastest to slowest seed in brackets."
        ]
        extreme = slowest if slowest is not block.baseline else fastest
        ratio = cost_ratio(extreme.cost, block.baseline.cost)
        if ratio.defined:
            parts.append(
                f"{name} = {extreme.label} takes {times(ratio)} the baseline's time per epoch "
                f"(range: any seed against any baseline seed)."
            )
    dropped = sum(v.cost.first_epoch_dropped for v in timed)
    single = sum(v.cost.may_include_trace for v in timed)
    if dropped:
        parts.append(
            f"{dropped} seed(s) were stored before graph tracing was timed apart: each is costed on its "
            f"epochs after the first, which may include tracing."
        )
    if single:
        parts.append(
            f"{single} one-epoch seed(s) stored before graph tracing was timed apart are costed on that "
            f"epoch, which may include tracing."
        )
    return " ".join(parts)


def knob_names(study: Study) -> dict[str, str]:
    """Every experiment's name as section 1's prose shows it, under its group's heading: an experiment that
    repeats another part's experiment under a longer name (same parameter, that name plus ``_...``) reads as
    that one (``filters_at_lr_0.05`` -> ``filters``); else the parameter it varies when its name starts with
    it and no other experiment of its group varies it; else ``display_name``. Names stay unique in a group."""
    names = {}
    for e in study.experiments:
        originals = [
            o.name
            for o in study.experiments
            if o.group != e.group
            and o.parameter == e.parameter
            and e.name.startswith(o.name + "_")
        ]
        rivals = [
            o for o in study.experiments if o.group == e.group and o.parameter == e.parameter
        ]
        names[e.name] = (
            display_name(min(originals, key=len))
            if originals
            else display_name(e.parameter)
            if e.name.startswith(e.parameter) and len(rivals) == 1
            else display_name(e.name)
        )
    for e in (
        study.experiments
    ):  # a shortened name that would read like another of its group's keeps its own
        if any(
            o.name != e.name and o.group == e.group and names[o.name] == names[e.name]
            for o in study.experiments
        ):
            names[e.name] = display_name(e.name)
    return names


def _test_words(test: str, n_a: int, n_b: int, dof: float) -> str:
    seeds = (
        f"{n_a} seed pair{'s' if n_a != 1 else ''}"
        if test.startswith("paired t")
        else f"{n_a} vs {n_b} learned seeds"
    )
    dof_text = (
        "variance taken as known"
        if math.isinf(dof)
        else "df undefined"
        if math.isnan(dof)
        else f"{dof:.1f} df"
    )
    return f"{test}, {seeds}, {dof_text}"


def interval_text(effect: Comparison) -> str:
    """'-33.9 pp [-51.7, -16.2]' (the interval the verdict uses, at its level); a difference without an
    interval says why."""
    if effect.standing == Standing.INTERVAL:
        return f"{pp(effect.diff)} [{signed_pp(effect.low)}, {signed_pp(effect.high)}]"
    if effect.standing == Standing.POINT:
        n = len(effect.seeds_value)
        return f"{pp(effect.diff)} (no interval: " + (
            "one seed pair)" if effect.paired and n < 2 else "n < 2)" if n < 2 else "tied seeds)"
        )
    return "–"


def _no_difference(answer: KnobAnswer) -> str:
    if answer.baseline_finished and answer.baseline_failed == answer.baseline_finished:
        return f"baseline learned 0/{answer.baseline_finished}"
    if answer.baseline_finished == 0:
        return "baseline not run yet"
    return "no value learned in 2 or more seeds"


def lead_text(answer: KnobAnswer) -> str:
    """The answer table's effect cell: 'value: difference [interval]', or why the knob has none."""
    lead = answer.lead
    if lead is not None and lead.standing in (Standing.INTERVAL, Standing.POINT):
        return f"{lead.value}: {interval_text(lead)}"
    if lead is not None:
        return f"{lead.value}: no accuracy comparison ({_no_difference(answer)})"
    return f"none ({_no_difference(answer)})"


def fails_text(effect: Comparison) -> str:
    """'fails to learn more often' or 'less often', by the two failure rates ('' when they are equal)."""
    if effect.fails_more is None:
        return ""
    return f"fails to learn {'more' if effect.fails_more else 'less'} often"


def record_verdict_text(effect: Comparison) -> str:
    """A value's verdict as every table and section 1 show it (with 'small but real' and a decided failure
    rate)."""
    text = str(effect.verdict)
    if effect.small_but_real:
        text += " (small but real difference)"
    if effect.rate_differs and effect.fails_more is not None:
        text += "; " + fails_text(effect)
    return text


def record_test_text(effect: Comparison) -> str:
    """'Welch t, moderated variances, 3 vs 9 learned seeds, 3.5 df' - what an accuracy comparison rests on."""
    return _test_words(
        effect.test or "", len(effect.seeds_value), len(effect.seeds_baseline), effect.dof
    )


def _levels(records: list[Comparison]) -> list[float]:
    """The distinct confidence levels of ``records``' intervals, lowest first."""
    return sorted({r.level for r in records if math.isfinite(r.level)})


def levels_text(block: Block) -> str:
    """The confidence level of a block's intervals ('98.3%'; several joined when looks differ)."""
    levels = _levels(block.compared)
    return " / ".join(cells.level_text(x) for x in reversed(levels)) or "95%"


def tested_seeds_text(effect: Comparison) -> str:
    """The seeds the accuracy test used: '1–3' (paired: the same seeds) or '1–3 vs 1–9'."""
    if effect.paired:
        return cells.seeds_text(effect.seeds_value)
    return f"{cells.seeds_text(effect.seeds_value)} vs {cells.seeds_text(effect.seeds_baseline)}"


def record_rates_text(effect: Comparison) -> str:
    """'failed to learn in 4/4 seeds (95% CI 40-100%) vs the baseline's 0/4 (0-60%)'."""
    return rates_text(
        Rates(
            effect.failed,
            effect.finished,
            effect.baseline_failed,
            effect.baseline_finished,
            effect.p_rate,
        )
    )


def collapse_cell(effect: Comparison) -> str:
    """'2/6 (4–78%) vs 0/9, adjusted p 0.509' - the failure counts with the value's exact interval."""
    rates = Rates(
        effect.failed,
        effect.finished,
        effect.baseline_failed,
        effect.baseline_finished,
        effect.p_rate,
    )
    low, high = rates.ci
    text = (
        f"{rates.k}/{rates.n} ({low * 100:.0f}–{high * 100:.0f}%) vs {rates.base_k}/{rates.base_n}"
    )
    if math.isfinite(effect.p_rate_adjusted):
        text += f", {ADJUSTED} {cells.p_cell(effect.p_rate_adjusted)}"
    return text


def answer_verdict_text(answer: KnobAnswer) -> str:
    """The lead's verdict; without a lead, every value's verdict counted ('neither learns (3)')."""
    if answer.lead is not None:
        return record_verdict_text(answer.lead)
    counts: dict[str, int] = {}
    for e in answer.effects:
        counts[str(e.verdict)] = counts.get(str(e.verdict), 0) + 1
    return ", ".join(f"{v} ({n})" for v, n in counts.items()) or "no value"


def trace_text(effect: Comparison) -> str:
    """What a verdict rests on: 'Welch t, moderated variances, 3 vs 9 learned seeds (seeds 1–3 vs 1–9),
    3.5 df, adjusted p = 0.012', and the failure-rate test where it decides or where no accuracy test was
    possible."""
    parts = []
    if effect.test is not None:
        parts.append(
            f"{record_test_text(effect)}, seeds {tested_seeds_text(effect)}, "
            f"{p_is(effect.p_adjusted, ADJUSTED)}"
        )
    if math.isfinite(effect.p_rate_adjusted) and (effect.rate_differs or effect.test is None):
        parts.append(
            f"failed to learn {effect.failed}/{effect.finished} vs the baseline's {effect.baseline_failed}/"
            f"{effect.baseline_finished}, Boschloo exact test, {p_is(effect.p_rate_adjusted, ADJUSTED)}"
        )
    if not parts:
        learned = effect.finished - effect.failed
        base = effect.baseline_finished - effect.baseline_failed
        parts.append(f"no test: {learned} learned seeds of the value, {base} of the baseline")
    return "; ".join(parts)


def knob_trace_text(answer: KnobAnswer) -> str:
    """The test behind a knob's row: its lead's, or why no value was tested."""
    if answer.lead is not None:
        return trace_text(answer.lead)
    return (
        f"no accuracy test ({_no_difference(answer)}); no failure-rate test (Boschloo, Bonferroni) significant: "
        f"each value's in section 3 and verdicts.csv"
    )


def failed_text(answer: KnobAnswer, shown: int = 2) -> str:
    """'6/12: tanh (3/3), linear (3/3) (+1)' (+1: one more value with failures) over the knob's
    non-baseline values; '0/12'. A label is never run into its count ('2 3/3' for a learning rate 2)."""
    if not answer.failed:
        return f"0/{answer.finished}"
    if answer.failed == answer.finished:
        return f"{answer.failed}/{answer.finished}: every value, every seed"
    named = ", ".join(f"{value} ({k}/{n})" for value, k, n in answer.failing[:shown])
    more = len(answer.failing) - shown
    return f"{answer.failed}/{answer.finished}: {named}" + (f" (+{more})" if more > 0 else "")


def ratio_text(cost: CostRatio) -> str:
    """A cost ratio with its range over seeds, '1.61x (1.51–1.66)'; the one formatter of section 1's cost."""
    return times(cost) if cost.defined else "–"


SCHEDULE_WORDS = {
    "constant": "constant",
    "linear": "decayed linearly to zero over each trial's own steps",
    "cosine": "decayed along a half cosine to zero over each trial's own steps",
    "step": "divided by 10 after half and after three quarters of each trial's steps",
}
SCALING_WORDS = {
    "unit": "pixels / 255",
    "center": "minus the training images' per-channel mean",
    "standardize": "standardised with the training images' per-channel mean and SD",
}


def recipe_text(budget: Budget) -> str:
    """'learning rate 0.05, decayed linearly to zero over each trial's own steps; inputs standardised ...'"""
    rate = (
        f"learning rate {budget.learning_rate:g}, "
        if math.isfinite(budget.learning_rate)
        else "learning rate "
    )
    return f"{rate}{SCHEDULE_WORDS[budget.schedule]}; inputs {SCALING_WORDS[budget.input_scaling]}"


def check_pairs_text(check: BudgetCheck) -> str:
    """The seeds a budget check rests on: '6 seed pairs' (paired) or '3 and 9 seeds' (Welch)."""
    c = check.comparison
    if c is None:
        return f"{check.seeds} and {check.baseline_seeds} seeds"
    return f"{c.n_a} seed pairs" if "paired" in c.test else f"{c.n_a} and {c.n_b} seeds"


def budget_check_sentence(check: BudgetCheck, dataset: str, declared: int) -> str:
    """Section 1's budget check: how far this budget is from the baseline trained longer, and what follows
    for the claims: a budget below the study's ``declared`` epochs judges claims about final accuracy only
    where the check passes; at the declared epochs they are judged as declared, and the check says how far
    from converged that budget is."""
    head = (
        f"Budget check: trained for {check.longer_epochs} epochs instead of {check.epochs}, the baseline's "
        f"accuracy changes by {diff_with_ci(check.comparison)} ({check_pairs_text(check)}; {check.verdict})"
    )
    margin = pp(check.margin, signed=False)
    if check.passed:
        return (
            head
            + f", the whole interval inside the ±{margin} margin: {check.longer_epochs / check.epochs:g} times "
            f"the epochs would not move {dataset}'s accuracy by more than the margin, so claims about final "
            "accuracy are judged at this budget (a necessary check, not a proof that the study's full epochs "
            "would agree)."
        )
    if check.epochs >= declared:
        return (
            head
            + f": the interval reaches past the ±{margin} margin, so the study's own {declared} epochs do not "
            f"reach {dataset}'s final accuracy. The differences below are differences after this many steps "
            "(learning speed as much as final accuracy); claims are judged at the epochs the study declares, "
            "as made (section 4), and hold for that budget."
        )
    return (
        head
        + f": the interval reaches past the ±{margin} margin, so this budget does not reach {dataset}'s final "
        "accuracy. The differences below are differences after this many steps (learning speed as much as "
        "final accuracy), and claims about final accuracy are not testable at it (section 4)."
    )


def budget_check_short(check: BudgetCheck, dataset: str) -> str:
    """'CIFAR-10, 9 against 3 epochs: +6.8 pp (97.1% CI 5.2 to 8.4), better: not passed'"""
    return (
        f"{dataset}, {check.longer_epochs} against {check.epochs} epochs: {diff_with_ci(check.comparison)}, "
        f"{check.verdict}: {'passed' if check.passed else 'not passed'}"
    )


def judged_text(judged_at: str, measured: str, testable: bool, at_budget: str) -> str:
    """The findings table's 'Judged at' cell: where the claim's verdict was read, or why it could not be."""
    if judged_at == "speed":
        return "its own epoch (learning speed)"
    if judged_at == "budgets":
        return "the runs it names, at their own budgets"
    if not measured:
        return "the study's epochs"
    if testable:
        return f"after {measured}: the budget check passed"
    if at_budget:
        return (
            f"after {measured}; budget check not passed: at this budget its test reads {at_budget}"
        )
    return f"after {measured}"


def budget_sentence(budget: Budget, dataset: str) -> str:
    """The budget as a student reads it: images, epochs, batch, SGD steps, the recipe, seeds."""
    return (
        f"On {dataset}, each baseline trial trained on {budget.train_images:,} images (and was validated on "
        f"{budget.test_images:,}) for {budget.epochs} epoch{'s' if budget.epochs != 1 else ''} in batches of "
        f"{budget.batch_size} at {recipe_text(budget)}: {budget.steps_per_epoch:,} SGD steps an epoch, "
        f"{budget.steps:,} in all"
        + (
            "; a value with another batch size takes another number of steps in all ("
            + ", ".join(f"batch {b}: {steps:,}" for b, steps in budget.batch_sizes)
            + ")"
            if budget.batch_sizes
            else ""
        )
        + f". Each value ran {counted(budget.value_seeds, 'seed')}, the baseline {budget.baseline_seeds}"
        + (
            f"; {counted(budget.more_values, 'value')} undecided after the first look "
            f"{'ran' if budget.more_values == 1 else 'each ran'} {budget.more_seeds}"
            if budget.more_values
            else ""
        )
        + ". The accuracy after this many steps measures how fast a configuration learns as much as where "
        "it ends."
    )


def _values(effects: tuple[Comparison, ...], names: dict[str, str], how) -> str:
    by_knob: dict[str, list[str]] = {}
    for e in effects:
        by_knob.setdefault(e.experiment, []).append(how(e))
    return "; ".join(f"{names.get(k, display_name(k))} {', '.join(v)}" for k, v in by_knob.items())


def fact_text(fact: Fact, names: dict[str, str]) -> str:
    """One fact of section 1 as a sentence (its evidence label and its part of the study are shown beside it)."""
    name = names.get(fact.experiment, display_name(fact.experiment))
    e = fact.effects
    if fact.kind == FactKind.ACCURACY:
        return (
            f"{name}: "
            + "; ".join(
                f"{x.value} is {x.verdict}"
                + (
                    f" than the baseline, {interval_text(x)}"
                    if x.verdict != Verdict.EQUIVALENT
                    else f" to the baseline, {interval_text(x)}"
                )
                for x in e
            )
            + "."
        )
    if fact.kind == FactKind.FAILURE_RATE:
        return (
            f"{name}: "
            + "; ".join(
                f"{x.value} failed to learn in {x.failed} of {x.finished} seeds against the baseline's "
                f"{x.baseline_failed} of {x.baseline_finished}"
                for x in e
            )
            + "."
        )
    if fact.kind == FactKind.BASELINE_FAILS:
        first = e[0]
        knobs = len({x.experiment for x in e})
        rescued = tuple(x for x in e if x.failed < x.finished)
        text = (
            f"The baseline of {knobs} knob{'s' if knobs != 1 else ''} learned in 0 of "
            f"{first.baseline_finished} seeds, so no value around it can be compared on accuracy"
        )
        if rescued:
            text += "; values that learned where it did not: " + _values(
                rescued, names, lambda x: f"{x.value} ({x.finished - x.failed}/{x.finished})"
            )
        return text + "."
    if fact.kind == FactKind.COST:
        return (
            "Training time against the baseline's, every seed beyond 2x or below 0.5x: "
            + _values(e, names, lambda x: f"{x.value} {ratio_text(x.cost)}")
            + "."
        )
    if fact.kind == FactKind.NEVER_LEARNED:
        return (
            "Learned in no seed, while the baseline did in some: "
            + _values(e, names, lambda x: f"{x.value} (0/{x.finished})")
            + "; too few seeds for the failure-rate test to decide."
        )
    if fact.kind == FactKind.LARGEST_UNDECIDED:
        x = e[0]
        return (
            f"The largest difference no verdict decided: {name} {x.value}, {interval_text(x)} "
            f"({cells.level_text(x.level)} CI, seeds {tested_seeds_text(x)}; {x.verdict})."
        )
    raise ValueError(f"no wording for fact kind {fact.kind!r}")


STANDING_LABELS = {
    Standing.DID_NOT_LEARN: "did not learn",
    Standing.BASELINE_DID_NOT_LEARN: "baseline did not learn",
    Standing.TOO_FEW_SEEDS: "too few learned seeds",
    Standing.POINT: "no interval",
}


def forest_headers(
    answers: list[KnobAnswer], names: dict[str, str], references: dict[str, str] | None = None
) -> dict[str, str]:
    """The forest plot's group headers: 'kernel size (baseline 5, 6/9 failed)'; ``references`` names a grid's
    reference as its chosen cell ('solver (baseline sgd at learning rate 0.15)')."""
    references = references or {}
    return {
        a.experiment: f"{names.get(a.experiment, display_name(a.experiment))} (baseline "
        + references.get(a.experiment, str(a.baseline))
        + (f", {a.baseline_failed}/{a.baseline_finished} failed)" if a.baseline_failed else ")")
        for a in answers
    }


def forest_part_titles(groups: list[str], dataset: str, datasets: list[str]) -> dict[str, str]:
    """Each part of the study (an experiment's ``group``) as one dataset's forest plot titles its panel: a
    closing parenthesis that lists the study's datasets ('Architecture (MNIST and CIFAR-10)') names only the
    dataset drawn ('Architecture (MNIST)'); a title that names other datasets elsewhere says which is shown."""
    titles = {dataset_name(d) for d in datasets}
    shown = dataset_name(dataset)
    out = {}
    for group in groups:
        head, _, tail = group.rpartition(" (")
        listed = tail[:-1].replace(" and ", ", ").split(", ") if tail.endswith(")") else []
        if head and listed and all(name in titles for name in listed):
            out[group] = f"{head} ({shown})"
        elif any(name in group for name in titles - {shown}):
            out[group] = f"{group}: {shown} only"
        else:
            out[group] = group
    return out


def forest_scale_text(symlog: bool, linear_within: float) -> str:
    """The forest plot's x axis in words, as the figure drew it (``figures.ForestScale``)."""
    if not symlog:
        return "The axis is linear."
    return (
        f"The differences span far more than the margin, so the axis is linear within ±{linear_within:g} pp "
        "(twice the margin) and logarithmic beyond, so that small effects stay visible beside large ones; "
        "interval widths are comparable only inside the linear part."
    )


def _setting(key: str, value) -> str:
    shown = "/".join(str(v) for v in value) if isinstance(value, (list, tuple)) else value
    return (
        f"{display_name(key)} {shown:g}"
        if isinstance(shown, float)
        else f"{display_name(key)} {shown}"
    )


def value_settings(experiment) -> list[str]:
    """What an experiment's values set besides its knob, one sentence per kind (empty when each value sets
    only the knob): the experiment's own changes to the baseline (``base``), the settings a value brings
    with it ('sgd+momentum: learning rate 0.005') and those it takes on one dataset only (``adapt``). A
    grid's cells are not listed here (``grid_words.tuned_values_text`` states them)."""
    sentences = []
    if experiment.base:
        sentences.append(
            "Every value of this experiment, its baseline included, also sets "
            + ", ".join(_setting(k, v) for k, v in experiment.base.items())
            + "."
        )
    extra = [
        (v.label, [_setting(k, x) for k, x in v.params.items() if k != experiment.parameter])
        for v in experiment.values
        if getattr(experiment, "grid", None)
        is None  # a grid's cells: the setup's grid line lists them
    ]
    if any(settings for _, settings in extra):
        sentences.append(
            f"Settings each value sets besides {display_name(experiment.parameter)}: "
            + "; ".join(
                f"{label}: {', '.join(settings) if settings else 'none'}"
                for label, settings in extra
            )
            + "."
        )
    adapted = [
        f"{v.label} on {dataset_name(d)}: {', '.join(_setting(k, x) for k, x in params.items())}"
        for v in experiment.values
        for d, params in v.adapt.items()
    ]
    if adapted:
        sentences.append("Settings a value takes on one dataset only: " + "; ".join(adapted) + ".")
    return sentences


def seeds_used_text(
    value_seeds: dict[tuple[int, ...], int], baseline_seeds: dict[tuple[int, ...], int]
) -> str:
    """The seeds a run trained, from its plan: 'values: seeds 1-3 (12 values), seeds 1-6 (1 value); baselines:
    seeds 1-9' (each seed set with how many values or baselines finished it, the most common first; a set
    every one finished without a count)."""

    def sets(counts: dict[tuple[int, ...], int], noun: str) -> str:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ordered:
            return f"{noun}s: none finished"
        if len(ordered) == 1:
            return f"{noun}s: {seed_range(ordered[0][0])}"
        return f"{noun}s: " + ", ".join(
            f"{seed_range(seeds)} ({counted(n, noun)})" for seeds, n in ordered
        )

    return sets(value_seeds, "value") + "; " + sets(baseline_seeds, "baseline")


BALANCE_TOLERANCE = 0.1  # test classes within 10% of an equal share count as balanced


def dataset_source_text(
    name: str, full_train: int, full_test: int, test_class_counts: tuple[int, ...]
) -> str:
    """How the copy a run read differs from the dataset's standard split ('' when it is that split): a smaller
    local copy ('a subset of standard MNIST: 8,000 of its 60,000 training and 2,000 of its 10,000 test
    images'), and test classes far from equal shares (which raises chance, the best constant answer)."""
    parts = []
    standard = STANDARD_SPLITS.get(name)
    if standard is not None and (full_train, full_test) != standard:
        parts.append(
            f"This copy of {dataset_name(name)} is not the standard one: its splits hold {full_train:,} "
            f"training and {full_test:,} test images where the standard {dataset_name(name)} has "
            f"{standard[0]:,} and {standard[1]:,}"
            + (" (a subset)" if full_train <= standard[0] and full_test <= standard[1] else "")
            + "."
        )
    total = sum(test_class_counts)
    if total and len(test_class_counts) > 1:
        equal = total / len(test_class_counts)
        low, high = min(test_class_counts), max(test_class_counts)
        if high > equal * (1 + BALANCE_TOLERANCE) or low < equal * (1 - BALANCE_TOLERANCE):
            parts.append(
                f"Its test images used are not balanced across classes: {low:,} to {high:,} per class "
                f"({low / total * 100:.1f}% to {high / total * 100:.1f}%, against {100 / len(test_class_counts):.1f}% "
                f"each in a balanced split), so chance, the best constant answer, is {high / total * 100:.1f}%."
            )
    return " ".join(parts)


def failures_text(arm) -> str:
    """'; seeds 4, 5 diverged (at epochs 2, 1), seed 6 at chance after 9 epochs' - each failed seed with the
    epoch its own trial decided it at (``ArmFacts.failures``); '' when every seed learned."""
    diverged = [f for f in arm.failures if f.outcome == DIVERGED]
    collapsed = [f for f in arm.failures if f.outcome != DIVERGED]
    parts = []
    if diverged:
        epochs = ", ".join(str(f.epoch) for f in diverged)
        parts.append(
            f"{seed_range(tuple(f.seed for f in diverged))} diverged (at epoch{'s' if len(diverged) > 1 else ''} "
            f"{epochs})"
        )
    if collapsed:
        parts.append(
            f"{seed_range(tuple(f.seed for f in collapsed))} at chance after "
            f"{collapsed[0].epoch} epoch{'s' if collapsed[0].epoch != 1 else ''}"
        )
    return "; " + ", ".join(parts) if parts else ""


def study_levels_text(analysis: Analysis) -> str:
    """The interval levels the run's verdicts use: '95% (one compared value) to 98.75% (four)'."""
    by_family = sorted(
        {
            (r.family, r.level)
            for block in analysis.blocks.values()
            for r in block.compared
            if r.family and math.isfinite(r.level)
        }
    )
    if not by_family:
        return cells.level_text(1 - analysis.alpha)
    (m_low, low), (m_high, high) = by_family[0], by_family[-1]
    if m_low == m_high:
        return f"{cells.level_text(low)} (m = {m_low})"
    return f"{cells.level_text(low)} (m = {m_low}) to {cells.level_text(high)} (m = {m_high})"


def simulated_text(rates: ErrorRates) -> dict[str, str]:
    """The simulated error rates the report quotes, as text, from ``benchmarks/error_rates.py``'s data (never
    retyped): the mean and worst familywise false better/worse rate per experiment and dataset, the chance of
    one anywhere on a dataset, the false equivalence rate at a true difference of one margin, and the realised
    power at the stated detectable difference."""
    null = rates.null[0].false_better_or_worse
    at_margin = rates.margin_scenarios[0]
    power = rates.power

    def share(x: float) -> str:
        return (
            "–" if not math.isfinite(x) else f"{x * 100:.0f}%" if x >= 0.1 else f"{x * 100:.1f}%"
        )

    return {
        "reps": f"{rates.reps:,}",
        "familywise": share(null.mean_over_blocks.rate),
        "worst": share(null.worst.rate),
        "per_dataset": share(null.per_dataset.rate),
        "false_equivalent": share(at_margin.false_equivalent.rate),
        "power_at_stated": share(power.power_at_stated),
        "crossing_ratio": "–"
        if not (math.isfinite(power.crossing_sd) and power.stated_sd > 0)
        else f"{power.crossing_sd / power.stated_sd:.1f}",
    }


def interval_label(records: list[Comparison]) -> str:
    """The label of the intervals a figure draws: '95% CI', or '95–98.8% CI (1 − α/m)' where the experiments'
    families differ in size."""
    levels = _levels(records)
    if not levels:
        return "95% CI"
    if len(levels) == 1:
        return f"{cells.level_text(levels[0])} CI"
    return f"{levels[0] * 100:.3g}–{cells.level_text(levels[-1])} CI (1 − α/m)"


def paired_model_text(prior: Prior | None) -> str:
    """The noise model of paired differences as the 'What this run can tell' table shows it: its SD, d0 and
    how many paired comparisons it rests on ('0.29 pp (d0 = 1.5, 21 paired comparisons)'); why there is none."""
    if prior is None:
        return "no paired comparison"
    if not prior.usable:
        return "too few paired comparisons: each paired test uses its own variance"
    dof = "∞" if math.isinf(prior.dof) else f"{prior.dof:.1f}"
    caution = (
        "; d0 = ∞: their variances differ no more than sampling explains, so one pooled variance serves "
        f"them all, with the {prior.pooled:.0f} degrees of freedom it pools"
        if math.isinf(prior.dof)
        else ""
    )
    return f"{pp(prior.sd, signed=False)} (d0 = {dof}, {prior.configurations} paired comparisons{caution})"


def class_effect_text(effect: ClassEffect) -> str:
    """'-4.2 pp [-7.9, -0.5]': a value's accuracy on one class minus the baseline's, with its interval."""
    if not (math.isfinite(effect.low) and math.isfinite(effect.high)):
        return (
            f"{signed_pp(effect.diff)} pp (no interval: fewer than 2 learned seeds or no spread)"
        )
    return f"{signed_pp(effect.diff)} pp [{signed_pp(effect.low)}, {signed_pp(effect.high)}]"
