"""The claims section in words: each kind's test, each reason, each piece of evidence, the budget.

``study.analyse.claims`` returns typed records (a verdict, ``Why`` reasons, ``Evidence`` per test, confounds,
the budget's gap); this module writes them as sentences for the report and ``findings.csv``. Each claim kind
has its words here, registered against its class like its check (``@words(Trend)``).

    row = finding_row(finding)      # claim, scope, test, verdict, reason, evidence, ... (findings.csv)
    numbers(finding)                # one short line per test the verdict rests on (the report's table)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from study.analyse.answer import budgets
from study.analyse.claims import (
    BudgetGap,
    ClaimVerdict,
    Confound,
    Evidence,
    Finding,
    Measured,
    Procedure,
    Reason,
    Why,
)
from study.analyse.comparisons import Analysis
from study.analyse.stats import Verdict
from study.declare.claims import (
    AnyDiffers,
    CatchUp,
    Claim,
    Differs,
    DoesNotLearn,
    FasterEarly,
    Interaction,
    JudgedAt,
    LargestStable,
    NoEffect,
    Trend,
)
from study.plan.schedules import steps_per_epoch
from study.report.formats import mde_text, p_is, pp, signed_pp

C = TypeVar("C", bound=Claim)
TEST_WORDS: dict[type[Claim], Callable[[Any], str]] = {}


def words(kind: type[C]) -> Callable[[Callable[[C], str]], Callable[[C], str]]:
    """Register the decorated function as what the report says a claim of class ``kind`` tests."""

    def register(function: Callable[[C], str]) -> Callable[[C], str]:
        TEST_WORDS[kind] = function
        return function

    return register


def _listed(claim: Any) -> str:
    return ", ".join(claim.values) if getattr(claim, "values", ()) else "every value"


BLOCK_FAMILY = "; each comparison as its experiment's table decides it (adjusted within the experiment and dataset)"
ADJUSTED = "adjusted p"  # a p corrected within its block's family (study.analyse.decide)
ORDER_RULE = (
    "; contradicted where the reverse order is significant or an adjacent step goes significantly the wrong "
    "way (one-sided paired t, Bonferroni over the steps, each interval at the level that decides it); "
    "supported where the order is significant on every dataset and no step goes significantly the wrong way"
)


@words(NoEffect)
def _no_effect(claim: NoEffect) -> str:
    return (
        f"{_listed(claim)} equivalent to the baseline (the verdict's CI inside the margin)"
        + BLOCK_FAMILY
    )


@words(Differs)
def _differs(claim: Differs) -> str:
    equal = f"; {', '.join(claim.equal)} equivalent to it" if claim.equal else ""
    return (
        f"{claim.target} significantly {claim.direction} than the baseline{equal}" + BLOCK_FAMILY
    )


@words(AnyDiffers)
def _any_differs(claim: AnyDiffers) -> str:
    return "some value differs significantly from the baseline" + BLOCK_FAMILY


@words(Trend)
def _trend(claim: Trend) -> str:
    return (
        f"Page's trend test for accuracy {claim.direction} over {_listed(claim)}; every finished seed, a "
        "collapsed one at its accuracy; Holm across the datasets" + ORDER_RULE
    )


@words(DoesNotLearn)
def _does_not_learn(claim: DoesNotLearn) -> str:
    return (
        f"{_listed(claim)} fail{'s' * (len(claim.values) == 1)} to learn in every seed, more often than the "
        "baseline (Boschloo); the "
        "experiment's own failure-rate test and Holm family"
    )


@words(FasterEarly)
def _faster_early(claim: FasterEarly) -> str:
    if len(claim.values) <= 2:
        return (
            f"accuracy after epoch 1: {claim.values[0]} above {claim.values[1]} (paired t-test); Holm across "
            "the claim's datasets"
        )
    return (
        f"accuracy after epoch 1 falls along {_listed(claim)} (Page's trend test); Holm across the claim's "
        "datasets" + ORDER_RULE
    )


@words(CatchUp)
def _catch_up(claim: CatchUp) -> str:
    return (
        f"gap {claim.values[0]} minus {claim.values[1]} shrinks from {claim.experiment} to {claim.other} "
        "(paired difference-in-differences over seeds where the first learned) and ends inside the margin; "
        "Holm across the claim's datasets"
    )


@words(Interaction)
def _interaction(claim: Interaction) -> str:
    return (
        f"per-seed range over the values larger on {claim.datasets[-1]} (Welch t-test); Holm across the "
        "claim's datasets"
    )


@words(LargestStable)
def _largest_stable(claim: LargestStable) -> str:
    return f"{claim.values[0]} is the largest value learning in every seed on {' and '.join(claim.datasets)}"


def describe_test(claim: Claim) -> str:
    """What the claim's test does, in words."""
    return TEST_WORDS[type(claim)](claim)


