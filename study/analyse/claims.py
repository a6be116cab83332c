"""Judge a study's declared claims on its stored results: supported, contradicted, inconclusive or not testable.

The report knows no claim by name: a study carries its claims (``study.declare.spec.Claim``, one test from the
small vocabulary ``CLAIM_TESTS``), and this module evaluates whatever it is given. A claim about values
against their baseline quotes each comparison as its experiment decided it (one Holm family per experiment,
dataset and question: ``study.analyse.decide``); a claim with tests of its own (trend, catch-up, ...)
Holm-corrects them across its datasets. A claim whose data cannot test it (a baseline that did not learn,
too few learned seeds, a value not in the run) is "not testable at this budget", with the reason.

    findings = check_claims(analysis)   # one Finding per claim of analysis.stored.study.claims
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from study.analyse.budget_check import BudgetCheck, budget_checks
from study.analyse.comparisons import Analysis, Block, ValueSummary
from study.analyse.formats import diff_with_ci, mde_text, p_is, pp
from study.analyse.stats import DIRECTIONAL, Paired, Verdict, holm, paired_difference
from study.declare.spec import CLAIM_JUDGED_AT, Claim
from study.results.outcomes import LEARNED


class ClaimVerdict(enum.StrEnum):
    """What the data say of a claim, in its scope and at this budget."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable at this budget"


SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = ClaimVerdict
MIN_LEARNED = (
    2  # a reference needs at least this many learned seeds before anything is compared with it
)


@dataclass(frozen=True)
class Finding:
    claim: str
    scope: str
    test: str  # what the test does, in words
    verdict: ClaimVerdict
    reason: str  # why this verdict, in one sentence
    evidence: str  # the numbers it rests on
    budget: str  # the profile and its budget
    measured: str = ""  # at a short budget, after how many of the study's epochs ("3 of 100 epochs"); else "" (and
    # for a claim about learning speed, judged at its own epoch)
    judged_at: str = (
        "final"  # what the claim is about (spec.CLAIM_JUDGED_AT): final, speed or budgets
    )
    testable: bool = (
        True  # whether this budget can test it (a short budget tests final accuracy only where its
    )
    # budget check passed)
    at_budget: str = ""  # for a final-accuracy claim not testable here: the verdict its test gives at this budget


class NotTestable(Exception):
    """Raised inside a check: the data cannot test the claim (the message says why)."""


def _block(analysis: Analysis, experiment: str, dataset: str) -> Block:
    block = analysis.blocks.get((experiment, dataset))
    if block is None:
        raise NotTestable(f"{experiment} was not run on {dataset} in this profile")
    return block


def _value(block: Block, label: str) -> ValueSummary:
    value = block.value(label)
    if value is None or value.finished == 0:
        raise NotTestable(f"{block.experiment} = {label} has no finished seed on {block.dataset}")
    return value


def _reference_learns(block: Block) -> None:
    base = block.baseline
    if base.learned < MIN_LEARNED:
        raise NotTestable(
            f"the baseline {block.experiment} = {base.label} learned in {base.learned} of "
            f"{base.finished} seeds on {block.dataset}"
        )


def _comparisons(analysis: Analysis, claim: Claim, labels_of) -> list[tuple[Block, ValueSummary]]:
    pairs = []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        pairs.extend((block, _value(block, label)) for label in labels_of(block))
    return pairs


def _judged(
    pairs: list[tuple[Block, ValueSummary]],
) -> list[tuple[Block, ValueSummary, float, Verdict]]:
    """Each comparison as its block decided it: one Holm family per block and question, computed once in
    ``study.analyse.decide`` and shown the same in the tables, the CSV and here. NotTestable when no
    comparison could be made at all (every one lacks learned seeds or spread)."""
    judged = [(b, v, v.p_holm, v.verdict) for b, v in pairs]
    untestable = (Verdict.TOO_FEW_SEEDS, Verdict.UNTESTABLE)
    if judged and all(j[3] in untestable for j in judged):
        raise NotTestable(
            "no comparison has two learned seeds with spread on both sides: "
            + "; ".join(f"{b.dataset} {v.label}: {v.verdict}" for b, v, _, _ in judged)
        )
    return judged


