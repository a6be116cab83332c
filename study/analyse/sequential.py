"""Seeds where they decide: which comparisons the next look of a sequential design gives more seeds.

A budget with ``max_seeds`` above its first-look ``seeds`` (``study.declare.spec.Profile``) is a
group-sequential design: after each look, a comparison that is still undecided, and that more seeds can
still decide, gets ``seed_step`` more seeds, up to ``max_seeds``; every look tests at Pocock's nominal
level for the design's number of looks (``stats.pocock_level``), so that looking more than once keeps
the error rates (``benchmarks/error_rates.py`` measures them on this exact rule). Which comparisons get
seeds depends only on the stored results, never on wall time: the same study gives the same trials on
any machine.

    for addition in next_look(analysis, costs):   # cheapest first
        addition.experiment, addition.value, addition.dataset, addition.seeds, addition.reason

Pure numbers: ``study.sequential`` runs the looks; the report words the reasons.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from scipy import stats

from study.analyse.comparisons import Analysis, Block, ValueSummary, last_look, stopping_looks
from study.analyse.decide import MIN_SEEDS, Decision
from study.analyse.noise import MeanComparison
from study.analyse.stats import Verdict, collapse_rates


@dataclass(frozen=True)
class Addition:
    """One value that gets more seeds at the next look: its new seed count and why (a ``Reason``)."""

    experiment: str
    value: str
    dataset: str
    seeds: int  # the value's seeds after the addition
    reason: str
    trial_seconds: (
        float  # estimated cost of one of its trials (the order of additions: cheapest first)
    )


class Reason(enum.StrEnum):
    """Why more seeds could decide a comparison (stored with each look's additions; the report words it)."""

    DIFFERENCE = "difference"  # the difference could become significant
    EQUIVALENCE = "equivalence"  # the interval could fit inside the margin
    FAILURE_RATE = "failure_rate"  # the failure rate could differ significantly
    TOO_FEW_LEARNED = "too_few_learned"  # too few seeds learned to compare accuracy


def learned_at(seeds: int, learned: int, finished: int) -> int:
    """The learned seeds a value would have at ``seeds`` seeds, at its present share (at least MIN_SEEDS)."""
    return max(MIN_SEEDS, round(seeds * learned / finished))


def projected_se_of(
    c: MeanComparison | None, learned: int, finished: int, baseline_learned: int, seeds: int
) -> float:
    """The standard error of a value's accuracy difference to the baseline if it had ``seeds`` seeds (fraction;
    NaN without a comparison), from the comparison ``c``, the value's learned and finished seeds and the
    baseline's learned seeds: each arm's variance as the comparison estimated it, the value's learned seeds
    scaled by its share of learned seeds (``learned_at``); a paired comparison scales by its pairs."""
    if c is None or not math.isfinite(c.se) or c.se <= 0 or finished == 0:
        return math.nan
    learned_then = learned_at(seeds, learned, finished)
    if c.test.startswith("paired t"):
        pairs = min(learned_then, baseline_learned)
        return c.se * math.sqrt(c.n_a / max(1, pairs))
    per_seed = c.se**2 / (
        1 / c.n_a + 1 / c.n_b
    )  # one variance for both arms, the comparison's own scale
    return math.sqrt(per_seed * (1 / learned_then + 1 / c.n_b))


def reason_for_more(value: ValueSummary, block: Block, seeds: int, alpha: float) -> str | None:
    """Why ``seeds`` seeds could decide a comparison that is not decided yet (a ``Reason``), or
    None: decided already, or futile (the baseline does not learn, every seed diverged, or even at
    ``seeds`` seeds neither significance nor equivalence is within reach of the observed difference)."""
    return reason_from_counts(
        value.decision,
        len(value.seeds),
        value.learned,
        value.finished,
        value.all_diverged,
        block.baseline.learned,
        block.baseline.finished,
        block.margin,
        seeds,
        alpha,
    )


def reason_from_counts(
    decision: Decision | None,
    have: int,
    learned: int,
    finished: int,
    all_diverged: bool,
    baseline_learned: int,
    baseline_finished: int,
    margin: float,
    seeds: int,
    alpha: float,
) -> str | None:
    """``reason_for_more`` on plain numbers, so that ``benchmarks/error_rates.py`` simulates this very rule:
    the value's decision, its seeds now (``have``), learned and finished seeds, whether every seed diverged,
    the baseline's learned and finished seeds, the dataset's margin, the seeds after the addition, the level."""
    if decision is None or decision.decisive or have >= seeds:
        return None
    if baseline_learned < MIN_SEEDS or all_diverged or decision.verdict == Verdict.NEITHER_LEARNS:
        return None
    if learned < finished and finished:  # failures: would the same share be significant?
        share = (finished - learned) / finished
        projected = collapse_rates(
            round(share * seeds), seeds, baseline_finished - baseline_learned, baseline_finished
        )
        if projected.p < alpha:
            return Reason.FAILURE_RATE
    if learned < MIN_SEEDS:
        return Reason.TOO_FEW_LEARNED if learned >= 1 else None
    c = decision.comparison
    se = projected_se_of(c, learned, finished, baseline_learned, seeds)
    if c is None or not math.isfinite(se):
        return None
    # degrees of freedom at the cap: each added learned seed adds about one (a paired test has pairs - 1)
    learned_then = learned_at(seeds, learned, finished)
    dof = c.dof if math.isfinite(c.dof) else 1e6
    dof += (
        max(0, min(learned_then, baseline_learned) - c.n_a)
        if c.test.startswith("paired t")
        else max(0, learned_then - c.n_a)
    )
    t = float(stats.t.ppf(1 - alpha / 2, max(1.0, dof)))
    if abs(c.diff) > t * se:
        return Reason.DIFFERENCE
    if abs(c.diff) + t * se < margin:
        return Reason.EQUIVALENCE
    return None


def next_look(
    analysis: Analysis, trial_seconds: dict[tuple[str, str, str], float]
) -> list[Addition]:
    """The values that get ``seed_step`` more seeds at the next look, cheapest trial first (ties in the
    study's order): only comparisons still running at this look (one that stopped earlier stays stopped).
    ``trial_seconds``: (experiment, value, dataset) -> estimated seconds of one trial. Empty when the design
    has no further look for any value."""
    profile = analysis.stored.profile
    if profile.looks <= 1 or not profile.seeds:
        return []
    step = profile.seed_step or profile.seeds
    cap = profile.max_seeds if profile.max_seeds is not None else profile.seeds
    look, stops = last_look(analysis.stored), stopping_looks(analysis.stored)
    found = []
    for order, ((experiment, dataset), block) in enumerate(analysis.blocks.items()):
        for value in block.comparisons:
            if stops.get((experiment, value.label, dataset), 1) < look:
                continue  # stopped at an earlier look: decided there, or futile there
            seeds = min(cap, len(value.seeds) + step)
            reason = reason_for_more(value, block, seeds, analysis.alpha)
            if reason:
                cost = trial_seconds.get((experiment, value.label, dataset), math.inf)
                found.append(
                    (
                        cost,
                        order,
                        value.index,
                        Addition(experiment, value.label, dataset, seeds, reason, cost),
                    )
                )
    return [addition for *_, addition in sorted(found, key=lambda item: item[:3])]