VERDICT_WORDS = {
    ClaimVerdict.SUPPORTED: "supported",
    ClaimVerdict.CONTRADICTED: "contradicted",
    ClaimVerdict.INCONCLUSIVE: "inconclusive",
    ClaimVerdict.NOT_TESTABLE: "not testable at this budget",
}


def _and(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items)


def why_text(why: Why) -> str:
    """One reason in a clause ('mnist: 2 to 3 goes significantly the wrong way')."""
    r, v, d = why.reason, why.values, why.dataset
    c = (*why.counts, 0, 0)  # counts padded: every entry below is built, only one is used
    text = {
        Reason.VALUE_DIFFERS: f"{_and(v)} differ{'s' * (len(v) == 1)} significantly from the baseline",
        Reason.ALL_EQUIVALENT: "every value is equivalent to the baseline"
        + (
            f": the verdicts' CIs exclude effects larger than {pp(why.amount, signed=False)}"
            if math.isfinite(why.amount)
            else ""
        ),
        Reason.NONE_DIFFERS: "no value differs significantly, but not every one is shown equivalent",
        Reason.TARGET_NOT_IN_DIRECTION: f"{_and(v)} is not in the claimed direction from the baseline",
        Reason.EQUAL_VALUE_DIFFERS: f"{_and(v)}, said to be equal, differ{'s' * (len(v) == 1)}",
        Reason.TARGET_DIFFERS_EQUALS_HOLD: f"{v[0] if v else ''} differs significantly in the claimed "
        "direction" + (f"; {_and(v[1:])} equivalent" if len(v) > 1 else ""),
        Reason.TARGET_DIFFERS_EQUALS_UNSHOWN: f"{v[0] if v else ''} differs significantly in the claimed "
        f"direction, but {_and(v[1:])} not shown equivalent",
        Reason.TARGET_NOT_SIGNIFICANT: f"{_and(v)} is not significantly different (nor shown equivalent)",
        Reason.ORDER_REVERSED: "a significant trend in the reverse order",
        Reason.STEP_REVERSED: f"the step from {v[0]} to {v[1]} goes significantly the wrong way"
        if len(v) == 2
        else "a step goes significantly the wrong way",
        Reason.ORDER_HOLDS: "a significant trend in the claimed order on every dataset and no adjacent step "
        "significantly the wrong way (Page's test: accuracy moves the claimed way along the listed order; "
        "the steps are in the evidence)",
        Reason.ORDER_NOT_SIGNIFICANT: "the order is not significant on every dataset",
        Reason.MOSTLY_LEARNED: f"{_and(v)} learned in most of its seeds",
        Reason.NEVER_LEARNED: f"no seed of {_and(v) if v else 'the listed values'} learned, significantly "
        "more failures than the baseline",
        Reason.FAILURES_NOT_SIGNIFICANT: "failures are not significantly more frequent than the baseline's "
        "everywhere",
        Reason.AHEAD: "significantly ahead, as claimed",
        Reason.OPPOSITE: "significantly the opposite of the claim",
        Reason.NOT_SIGNIFICANT: f"not significant (smallest detectable: {mde_text(why.amount)})",
        Reason.GAP_CLOSES: "the gap shrinks in the longer run and ends inside the margin",
        Reason.GAP_STILL_OUTSIDE: "the gap shrinks, but after the longer run it is still shown larger than "
        f"the ±{pp(why.amount, signed=False)} margin: whether it closes needs a longer run still",
        Reason.GAP_NOT_INSIDE: "the gap shrinks, but the longer run's gap is not shown to be within "
        f"±{pp(why.amount, signed=False)}",
        Reason.SPREAD_LARGER_SECOND: f"the values spread accuracy more on {d}",
        Reason.SPREAD_LARGER_FIRST: f"the values spread accuracy more on {d}",
        Reason.SPREADS_ALIKE: "the spreads do not differ significantly",
        Reason.RULE_AGREES: f"{v[0] if v else ''} is the largest value that learned in every seed (with so "
        "few seeds 'every seed' still allows a real failure rate: see the Clopper-Pearson intervals)",
        Reason.RULE_PICKS_OTHER: f"in this run the rule picks {v[0]}, not {v[1]}"
        if len(v) == 2
        else "",
        Reason.NOT_RUN: f"{_and(v)} was not run on {d} in this profile",
        Reason.NO_FINISHED_SEED: f"{_and(v)} has no finished seed on {d}",
        Reason.BASELINE_DID_NOT_LEARN: f"the baseline {_and(v)} learned in "
        f"{c[0]} of {c[1]} seeds on {d}",
        Reason.NO_COMPARISON: "no comparison has two learned seeds with spread on both sides",
        Reason.FEW_SHARED_SEEDS: f"fewer than 2 seeds shared by the values on {d}",
        Reason.SEEDS_TIE: f"every seed ties across the values on {d}",
        Reason.NEITHER_LEARNED: f"neither {v[0]} nor {v[1]} learned in enough seeds on {d}"
        if len(v) == 2
        else "",
        Reason.FEW_LEARNED_IN_BOTH_RUNS: f"{_and(v)} learned in both runs in "
        f"{c[0]} seed(s) on {d}",
        Reason.SPREADS_IDENTICAL: "the per-seed ranges are all identical",
        Reason.NOT_NUMBERS: f"the values of {_and(v)} are not numbers",
        Reason.NOT_FINISHED: f"{_and(v)} is not finished in every seed",
        Reason.NONE_STABLE: "no value learned in every seed on every dataset at this budget",
    }[r]
    if r == Reason.NEITHER_LEARNED and len(why.counts) == 5:
        k1, n1, k2, n2, need = why.counts
        text = f"neither {v[0]} ({k1} of {n1}) nor {v[1]} ({k2} of {n2}) learned in {need} seeds on {d}"
    per_dataset = r in (
        Reason.ORDER_REVERSED,
        Reason.STEP_REVERSED,
        Reason.AHEAD,
        Reason.OPPOSITE,
        Reason.NOT_SIGNIFICANT,
        Reason.GAP_CLOSES,
        Reason.GAP_STILL_OUTSIDE,
        Reason.GAP_NOT_INSIDE,
        Reason.VALUE_DIFFERS,
        Reason.EQUAL_VALUE_DIFFERS,
    )
    return f"{d}: {text}" if per_dataset and d else text