def _differs_from_baseline(value: ValueSummary, verdict: Verdict) -> bool:
    return verdict in DIRECTIONAL or (
        verdict in (Verdict.DIVERGED, Verdict.DOES_NOT_LEARN) and value.rate_differs
    )


def _evidence(judged) -> str:
    parts = []
    for block, value, p, verdict in judged:
        text = f"{block.dataset} {value.label} vs {block.baseline.label}: {diff_with_ci(value.comparison)}"
        if math.isfinite(p):
            text += f", {p_is(p, 'Holm p')}"
        text += f", {verdict}"
        if verdict == Verdict.EQUIVALENT:
            text += f" (margin ±{pp(block.margin, signed=False)})"
        elif verdict == Verdict.INCONCLUSIVE and math.isfinite(value.decision.detectable):
            text += f" (smallest detectable: {mde_text(value.decision.detectable)})"
        elif value.rate_differs:
            text += f" (fails to learn more often: Boschloo {p_is(value.p_rate_holm, 'Holm p')})"
        parts.append(text)
    return "; ".join(parts)


def _no_effect(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    judged = _judged(
        _comparisons(analysis, claim, lambda b: claim.values or [v.label for v in b.comparisons])
    )
    verdicts = [j[3] for j in judged]
    evidence = _evidence(judged)
    if any(_differs_from_baseline(j[1], j[3]) for j in judged):
        return CONTRADICTED, "at least one value differs significantly from the baseline", evidence
    if all(v == "equivalent" for v in verdicts):
        widest = max(j[1].comparison.rules_out for j in judged)
        return (
            SUPPORTED,
            (
                f"every value is within the margin: the verdicts' CIs exclude effects larger than "
                f"{pp(widest, signed=False)}"
            ),
            evidence,
        )
    return (
        INCONCLUSIVE,
        "no value differs significantly, but not every one is shown equivalent",
        evidence,
    )


def _differs(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    target, direction = claim.values[0], claim.direction or "worse"
    judged = _judged(_comparisons(analysis, claim, lambda b: [target, *claim.equal]))
    evidence = _evidence(judged)
    main = [j for j in judged if j[1].label == target]
    rest = [j for j in judged if j[1].label != target]
    opposite = {"worse": "better", "better": "worse"}[direction]
    if any(j[3] in (opposite, "equivalent") for j in main) or any(
        _differs_from_baseline(j[1], j[3]) for j in rest
    ):
        return (
            CONTRADICTED,
            (
                f"{target} is not {direction} than the baseline"
                if any(j[3] in (opposite, "equivalent") for j in main)
                else "a value said to be equal differs"
            ),
            evidence,
        )
    if all(j[3] == direction for j in main) and all(j[3] == "equivalent" for j in rest):
        return (
            SUPPORTED,
            f"{target} is significantly {direction}"
            + (f"; {', '.join(claim.equal)} equivalent" if claim.equal else ""),
            evidence,
        )
    if all(j[3] == direction for j in main):
        return (
            INCONCLUSIVE,
            (
                f"{target} is significantly {direction}, but "
                f"{', '.join(j[1].label for j in rest if j[3] != 'equivalent')} not shown equivalent"
            ),
            evidence,
        )
    return (
        INCONCLUSIVE,
        f"{target} is not significantly {direction} (nor shown equivalent)",
        evidence,
    )


def _any_differs(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    judged = _judged(_comparisons(analysis, claim, lambda b: [v.label for v in b.comparisons]))
    verdicts = [j[3] for j in judged]
    evidence = _evidence(judged)
    if any(_differs_from_baseline(j[1], j[3]) for j in judged):
        return SUPPORTED, "at least one value differs significantly from the baseline", evidence
    if all(v == "equivalent" for v in verdicts):
        return CONTRADICTED, "every value is equivalent to the baseline", evidence
    return (
        INCONCLUSIVE,
        "no value differs significantly, but not every one is shown equivalent",
        evidence,
    )


def page_trend(rows: np.ndarray) -> float:
    """One-sided p of Page's L test that the columns of ``rows`` (seeds x values) increase left to right."""
    return float(
        scipy_stats.page_trend_test(
            rows, method="exact" if rows.shape[0] * rows.shape[1] <= 20 else "auto"
        ).pvalue
    )


def _trend(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    order = list(claim.values)
    increasing = (claim.direction or "increasing") == "increasing"
    tests, evidence = [], []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        values = [_value(block, label) for label in order]
        seeds = sorted(set.intersection(*(set(v.final_by_seed) for v in values)))
        if len(seeds) < 2:
            raise NotTestable(f"fewer than 2 seeds shared by {', '.join(order)} on {dataset}")
        rows = np.array([[v.final_by_seed[s] for v in values] for s in seeds])
        if np.ptp(rows, axis=1).max() == 0:
            raise NotTestable(f"every seed ties across {', '.join(order)} on {dataset}")
        tests.append(rows if increasing else rows[:, ::-1])
        means = ", ".join(
            f"{v.label}: {np.mean([v.final_by_seed[s] for s in seeds]) * 100:.1f}%" for v in values
        )
        evidence.append(f"{dataset} ({len(seeds)} seeds) {means}")
    return _page_verdict(
        analysis.alpha,
        tests,
        evidence,
        (
            "a significant trend in the reverse order",
            "a significant trend in the claimed order on every dataset (Page's test: the values tend to rise along the "
            "order, not that every step does)",
            "the order is not significant on every dataset",
        ),
    )


def _page_verdict(
    alpha: float,
    claimed_rising: list[np.ndarray],
    evidence: list[str],
    reasons: tuple[str, str, str],
) -> tuple[str, str, str]:
    """Page's L test per dataset that the columns of each table (seeds x values, ordered so that the claim
    says they rise) rise, and that they fall; Holm across the datasets for each. Contradicted when the reverse
    order is significant anywhere, supported when the claimed order is significant everywhere, else
    inconclusive; ``reasons`` gives the three reasons in that order."""
    claimed = holm([page_trend(rows) for rows in claimed_rising])
    against = holm([page_trend(rows[:, ::-1]) for rows in claimed_rising])
    detail = "; ".join(
        f"{e}; Page's L test, claimed order: {p_is(c, 'Holm p')}; reverse order: {p_is(a, 'Holm p')}"
        for e, c, a in zip(evidence, claimed, against)
    )
    if any(a < alpha for a in against):
        return CONTRADICTED, reasons[0], detail
    if all(c < alpha for c in claimed):
        return SUPPORTED, reasons[1], detail
    return INCONCLUSIVE, reasons[2], detail


def _does_not_learn(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    """Every listed value failed to learn in every seed, significantly more often than the baseline
    (the block's own failure-rate test and Holm family)."""
    checks = []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        checks.extend((dataset, _value(block, label)) for label in claim.values)
    evidence = "; ".join(
        f"{d} {v.label}: failed to learn in {v.rates.k} of {v.rates.n} seeds (95% CI {v.rates.ci[0] * 100:.0f}-"
        f"{v.rates.ci[1] * 100:.0f}%), baseline {v.rates.base_k} of {v.rates.base_n}, Boschloo "
        f"{p_is(v.p_rate_holm, 'Holm p')}"
        for d, v in checks
    )
    if any(v.learned * 2 > v.finished for _, v in checks):
        return CONTRADICTED, "a listed value learned in most of its seeds", evidence
    if all(v.rates.k == v.rates.n and v.rate_differs for _, v in checks):
        return (
            SUPPORTED,
            "no seed of the listed values learned, significantly more failures than the baseline",
            evidence,
        )
    return (
        INCONCLUSIVE,
        "failures are not significantly more frequent than the baseline's everywhere",
        evidence,
    )


def _two_values(analysis: Analysis, claim: Claim, dataset: str, experiment: str | None = None):
    block = _block(analysis, experiment or claim.experiment, dataset)
    first, second = (_value(block, label) for label in claim.values[:2])
    if first.learned < MIN_LEARNED and second.learned < MIN_LEARNED:
        raise NotTestable(
            f"neither {first.label} ({first.learned} of {first.finished}) nor {second.label} "
            f"({second.learned} of {second.finished}) learned in {MIN_LEARNED} seeds on {dataset}"
        )
    return block, first, second


def _positive(
    paired: Paired, p: float, what: str, hypothesis: str, alpha: float
) -> tuple[str, str, str]:
    """Supported when the paired difference is significantly positive (``p`` already Holm-adjusted, compared
    with the analysis' level ``alpha``)."""
    evidence = (
        f"{what}: {diff_with_ci(paired)}, paired t over {paired.n} seeds, {p_is(p, 'Holm p')}"
    )
    if paired.n < 2 or not math.isfinite(paired.p):
        raise NotTestable(
            f"{what}: {'tied seeds' if paired.tied else 'fewer than 2 shared seeds'}"
        )
    if p < alpha:
        if paired.diff.mean > 0:
            return SUPPORTED, hypothesis, evidence
        return CONTRADICTED, f"significantly the opposite: not ({hypothesis})", evidence
    return INCONCLUSIVE, f"not significant (smallest detectable: {mde_text(paired.mde)})", evidence


def _combine(verdicts: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    words = [v[0] for v in verdicts]
    verdict = (
        CONTRADICTED
        if CONTRADICTED in words
        else SUPPORTED
        if all(w == SUPPORTED for w in words)
        else INCONCLUSIVE
    )
    return verdict, "; ".join(v[1] for v in verdicts), "; ".join(v[2] for v in verdicts)


def _faster_early(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    """Two values: the first is ahead of the second after epoch 1 (paired t, Holm across datasets). More
    values: accuracy after epoch 1 falls along the listed order (Page's L test over the seeds every value
    finished, a trend rather than every step; the reverse order significant contradicts it)."""
    if len(claim.values) > 2:
        return _early_trend(analysis, claim)
    pairs = []
    for dataset in claim.datasets:
        _, first, second = _two_values(analysis, claim, dataset)
        pairs.append((dataset, paired_difference(first.first_epoch, second.first_epoch)))
    adjusted = holm([paired.p for _, paired in pairs])
    return _combine(
        [
            _positive(
                paired,
                p,
                f"{dataset} accuracy after epoch 1, {claim.values[0]} minus " f"{claim.values[1]}",
                f"{claim.values[0]} is ahead after epoch 1",
                analysis.alpha,
            )
            for (dataset, paired), p in zip(pairs, adjusted)
        ]
    )


def _early_trend(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    tests, evidence = [], []
    for dataset in claim.datasets:
        block = _block(analysis, claim.experiment, dataset)
        values = [_value(block, label) for label in claim.values]
        seeds = sorted(set.intersection(*(set(v.first_epoch) for v in values)))
        if len(seeds) < 2:
            raise NotTestable(f"fewer than 2 seeds with an epoch 1 for every value on {dataset}")
        rows = np.array([[v.first_epoch[s] for v in values] for s in seeds])
        if np.ptp(rows, axis=1).max() == 0:
            raise NotTestable(f"every seed ties across the values on {dataset}")
        tests.append(rows[:, ::-1])  # claimed: falling along the list
        means = ", ".join(
            f"{v.label}: {np.mean([v.first_epoch[s] for s in seeds]) * 100:.1f}%" for v in values
        )
        evidence.append(f"{dataset} accuracy after epoch 1 ({len(seeds)} seeds) {means}")
    return _page_verdict(
        analysis.alpha,
        tests,
        evidence,
        (
            "after epoch 1 accuracy rises significantly along the listed order",
            "after epoch 1 accuracy falls significantly along the listed order (Page's test: a tendency, not every "
            "step; the means show any step out of order)",
            "the order after epoch 1 is not significant on every dataset",
        ),
    )


def _catch_up(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    """The gap between two values shrinks in the longer run (oriented by the short run's gap) and closes:
    supported only when it shrinks significantly and the long run's gap lies inside the margin."""
    tests = []
    for dataset in claim.datasets:
        block, *short = _two_values(analysis, claim, dataset)
        _, *long = _two_values(analysis, claim, dataset, claim.other)
        # seeds in which the first value learned in both runs: the claim is about a gap between trained networks
        seeds = [
            s
            for s in short[0].seeds
            if short[0].outcomes.get(s) == LEARNED
            and long[0].outcomes.get(s) == LEARNED
            and all(s in v.final_by_seed for v in (*short, *long))
        ]
        if len(seeds) < 2:
            raise NotTestable(
                f"{claim.values[0]} learned in both runs in {len(seeds)} seed(s) on {dataset}"
            )
        gap_short = {s: short[0].final_by_seed[s] - short[1].final_by_seed[s] for s in seeds}
        gap_long = {s: long[0].final_by_seed[s] - long[1].final_by_seed[s] for s in seeds}
        sign = (
            1.0 if np.mean(list(gap_short.values())) >= 0 else -1.0
        )  # shrinking means towards zero
        level = 1 - analysis.alpha  # the intervals every verdict of the analysis uses
        shrink = paired_difference(
            {s: sign * g for s, g in gap_short.items()},
            {s: sign * g for s, g in gap_long.items()},
            level,
        )
        closed = paired_difference(gap_long, {s: 0.0 for s in seeds}, level)
        tests.append((dataset, block, shrink, closed, gap_short, gap_long))
    adjusted = holm([t[2].p for t in tests])
    verdicts = []
    for (dataset, block, shrink, closed, gap_short, _), p in zip(tests, adjusted):
        what = (
            f"{dataset} gap {claim.values[0]} minus {claim.values[1]} over {shrink.n} seeds in which "
            f"{claim.values[0]} learned: {np.mean(list(gap_short.values())) * 100:+.1f} pp in {claim.experiment}, "
            f"{diff_with_ci(closed)} in {claim.other}; shrinkage"
        )
        verdict, reason, evidence = _positive(
            shrink, p, what, "the gap shrinks in the longer run", analysis.alpha
        )
        inside = (
            closed.diff.defined
            and -block.margin <= closed.diff.low
            and closed.diff.high <= block.margin
        )
        outside = closed.diff.defined and (
            closed.diff.low > block.margin or closed.diff.high < -block.margin
        )
        if verdict == SUPPORTED and outside:
            verdict, reason = (
                INCONCLUSIVE,
                (
                    f"the gap shrinks, but after the longer run it is still shown larger than "
                    f"the ±{pp(block.margin, signed=False)} margin: whether it closes needs a "
                    "longer run still"
                ),
            )
        elif verdict == SUPPORTED and not inside:
            verdict, reason = (
                INCONCLUSIVE,
                (
                    f"the gap shrinks, but the longer run's gap is not shown to be within "
                    f"±{pp(block.margin, signed=False)}"
                ),
            )
        verdicts.append((verdict, reason, evidence))
    return _combine(verdicts)


def _interaction(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    first, second = claim.datasets[:2]
    spreads = {}
    for dataset in (first, second):
        block = _block(analysis, claim.experiment, dataset)
        _reference_learns(block)
        values = [v for v in block.values if v.finished]
        seeds = sorted(
            set.intersection(*(set(v.learned_only()) for v in values))
        )  # every value learned there
        if len(seeds) < 2:
            raise NotTestable(f"fewer than 2 seeds in which every value learned on {dataset}")
        spreads[dataset] = [
            max(v.final_by_seed[s] for v in values) - min(v.final_by_seed[s] for v in values)
            for s in seeds
        ]
    a, b = np.array(spreads[first]), np.array(spreads[second])
    evidence = (
        f"range of final accuracy over the values per seed (seeds in which every value learned; "
        f"percentage points, so a dataset near 100% has less room): {first} {a.mean() * 100:.1f} pp "
        f"(n={len(a)}), {second} {b.mean() * 100:.1f} pp (n={len(b)})"
    )
    if np.ptp(np.concatenate([a, b])) == 0:
        raise NotTestable("the per-seed ranges are all identical")
    p = float(scipy_stats.ttest_ind(b, a, equal_var=False).pvalue)
    evidence += f"; Welch t-test {p_is(p)}"
    if p < analysis.alpha:
        if b.mean() > a.mean():
            return SUPPORTED, f"the values spread accuracy more on {second}", evidence
        return CONTRADICTED, f"the values spread accuracy more on {first}", evidence
    return INCONCLUSIVE, "the spreads do not differ significantly", evidence


def _largest_stable(analysis: Analysis, claim: Claim) -> tuple[str, str, str]:
    declared = claim.values[0]
    stable, evidence = None, []
    blocks = [_block(analysis, claim.experiment, d) for d in claim.datasets]
    labels = [v.label for v in blocks[0].values]
    try:
        ordered = sorted(labels, key=float, reverse=True)
    except ValueError:
        raise NotTestable(f"the values of {claim.experiment} are not numbers") from None
    for label in ordered:
        summaries = [_value(b, label) for b in blocks]
        if any(len(v.seeds) > v.finished for v in summaries):
            raise NotTestable(f"{claim.experiment} = {label} is not finished in every seed")
        evidence.append(
            f"{label}: "
            + ", ".join(
                f"{b.dataset} learned {v.learned} of {v.finished}"
                for b, v in zip(blocks, summaries)
            )
        )
        if all(v.learned == v.finished for v in summaries):
            stable = label
            break
    if stable is None:
        raise NotTestable(
            "no value learned in every seed on every dataset at this budget: "
            + "; ".join(evidence)
        )
    if stable == declared:
        return (
            SUPPORTED,
            (
                f"{declared} is the largest value that learned in every seed (with so few seeds 'every "
                f"seed' still allows a real failure rate: see the Clopper-Pearson intervals)"
            ),
            "; ".join(evidence),
        )
    return (
        CONTRADICTED,
        f"in this run the rule picks {stable}, not {declared}",
        "; ".join(evidence),
    )


CHECKS = {
    "no_effect": _no_effect,
    "differs": _differs,
    "any_differs": _any_differs,
    "trend": _trend,
    "does_not_learn": _does_not_learn,
    "faster_early": _faster_early,
    "catch_up": _catch_up,
    "interaction": _interaction,
    "largest_stable": _largest_stable,
}


def describe_test(claim: Claim) -> str:
    values = ", ".join(claim.values) if claim.values else "every value"
    words = {
        "no_effect": f"{values} equivalent to the baseline (the verdict's CI inside the margin)",
        "differs": f"{claim.values[0] if claim.values else '?'} significantly {claim.direction or 'worse'} than the "
        f"baseline" + (f"; {', '.join(claim.equal)} equivalent to it" if claim.equal else ""),
        "any_differs": "some value differs significantly from the baseline",
        "trend": f"Page's trend test for accuracy {claim.direction or 'increasing'} over {values}",
        "does_not_learn": f"{values} fail to learn in every seed, more often than the baseline (Boschloo)",
        "faster_early": (
            f"accuracy after epoch 1: {values.replace(', ', ' above ', 1)} (paired t-test)"
            if len(claim.values) <= 2
            else f"accuracy after epoch 1 falls along {values} (Page's trend test)"
        ),
        "catch_up": f"gap {values.replace(', ', ' minus ', 1)} shrinks from {claim.experiment} to {claim.other} "
        "(paired difference-in-differences over seeds where the first learned) and ends inside the "
        "margin",
        "interaction": f"per-seed range over the values larger on {claim.datasets[-1]} (Welch t-test)",
        "largest_stable": f"{values} is the largest value learning in every seed on {' and '.join(claim.datasets)}",
    }[claim.test]
    if claim.test in ("no_effect", "differs", "any_differs"):
        return (
            words
            + "; each comparison as its experiment's table decides it (Holm within the experiment and dataset)"
        )
    if claim.test == "does_not_learn":
        return words + "; the experiment's own failure-rate test and Holm family"
    if claim.test == "trend":
        return (
            words
            + "; every finished seed, a collapsed one at its accuracy; Holm across the datasets"
        )
    return words + ("; Holm across the claim's datasets" if claim.test != "largest_stable" else "")


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
        steps = epochs * -(-facts.train_size // study.baseline.batch_size)
        parts.append(
            f"{dataset} {facts.train_size:,}/{facts.test_size:,} images x {epochs} epoch"
            f"{'s' * (epochs != 1)} = {steps:,} SGD steps at batch {study.baseline.batch_size}"
        )
    base = study.baseline
    recipe = f"; learning rate {base.learning_rate:g} ({base.schedule} schedule), {base.input_scaling} inputs"
    return (
        f"{profile.name}: {values} seeds a value{more}, {baseline} a baseline; "
        + "; ".join(parts)
        + recipe
        + "; a value with another batch size takes another number of steps (section 1)"
    )


def measured_after(analysis: Analysis, claim: Claim) -> str:
    """'3 of 100 epochs' when the claim's experiments trained fewer epochs than the study declares ('' at
    the study's own epochs): the epochs of the claim's datasets under the profile, scaled like the trials
    (a longer run keeps its factor)."""
    profile, study = analysis.stored.profile, analysis.stored.study
    parts = []
    for name in dict.fromkeys(n for n in (claim.experiment, claim.other) if n):
        experiment = study.experiment(name)
        declared = round(study.baseline.epochs * experiment.epochs_factor)
        trained = sorted(
            {
                max(
                    1,
                    round(
                        (profile.for_dataset(d).epochs or study.baseline.epochs)
                        * experiment.epochs_factor
                    ),
                )
                for d in claim.datasets
            }
        )
        if trained[-1] < declared:
            parts.append("/".join(str(e) for e in trained) + f" of {declared} epochs")
    return ", ".join(dict.fromkeys(parts))


def budget_gap(claim: Claim, measured: str, checks: dict[str, BudgetCheck] | None) -> str:
    """Why a short budget cannot test ``claim``'s final accuracy ('' when it can): the claim's datasets whose
    budget check did not pass, each with the longer run's difference, or that the study has no check
    (``checks`` None). ``measured`` is ``measured_after`` ('' at the study's own epochs)."""
    if CLAIM_JUDGED_AT[claim.test] != "final" or not measured:
        return ""
    if checks is None:
        return (
            f"trained {measured} and the study has no budget check (a longer run of its "
            "baseline) to show that this budget reaches the final accuracy the claim is about"
        )
    gaps = []
    for dataset in claim.datasets:
        check = checks.get(dataset)
        if check is None:
            gaps.append(f"{dataset}: no budget check ran")
        elif not check.passed:
            gaps.append(
                f"{dataset}: {check.longer_epochs} epochs against {check.epochs} gave "
                f"{diff_with_ci(check.comparison)}, {check.verdict} (margin ±{pp(check.margin, signed=False)})"
            )
    if not gaps:
        return ""
    return (
        "the budget does not reach final accuracy (budget check, "
        + "; ".join(gaps)
        + "): a verdict at this budget would be about learning speed, not the final accuracy the claim is about"
    )


def check_claims(analysis: Analysis) -> list[Finding]:
    """Every claim the stored study declares, judged on this analysis (none: an empty list).

    A claim about final accuracy (``CLAIM_JUDGED_AT``) at a budget shorter than the study's epochs is judged
    only where the study's budget check passed on each of its datasets; elsewhere it is not testable at this
    budget, and what its test reads at this budget is kept as ``at_budget`` with its evidence."""
    findings = []
    budget = budget_text(analysis)
    checks = budget_checks(analysis) if analysis.stored.study.budget_check else None
    for claim in analysis.stored.study.claims:
        measured = measured_after(analysis, claim)
        try:
            verdict, reason, evidence = CHECKS[claim.test](analysis, claim)
        except NotTestable as why:
            verdict, reason, evidence = NOT_TESTABLE, str(why), ""
        gap, at_budget = budget_gap(claim, measured, checks), ""
        if gap:
            at_budget = str(verdict)
            reason = gap + (
                f"; at this budget its test reads {verdict}: {reason}"
                if verdict != NOT_TESTABLE
                else f"; {reason}"
            )
            verdict = NOT_TESTABLE
        elif measured and verdict != NOT_TESTABLE and CLAIM_JUDGED_AT[claim.test] == "final":
            reason += f"; measured after {measured}, where the budget check found a longer run within the margin"
        findings.append(
            Finding(
                claim.text,
                claim.scope,
                describe_test(claim),
                verdict,
                reason,
                evidence,
                budget,
                measured if CLAIM_JUDGED_AT[claim.test] != "speed" else "",
                CLAIM_JUDGED_AT[claim.test],
                verdict != NOT_TESTABLE,
                at_budget,
            )
        )
    return findings
