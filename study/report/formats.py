"""Numbers as the report prints them: percentage points, intervals, p-values, detectable effects.

Formatting only: no sentences (``study.report.wording`` and ``study.report.claim_words`` write those) and no
HTML. The report stage shares these so that one number reads the same everywhere.

    pp(0.0123)                     # '+1.2 pp'
    diff_with_ci(paired)           # '-19.9 pp (95% CI -21.0 to -18.8)'
    p_is(0.0004, "Holm p")         # 'Holm p < 0.001'
    epoch_time(cost)               # '0.412 s (0.398–0.431)'
    times(ratio)                   # '2.10x (1.80–2.50)'
    macs_text(2_293_000)           # '2.29 M MACs'
"""

from __future__ import annotations

import math

from study.analyse.costs import Cost, CostRatio
from study.analyse.noise import MeanComparison
from study.analyse.stats import Paired
from study.plan.estimate import quantity


def signed_pp(x: float, digits: int = 1) -> str:
    """A fraction as signed percentage points without the unit ('+1.2'); a value that rounds to zero reads
    '+0.0', never '-0.0'."""
    shown = round(x * 100, digits)
    return f"{shown if shown != 0 else 0.0:+.{digits}f}"


def pp(x: float, signed: bool = True, digits: int = 1) -> str:
    """A difference in percentage points, e.g. '+1.2 pp'; '–' when undefined; never '-0.0 pp'."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{signed_pp(x, digits)} pp" if signed else f"{x * 100:.{digits}f} pp"


def diff_with_ci(comparison: Paired | MeanComparison | None) -> str:
    """'-19.9 pp (95% CI -21.0 to -18.8)', the one formatter for a difference and its interval (at the
    comparison's own level: 97.1% under a two-look sequential design)."""
    if comparison is None:
        return "no comparison"
    if isinstance(comparison, Paired):
        mean, low, high, n, tied = (
            comparison.diff.mean,
            comparison.diff.low,
            comparison.diff.high,
            comparison.n,
            comparison.tied,
        )
    else:
        mean, low, high = comparison.diff, comparison.low, comparison.high
        n, tied = min(comparison.n_a, comparison.n_b), comparison.se == 0
    if n == 0:
        return "no shared seed"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{pp(mean)} (no interval: {'tied seeds' if tied else 'n < 2'})"
    level = getattr(comparison, "confidence", 0.95)
    return f"{pp(mean)} ({level * 100:.3g}% CI {signed_pp(low)} to {signed_pp(high)})"


def p_is(x: float, name: str = "p") -> str:
    """'p = 0.012', 'Holm p < 0.001' or 'p undefined'."""
    if x is None or not math.isfinite(x):
        return f"{name} undefined"
    return f"{name} < 0.001" if x < 0.001 else f"{name} = {x:.3f}"


def mde_text(x: float) -> str:
    """A minimum detectable effect; past 100 pp no difference on the accuracy scale is detectable."""
    if x is None or not math.isfinite(x):
        return "–"
    return "none (over 100 pp)" if x >= 1 else pp(x, signed=False)


def seconds(x: float) -> str:
    """Seconds to three significant digits without the unit ('0.412', '12.3', '1,234'); '–' when undefined."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def epoch_time(cost: Cost) -> str:
    """A value's median seconds per epoch and the range over its seeds: '0.412 s (0.398–0.431)', '0.412 s'
    with one seed or no spread, '–' untimed."""
    if not cost.defined:
        return "–"
    if cost.seeds < 2 or seconds(cost.low) == seconds(cost.high):
        return f"{seconds(cost.median_epoch_s)} s"
    return f"{seconds(cost.median_epoch_s)} s ({seconds(cost.low)}–{seconds(cost.high)})"


def _factor(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def times(ratio: CostRatio) -> str:
    """A cost ratio with its min/max range over seeds: '2.10x (1.80–2.50)', '2.10x' when the range is the
    point, '–' undefined."""
    if not ratio.defined:
        return "–"
    point, low, high = _factor(ratio.ratio), _factor(ratio.low), _factor(ratio.high)
    return f"{point}x" if low == high else f"{point}x ({low}–{high})"


def macs_text(macs: int | None) -> str:
    """Forward multiply-accumulates per image, readable: '2.29 M MACs'; '–' when unknown."""
    return "–" if macs is None else f"{quantity(macs)} MACs"