def _interval(e: Evidence) -> str:
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return "no interval"
    return f"{e.level * 100:.3g}% CI {signed_pp(e.low)} to {signed_pp(e.high)}"


def _df(df: float) -> str:
    if not math.isfinite(df):
        return ""
    return f"df {df:.0f}" if abs(df - round(df)) < 0.05 else f"df {df:.1f}"


def _percent(x: float) -> str:
    return f"{x * 100:.1f}%" if math.isfinite(x) else "–"


def evidence_text(e: Evidence) -> str:
    """One test in words, with every number it rests on."""
    where = " and ".join(e.datasets)
    if e.test == Procedure.VERSUS_BASELINE:
        value, base = e.values
        text = f"{where} {value} vs {base}: "
        if e.seeds == 0:
            text += "no comparison"
        else:
            tested = ", ".join(part for part in (e.method, _df(e.df), p_is(e.p)) if part)
            text += f"{pp(e.difference)} ({_interval(e)}; {tested})"
        if math.isfinite(e.p_adjusted):
            text += f", {p_is(e.p_adjusted, ADJUSTED)}"
        text += f", {e.verdict}"
        if e.verdict == Verdict.EQUIVALENT:
            text += f" (margin ±{pp(e.margin, signed=False)})"
        elif e.verdict == Verdict.INCONCLUSIVE and math.isfinite(e.detectable):
            text += f" (smallest detectable: {mde_text(e.detectable)})"
        return text
    if e.test == Procedure.FAILURE_RATE:
        value, base = e.values
        (k, n), (base_k, base_n) = e.counts or ((0, 0), (0, 0))
        side = "more" if e.difference > 0 else "less" if e.difference < 0 else "as"
        return (
            f"{where} {value}: failed to learn in {k} of {n} seeds ({e.level * 100:.3g}% CI "
            f"{_percent(e.low)} to {_percent(e.high)}), {base} {base_k} of {base_n}: "
            f"fails to learn {side} often (Boschloo {p_is(e.p)}, {p_is(e.p_adjusted, ADJUSTED)})"
        )
    if e.test in (Procedure.PAGE, Procedure.PAGE_REVERSE):
        means = ", ".join(f"{v}: {_percent(m)}" for v, m in zip(e.values, e.means))
        if e.test == Procedure.PAGE_REVERSE:
            return (
                f"{where} Page's L test, reverse order: L = {e.statistic:g}, {p_is(e.p)}, "
                f"{p_is(e.p_adjusted, 'Holm p')}"
            )
        return (
            f"{where} ({e.seeds} seeds) {means}; Page's L test, claimed order: L = {e.statistic:g}, "
            f"{p_is(e.p)}, {p_is(e.p_adjusted, 'Holm p')}"
        )
    if e.test == Procedure.STEP:
        claimed = "rise" if e.expected_sign > 0 else "fall"
        return (
            f"{where} step {e.values[0]} to {e.values[1]} (claimed: a {claimed}): {pp(e.difference)} "
            f"({_interval(e)}; paired t over {e.seeds} seeds, {_df(e.df)}; one-sided test of the wrong way "
            f"{p_is(e.p)}, {p_is(e.p_adjusted, 'Bonferroni p')} over the steps)"
        )
    if e.test == Procedure.PAIRED:
        return (
            f"{where} accuracy after epoch 1, {e.values[0]} minus {e.values[1]}: {pp(e.difference)} "
            f"({_interval(e)}), paired t over {e.seeds} seeds, {_df(e.df)}, {p_is(e.p)}, "
            f"{p_is(e.p_adjusted, 'Holm p')}"
        )
    if e.test == Procedure.SHRINKAGE:
        short, long = e.means
        return (
            f"{where} gap {e.values[0]} minus {e.values[1]} over {e.seeds} seeds in which {e.values[0]} "
            f"learned: {pp(short)} in the shorter run, {pp(long)} in the longer; shrinkage {pp(e.difference)} "
            f"({_interval(e)}), paired t, {_df(e.df)}, {p_is(e.p)}, {p_is(e.p_adjusted, 'Holm p')}"
        )
    if e.test == Procedure.LONG_GAP:
        return (
            f"{where} gap after the longer run: {pp(e.difference)} ({_interval(e)}) against the "
            f"±{pp(e.margin, signed=False)} margin"
        )
    if e.test == Procedure.SPREAD:
        first, second = e.datasets
        (n_a,), (n_b,) = e.counts
        return (
            "range of final accuracy over the values per seed (seeds in which every value learned; "
            f"percentage points, so a dataset near 100% has less room): {first} {e.means[0] * 100:.1f} pp "
            f"(n={n_a}), {second} {e.means[1] * 100:.1f} pp (n={n_b}); {second} minus {first} "
            f"{pp(e.difference)} ({_interval(e)}), Welch t-test, {_df(e.df)}, {p_is(e.p)}"
        )
    # STABILITY
    return f"{e.values[0]}: " + ", ".join(
        f"{d} learned {learned} of {finished}"
        for d, (learned, finished) in zip(e.datasets, e.counts)
    )


