"""The budget check: per dataset, how far the study's budget is from the same baseline trained longer.

A study may name an experiment as its budget check (``Study.budget_check``: it varies ``epochs`` over the
baseline's and a longer run's). The longer run against the baseline is an ordinary comparison of that
experiment, decided like every other one (same test, same Holm family, same alpha); this module reads it
back per dataset. The check passes where the comparison's whole interval lies inside the dataset's margin
(whether or not it also excludes zero, so that more seeds never make it harder to pass) and every seed of the
longer run learned: a longer run would not move the accuracy by more than the margin, the least a budget must
show before its accuracy stands for the final accuracy that claims speak of (necessary, not sufficient: the
study's full epochs may still differ). Anywhere else, a claim about final accuracy is not testable at this
budget (``study.analyse.claims``). Numbers only; the report words them.

    checks = budget_checks(analysis)     # dataset -> BudgetCheck (empty when the study declares none)
    checks[dataset].passed, checks[dataset].comparison.diff
"""

from __future__ import annotations

from dataclasses import dataclass

from study.analyse.comparisons import Analysis
from study.analyse.noise import MeanComparison
from study.analyse.stats import Verdict


@dataclass(frozen=True)
class BudgetCheck:
    """The longer run against the budget on one dataset, as the budget-check experiment decided it."""

    dataset: str
    experiment: str
    value: str  # the longer run's label ("3x")
    epochs: int  # of the budget's baseline trials
    longer_epochs: int
    verdict: Verdict
    comparison: MeanComparison | None  # longer minus budget (fractions), at the analysis' level
    margin: float  # the dataset's equivalence margin (fraction)
    seeds: int  # of the longer run
    baseline_seeds: int
    failures: int = 0  # seeds of the longer run that did not learn (collapsed or diverged)

    @property
    def passed(self) -> bool:
        """The longer run's difference lies inside the margin, its whole interval (at the analysis' level) within
        ±margin: claims about final accuracy are testable here. A difference that is significant but inside the
        margin passes too (more seeds must not make the check harder to pass); any seed of either run that did
        not learn, or no interval, fails it."""
        c = self.comparison
        learned = self.verdict in (
            Verdict.EQUIVALENT,
            Verdict.BETTER,
            Verdict.WORSE,
            Verdict.INCONCLUSIVE,
        )
        return (
            learned
            and c is not None
            and c.defined
            and -self.margin <= c.low
            and c.high <= self.margin
            and not self.failures
        )


def budget_checks(analysis: Analysis) -> dict[str, BudgetCheck]:
    """Per dataset of the study's budget-check experiment, its check (none when the study declares none)."""
    name = analysis.stored.study.budget_check
    out: dict[str, BudgetCheck] = {}
    if not name:
        return out
    for dataset in analysis.datasets:
        block = analysis.blocks.get((name, dataset))
        if block is None or not block.comparisons:
            continue
        longer = block.comparisons[0]
        epochs = {
            analysis.trials[k].settings.epochs
            for k in block.baseline.keys.values()
            if k in analysis.trials
        }
        longer_epochs = {
            analysis.trials[k].settings.epochs
            for k in longer.keys.values()
            if k in analysis.trials
        }
        out[dataset] = BudgetCheck(
            dataset,
            name,
            longer.label,
            min(epochs, default=0),
            min(longer_epochs, default=0),
            longer.verdict,
            longer.comparison,
            block.margin,
            longer.finished,
            block.baseline.finished,
            longer.finished - longer.learned,
        )
    return out
