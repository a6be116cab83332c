"""Table cells from the analysis' numbers: each formats a number it is given, never parses one back.

seeds_text((1, 2, 3, 5))     # '1–3, 5'
diff_cell(record)            # '+0.4 (−0.3 to +1.1)', '+0.4 (no interval)', ''
p_cell(0.0004)               # '<0.001'
"""

from __future__ import annotations

import math

from study.analyse.comparisons import Comparison
from study.analyse.costs import Cost
from study.report import formats

DASH = "–"


def seeds_text(seeds: tuple[int, ...] | list[int]) -> str:
    """Seeds as runs: (1, 2, 3, 5) -> '1–3, 5'."""
    ordered = sorted(seeds)
    runs: list[list[int]] = []
    for s in ordered:
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)


def pct(x: float | None, digits: int = 1) -> str:
    return DASH if x is None or not math.isfinite(x) else f"{x * 100:.{digits}f}"


def signed_pp(x: float, digits: int = 1) -> str:
    """Signed percentage points without the unit ('+1.2'); '+0.0', never '-0.0'; '–' undefined."""
    return DASH if not math.isfinite(x) else formats.signed_pp(x, digits)


def p_cell(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return DASH
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def dof_cell(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.1f}"


def level_text(level: float) -> str:
    """A confidence level as the report states it: 0.95 -> '95%', 0.98333 -> '98.3%'."""
    return f"{level * 100:.3g}%"


def diff_cell(r: Comparison) -> str:
    """The difference and its interval in percentage points ('+0.4 (−0.3 to +1.1)'); the level is in the
    column header. '' without an accuracy comparison."""
    if r.test is None or not math.isfinite(r.diff):
        return ""
    if not r.has_interval:
        tied = r.se == 0
        return f"{signed_pp(r.diff)} (no interval: {'tied seeds' if tied else 'n < 2'})"
    return f"{signed_pp(r.diff)} ({signed_pp(r.low)} to {signed_pp(r.high)})"


def mde_cell(x: float) -> str:
    return DASH if not math.isfinite(x) else f"{x * 100:.1f}"


def seconds(x: float) -> str:
    """Seconds to three significant digits without the unit ('0.412', '12.3', '1,234'); '–' undefined."""
    if not math.isfinite(x):
        return DASH
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def time_cell(cost: Cost) -> str:
    """Median seconds per epoch and the seeds' range: '0.412 (0.398–0.431)' (the header says s)."""
    if not cost.defined:
        return DASH
    point, low, high = seconds(cost.median_epoch_s), seconds(cost.low), seconds(cost.high)
    return point if cost.seeds < 2 or low == high else f"{point} ({low}–{high})"