def numbers_text(e: Evidence) -> str:
    """The numbers behind a verdict, short, for the report's table: 'mnist 2 vs 1: -3.1 pp [-4.0, -2.2], df 3,
    p = 0.004'."""
    where = "/".join(e.datasets)
    interval = (
        f" [{signed_pp(e.low)}, {signed_pp(e.high)}]"
        if math.isfinite(e.low) and math.isfinite(e.high)
        else ""
    )
    df = f", {_df(e.df)}" if math.isfinite(e.df) else ""
    adjusted = f", {p_is(e.p_adjusted, 'adj. p')}" if math.isfinite(e.p_adjusted) else ""
    if e.test == Procedure.VERSUS_BASELINE:
        what = f"{e.values[0]} vs {e.values[1]}"
    elif e.test == Procedure.FAILURE_RATE:
        (k, n), (base_k, base_n) = e.counts or ((0, 0), (0, 0))
        return (
            f"{where} {e.values[0]} failed {k} of {n}, {e.values[1]} {base_k} of {base_n}: "
            f"Boschloo {p_is(e.p)}{adjusted}"
        )
    elif e.test in (Procedure.PAGE, Procedure.PAGE_REVERSE):
        order = "order" if e.test == Procedure.PAGE else "reverse order"
        return f"{where} Page's L {order}: L = {e.statistic:g}, {p_is(e.p)}{adjusted}"
    elif e.test == Procedure.STEP:
        what = f"{e.values[0]} to {e.values[1]}"
    elif e.test == Procedure.STABILITY:
        return evidence_text(e)
    elif e.test == Procedure.SPREAD:
        what = f"range {e.datasets[1]} minus {e.datasets[0]}"
        where = ""
    elif e.test == Procedure.LONG_GAP:
        what = "gap after the longer run"
        adjusted = ""
    else:
        what = f"{e.values[0]} minus {e.values[1]}" + (
            " shrinkage" if e.test == Procedure.SHRINKAGE else ""
        )
    p = f", {p_is(e.p)}" if math.isfinite(e.p) else ""
    return f"{where} {what}: {pp(e.difference)}{interval}{df}{p}{adjusted}".strip()


