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

from study.analyse.answer import Budget, Effect, Fact, FactKind, KnobAnswer, Standing
from study.analyse.budget_check import BudgetCheck
from study.analyse.comparisons import Block, ValueSummary
from study.analyse.costs import CostRatio, cost_ratio
from study.analyse.formats import (
    diff_with_ci,
    epoch_time,
    macs_text,
    mde_text,
    p_is,
    pp,
    seconds,
    times,
)
from study.analyse.noise import MeanComparison
from study.analyse.overview import Deviation, LookSummary
from study.analyse.stats import ALPHA, Rates, Verdict
from study.declare.spec import Study
from study.declare.spec import dataset_title as dataset_name
from study.results.outcomes import COLLAPSED, DIVERGED


def verdict_meanings(alpha: float = ALPHA) -> dict[Verdict, str]:
    """What each verdict means, at the analysis' level ``alpha`` (0.05, or Pocock's per-look level)."""
    return {
        Verdict.BETTER: f"higher accuracy than the baseline (Holm-adjusted p < {alpha:.3g})",
        Verdict.WORSE: f"lower accuracy than the baseline (Holm-adjusted p < {alpha:.3g})",
        Verdict.EQUIVALENT: f"{(1 - alpha) * 100:.3g}% CI of the difference inside the dataset's equivalence margin; "
        'marked "small but real difference" when that interval also excludes zero',
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


def adaptation_text(deviation: Deviation, title: str) -> str:
    """A generated adaptation note: where the baseline departs from the reference table (``title``) and
    how the reference value fared in this run, in every experiment that trained it, from the run's numbers."""
    text = f"{deviation.setting} {deviation.used} instead of {title}'s {deviation.reference}."
    if not deviation.runs:
        return text + f" No experiment of this study trained {deviation.reference}."

    def fared(arm) -> str:
        mean = f", {arm.mean * 100:.1f}% where it learned" if arm.learned else ""
        seeds = f" ({seed_range(arm.seeds)})" if arm.seeds else ""
        return f"learned in {arm.learned} of {arm.finished} seeds{seeds}{mean}"

    for run in deviation.runs:
        longer = f", {run.epochs_factor:g} times the epochs" if run.epochs_factor != 1 else ""
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
            f"alpha = {summary.alpha:.3g} within each experiment and dataset (Holm)."
        )
    from collections import Counter

    from study.analyse.sequential import REASONS

    reasons = Counter(row["reason"] for row in summary.added)
    added = (
        "; ".join(
            f"{count} because {REASONS.get(reason, reason)}" for reason, count in reasons.items()
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
        f"alpha = {summary.alpha:.4f} for {summary.looks} looks (within each experiment and dataset, Holm), so "
        f"that looking again does not inflate the error rates (docs/ERROR_RATES.md measures them by simulation)."
    )


def test_text(comparison: MeanComparison) -> str:
    """'Welch t, moderated variances, 4 vs 12 learned seeds, 37.2 df' - what a comparison rests on."""
    return _test_words(comparison.test, comparison.n_a, comparison.n_b, comparison.dof)


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
    return (
        "fails to learn "
        + ("more" if rates.rate > (rates.base_rate if rates.base_n else 0.0) else "less")
        + " often"
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
    groups: dict[Verdict, list[ValueSummary]] = {}
    for value in block.comparisons:
        groups.setdefault(value.verdict, []).append(value)

    def named(v: ValueSummary) -> str:
        return value_name(block, v)

    def described(values):
        return ", ".join(
            f"{named(v)} ({diff_with_ci(v.comparison)}, {test_text(v.comparison)}, "
            f"{p_is(v.p_holm, 'Holm p')})"
            for v in values
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
                f"{named(v)} (the {v.comparison.confidence * 100:.3g}% CI excludes effects larger than "
                f"{pp(v.comparison.rules_out, signed=False)}"
                + (
                    "; it also excludes zero: a small but real difference"
                    if v.small_but_real
                    else ""
                )
                + ")"
                for v in groups[Verdict.EQUIVALENT]
            )
            + "."
        )
    if groups.get(Verdict.INCONCLUSIVE):
        parts.append(
            "Inconclusive (neither significant nor inside the margin): "
            + ", ".join(
                f"{named(v)} ({diff_with_ci(v.comparison)}; smallest detectable at 80% power: "
                f"{mde_text(v.decision.detectable)})"
                for v in groups[Verdict.INCONCLUSIVE]
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
                f"{word[0].upper()}{word[1:]}: " + ", ".join(named(v) for v in groups[word]) + "."
            )
    rate_changes = [v for v in block.comparisons if v.rate_differs]
    if rate_changes:
        parts.append(
            "Failure to learn differs from the baseline (Boschloo, Holm-adjusted): "
            + ", ".join(
                f"{named(v)} {rates_text(v.rates)} ({p_is(v.p_rate_holm, 'Holm p')})"
                for v in rate_changes
            )
            + "."
        )
    unstable = [f"{named(v)} ({outcome_text(v)})" for v in block.comparisons if v.mixed]
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
        reach = (
            f" and could confirm equivalence within ±{pp(block.confirmable_margin, signed=False)}"
            if math.isfinite(block.confirmable_margin)
            else ""
        )
        parts.append(
            f"With the learned seeds of this block and the dataset's pooled seed SD "
            f"({pp(block.spread, signed=False)}), a comparison detects differences of about "
            f"{pp(block.mde, signed=False)} at 80% power{reach} (the margin is ±{pp(block.margin, signed=False)})."
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
        if test == "paired t"
        else f"{n_a} vs {n_b} learned seeds"
    )
    dof_text = (
        "variance taken as known (d0 infinite)"
        if math.isinf(dof)
        else "df undefined"
        if math.isnan(dof)
        else f"{dof:.1f} df"
    )
    return f"{test}, {seeds}, {dof_text}"


def interval_text(effect: Effect) -> str:
    """'-33.9 pp [-51.7, -16.2]' (the 95% CI the verdict uses); a difference without an interval says why."""
    if effect.standing == Standing.INTERVAL:
        return f"{pp(effect.diff)} [{effect.low * 100:+.1f}, {effect.high * 100:+.1f}]"
    if effect.standing == Standing.POINT:
        return f"{pp(effect.diff)} (no interval: " + (
            "one seed pair)"
            if effect.test == "paired t" and effect.seeds_value < 2
            else "n < 2)"
            if effect.seeds_value < 2
            else "tied seeds)"
        )
    return "–"


def _no_difference(answer: KnobAnswer) -> str:
    if answer.baseline_finished and answer.baseline_failed == answer.baseline_finished:
        return f"baseline learned 0/{answer.baseline_finished}"
    if answer.baseline_finished == 0:
        return "baseline not run yet"
    return "no value learned in 2 seeds"


def lead_text(answer: KnobAnswer) -> str:
    """The answer table's effect cell: 'value: difference [interval]', or why the knob has none."""
    lead = answer.lead
    if lead is not None and lead.standing in (Standing.INTERVAL, Standing.POINT):
        return f"{lead.value}: {interval_text(lead)}"
    if lead is not None:
        return f"{lead.value}: no accuracy difference ({_no_difference(answer)})"
    return f"none ({_no_difference(answer)})"


def effect_verdict_text(effect: Effect) -> str:
    """A value's verdict as section 1 shows it (with 'small but real' and a decided failure rate)."""
    text = str(effect.verdict)
    if effect.small_but_real:
        text += " (small but real difference)"
    if effect.rate_differs:
        text += (
            "; fails to learn "
            + (
                "more"
                if effect.failed * effect.baseline_finished
                > effect.baseline_failed * effect.finished
                else "less"
            )
            + " often"
        )
    return text


def answer_verdict_text(answer: KnobAnswer) -> str:
    """The lead's verdict; without a lead, every value's verdict counted ('neither learns (3)')."""
    if answer.lead is not None:
        return effect_verdict_text(answer.lead)
    counts: dict[str, int] = {}
    for e in answer.effects:
        counts[str(e.verdict)] = counts.get(str(e.verdict), 0) + 1
    return ", ".join(f"{v} ({n})" for v, n in counts.items()) or "no value"


def trace_text(effect: Effect) -> str:
    """What a verdict rests on: 'Welch t, moderated variances, 3 vs 9 learned seeds, 3.5 df, Holm p = 0.012',
    and the failure-rate test where it decides or where no accuracy test was possible."""
    parts = []
    if effect.test is not None:
        parts.append(
            f"{_test_words(effect.test, effect.seeds_value, effect.seeds_baseline, effect.dof)}, "
            f"{p_is(effect.p_holm, 'Holm p')}"
        )
    if math.isfinite(effect.p_rate_holm) and (effect.rate_differs or effect.test is None):
        parts.append(
            f"failed to learn {effect.failed}/{effect.finished} vs the baseline's {effect.baseline_failed}/"
            f"{effect.baseline_finished}, Boschloo exact test, {p_is(effect.p_rate_holm, 'Holm p')}"
        )
    if not parts:
        parts.append(
            f"no test: {effect.seeds_value} learned seeds of the value, {effect.seeds_baseline} of the baseline"
        )
    return "; ".join(parts)


def knob_trace_text(answer: KnobAnswer) -> str:
    """The test behind a knob's row: its lead's, or why no value was tested."""
    if answer.lead is not None:
        return trace_text(answer.lead)
    return (
        f"no accuracy test ({_no_difference(answer)}); no failure-rate test (Boschloo, Holm) significant: "
        f"each value's in section 3 and verdicts.csv"
    )


def failed_text(answer: KnobAnswer, shown: int = 2) -> str:
    """'6/12: tanh 3/3, linear 3/3 (+1)' (+1: one more value with failures) over the knob's
    non-baseline values; '0/12'."""
    if not answer.failed:
        return f"0/{answer.finished}"
    if answer.failed == answer.finished:
        return f"{answer.failed}/{answer.finished}: every value, every seed"
    named = ", ".join(f"{value} {k}/{n}" for value, k, n in answer.failing[:shown])
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


def budget_check_sentence(check: BudgetCheck, dataset: str) -> str:
    """Section 1's budget check: how far this budget is from the baseline trained longer, and what follows."""
    head = (
        f"Budget check: trained for {check.longer_epochs} epochs instead of {check.epochs}, the baseline's "
        f"accuracy changes by {diff_with_ci(check.comparison)} ({check.pairs}; {check.verdict})"
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
            "; a value with another batch size takes another number of steps ("
            + ", ".join(f"batch {b}: {steps:,}" for b, steps in budget.batch_sizes)
            + ")"
            if budget.batch_sizes
            else ""
        )
        + f". Each value ran {budget.value_seeds} seed{'s' if budget.value_seeds != 1 else ''}"
        + (
            f" ({budget.more_values} that were undecided after the first look: {budget.more_seeds})"
            if budget.more_values
            else ""
        )
        + f", the baseline {budget.baseline_seeds}. The accuracy after this many steps measures how fast a "
        f"configuration learns as much as where it ends."
    )


def _values(effects: tuple[Effect, ...], names: dict[str, str], how) -> str:
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
            f"({x.verdict})."
        )
    raise ValueError(f"no wording for fact kind {fact.kind!r}")


STANDING_LABELS = {
    Standing.DID_NOT_LEARN: "did not learn",
    Standing.BASELINE_DID_NOT_LEARN: "baseline did not learn",
    Standing.TOO_FEW_SEEDS: "too few learned seeds",
    Standing.POINT: "no interval",
}


def forest_headers(answers: list[KnobAnswer], names: dict[str, str]) -> dict[str, str]:
    """The forest plot's group headers: 'kernel size (baseline 5, 6/9 failed)'."""
    return {
        a.experiment: f"{names.get(a.experiment, display_name(a.experiment))} (baseline {a.baseline}"
        + (f", {a.baseline_failed}/{a.baseline_finished} failed)" if a.baseline_failed else ")")
        for a in answers
    }