def confound_text(c: Confound, knob: str) -> str:
    """'on mnist 2 differs from 1 in more than stride: padding same (1: valid); 131,080 parameters against
    431,080 (0.30x)'"""
    parts = [
        f"{name} {mine or 'none'} ({c.reference}: {theirs or 'none'})"
        for name, mine, theirs in c.settings
    ]
    if c.params and c.reference_params and c.params != c.reference_params:
        size = f"{c.params:,} parameters against {c.reference_params:,} ({c.size_ratio:.2g}x)"
        if (
            not c.settings
        ):  # the knob alone changed the size (a kernel shrinks the dense layer's input)
            return f"on {c.dataset} {c.value}'s network has {size}: {knob} changes its size too"
        parts.append(size)
    return (
        f"on {c.dataset} {c.value} differs from {c.reference} in more than {knob}: "
        + ", ".join(parts)
    )


def confounds_text(finding: Finding, knob: str) -> str:
    if not finding.confounds:
        return ""
    return (
        "the compared networks differ in more than the knob (another setting, or a size twice or half the "
        "reference's), so the verdict may be about that as much as the knob ("
        + "; ".join(confound_text(c, knob) for c in finding.confounds)
        + ")"
    )


def measured_text(measured: tuple[Measured, ...]) -> str:
    """'3 of 100 epochs' ('' at the study's own epochs)."""
    return ", ".join(
        dict.fromkeys(
            "/".join(str(e) for e in m.trained) + f" of {m.declared} epochs" for m in measured
        )
    )


def gap_text(gap: BudgetGap, measured: tuple[Measured, ...]) -> str:
    """Why a short budget cannot test a claim about final accuracy."""
    trained = measured_text(measured)
    if gap.no_check:
        return (
            f"trained {trained} and the study has no budget check (a longer run of its baseline) to show "
            "that this budget reaches the final accuracy the claim is about"
        )
    parts = []
    for dataset, check in gap.checks:
        if check is None:
            parts.append(f"{dataset}: no budget check ran")
        else:
            c = check.comparison
            difference = (
                f"{pp(c.diff)} ({c.confidence * 100:.3g}% CI {signed_pp(c.low)} to {signed_pp(c.high)})"
                if c is not None and c.defined
                else "no interval"
            )
            parts.append(
                f"{dataset}: {check.longer_epochs} epochs against {check.epochs} gave {difference}, "
                f"{check.verdict} (margin ±{pp(check.margin, signed=False)})"
            )
    return (
        "the budget does not reach final accuracy (budget check, "
        + "; ".join(parts)
        + "): a verdict at this budget would be about learning speed, not the final accuracy the claim is "
        "about"
    )


def reason_text(finding: Finding, knob: str = "the knob") -> str:
    """Why the finding got its verdict, in one sentence (with the budget's gap and the confounds)."""
    if finding.gap is not None:
        read = "; ".join(why_text(w) for w in finding.at_budget_why)
        text = gap_text(finding.gap, finding.measured)
        if finding.at_budget is not None and finding.at_budget != ClaimVerdict.NOT_TESTABLE:
            text += f"; at this budget its test reads {VERDICT_WORDS[finding.at_budget]}: {read}"
        elif read:
            text += f"; {read}"
    else:
        text = "; ".join(why_text(w) for w in finding.why)
        if finding.measured and finding.testable and finding.judged_at == JudgedAt.FINAL:
            text += (
                f"; measured after {measured_text(finding.measured)}, where the budget check found a "
                "longer run within the margin"
            )
    confounded = confounds_text(finding, knob)
    return text + (f"; {confounded}" if confounded else "")


def budget_text(analysis: Analysis) -> str:
    """The budget in one line: seeds, then per dataset the images trained and validated on, the epochs and
    the baseline's SGD steps (``quick: 3 seeds a value (up to 6), 9 a baseline; mnist 4,000/1,000 images x 3
    epochs = 375 SGD steps; ...``)."""
    stored = analysis.stored
    profile, study = stored.profile, stored.study
    values = len(study.seeds_for(profile.seeds, baseline=False))
    baseline = len(study.seeds_for(profile.seeds, baseline=True))
    more = f" (up to {profile.max_seeds})" if profile.looks > 1 else ""
    parts = []
    for dataset in analysis.datasets:
        epochs = profile.for_dataset(dataset).epochs or study.baseline.epochs
        facts = stored.datasets.get(dataset)
        if facts is None:
            continue
        steps = epochs * steps_per_epoch(facts.train_size, study.baseline.batch_size)
        parts.append(
            f"{dataset} {facts.train_size:,}/{facts.test_size:,} images x {epochs} epoch"
            f"{'s' * (epochs != 1)} = {steps:,} SGD steps at batch {study.baseline.batch_size}"
        )
    base = study.baseline
    recipe = f"; learning rate {base.learning_rate:g} ({base.schedule} schedule), {base.input_scaling} inputs"
    # the values of another batch size that section 1's budget lists
    batches = any(budget.batch_sizes for budget in budgets(analysis).values())
    return (
        f"{profile.name}: {values} seeds a value{more}, {baseline} a baseline; "
        + "; ".join(parts)
        + recipe
        + (
            "; a value with another batch size takes another number of steps (each dataset's budget in "
            "section 1 gives them)"
            if batches
            else ""
        )
    )


FINDING_COLUMNS = (
    "claim",
    "scope",
    "test",
    "verdict",
    "reason",
    "evidence",
    "budget",
    "measured",
    "judged_at",
    "testable",
    "at_budget",
)


def finding_row(finding: Finding, budget: str, knob: str = "the knob") -> dict[str, Any]:
    """A finding as findings.csv holds it (``FINDING_COLUMNS``): the claim, its scope, the test, the verdict,
    the reason and the evidence in words, the budget, the epochs it was measured after, what it is judged at,
    whether this budget could test it, and what its test read where it could not."""
    claim = finding.claim
    return {
        "claim": claim.text,
        "scope": claim.scope,
        "test": describe_test(claim),
        "verdict": VERDICT_WORDS[finding.verdict],
        "reason": reason_text(finding, knob),
        "evidence": "; ".join(evidence_text(e) for e in finding.evidence),
        "budget": budget,
        "measured": measured_text(finding.measured),
        "judged_at": str(finding.judged_at),
        "testable": finding.testable,
        "at_budget": VERDICT_WORDS[finding.at_budget] if finding.at_budget is not None else "",
    }


def finding_rows(analysis: Analysis, findings: list[Finding]) -> list[dict[str, Any]]:
    """Every finding as a findings.csv row (the knob named as the study's experiment varies it)."""
    budget = budget_text(analysis)
    study = analysis.stored.study
    return [
        finding_row(f, budget, study.experiment(f.claim.experiment).parameter.replace("_", " "))
        for f in findings
    ]


def numbers(finding: Finding) -> list[str]:
    """The numbers behind the verdict, one short line per test (the report's table, HTML and PDF)."""
    return [numbers_text(e) for e in finding.evidence]
